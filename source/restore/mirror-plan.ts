import {formatBytes, formatTable} from '../output.js';
import {copyMirror, type BucketProgress, type MirrorPair, type ProgressEvent, type VerifyResult} from '../layers/mirrors/copy.js';
import type {UploadsReport} from '../layers/mirrors/uploads.js';
import {copyMirrorInWorker} from '../layers/mirrors/copy-worker.js';
import {bucketDrift, summarizeDrift} from '../layers/mirrors/drift.js';
import {backupCronJobName, initJobsInTheWay, type MirrorCluster} from '../layers/mirrors/cluster-checks.js';
import {preflightPairs, type BucketPlan} from '../layers/mirrors/restore-plan.js';
import type {AccessRequirement, CheckResult, RestorePlan, Step, StepProgress} from './plan.js';
import {StoppedError} from './plan.js';

/**
A mirror restore (off-cluster mirror -> provider) as an engine plan, so the CLI's `restore mirror`
and the console's wizard share the journal, the gates, the audit log and the report:

1. preconditions: no bucket-init Job unfinished; per bucket, the mirror listing is not empty while
   the provider's is (a wrong or emptied mirror); RBAC through the plan's `access`.
2. create the provider buckets that do not exist.
3. suspend the backup CronJob (only when it is active: the facts remember that, so a resumed run
   resumes it at the end even though it finds it suspended by the first attempt).
4. copy (gated: the plan per bucket is the gate's preview). The copy itself is a strategy: 'local'
   streams through this process (`copyMirror`); engineer P's in-cluster Jobs plug in as another
   `MirrorCopyStrategy`. Progress events become step progress with `data: MirrorCopyProgress`.
5. with `remove`: delete from the provider what the mirror lacks (a second gate: confirmed twice).
6. verify: the drift per bucket is zero (the copy's own verification when it made one).
7. resume the backup CronJob if it was active.

Resumable: the copy step re-diffs, so a resumed run copies only what is still missing or
different. A failed copy (failed keys, drift left) fails the step, the CronJob stays suspended
(a backup run with --remove would otherwise carry the half-restored provider over the mirror),
and `--resume` runs the copy again.
*/

export type MirrorSideFacts = {readonly endpoint: string; readonly bucket: string; readonly prefix?: string};

export type MirrorBucketFacts = {
	/** The bucket's name (in the provider; the pair's name). */
	readonly name: string;
	readonly source: MirrorSideFacts;
	readonly target: MirrorSideFacts;
	/** The provider has the bucket (else the plan creates it). */
	readonly targetExists: boolean;
	/** The plan when the restore was planned (counts and bytes, from a full diff); all zeros when `counted` is false. */
	readonly plan: BucketPlan;
	/**
	False when the bucket was not counted beforehand (`restore mirror --yes`: nothing is shown
	before the copy, which diffs as it goes, so the listings are read once). Absent: counted.
	*/
	readonly counted?: false;
};

export type MirrorRestoreFacts = {
	readonly namespace: string;
	readonly buckets: readonly MirrorBucketFacts[];
	readonly overwriteChanged: boolean;
	readonly remove: boolean;
	/** Re-compare the buckets after copying (false with --skip-verify). */
	readonly verify: boolean;
	/** The --prefix, when one was given. */
	readonly prefix?: string;
	/** The backup CronJob as it was at planning time; undefined without a cluster. */
	readonly cronJob?: {readonly name: string; readonly exists: boolean; readonly suspended: boolean};
	/** Which copy strategy the plan was made for ('local', or the in-cluster one's name). */
	readonly copyStrategy: string;
};

/** Figures of one bucket while the copy runs (and at its end), for per-bucket bars. */
export type MirrorCopyProgress = {
	readonly type: 'mirror-progress';
	readonly phase: 'copy' | 'delete' | 'verify';
	readonly bucket: string;
	readonly done: boolean;
	readonly objectsDone: number;
	readonly objectsTotal: number;
	readonly bytesDone: number;
	readonly bytesTotal: number;
	readonly listingDone: boolean;
	/** Bytes per second. */
	readonly rate: number;
	readonly etaMs?: number;
	readonly retries: number;
	readonly failed: number;
	readonly deleted: number;
	readonly skipped: number;
	/** The first failed keys (with errors), at most 20. */
	readonly failedKeys: readonly string[];
	readonly verify?: VerifyResult;
	/** The bucket's outcome, on the last event of a pass (`done`). */
	readonly result?: MirrorBucketResult;
};

