import type {LiveState} from '../../layers/live-inventory.js';
import {formatAge, formatTime} from './format.js';

export type TimelineRow = {
	readonly label: string;
	/** One character per time cell, oldest left: `●` a recovery point, `·` none, `│` the chosen moment. */
	readonly marks: string;
	/** The freshest point at or before the chosen moment, or why there is none. */
	readonly freshest: string;
	readonly missing: boolean;
};

export const spans = {day: 24 * 3_600_000, week: 7 * 24 * 3_600_000} as const;
/** The chosen moment moves in these steps. */
export const momentStepMs = {day: 3_600_000, week: 6 * 3_600_000} as const;
export const momentSteps = (span: keyof typeof spans) => spans[span] / momentStepMs[span];

/** Recovery points per layer (ISO times): ready provider snapshots, successful mirror runs, restorable table versions. */
export function recoveryPoints(live: LiveState): Record<'volumes' | 'mirrors' | 'tables', string[]> {
	const volumes = (live.volumes.value?.snapshots ?? []).filter(snapshot => snapshot.ofProvider && snapshot.ready && snapshot.createdAt).map(snapshot => snapshot.createdAt!);
	const cron = live.mirrors.value?.cron;
	const mirrors = [...new Set([...(cron?.runs ?? []).filter(run => run.outcome === 'succeeded' && run.finishedAt).map(run => run.finishedAt!), ...(cron?.lastSuccessfulTime ? [cron.lastSuccessfulTime] : [])])];
	const tables = (live.tables.value?.tables ?? []).flatMap(table => table.points ?? []);
	return {volumes, mirrors, tables};
}

function freshestBefore(points: readonly string[], moment: number): number | undefined {
	let best: number | undefined;
	for (const point of points) {
		const time = Date.parse(point);
		if (time <= moment && (best === undefined || time > best)) {
			best = time;
		}
	}

	return best;
}

/** Rows of the recovery-point timeline for `width` cells. Pure. */
export function timelineRows(live: LiveState, options: {now: number; span: keyof typeof spans; momentStep: number; width: number; table?: {name: string; points: readonly string[]}}): {rows: TimelineRow[]; moment: number; header: string} {
	const {now, span, width} = options;
	const cells = Math.max(8, width);
	const spanMs = spans[span];
	const start = now - spanMs;
	const cellMs = spanMs / cells;
	const moment = now - (options.momentStep * momentStepMs[span]);
	const momentCell = Math.min(cells - 1, Math.floor((moment - start) / cellMs));
	const points = recoveryPoints(live);
	// With a table selected, its own row replaces the row of all tables.
	if (options.table) {
		points.tables = [...options.table.points];
	}

	const labels = {volumes: 'Volumes', mirrors: 'Mirrors', tables: options.table ? options.table.name : 'Tables'};
	const rows = (['volumes', 'mirrors', 'tables'] as const).map(layer => {
		const filled = Array.from({length: cells}, () => '·');
		for (const point of points[layer]) {
			const cell = Math.floor((Date.parse(point) - start) / cellMs);
			if (cell >= 0 && cell < cells) {
				filled[cell] = '●';
			}
		}

		if (filled[momentCell] === '·') {
			filled[momentCell] = '│';
		}

		const best = freshestBefore(points[layer], moment);
		const freshest = best === undefined
			? (live[layer].loading ? 'loading…' : 'no point before this moment')
			: `${formatTime(new Date(best).toISOString())} (${formatAge(new Date(best).toISOString(), moment)} before)`;
		return {label: labels[layer], marks: filled.join(''), freshest, missing: best === undefined};
	});
	const header = `${span === 'day' ? 'last 24 h' : 'last 7 days'} · moment ${options.momentStep === 0 ? 'now' : formatTime(new Date(moment).toISOString())}`;
	return {rows, moment, header};
}
