import type {EngineEvent} from '../../restore/executor.js';
import {isMirrorProgress, type MirrorCopyProgress} from '../../restore/mirror-plan.js';
import {formatBytes} from '../../output.js';

/**
The mirror restore's live figures, per bucket, from the engine's events (`step-progress` with
`data: MirrorCopyProgress`): pure, so the bars are tested with plain fixtures. The wizard keeps one
of these beside its own state and draws `mirrorProgressLines`.
*/
export type MirrorProgressState = {
	/** Buckets in plan order; a bucket without figures yet is waiting. */
	readonly buckets: readonly string[];
	readonly figures: Readonly<Record<string, MirrorCopyProgress>>;
	/** Verification per bucket, from the verify step's lines. */
	readonly verified: Readonly<Record<string, string>>;
	readonly started: boolean;
};

export const initialMirrorProgress = (buckets: readonly string[]): MirrorProgressState => ({buckets, figures: {}, verified: {}, started: false});

export function applyMirrorEvent(state: MirrorProgressState, event: EngineEvent): MirrorProgressState {
	if (event.type !== 'step-progress') {
		return state;
	}

	const {progress} = event;
	if (isMirrorProgress(progress.data)) {
		const data = progress.data;
		// A deletion pass keeps the copy's counts and adds its own deletions.
		const previous = state.figures[data.bucket];
		const figures = data.phase === 'delete' && previous ? {...previous, deleted: data.deleted, retries: previous.retries + data.retries, failed: previous.failed + data.failed} : data;
		return {...state, started: true, buckets: state.buckets.includes(data.bucket) ? state.buckets : [...state.buckets, data.bucket], figures: {...state.figures, [data.bucket]: figures}};
	}

	if (event.step === 'verify' && progress.object?.startsWith('bucket/') && /drift/i.test(progress.message) && !progress.message.startsWith('comparing')) {
		return {...state, verified: {...state.verified, [progress.object.slice('bucket/'.length)]: progress.message}};
	}

	return state;
}

export function bar(fraction: number, width: number): string {
	const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
	return '█'.repeat(filled) + '░'.repeat(width - filled);
}

const seconds = (ms: number) => ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.ceil(ms / 1000)} s`;

/** A line of the copy's or the Jobs' figures, with its colour's meaning. */
export type ProgressLine = {readonly text: string; readonly tone?: 'good' | 'bad' | 'warn' | 'dim'};

/** The bucket column of those lines: as wide as the longest name (8 to 24), longer names cut with `…`. */
export function bucketColumn(buckets: readonly string[]): {width: number; label: (bucket: string) => string} {
	const width = Math.min(24, Math.max(8, ...buckets.map(bucket => bucket.length)));
	return {width, label: bucket => bucket.length > width ? bucket.slice(0, width - 1) + '…' : bucket.padEnd(width)};
}

/** Per-bucket bars (objects, bytes), the aggregate rate, ETA, retries, failed keys, verification. */
export function mirrorProgressLines(state: MirrorProgressState, width = 100): ProgressLine[] {
	const {width: name, label: labelOf} = bucketColumn(state.buckets);
	const barWidth = Math.max(10, Math.min(30, width - name - 70));
	const lines: ProgressLine[] = [];
	let objectsDone = 0;
	let objectsTotal = 0;
	let bytesDone = 0;
	let bytesTotal = 0;
	let rate = 0;
	let retries = 0;
	let failed = 0;
	let etaMs = 0;
	let listing = false;
	const failedKeys: string[] = [];
	for (const bucket of state.buckets) {
		const figures = state.figures[bucket];
		const label = labelOf(bucket);
		if (!figures) {
			lines.push({text: `${label} waiting`, tone: 'dim'});
			continue;
		}

		objectsDone += figures.objectsDone;
		objectsTotal += figures.objectsTotal;
		bytesDone += figures.bytesDone;
		bytesTotal += figures.bytesTotal;
		retries += figures.retries;
		failed += figures.failed;
		listing ||= !figures.listingDone;
		if (!figures.done) {
			rate += figures.rate;
			etaMs = Math.max(etaMs, figures.etaMs ?? 0);
		}

		failedKeys.push(...figures.failedKeys.map(key => `${bucket}: ${key}`));
		const fraction = figures.bytesTotal > 0 ? figures.bytesDone / figures.bytesTotal : (figures.objectsTotal > 0 ? figures.objectsDone / figures.objectsTotal : (figures.done ? 1 : 0));
		const more = figures.listingDone ? '' : '+';
		const status = figures.done ? (figures.failed > 0 ? 'FAILED' : 'done') : `${formatBytes(figures.rate)}/s${figures.etaMs === undefined ? '' : ` ETA ${seconds(figures.etaMs)}`}`;
		lines.push({
			text: `${label} ${bar(fraction, barWidth)} ${figures.objectsDone}/${figures.objectsTotal}${more} objects  ${formatBytes(figures.bytesDone)}/${formatBytes(figures.bytesTotal)}${more}  ${status}${figures.retries > 0 ? `  ${figures.retries} retries` : ''}${figures.failed > 0 ? `  ${figures.failed} failed` : ''}${figures.deleted > 0 ? `  ${figures.deleted} deleted` : ''}`,
			tone: figures.failed > 0 ? 'bad' : (figures.done ? 'good' : undefined),
		});
		const verified = state.verified[bucket] ?? (figures.verify ? `${figures.verify.ok ? 'no drift' : 'DRIFT'} (${figures.verify.totals.same} same, ${figures.verify.totals.onlySource} missing, ${figures.verify.totals.differs} differ)` : undefined);
		if (verified) {
			lines.push({text: `${' '.repeat(name)} verify: ${verified}`, tone: /^no drift/.test(verified) ? 'good' : 'bad'});
		}
	}

	const running = state.buckets.some(bucket => state.figures[bucket] && !state.figures[bucket]!.done);
	lines.push({
		text: `All: ${objectsDone}/${objectsTotal}${listing ? '+' : ''} objects, ${formatBytes(bytesDone)}/${formatBytes(bytesTotal)}${running ? `, ${formatBytes(rate)}/s${etaMs > 0 ? `, ETA ${seconds(etaMs)}` : ''}` : ''}, ${retries} retries, ${failed} failed`,
		tone: failed > 0 ? 'bad' : undefined,
	});
	for (const key of failedKeys.slice(0, 5)) {
		lines.push({text: `  failed ${key}`.slice(0, width), tone: 'bad'});
	}

	if (failedKeys.length > 5) {
		lines.push({text: `  … and ${failedKeys.length - 5} more failed keys (in the report)`, tone: 'bad'});
	}

	return lines;
}