export const isMirrorProgress = (data: unknown): data is MirrorCopyProgress => typeof data === 'object' && data !== null && (data as {type?: unknown}).type === 'mirror-progress';

/** What a copy strategy is asked to do. `remove` is never set: deletions are their own gated step. */
export type MirrorCopyRequest = {
	readonly namespace: string;
	readonly buckets: readonly MirrorBucketFacts[];
	/** The same buckets as pairs of clients, in the same order (for strategies that copy through this process). */
	readonly pairs: readonly MirrorPair[];
	readonly overwriteChanged: boolean;
	/** Whether the strategy should verify each bucket at its end (a `bucket-done` with `verify`). */
	readonly verify: boolean;
	readonly signal: AbortSignal;
};

/**
The seam for the copy step. A strategy yields the copy engine's `ProgressEvent`s (`bucket-start`,
`progress`, `retry`, `failed`, `bucket-done`); a `bucket-done` without `verify` is verified by the
plan's verify step. Throwing fails the step (the journal keeps the place; `--resume` runs it again,
so a strategy must copy only what is missing when run again).
*/
export type MirrorCopyStrategy = {
	/** 'local', 'in-cluster'. */
	readonly name: string;
	/** The copy step's title, e.g. 'Copy the mirror into the provider (in this process)'. */
	readonly title: string;
	/** What the step changes, in words (default: the objects it copies). */
	readonly changes?: string;
	/** Permissions the strategy needs beyond the plan's (e.g. create Jobs). */
	readonly access?: readonly AccessRequirement[];
	/** Kubernetes objects it touches, for the plan's display. */
	readonly objects?: readonly string[];
	copy(request: MirrorCopyRequest): AsyncIterable<ProgressEvent>;
};

/** The copy through this process: `copyMirror` (streaming, multipart, retries, SlowDown backoff). */
export function localCopy(options: {concurrency?: number; progressMs?: number; uploadJournal?: string} = {}): MirrorCopyStrategy {
	return {
		name: 'local',
		title: 'Copy the missing objects from the mirror into the provider (streaming, in this process)',
		// In a worker thread with a small young generation: the copy's peak RSS stays flat (copy-worker.ts).
		copy: request => copyMirrorInWorker(request.pairs, {
			overwriteChanged: request.overwriteChanged,
			remove: false,
			verify: request.verify,
			signal: request.signal,
			...(options.concurrency ? {concurrency: options.concurrency} : {}),
			...(options.uploadJournal ? {uploadJournal: options.uploadJournal} : {}),
			progressMs: options.progressMs ?? 500,
		}),
	};
}

export type MirrorRestoreDeps = {
	/** The buckets as client pairs, in the order of `facts.buckets` (built from the current credentials). */
	readonly pairs: readonly MirrorPair[];
	/** Undefined without a cluster: no CronJob hold, no Job check (the plan says so). */
	readonly cluster?: MirrorCluster;
	/** Default: `localCopy()`. */
	readonly copy?: MirrorCopyStrategy;
	/** Objects in flight for the local copy and the deletions. */
	readonly concurrency?: number;
	readonly progressMs?: number;
	/**
	Stops the copy (Ctrl-C, the wizard's stop). The engine never cuts a mutation short, so the copy
	step takes its own signal: a stopped copy fails the step, and --resume copies the rest.
	*/
	readonly signal?: AbortSignal;
	/**
	When the facts' own checks passed (`readMirrorRestoreFacts` runs the same ones): within 10 s the
	preconditions pass on that result instead of asking S3 and the cluster again (a `--yes` run starts
	at once); later (a plan read in the wizard, a resume) they are asked again.
	*/
	readonly checkedAt?: number;
	/** The journal of multipart uploads (`uploadJournalFile` of the run's state dir), for the default local copy and the deletion pass. */
	readonly uploadJournal?: string;
};

/** The stable key of a mirror restore: one unfinished journal per set of buckets. */
export const mirrorRestoreTarget = (buckets: readonly string[]) => `mirror/${[...buckets].join(',')}`;

const sum = (facts: MirrorRestoreFacts, pick: (plan: BucketPlan) => {objects: number; bytes: number}) => facts.buckets.reduce((total, bucket) => ({objects: total.objects + pick(bucket.plan).objects, bytes: total.bytes + pick(bucket.plan).bytes}), {objects: 0, bytes: 0});

