import type {InClusterEvent} from '../../layers/mirrors/in-cluster.js';
import {bucketColumn, type ProgressLine} from './mirror-progress.js';

/**
What the console shows of a mirror restore copied by Kubernetes Jobs (`restore mirror
--in-cluster`, keys `J`/`I` in the Mirrors pane): per bucket the Job's name, its pod and phase, the
last log lines, mc's transferred total, and why it failed. Pure: built from the `InClusterEvent`s
of the copy step, drawn under the copy bars.
*/
export type JobView = {
	readonly job: string;
	readonly attempt?: number;
	/** 'followed': a Job of an earlier attempt of this run, followed instead of created again. */
	readonly origin: 'created' | 'followed';
	readonly pod?: string;
	readonly phase?: string;
	readonly podReason?: string;
	/** The last log lines (newest last). */
	readonly lines: readonly string[];
	/** Objects mc reported copied. */
	readonly copied: number;
	/** mc's summary: "Total: 1.2 MiB, Transferred: 1.2 MiB, Speed: ...". */
	readonly transferred?: string;
	/** `stopped`: the run ended (stopped or failed elsewhere) while the Job ran; the copy step says whether it was deleted or left running. */
	readonly outcome?: 'succeeded' | 'failed' | 'stopped';
	readonly failure?: {readonly reason: string; readonly message: string};
	readonly elapsedMs?: number;
};

export type JobProgressState = {
	readonly buckets: readonly string[];
	readonly jobs: Readonly<Record<string, JobView>>;
};

export const initialJobProgress = (buckets: readonly string[]): JobProgressState => ({buckets, jobs: {}});

const keptLines = 3;

/** mc's line for one copied object: "`backup/b/k` -> `ilum/b/k`" (or a JSON success line). */
const isCopyLine = (line: string) => /^`[^`]+` -> `[^`]+`/.test(line) || (line.startsWith('{') && line.includes('"status":"success"'));

/** mc's end-of-run summary: "Total: 1.5 MiB, Transferred: 1.5 MiB, Speed: 3 MiB/s". */
const transferredOf = (line: string) => /Total: [^,]+, Transferred: [^,(]+(?:, Speed: [^(]+)?/.exec(line)?.[0].trim();

export function applyJobEvent(state: JobProgressState, event: InClusterEvent): JobProgressState {
	// What is known of the bucket's Job so far (an event can be the first seen of it).
	const base: JobView = state.jobs[event.bucket] ?? {job: event.job, origin: 'created', lines: [], copied: 0};
	const buckets = state.buckets.includes(event.bucket) ? state.buckets : [...state.buckets, event.bucket];
	const put = (view: JobView): JobProgressState => ({buckets, jobs: {...state.jobs, [event.bucket]: view}});
	switch (event.type) {
		case 'job-created': {
			return put({job: event.job, attempt: event.attempt, origin: 'created', lines: [], copied: 0});
		}

		case 'job-followed': {
			return put({job: event.job, origin: 'followed', lines: [], copied: 0, ...(event.state === 'succeeded' ? {outcome: 'succeeded'} : {})});
		}

		case 'job-retried': {
			return put({job: event.next, origin: 'created', lines: [`(the failed Job ${event.job} was deleted; retried as ${event.next})`], copied: 0});
		}

		case 'pod': {
			return put({...base, job: event.job, pod: event.pod, phase: event.phase, ...(event.reason ? {podReason: event.reason} : {})});
		}

		case 'log': {
			const transferred = transferredOf(event.line);
			return put({
				...base,
				pod: event.pod,
				lines: [...base.lines, event.line].slice(-keptLines),
				copied: base.copied + (isCopyLine(event.line) ? 1 : 0),
				...(transferred ? {transferred} : {}),
			});
		}

		case 'job-succeeded': {
			return put({...base, job: event.job, outcome: 'succeeded', ...(event.elapsedMs === undefined ? {} : {elapsedMs: event.elapsedMs})});
		}

		case 'job-failed': {
			return put({...base, job: event.job, outcome: 'failed', failure: {reason: event.reason, message: event.message}, lines: event.lastLines.length > 0 ? event.lastLines.slice(-keptLines) : base.lines});
		}

		default: {
			return state;
		}
	}
}

/** The run ended: a Job still shown running ended with it (deleted, or left running: the copy step's line says which). */
export function settleJobs(state: JobProgressState): JobProgressState {
	const open = Object.entries(state.jobs).filter(([, view]) => !view.outcome);
	return open.length === 0 ? state : {...state, jobs: {...state.jobs, ...Object.fromEntries(open.map(([bucket, view]) => [bucket, {...view, outcome: 'stopped' as const}]))}};
}

/** Per bucket: the Job and its state; its pod's phase with the copied count or mc's total; the failure; its last log lines. */
export function jobProgressLines(state: JobProgressState, width = 100): ProgressLine[] {
	const lines: ProgressLine[] = [];
	const {width: name, label: labelOf} = bucketColumn(state.buckets);
	for (const bucket of state.buckets) {
		const label = labelOf(bucket);
		const view = state.jobs[bucket];
		if (!view) {
			lines.push({text: `${label} no Job yet`, tone: 'dim'});
			continue;
		}

		const phase = view.outcome === 'succeeded' ? 'Succeeded' : (view.outcome === 'failed' ? 'FAILED' : (view.outcome === 'stopped' ? 'stopped with the run (see the copy step)' : (view.phase ?? 'creating')));
		const took = view.elapsedMs === undefined ? '' : ` in ${(view.elapsedMs / 1000).toFixed(1)} s`;
		lines.push({
			text: `${label} Job ${view.job}${view.origin === 'followed' ? ' (followed)' : ''}: ${phase}${took}`.slice(0, width),
			tone: view.outcome === 'failed' ? 'bad' : (view.outcome === 'succeeded' ? 'good' : (view.outcome === 'stopped' ? 'warn' : undefined)),
		});
		const pod = view.pod ? `pod ${view.pod} ${view.phase ?? ''}`.trim() : 'no pod yet';
		lines.push({text: `${' '.repeat(name)} ${pod}${view.podReason ? ` (${view.podReason})` : ''} · ${view.transferred ?? `${view.copied} objects copied so far`}`.slice(0, width)});
		if (view.failure) {
			lines.push({text: `${' '.repeat(name)} failed: ${view.failure.reason}: ${view.failure.message}`.slice(0, width), tone: 'bad'});
		}

		for (const line of view.lines) {
			lines.push({text: `${' '.repeat(name)} │ ${line}`.slice(0, width), tone: 'dim'});
		}
	}

	return lines;
}
