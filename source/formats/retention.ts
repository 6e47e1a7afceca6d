/**
Reading retention settings: durations as the formats write them (`interval 30 days`, `1 week`,
`5 days`, milliseconds), into milliseconds.
*/
const units: Record<string, number> = {
	millisecond: 1, ms: 1, second: 1000, sec: 1000, s: 1000, minute: 60_000, min: 60_000, m: 60_000,
	hour: 3_600_000, h: 3_600_000, day: 86_400_000, d: 86_400_000, week: 604_800_000, w: 604_800_000,
};

/** `interval 30 days`, `30 days`, `1 week`, `2h`; undefined when it cannot be read. */
export function intervalMs(text: string | undefined): number | undefined {
	const match = /^\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*$/i.exec(text ?? '');
	const unit = match ? units[match[2]!.toLowerCase()] : undefined;
	return match && unit ? Number(match[1]) * unit : undefined;
}