/** Every bucket was counted beforehand (a dry run, the console, a terminal): the gates can say how much. */
export const isCounted = (facts: Pick<MirrorRestoreFacts, 'buckets'>) => facts.buckets.every(bucket => bucket.counted !== false);

/** The plan of a bucket not counted beforehand: zeros (and a creation when the provider lacks it). */
export function uncountedPlan(bucket: string, sides: {source: string; target: string; targetExists: boolean}): BucketPlan {
	const zero = () => ({objects: 0, bytes: 0});
	return {bucket, source: sides.source, target: sides.target, createBucket: !sides.targetExists, copy: zero(), overwrite: zero(), delete: zero(), skipped: zero(), changedKept: zero(), onlyTargetKept: zero(), unverifiable: 0, sourceTotals: zero(), targetTotals: zero()};
}

const count = (value: {objects: number; bytes: number}) => `${value.objects} (${formatBytes(value.bytes)})`;

/** The plan per bucket as a table: the gate's preview, the dry run's text. */
export function formatMirrorPlanTable(facts: Pick<MirrorRestoreFacts, 'buckets' | 'overwriteChanged' | 'remove'>): string[] {
	const rows = facts.buckets.map(({name, targetExists, plan, counted}) => counted !== false ? [
		plan.bucket + (plan.createBucket ? ' (new)' : ''),
		count(plan.copy),
		facts.overwriteChanged ? count(plan.overwrite) : `${plan.changedKept.objects} kept`,
		facts.remove ? count(plan.delete) : `${plan.onlyTargetKept.objects} kept`,
		String(plan.skipped.objects),
		String(plan.unverifiable),
	] : [name + (targetExists ? '' : ' (new)'), 'not counted', '', '', '', '']);
	const notes = [
		facts.overwriteChanged ? '' : 'Changed objects are kept (pass --overwrite-changed to replace them).',
		facts.remove ? '' : 'Objects only in the provider are kept (pass --remove to delete them).',
	].filter(Boolean);
	return [...formatTable(['BUCKET', 'COPY', 'OVERWRITE', 'DELETE', 'SKIP', 'UNVERIFIABLE'], rows).trimEnd().split('\n'), ...notes];
}

const progressData = (event: BucketProgress & {failedKeys?: readonly string[]; verify?: VerifyResult}, phase: MirrorCopyProgress['phase'], done: boolean, failedKeys: readonly string[]): MirrorCopyProgress => ({
	type: 'mirror-progress',
	phase,
	bucket: event.bucket,
	done,
	objectsDone: event.objectsDone,
	objectsTotal: event.objectsTotal,
	bytesDone: event.bytesDone,
	bytesTotal: event.bytesTotal,
	listingDone: event.listingDone,
	rate: event.rate,
	...(event.etaMs === undefined ? {} : {etaMs: event.etaMs}),
	retries: event.retries,
	failed: event.failed,
	deleted: event.deleted,
	skipped: event.skipped,
	failedKeys: failedKeys.slice(0, 20),
	...(event.verify ? {verify: event.verify} : {}),
});

/** One bucket's outcome of a copy (or deletion) pass: what the result line and the report show. */
export type MirrorBucketResult = {
	readonly bucket: string;
	readonly copied: number;
	readonly bytes: number;
	readonly deleted: number;
	readonly skipped: number;
	readonly changedKept: number;
	readonly onlyTargetKept: number;
	readonly failed: number;
	readonly failedKeys: readonly string[];
	readonly retries: number;
	readonly unverifiedCopies: number;
	readonly elapsedMs: number;
	readonly verify?: VerifyResult;
	/** Multipart uploads a kill interrupted in an earlier run, found and resumed or aborted (when there were any). */
	readonly uploads?: UploadsReport;
};

const bucketResult = (event: Extract<ProgressEvent, {type: 'bucket-done'}>): MirrorBucketResult => ({
	bucket: event.bucket,
	copied: event.objectsDone,
	bytes: event.bytesDone,
	deleted: event.deleted,
	skipped: event.skipped,
	changedKept: event.changedKept,
	onlyTargetKept: event.onlyTargetKept,
	failed: event.failed,
	failedKeys: event.failedKeys.slice(0, 100),
	retries: event.retries,
	unverifiedCopies: event.unverified,
	elapsedMs: event.elapsedMs,
	...(event.verify ? {verify: event.verify} : {}),
	...(event.uploads && (event.uploads.found > 0 || event.uploads.notes.length > 0) ? {uploads: event.uploads} : {}),
});

