/**
Standard 5-field cron schedules as the CronJob controller reads them (minute hour day-of-month
month day-of-week; `*`, lists, ranges, steps, names; `@hourly`, `@daily`, ...), evaluated in UTC
(or the CronJob's `timeZone` when it is UTC/Etc/UTC; other zones are treated as UTC).
*/
export type Schedule = {next(after: number): number};

const macros: Record<string, string> = {
	'@yearly': '0 0 1 1 *',
	'@annually': '0 0 1 1 *',
	'@monthly': '0 0 1 * *',
	'@weekly': '0 0 * * 0',
	'@daily': '0 0 * * *',
	'@midnight': '0 0 * * *',
	'@hourly': '0 * * * *',
};

const names: Record<string, number> = {jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12, sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6};

function field(text: string, min: number, max: number): Set<number> {
	const values = new Set<number>();
	for (const part of text.split(',')) {
		const [range, stepText] = part.split('/');
		const step = stepText === undefined ? 1 : Number(stepText);
		let low = min;
		let high = max;
		if (range !== '*' && range !== '?') {
			const [a, b] = range!.split('-');
			low = names[a!.toLowerCase()] ?? Number(a);
			high = b === undefined ? (stepText === undefined ? low : max) : names[b.toLowerCase()] ?? Number(b);
		}

		if (!Number.isInteger(low) || !Number.isInteger(high) || !Number.isInteger(step) || step < 1 || low < min || high > max || low > high) {
			throw new Error(`invalid cron field '${part}'`);
		}

		for (let value = low; value <= high; value += step) {
			values.add(value);
		}
	}

	return values;
}

export function parseSchedule(expression: string): Schedule {
	const text = macros[expression.trim()] ?? expression.trim();
	const parts = text.split(/\s+/);
	if (parts.length !== 5) {
		throw new Error(`expected exactly 5 fields, found ${parts.length}: ${expression}`);
	}

	const minutes = field(parts[0]!, 0, 59);
	const hours = field(parts[1]!, 0, 23);
	const days = field(parts[2]!, 1, 31);
	const months = field(parts[3]!, 1, 12);
	const weekdays = field(parts[4]!.replaceAll('7', '0'), 0, 6);
	const dayStar = parts[2] === '*' || parts[2] === '?';
	const weekStar = parts[4] === '*' || parts[4] === '?';
	return {
		next(after) {
			const date = new Date(Math.floor(after / 60_000) * 60_000 + 60_000);
			for (let guard = 0; guard < 600_000; guard++) {
				const dayMatch = dayStar && weekStar
					? true
					: dayStar
						? weekdays.has(date.getUTCDay())
						: weekStar
							? days.has(date.getUTCDate())
							: days.has(date.getUTCDate()) || weekdays.has(date.getUTCDay());
				if (!months.has(date.getUTCMonth() + 1) || !dayMatch) {
					date.setUTCHours(24, 0, 0, 0);
					continue;
				}

				if (!hours.has(date.getUTCHours())) {
					date.setUTCHours(date.getUTCHours() + 1, 0, 0, 0);
					continue;
				}

				if (!minutes.has(date.getUTCMinutes())) {
					date.setUTCMinutes(date.getUTCMinutes() + 1, 0, 0);
					continue;
				}

				return date.getTime();
			}

			throw new Error(`no time matches the schedule ${expression}`);
		},
	};
}