const uploadsLine = (uploads: UploadsReport | undefined) => (uploads && uploads.found > 0 ? `; interrupted uploads: ${uploads.resumed} resumed (${uploads.partsReused} parts kept), ${uploads.aborted} aborted` : '')
	+ (uploads && uploads.notes.length > 0 ? `; ${uploads.notes.join('; ')}` : '');

/** A bucket's verification in words: `no drift (n same, n missing, n differ, n unverifiable)`. */
const driftLine = (verify: VerifyResult) => `${verify.ok ? 'no drift' : 'DRIFT'} (${verify.totals.same} same, ${verify.totals.onlySource} missing, ${verify.totals.differs} differ, ${verify.totals.unverifiable} unverifiable)`;

/** Turns copy events into step progress; returns the per-bucket results. Throws when keys failed or drift is left. */
async function * follow(events: AsyncIterable<ProgressEvent>, phase: 'copy' | 'delete'): AsyncGenerator<StepProgress, MirrorBucketResult[]> {
	const results: MirrorBucketResult[] = [];
	const failedKeys = new Map<string, string[]>();
	for await (const event of events) {
		switch (event.type) {
			case 'bucket-start': {
				yield {message: phase === 'copy' ? 'copying' : 'deleting what the mirror lacks', object: `bucket/${event.bucket}`};
				break;
			}

			case 'progress': {
				const keys = failedKeys.get(event.bucket) ?? [];
				yield {
					message: `${formatBytes(event.bytesDone)}/${formatBytes(event.bytesTotal)}${event.listingDone ? '' : '+'}, ${formatBytes(event.rate)}/s${event.etaMs === undefined ? '' : `, ETA ${Math.ceil(event.etaMs / 1000)} s`}, ${event.retries} retries, ${event.failed} failed`,
					current: event.objectsDone,
					total: event.objectsTotal,
					unit: 'objects',
					object: `bucket/${event.bucket}`,
					data: progressData(event, phase, false, keys),
				};
				break;
			}

			case 'retry': {
				break;
			}

			case 'failed': {
				const keys = failedKeys.get(event.bucket) ?? [];
				keys.push(`${event.key}: ${event.error}`);
				failedKeys.set(event.bucket, keys);
				if (keys.length <= 20) {
					yield {message: `failed ${event.key}: ${event.error}`, object: `bucket/${event.bucket}`, kind: 'warning'};
				}

				break;
			}

			case 'verify-start': {
				yield {message: 'verifying (drift against the mirror)', object: `bucket/${event.bucket}`};
				break;
			}

			case 'bucket-done': {
				const result = bucketResult(event);
				results.push(result);
				const verify = event.verify ? `; verify: ${driftLine(event.verify)}` : '';
				yield {
					message: `${event.objectsDone} objects (${formatBytes(event.bytesDone)}) copied, ${event.deleted} deleted, ${event.skipped} skipped, ${event.failed} failed, ${event.retries} retries, ${(event.elapsedMs / 1000).toFixed(1)} s${uploadsLine(event.uploads)}${verify}`,
					current: event.objectsDone,
					total: event.objectsTotal,
					unit: 'objects',
					object: `bucket/${event.bucket}`,
					data: {...progressData(event, phase, true, event.failedKeys.length > 0 ? event.failedKeys : (failedKeys.get(event.bucket) ?? [])), result},
				};
				break;
			}

			default: {
				break;
			}
		}
	}

	const failed = results.filter(result => result.failed > 0);
	if (failed.length > 0) {
		throw new Error(`${failed.map(result => `${result.failed} objects failed in ${result.bucket} (first: ${result.failedKeys[0] ?? '?'})`).join('; ')}`);
	}

	const drifted = results.filter(result => result.verify && !result.verify.ok);
	if (drifted.length > 0) {
		throw new Error(`drift left after copying: ${drifted.map(result => `${result.bucket} (${result.verify!.totals.onlySource} missing, ${result.verify!.totals.differs} differ, ${result.verify!.totals.onlyTarget} only in the provider)`).join('; ')}`);
	}

	return results;
}

/** A copy cut short by its signal stops (`StoppedError`) with a line that says what is left and how to go on. */
async function * stoppable<T>(run: AsyncGenerator<StepProgress, T>, signal: AbortSignal): AsyncGenerator<StepProgress, T> {
	try {
		return yield * run;
	} catch (error) {
		if (signal.aborted) {
			// The engine reports the run as stopped (resumable), not failed.
			throw new StoppedError(`stopped on request in the middle of the copy: the objects copied so far are in place; resume to copy the rest${error instanceof Error && /^interrupted: /.test(error.message) ? ` (${error.message})` : ''}`, {cause: error});
		}

		throw error;
	}
}

/** A fresh drift of one pair with the checksums, judged as the copy's own verification judges it. */
async function driftOf(pair: MirrorPair, facts: Pick<MirrorRestoreFacts, 'overwriteChanged' | 'remove'>, signal: AbortSignal): Promise<VerifyResult> {
	const summary = await summarizeDrift(bucketDrift(pair.source, pair.target, {signal, checksums: true}), {keep: 20});
	const t = summary.totals;
	return {ok: t.onlySource === 0 && (!facts.overwriteChanged || t.differs === 0) && (!facts.remove || t.onlyTarget === 0), totals: t, differences: summary.differences};
}

const cannot = (error: unknown): CheckResult => {
	const hint = typeof error === 'object' && error !== null && 'hint' in error && typeof error.hint === 'string' ? error.hint : undefined;
	return {ok: false, detail: error instanceof Error ? error.message : String(error), ...(hint ? {hint} : {})};
};

/** The mirror restore's plan (see the file header). */
export function buildMirrorRestorePlan(facts: MirrorRestoreFacts, deps: MirrorRestoreDeps): RestorePlan {
	const ns = facts.namespace;
	const names = facts.buckets.map(bucket => bucket.name);
	const pairs = facts.buckets.map(bucket => {
		const pair = deps.pairs.find(candidate => candidate.name === bucket.name);
		if (!pair) {
			throw new Error(`No client pair for bucket ${bucket.name}`);
		}

		return pair;
	});
	const strategy = deps.copy ?? localCopy({concurrency: deps.concurrency, progressMs: deps.progressMs, ...(deps.uploadJournal ? {uploadJournal: deps.uploadJournal} : {})});
	const signal = deps.signal ?? new AbortController().signal;
	const {cluster} = deps;
	const cron = facts.cronJob;
	const suspendBackup = Boolean(cluster && cron?.exists && !cron.suspended);
	const toCopy = sum(facts, plan => plan.copy);
	const toOverwrite = facts.overwriteChanged ? sum(facts, plan => plan.overwrite) : {objects: 0, bytes: 0};
	const toDelete = facts.remove ? sum(facts, plan => plan.delete) : {objects: 0, bytes: 0};
	const newBuckets = facts.buckets.filter(bucket => !bucket.targetExists);
	const counted = isCounted(facts);
	const steps: Step[] = [];
	const fresh = () => deps.checkedAt !== undefined && Date.now() - deps.checkedAt < 10_000;

	if (cluster) {
		steps.push({
			id: 'no-bucket-init', kind: 'precondition', title: `No bucket-init Job is unfinished in namespace ${ns}`,
			async evaluate() {
				if (fresh()) {
					return {ok: true, detail: 'no bucket-init Job is running (checked while planning)'};
				}

				const blocking = initJobsInTheWay(await cluster.listJobs(ns));
				if (blocking.length > 0) {
					const names = blocking.map(job => `${ns}/${job.metadata?.name ?? '?'}`).join(', ');
					return {ok: false, detail: `The bucket-init Job ${names} has not finished and would run over the restore`, hint: `wait for it to complete (kubectl -n ${ns} wait --for=condition=complete job/${blocking[0]!.metadata?.name ?? ''}), then run the restore again`};
				}

				return {ok: true, detail: 'no bucket-init Job is running'};
			},
		});
	}

	steps.push({
		id: 'mirror-not-empty', kind: 'precondition', title: 'Each mirror bucket exists and is not empty where the provider bucket is not',
		objects: names.map(name => `bucket/${name}`),
		async evaluate(context) {
			if (fresh()) {
				return {ok: true, detail: `the mirror has ${names.join(', ')} (checked while planning)`};
			}

			try {
				await preflightPairs(pairs, {signal: context.signal});
				return {ok: true, detail: `the mirror has ${names.join(', ')}`};
			} catch (error) {
				return cannot(error);
			}
		},
	});

	if (newBuckets.length > 0) {
		steps.push({
			id: 'create-buckets', kind: 'mutation', title: `Create the provider buckets ${newBuckets.map(bucket => bucket.name).join(', ')}`,
			objects: newBuckets.map(bucket => `bucket/${bucket.name}`),
			changes: `creates ${newBuckets.length} empty bucket(s) in the provider`,
			undo: 'delete the bucket(s) again (aws s3 rb) if the restore is abandoned',
			async check() {
				const exists = await Promise.all(newBuckets.map(async bucket => pairs[facts.buckets.indexOf(bucket)]!.target.client.bucketExists(bucket.target.bucket)));
				return exists.every(Boolean);
			},
			async * run() {
				for (const bucket of newBuckets) {
					const pair = pairs[facts.buckets.indexOf(bucket)]!;
					// eslint-disable-next-line no-await-in-loop
					if (!await pair.target.client.bucketExists(bucket.target.bucket)) {
						// eslint-disable-next-line no-await-in-loop
						await pair.target.client.createBucket(bucket.target.bucket);
						yield {message: 'created', object: `bucket/${bucket.target.bucket}`};
					}
				}

				return {created: newBuckets.map(bucket => bucket.target.bucket)};
			},
		});
	}

	if (suspendBackup && cluster && cron) {
		steps.push({
			id: 'suspend-backup', kind: 'mutation', title: `Suspend the backup CronJob ${cron.name} for the restore`, objects: [`CronJob/${ns}/${cron.name}`],
			changes: `CronJob ${cron.name}: spec.suspend false -> true (a run during the restore would mirror the half-restored provider, deleting from the mirror with --remove)`,
			undo: `kubectl -n ${ns} patch cronjob ${cron.name} --type merge -p '{"spec":{"suspend":false}}'`,
			async check() {
				return (await cluster.getCronJob(ns, cron.name))?.spec?.suspend === true;
			},
			async * run() {
				await cluster.setCronJobSuspended(ns, cron.name, true);
				yield {message: `suspended CronJob ${ns}/${cron.name} for the restore (resumed at the end)`, object: `CronJob/${cron.name}`};
				return {detail: 'suspended (it was active)'};
			},
		});
	}

	const copyObjects = toCopy.objects + toOverwrite.objects;
	steps.push({
		id: 'copy', kind: 'mutation', title: strategy.title,
		objects: [...names.map(name => `bucket/${name}`), ...(strategy.objects ?? [])],
		changes: strategy.changes ?? (counted
			? `writes ${copyObjects} objects (${formatBytes(toCopy.bytes + toOverwrite.bytes)}) into the provider${facts.overwriteChanged ? `, ${toOverwrite.objects} of them replacing changed ones` : ''} (as planned; a resumed copy re-diffs and copies only what is still missing or different)`
			: `writes into the provider what it lacks${facts.overwriteChanged ? ' or has changed' : ''} (not counted beforehand: the copy diffs as it goes)`),
		undo: facts.overwriteChanged ? 'objects replaced in the provider cannot be brought back by this tool (their versions, if the bucket keeps versions)' : 'nothing in the provider was replaced: delete the copied objects if needed',
		...(counted && copyObjects === 0 ? {} : {dangerous: {confirmText: 'restore', reason: counted ? `writes ${copyObjects} objects (${formatBytes(toCopy.bytes + toOverwrite.bytes)}) into the provider (${names.join(', ')})` : `writes into the provider (${names.join(', ')}) what it lacks`}}),
		async check() {
			// The copy decides per object (a fresh diff): running it again is how a resume finishes it.
			return false;
		},
		async * run() {
			let results = yield * stoppable(follow(strategy.copy({namespace: ns, buckets: facts.buckets, pairs, overwriteChanged: facts.overwriteChanged, verify: facts.verify, signal}), 'copy'), signal);
			if (facts.verify && results.some(result => !result.verify)) {
				// A strategy that did not verify (mc in a Job): the drift is taken here, so that what is
				// still missing fails this step, and a resume copies again instead of verifying again.
				const checked: MirrorBucketResult[] = [];
				for (const result of results) {
					const index = facts.buckets.findIndex(bucket => bucket.name === result.bucket);
					if (result.verify || index < 0) {
						checked.push(result);
						continue;
					}

					yield {message: 'verifying (drift against the mirror)', object: `bucket/${result.bucket}`};
					// eslint-disable-next-line no-await-in-loop
					const verify = await driftOf(pairs[index]!, {overwriteChanged: facts.overwriteChanged, remove: false}, signal);
					yield {message: `verify: ${driftLine(verify)}`, object: `bucket/${result.bucket}`, kind: verify.ok ? 'info' : 'warning'};
					checked.push({...result, verify});
				}

				results = checked;
				const drifted = results.filter(result => result.verify && !result.verify.ok);
				if (drifted.length > 0) {
					throw new Error(`drift left after copying: ${drifted.map(result => `${result.bucket} (${result.verify!.totals.onlySource} missing, ${result.verify!.totals.differs} differ; first: ${result.verify!.differences[0]?.key ?? '?'})`).join('; ')}`);
				}
			}

			const copied = results.reduce((total, result) => total + result.copied, 0);
			const bytes = results.reduce((total, result) => total + result.bytes, 0);
			return {detail: `${copied} objects (${formatBytes(bytes)}) copied`, strategy: strategy.name, copied, bytes, buckets: results};
		},
	});

	if (facts.remove && (!counted || toDelete.objects > 0)) {
		steps.push({
			id: 'delete-extra', kind: 'mutation', title: `Delete from the provider the objects the mirror does not have${counted ? ` (${toDelete.objects}, ${formatBytes(toDelete.bytes)})` : ''}`,
			objects: names.map(name => `bucket/${name}`),
			changes: counted ? `deletes ${toDelete.objects} objects (${formatBytes(toDelete.bytes)}) from the provider (--remove)` : 'deletes from the provider what the mirror does not have (--remove; not counted beforehand)',
			undo: 'deleted objects are gone unless the bucket keeps versions: there is no undo',
			dangerous: counted
				? {confirmText: `delete ${toDelete.objects}`, reason: `deletes ${toDelete.objects} objects (${formatBytes(toDelete.bytes)}) from the provider that the mirror does not have`}
				: {confirmText: 'delete', reason: 'deletes from the provider every object the mirror does not have'},
			async check() {
				return false;
			},
			async * run() {
				const results = yield * stoppable(follow(copyMirror(pairs, {overwriteChanged: facts.overwriteChanged, remove: true, verify: false, signal, ...(deps.concurrency ? {concurrency: deps.concurrency} : {}), ...(deps.uploadJournal ? {uploadJournal: deps.uploadJournal} : {}), progressMs: deps.progressMs ?? 500}), 'delete'), signal);
				const deleted = results.reduce((total, result) => total + result.deleted, 0);
				return {detail: `${deleted} objects deleted`, deleted, buckets: results};
			},
		});
	}

	if (facts.verify) {
		steps.push({
			id: 'verify', kind: 'verify', title: 'Verify: the drift per bucket is zero (size and ETag, checksums where ETags do not compare)',
			objects: names.map(name => `bucket/${name}`),
			async * run(context) {
				const copied = context.results.get('copy') as {buckets?: MirrorBucketResult[]} | undefined;
				// The copy's own verification holds unless deletions ran after it.
				const reuse = !steps.some(step => step.id === 'delete-extra');
				const buckets: Array<{bucket: string; ok: boolean; totals: VerifyResult['totals']; differences: VerifyResult['differences']}> = [];
				for (const [index, bucket] of facts.buckets.entries()) {
					let verify = reuse ? copied?.buckets?.find(result => result.bucket === bucket.name)?.verify : undefined;
					if (!verify) {
						yield {message: 'comparing the provider with the mirror', object: `bucket/${bucket.name}`};
						// eslint-disable-next-line no-await-in-loop
						verify = await driftOf(pairs[index]!, facts, context.signal);
					}

					buckets.push({bucket: bucket.name, ok: verify.ok, totals: verify.totals, differences: verify.differences});
					yield {message: driftLine(verify), object: `bucket/${bucket.name}`, kind: verify.ok ? 'info' : 'warning'};
				}

				const drifted = buckets.filter(bucket => !bucket.ok);
				if (drifted.length > 0) {
					throw new Error(`drift left in ${drifted.map(bucket => `${bucket.bucket} (${bucket.totals.onlySource} missing, ${bucket.totals.differs} differ${facts.remove ? `, ${bucket.totals.onlyTarget} only in the provider` : ''}; first: ${bucket.differences[0]?.key ?? '?'})`).join('; ')}`);
				}

				return {detail: `no drift in ${buckets.length} bucket(s)`, ok: true, buckets};
			},
		});
	}

	if (suspendBackup && cluster && cron) {
		steps.push({
			id: 'resume-backup', kind: 'mutation', title: `Resume the backup CronJob ${cron.name} (it was active)`, objects: [`CronJob/${ns}/${cron.name}`],
			changes: `CronJob ${cron.name}: spec.suspend true -> false`,
			undo: `kubectl -n ${ns} patch cronjob ${cron.name} --type merge -p '{"spec":{"suspend":true}}'`,
			async check() {
				return (await cluster.getCronJob(ns, cron.name))?.spec?.suspend === false;
			},
			async * run() {
				await cluster.setCronJobSuspended(ns, cron.name, false);
				yield {message: `resumed CronJob ${ns}/${cron.name}`, object: `CronJob/${cron.name}`};
				return {detail: 'resumed'};
			},
		});
	}

	const warnings: string[] = [];
	if (!cluster) {
		warnings.push('no cluster (no kubeconfig): the backup CronJob is not suspended and bucket-init Jobs are not checked');
	} else if (cron && !cron.exists) {
		warnings.push(`the backup CronJob ${cron.name} was not found: nothing to suspend`);
	} else if (cron?.suspended) {
		warnings.push(`the backup CronJob ${cron.name} is suspended now and stays suspended`);
	}

	const unverifiable = facts.buckets.reduce((total, bucket) => total + bucket.plan.unverifiable, 0);
	if (unverifiable > 0) {
		warnings.push(`${unverifiable} objects have the same size but ETags that do not compare (multipart): left alone unless their checksums differ`);
	}

	const blastRadius = [
		counted
			? `the provider buckets ${names.join(', ')} receive ${count(toCopy)}${facts.overwriteChanged ? ` and ${count(toOverwrite)} replacing changed objects` : ''}`
			: `the provider buckets ${names.join(', ')} receive what they lack${facts.overwriteChanged ? ', changed objects are replaced' : ''}`,
		facts.remove ? `--remove: ${counted ? count(toDelete) : 'what the mirror does not have is'} deleted from the provider` : 'nothing is deleted from the provider (no --remove)',
		'the mirror is only read',
		...(suspendBackup && cron ? [`the backup CronJob ${cron.name} is suspended for the duration`] : []),
	];
	const access: AccessRequirement[] = cluster ? [
		{verb: 'list', group: 'batch', resource: 'jobs', namespace: ns},
		...(cron?.exists ? [{verb: 'get', group: 'batch', resource: 'cronjobs', namespace: ns, name: cron.name}] : []),
		...(suspendBackup && cron ? [{verb: 'patch', group: 'batch', resource: 'cronjobs', namespace: ns, name: cron.name}] : []),
		...(strategy.access ?? []),
	] : [...(strategy.access ?? [])];

	return {
		kind: 'mirror',
		target: mirrorRestoreTarget(names),
		summary: counted
			? `restore ${names.join(', ')} from the mirror: ${count(toCopy)} to copy${facts.overwriteChanged ? `, ${toOverwrite.objects} to overwrite` : ''}${facts.remove ? `, ${toDelete.objects} to delete` : ''}`
			: `restore ${names.join(', ')} from the mirror (what is missing${facts.overwriteChanged ? ' or changed' : ''}${facts.remove ? ', deleting what the mirror lacks' : ''})`,
		facts,
		blastRadius,
		warnings,
		preview: formatMirrorPlanTable(facts),
		access,
		steps,
		undo: facts.remove || facts.overwriteChanged
			? ['objects deleted or replaced in the provider are gone unless the bucket keeps versions']
			: ['nothing was replaced or deleted: the restore only added objects the provider lacked'],
	};
}

/** The backup CronJob's state for the facts (undefined without a cluster). */
export async function readCronJobFacts(cluster: MirrorCluster | undefined, namespace: string): Promise<MirrorRestoreFacts['cronJob']> {
	if (!cluster) {
		return undefined;
	}

	const cronJob = await cluster.getCronJob(namespace, backupCronJobName);
	return {name: backupCronJobName, exists: Boolean(cronJob), suspended: cronJob?.spec?.suspend === true};
}
