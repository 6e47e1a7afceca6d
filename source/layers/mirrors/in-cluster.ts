import type {V1CronJob, V1EnvVar, V1Job, V1Pod} from '@kubernetes/client-node';
import {refusal} from '../../errors.js';
import {backupSecretName} from './cron.js';

/**
`restore mirror --in-cluster`: the mirror restore as Kubernetes Jobs, one per bucket, running the
runbook's `minio/mc` image and `mc mirror --preserve` from the backup target back into the
provider. The copy then happens next to the data (no laptop in the path); this module builds the
Jobs, creates them, and follows them as events (job created, pod phase, log line, job succeeded or
failed).

```ts
const cluster = new KubeJobCluster(kubeConfig);          // in-cluster-kube.ts
const run = await findRun(cluster, {namespace, buckets, options: {remove, overwrite}});
for await (const event of runMirrorJobs(cluster, targets, {...settings, runId: run.runId, existing: run.jobs, signal})) {
	event.type; // 'job-created' | 'job-followed' | 'pod' | 'log' | 'job-succeeded' | 'job-failed'
}
```

- Every Job carries `app.kubernetes.io/managed-by=ilum-restore`, `app.kubernetes.io/component=mirror-restore`,
  the run id and the bucket as labels (the pods too): a rerun finds the run's Jobs by label and
  follows them instead of creating duplicates; a failed Job of that run is replaced (deleted,
  created again with the next attempt number).
- Credentials only as `secretKeyRef`s (never inline): the provider's from
  `ilum-objectstorage-credentials`, the mirror's endpoint and keys from `ilum-backup-credentials`,
  taken from the backup CronJob's own env entries when it has them (so a renamed key follows).
- Aborting (the signal) deletes the run's Jobs (propagationPolicy Background) unless `keepOnAbort`.
*/

export const labels = {
	managedBy: 'app.kubernetes.io/managed-by',
	component: 'app.kubernetes.io/component',
	run: 'ilum-restore/run',
	bucket: 'ilum-restore/bucket',
} as const;

export const annotations = {
	/** `remove,overwrite` flags the Job's mc mirror runs with (a rerun with other flags refuses to adopt). */
	options: 'ilum-restore/mirror-options',
	attempt: 'ilum-restore/attempt',
	/** The backup CronJob this run suspended: a rerun after a kill resumes it at the end. */
	resumeCronJob: 'ilum-restore/resume-cronjob',
	/** The provider bucket (labels cannot hold every bucket name). */
	bucket: 'ilum-restore/bucket',
	/** Set on every Job of a run once a client saw all of them succeed: that run is over. */
	reported: 'ilum-restore/reported',
} as const;

export const managedBy = 'ilum-restore';
export const component = 'mirror-restore';
export const runSelector = (runId?: string) => `${labels.managedBy}=${managedBy},${labels.component}=${component}${runId ? `,${labels.run}=${runId}` : ''}`;

export const defaultMcImage = 'minio/mc:RELEASE.2025-04-16T18-13-26Z';
export const providerSecretName = 'ilum-objectstorage-credentials';

/** The cluster operations the Jobs need (over @kubernetes/client-node in `in-cluster-kube.ts`; tests may pass a fake). */
export interface JobCluster {
	createJob(namespace: string, job: V1Job): Promise<V1Job>;
	listJobs(namespace: string, labelSelector: string): Promise<V1Job[]>;
	/** Deletes with propagationPolicy Background; a Job already gone is fine. */
	deleteJob(namespace: string, name: string): Promise<void>;
	listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
	/** Merges annotations into a Job's metadata (a merge patch). */
	annotateJob(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
	/**
	Follows a container's log (`pods/NAME/log?follow=true`, as `kubectl logs -f`): `onLine` for each
	line; resolves when the server ends the stream (the container ended) or the signal aborts.
	*/
	followLog(namespace: string, pod: string, container: string, options: {signal: AbortSignal; onLine: (line: string) => void}): Promise<void>;
}

/** One bucket to restore: from `source` on the mirror into `bucket` (under `prefix`) in the provider. */
export type MirrorJobTarget = {
	readonly bucket: string;
	readonly source: {readonly bucket: string; readonly prefix?: string};
	/** Only keys under this prefix (relative to the bucket and to the source prefix). */
	readonly prefix?: string;
};

export type MirrorOptions = {readonly remove: boolean; readonly overwrite: boolean};

export type JobSettings = {
	readonly namespace: string;
	readonly runId: string;
	readonly options: MirrorOptions;
	/** The backup CronJob: its env says where the mirror's endpoint and keys come from, its script the provider's URL. */
	readonly cronJob?: V1CronJob;
	readonly image?: string;
	/** Pod retries before the Job fails (mc mirror itself re-diffs: a retry resumes). Default 1. */
	readonly backoffLimit?: number;
	/** The Job is stopped after this long (default 6 hours). */
	readonly activeDeadlineSeconds?: number;
	/** Finished Jobs (and their logs) are kept this long (default a day). */
	readonly ttlSecondsAfterFinished?: number;
	/** Set on the Jobs when this run suspended the backup CronJob (see `annotations.resumeCronJob`). */
	readonly resumeCronJob?: string;
	/** The Secrets' key names, when readable (see `mirrorEnvironment`). */
	readonly secretKeys?: SecretKeys;
};

/** A run id: a sortable base-36 time plus two random characters (`r` + 10 characters). */
export function newRunId(now = Date.now()): string {
	return `r${now.toString(36).padStart(8, '0')}${Math.floor(Math.random() * 36 * 36).toString(36).padStart(2, '0')}`;
}

/** `ilum-restore-mirror-<run>-<bucket>`, at most 63 characters (the pods' `job-name` label), with a hash when the bucket name is cut. */
export function jobName(runId: string, bucket: string, attempt = 1): string {
	const suffix = attempt > 1 ? `-a${attempt}` : '';
	const base = `ilum-restore-mirror-${runId}-`;
	const clean = bucket.toLowerCase().replaceAll(/[^a-z\d-]/g, '-');
	const room = 63 - base.length - suffix.length;
	const name = clean.length <= room && clean === bucket ? clean : `${clean.slice(0, room - 7)}-${shortHash(bucket)}`;
	return `${base}${name}${suffix}`.replace(/-+$/, '');
}

function shortHash(text: string): string {
	let hash = 2_166_136_261;
	for (const char of text) {
		hash ^= char.codePointAt(0)!;
		hash = Math.imul(hash, 16_777_619) >>> 0;
	}

	return hash.toString(36).padStart(6, '0').slice(-6);
}

/** A bucket as a label value (63 characters, alphanumeric at both ends). */
const labelValue = (value: string) => value.length <= 63 && /^[a-z\d]([\w.-]*[a-z\d])?$/i.test(value) ? value : `${value.replaceAll(/[^\w.-]/g, '-').slice(0, 55)}-${shortHash(value)}`.replace(/^[^a-z\d]+/i, '');

const quote = (text: string) => `'${text.replaceAll('\'', '\'"\'"\'')}'`;

type SecretRef = {name: string; key: string};

/** The names (never the values) of the keys each Secret has, when they could be read: they pick among the usual key names. */
export type SecretKeys = {readonly provider?: readonly string[]; readonly backup?: readonly string[]};

const accessKeyNames = ['access-key', 'accesskey', 'accessKey', 'root-user', 'rootUser', 'RUSTFS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'MINIO_ROOT_USER'];
const secretKeyNames = ['secret-key', 'secretkey', 'secretKey', 'root-password', 'rootPassword', 'RUSTFS_SECRET_KEY', 'AWS_SECRET_ACCESS_KEY', 'MINIO_ROOT_PASSWORD'];

/**
Where the Jobs' mc finds its endpoints and keys, read as the backup CronJob does: its container's
env entries that reference `ilum-backup-credentials` (endpoint, access and secret key) and
`ilum-objectstorage-credentials`, and the provider's URL from its `mc alias set ... http://...`.
Without such entries, the first usual key name the Secret has (`access-key`, `root-user`,
`RUSTFS_ACCESS_KEY` ..., when its key names could be read), else the chart's keys (`endpoint`,
`access-key`, `secret-key`); the provider's URL defaults to `http://ilum-objectstorage:9000`.
*/
export function mirrorEnvironment(cronJob: V1CronJob | undefined, secretKeys: SecretKeys = {}): {env: V1EnvVar[]; providerUrl: string} {
	const choose = (keys: readonly string[] | undefined, names: readonly string[], fallback: string) => names.find(name => keys?.includes(name)) ?? fallback;
	const endpointKey = secretKeys.backup?.find(key => /endpoint|url|host/i.test(key) && !/source|src/i.test(key)) ?? 'endpoint';
	const container = cronJob?.spec?.jobTemplate?.spec?.template?.spec?.containers?.find(candidate => (candidate.env ?? []).some(variable => variable.valueFrom?.secretKeyRef?.name === backupSecretName)) ?? cronJob?.spec?.jobTemplate?.spec?.template?.spec?.containers?.[0];
	const entries = container?.env ?? [];
	const pick = (secret: string, pattern: RegExp): V1EnvVar | undefined => entries.find(variable => variable.valueFrom?.secretKeyRef?.name === secret && pattern.test(variable.name));
	const ref = (variable: V1EnvVar | undefined, fallback: SecretRef): SecretRef => {
		const found = variable?.valueFrom?.secretKeyRef;
		return found?.name && found.key ? {name: found.name, key: found.key} : fallback;
	};

	const endpointVariable = pick(backupSecretName, /endpoint|url|host/i) ?? entries.find(variable => /endpoint|_url$/i.test(variable.name) && !/src|source|provider/i.test(variable.name));
	const secretRef = (name: string, ref: SecretRef): V1EnvVar => ({name, valueFrom: {secretKeyRef: {name: ref.name, key: ref.key}}});
	const env: V1EnvVar[] = [
		endpointVariable?.value === undefined
			? secretRef('BACKUP_ENDPOINT', ref(endpointVariable, {name: backupSecretName, key: endpointKey}))
			: {name: 'BACKUP_ENDPOINT', value: endpointVariable.value},
		secretRef('BACKUP_ACCESS_KEY', ref(pick(backupSecretName, /access|user|key_?id/i), {name: backupSecretName, key: choose(secretKeys.backup, accessKeyNames, 'access-key')})),
		secretRef('BACKUP_SECRET_KEY', ref(pick(backupSecretName, /secret|password/i), {name: backupSecretName, key: choose(secretKeys.backup, secretKeyNames, 'secret-key')})),
		secretRef('ILUM_ACCESS_KEY', ref(pick(providerSecretName, /access|user|key_?id/i), {name: providerSecretName, key: choose(secretKeys.provider, accessKeyNames, 'access-key')})),
		secretRef('ILUM_SECRET_KEY', ref(pick(providerSecretName, /secret|password/i), {name: providerSecretName, key: choose(secretKeys.provider, secretKeyNames, 'secret-key')})),
	];
	const script = [...(container?.command ?? []), ...(container?.args ?? [])].join(' ');
	const providerUrl = /alias\s+set\s+\S+\s+["']?(https?:\/\/[^\s"'$]+)/.exec(script)?.[1] ?? /host\s+add\s+\S+\s+["']?(https?:\/\/[^\s"'$]+)/.exec(script)?.[1] ?? 'http://ilum-objectstorage:9000';
	return {env, providerUrl};
}

/** The Job's shell script: the runbook's two aliases and one `mc mirror --preserve`, the direction reversed. */
export function restoreScript(target: MirrorJobTarget, providerUrl: string, options: MirrorOptions): string {
	const join = (...parts: Array<string | undefined>) => parts.filter(Boolean).map(part => part!.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/');
	const from = join('backup', target.source.bucket, target.source.prefix, target.prefix);
	const to = join('ilum', target.bucket, target.prefix);
	const flags = ['--preserve', options.overwrite ? '--overwrite' : '', options.remove ? '--remove' : ''].filter(Boolean).join(' ');
	return [
		'set -e',
		'mc alias set backup "$BACKUP_ENDPOINT" "$BACKUP_ACCESS_KEY" "$BACKUP_SECRET_KEY"',
		`mc alias set ilum ${quote(providerUrl)} "$ILUM_ACCESS_KEY" "$ILUM_SECRET_KEY"`,
		`mc mirror ${flags} ${quote(from)} ${quote(to)}`,
		'',
	].join('\n');
}

export const optionsValue = (options: MirrorOptions) => [options.remove ? 'remove' : '', options.overwrite ? 'overwrite' : ''].filter(Boolean).join(',') || 'none';

/** The Job restoring one bucket. */
export function restoreJobManifest(target: MirrorJobTarget, settings: JobSettings, attempt = 1): V1Job {
	const {env, providerUrl} = mirrorEnvironment(settings.cronJob, settings.secretKeys);
	const podLabels = {
		[labels.managedBy]: managedBy,
		[labels.component]: component,
		[labels.run]: settings.runId,
		[labels.bucket]: labelValue(target.bucket),
	};
	return {
		apiVersion: 'batch/v1',
		kind: 'Job',
		metadata: {
			name: jobName(settings.runId, target.bucket, attempt),
			namespace: settings.namespace,
			labels: {...podLabels, 'app.kubernetes.io/name': 'ilum-objectstorage-restore', 'app.kubernetes.io/part-of': 'ilum'},
			annotations: {
				[annotations.bucket]: target.bucket,
				[annotations.options]: optionsValue(settings.options),
				[annotations.attempt]: String(attempt),
				...(settings.resumeCronJob ? {[annotations.resumeCronJob]: settings.resumeCronJob} : {}),
			},
		},
		spec: {
			backoffLimit: settings.backoffLimit ?? 1,
			activeDeadlineSeconds: settings.activeDeadlineSeconds ?? 6 * 3600,
			ttlSecondsAfterFinished: settings.ttlSecondsAfterFinished ?? 24 * 3600,
			template: {
				metadata: {labels: podLabels},
				spec: {
					restartPolicy: 'Never',
					containers: [{
						name: 'mc',
						image: settings.image ?? defaultMcImage,
						command: ['/bin/sh', '-c'],
						args: [restoreScript(target, providerUrl, settings.options)],
						// mc keeps its aliases under $MC_CONFIG_DIR: a writable place whatever user the image runs as.
						env: [...env, {name: 'MC_CONFIG_DIR', value: '/tmp/.mc'}],
						resources: {requests: {cpu: '250m', memory: '256Mi'}},
						// Admitted under the baseline Pod Security level (and most of restricted, which also wants runAsNonRoot).
						securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}, seccompProfile: {type: 'RuntimeDefault'}},
					}],
				},
			},
		},
	};
}

// ---- finding a run again -------------------------------------------------------------------------

const conditionTrue = (job: V1Job, type: string) => (job.status?.conditions ?? []).some(condition => condition.type === type && condition.status === 'True');
export const jobSucceeded = (job: V1Job) => conditionTrue(job, 'Complete') || ((job.status?.succeeded ?? 0) >= (job.spec?.completions ?? 1));
export const jobFailed = (job: V1Job) => conditionTrue(job, 'Failed');
export const bucketOf = (job: V1Job) => job.metadata?.annotations?.[annotations.bucket] ?? job.metadata?.labels?.[labels.bucket] ?? '';
const attemptOf = (job: V1Job) => Number(job.metadata?.annotations?.[annotations.attempt] ?? 1) || 1;

export type FoundRun = {
	readonly runId: string;
	/** The newest Job of each bucket of an adopted run (empty for a new run). */
	readonly jobs: ReadonlyMap<string, V1Job>;
	readonly resumed: boolean;
	/** The adopted run had suspended the backup CronJob (a killed run did not get to resume it). */
	readonly resumeCronJob?: string;
};

/**
A rerun after an interruption: the newest earlier run (by the Jobs' labels) that is not over (a
Job still active or failed, or all succeeded but never reported: the client was killed before the
end) and restores one of these buckets is adopted; otherwise a new run id.
A run still active with other mirror flags (`--remove`, `--overwrite-changed`) refuses (exit 3).
*/
export async function findRun(cluster: JobCluster, request: {namespace: string; buckets: readonly string[]; options: MirrorOptions; now?: number}): Promise<FoundRun> {
	const jobs = await cluster.listJobs(request.namespace, runSelector());
	const runs = new Map<string, V1Job[]>();
	for (const job of jobs) {
		const run = job.metadata?.labels?.[labels.run];
		if (run && !job.metadata?.deletionTimestamp) {
			runs.set(run, [...(runs.get(run) ?? []), job]);
		}
	}

	const created = (list: V1Job[]) => Math.max(...list.map(job => new Date(job.metadata?.creationTimestamp ?? 0).getTime()));
	const wanted = new Set(request.buckets);
	for (const [runId, list] of [...runs].sort((a, b) => created(b[1]) - created(a[1]))) {
		const newest = new Map<string, V1Job>();
		for (const job of list) {
			const bucket = bucketOf(job);
			const known = newest.get(bucket);
			if (!known || attemptOf(job) > attemptOf(known)) {
				newest.set(bucket, job);
			}
		}

		const unfinished = [...newest.values()].filter(job => !jobSucceeded(job));
		// Every Job succeeded but no client saw the run through (it was killed meanwhile): adopt it too, to report it and end it.
		const reported = [...newest.values()].every(job => job.metadata?.annotations?.[annotations.reported]);
		if ((unfinished.length === 0 && reported) || ![...newest.keys()].some(bucket => wanted.has(bucket))) {
			continue;
		}

		const active = unfinished.filter(job => !jobFailed(job));
		const other = active.find(job => (job.metadata?.annotations?.[annotations.options] ?? 'none') !== optionsValue(request.options));
		if (other) {
			throw refusal(`The mirror restore run ${runId} is still running with other flags (${other.metadata?.annotations?.[annotations.options]}) in Job ${request.namespace}/${other.metadata?.name}`, `rerun with the same flags to follow it, or delete it first (kubectl -n ${request.namespace} delete jobs -l ${labels.run}=${runId})`);
		}

		const resumeCronJob = list.map(job => job.metadata?.annotations?.[annotations.resumeCronJob]).find(Boolean);
		return {runId, jobs: newest, resumed: true, resumeCronJob};
	}

	return {runId: newRunId(request.now), jobs: new Map(), resumed: false};
}

// ---- following ---------------------------------------------------------------------------------

export type InClusterEvent =
	| {readonly type: 'job-created'; readonly bucket: string; readonly job: string; readonly attempt: number}
	/** An existing Job of the run (a rerun): followed, not created again. */
	| {readonly type: 'job-followed'; readonly bucket: string; readonly job: string; readonly state: 'active' | 'succeeded'}
	/** A failed Job of an earlier attempt, deleted to be created again. */
	| {readonly type: 'job-retried'; readonly bucket: string; readonly job: string; readonly next: string}
	| {readonly type: 'pod'; readonly bucket: string; readonly job: string; readonly pod: string; readonly phase: string; readonly reason?: string; readonly message?: string}
	| {readonly type: 'log'; readonly bucket: string; readonly job: string; readonly pod: string; readonly line: string}
	| {readonly type: 'job-succeeded'; readonly bucket: string; readonly job: string; readonly elapsedMs?: number}
	| {readonly type: 'job-failed'; readonly bucket: string; readonly job: string; readonly reason: string; readonly message: string; readonly lastLines: readonly string[]};

export type RunOptions = JobSettings & {
	readonly signal: AbortSignal;
	/** Jobs of an adopted run, by bucket (`findRun`). */
	readonly existing?: ReadonlyMap<string, V1Job>;
	/** How often Jobs and pods are read (ms; default 1000). */
	readonly pollMs?: number;
	/** A pod waiting this long on a configuration or image error (CreateContainerConfigError, ImagePullBackOff ...) fails its bucket (ms; default 120 s). */
	readonly stuckMs?: number;
	/** On abort, leave the Jobs running (default: delete them). */
	readonly keepOnAbort?: boolean;
	/** Log lines kept per Job for a failure report (default 10). */
	readonly keepLines?: number;
};

/** Thrown when the signal aborts: which Jobs were deleted (or left running). */
export class InClusterAborted extends Error {
	readonly deleted: readonly string[];
	readonly left: readonly string[];

	constructor(deleted: readonly string[], left: readonly string[]) {
		super('interrupted');
		this.name = 'InClusterAborted';
		this.deleted = deleted;
		this.left = left;
	}
}

const stuckReasons = new Set(['CreateContainerConfigError', 'CreateContainerError', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull']);

/**
Creates (or adopts) one Job per target and yields their events until every Job has succeeded or
failed. Jobs run in parallel (the cluster schedules them); events of different buckets interleave.
*/
export async function * runMirrorJobs(cluster: JobCluster, targets: readonly MirrorJobTarget[], settings: RunOptions): AsyncGenerator<InClusterEvent> {
	const {namespace, signal} = settings;
	const queue: InClusterEvent[] = [];
	let wake: (() => void) | undefined;
	const succeeded = new Set<string>();
	const push = (event: InClusterEvent) => {
		if (event.type === 'job-succeeded') {
			succeeded.add(event.bucket);
		}

		queue.push(event);
		wake?.();
	};

	const known = new Map<string, string>();
	const followers: Array<Promise<void>> = [];
	let failure: unknown;
	let pending = targets.length;
	const internal = new AbortController();
	const stop = () => {
		internal.abort(signal.reason);
	};

	signal.addEventListener('abort', stop, {once: true});
	// Adopted Jobs belong to the adopted run: one run id, one selector for all of them.
	const lists = sharedLists(cluster, namespace, runSelector(settings.runId), settings.pollMs ?? 1000, internal.signal);
	try {
		for (const target of targets) {
			followers.push((async () => {
				try {
					const job = await ensureJob(cluster, target, settings, push);
					known.set(target.bucket, job.metadata!.name!);
					// Also a Job that already succeeded: its pod's log is read once (what it copied), then it is reported.
					await followJob(cluster, lists, target.bucket, job, settings, internal.signal, push);
				} catch (error) {
					if (!internal.signal.aborted) {
						failure ??= error;
						internal.abort(error);
					}
				} finally {
					pending--;
					wake?.();
				}
			})());
		}

		for (;;) {
			while (queue.length > 0) {
				yield queue.shift()!;
			}

			if (pending === 0 || internal.signal.aborted) {
				break;
			}

			// eslint-disable-next-line no-await-in-loop
			await new Promise<void>(resolve => {
				wake = resolve;
				internal.signal.addEventListener('abort', () => {
					resolve();
				}, {once: true});
			});
			wake = undefined;
		}

		await Promise.allSettled(followers);
		while (queue.length > 0) {
			yield queue.shift()!;
		}

		if (failure) {
			throw failure;
		}

		if (!signal.aborted && targets.every(target => succeeded.has(target.bucket))) {
			// The run is over: a later rerun starts a new one instead of adopting this one.
			const at = new Date().toISOString();
			await Promise.all([...known.values()].map(async name => cluster.annotateJob(namespace, name, {[annotations.reported]: at}).catch(() => undefined)));
		}

		if (signal.aborted) {
			const names = [...known.values()];
			if (settings.keepOnAbort) {
				throw new InClusterAborted([], names);
			}

			const deleted: string[] = [];
			for (const name of names) {
				// eslint-disable-next-line no-await-in-loop
				await cluster.deleteJob(namespace, name).then(() => deleted.push(name), () => undefined);
			}

			throw new InClusterAborted(deleted, names.filter(name => !deleted.includes(name)));
		}
	} finally {
		signal.removeEventListener('abort', stop);
		internal.abort();
	}
}

/** The Job to follow for a target: the adopted one, a new attempt for a failed one, or a new Job. */
async function ensureJob(cluster: JobCluster, target: MirrorJobTarget, settings: RunOptions, push: (event: InClusterEvent) => void): Promise<V1Job> {
	const existing = settings.existing?.get(target.bucket);
	if (existing && !jobFailed(existing)) {
		push({type: 'job-followed', bucket: target.bucket, job: existing.metadata!.name!, state: jobSucceeded(existing) ? 'succeeded' : 'active'});
		return existing;
	}

	const attempt = existing ? attemptOf(existing) + 1 : 1;
	const manifest = restoreJobManifest(target, settings, attempt);
	if (existing) {
		// The failed attempt goes (its pods with it); its name stays free of confusion: the next one is `-a<N>`.
		await cluster.deleteJob(settings.namespace, existing.metadata!.name!);
		push({type: 'job-retried', bucket: target.bucket, job: existing.metadata!.name!, next: manifest.metadata!.name!});
	}

	const created = await cluster.createJob(settings.namespace, manifest);
	push({type: 'job-created', bucket: target.bucket, job: created.metadata?.name ?? manifest.metadata!.name!, attempt});
	return created;
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
	if (signal.aborted) {
		return;
	}

	await new Promise<void>(resolve => {
		const timer = setTimeout(finish, ms);
		function finish() {
			clearTimeout(timer);
			signal.removeEventListener('abort', finish);
			resolve();
		}

		signal.addEventListener('abort', finish, {once: true});
	});
}

function podState(pod: V1Pod): {phase: string; reason?: string; message?: string} {
	const phase = pod.status?.phase ?? 'Pending';
	const status = pod.status?.containerStatuses?.[0];
	const waiting = status?.state?.waiting;
	const terminated = status?.state?.terminated;
	if (waiting?.reason) {
		return {phase, reason: waiting.reason, message: waiting.message};
	}

	if (terminated) {
		return {phase, reason: terminated.reason ?? `exit ${terminated.exitCode}`, message: terminated.exitCode === 0 ? undefined : `exit code ${terminated.exitCode}`};
	}

	return {phase};
}

type Lists = {readonly version: number; readonly takenAt: number; readonly jobs: readonly V1Job[]; readonly pods: readonly V1Pod[]};

/**
One list of the run's Jobs and one of its pods per interval, shared by every bucket's follower
(two requests a poll whatever the bucket count: kind to the API server's rate limits). A caller
gets a list newer than the one it saw last.
*/
function sharedLists(cluster: JobCluster, namespace: string, selector: string, pollMs: number, signal: AbortSignal): (seen: number) => Promise<Lists> {
	let last: Lists | undefined;
	let inflight: Promise<Lists> | undefined;
	return async seen => {
		if (last && last.version > seen) {
			return last;
		}

		inflight ??= (async () => {
			const wait = (last?.takenAt ?? 0) + pollMs - Date.now();
			if (last && wait > 0) {
				await sleep(wait, signal);
			}

			const takenAt = Date.now();
			const [jobs, pods] = await Promise.all([cluster.listJobs(namespace, selector), cluster.listPods(namespace, selector)]);
			last = {version: (last?.version ?? 0) + 1, takenAt, jobs, pods};
			return last;
		})().finally(() => {
			inflight = undefined;
		});
		return inflight;
	};
}

/** Follows one Job: pod phases, each pod's log (once it runs), until Complete or Failed. */
async function followJob(cluster: JobCluster, lists: (seen: number) => Promise<Lists>, bucket: string, job: V1Job, settings: RunOptions, signal: AbortSignal, push: (event: InClusterEvent) => void): Promise<void> {
	const {namespace} = settings;
	const name = job.metadata!.name!;
	const keep = settings.keepLines ?? 10;
	const lastLines: string[] = [];
	const states = new Map<string, string>();
	const logs = new Map<string, Promise<void>>();
	const stuckSince = new Map<string, number>();
	const logAbort = new AbortController();
	const stopLogs = () => {
		logAbort.abort();
	};

	signal.addEventListener('abort', stopLogs, {once: true});
	const startedAt = Date.now();
	const settle = async () => {
		// The last lines of a finished pod: its log stream ends with the container; wait for it a little.
		await Promise.race([Promise.allSettled(logs.values()), sleep(10_000, signal)]);
	};

	try {
		let seen = 0;
		while (!signal.aborted) {
			// eslint-disable-next-line no-await-in-loop
			const snapshot = await lists(seen);
			seen = snapshot.version;
			if (signal.aborted) {
				return;
			}

			const current = snapshot.jobs.find(item => item.metadata?.name === name);
			if (!current) {
				// A list taken before this Job was created does not count.
				if (snapshot.takenAt > startedAt) {
					push({type: 'job-failed', bucket, job: name, reason: 'Deleted', message: `the Job ${namespace}/${name} was deleted`, lastLines: [...lastLines]});
					return;
				}

				continue;
			}

			const pods = snapshot.pods.filter(pod => pod.metadata?.ownerReferences?.some(owner => owner.uid === current.metadata?.uid) ?? pod.metadata?.labels?.[labels.bucket] === labelValue(bucket));
			for (const pod of pods) {
				const podName = pod.metadata?.name ?? '';
				const state = podState(pod);
				const key = `${state.phase}|${state.reason ?? ''}`;
				if (states.get(podName) !== key) {
					states.set(podName, key);
					push({type: 'pod', bucket, job: name, pod: podName, ...state});
				}

				if (state.phase === 'Pending' && state.reason && stuckReasons.has(state.reason)) {
					const since = stuckSince.get(podName) ?? Date.now();
					stuckSince.set(podName, since);
					if (Date.now() - since >= (settings.stuckMs ?? 120_000)) {
						push({type: 'job-failed', bucket, job: name, reason: state.reason, message: state.message ?? state.reason, lastLines: [...lastLines]});
						return;
					}
				}

				if (state.phase !== 'Pending' && !logs.has(podName)) {
					const container = pod.spec?.containers?.[0]?.name ?? 'mc';
					logs.set(podName, cluster.followLog(namespace, podName, container, {
						signal: logAbort.signal,
						onLine(line) {
							lastLines.push(line);
							if (lastLines.length > keep) {
								lastLines.shift();
							}

							push({type: 'log', bucket, job: name, pod: podName, line});
						},
					}).catch(() => undefined));
				}
			}

			if (jobSucceeded(current)) {
				// eslint-disable-next-line no-await-in-loop
				await settle();
				const completed = current.status?.completionTime ? new Date(current.status.completionTime).getTime() : Date.now();
				const started = current.status?.startTime ? new Date(current.status.startTime).getTime() : startedAt;
				push({type: 'job-succeeded', bucket, job: name, elapsedMs: Math.max(0, completed - started)});
				return;
			}

			if (jobFailed(current)) {
				// eslint-disable-next-line no-await-in-loop
				await settle();
				const condition = current.status?.conditions?.find(item => item.type === 'Failed' && item.status === 'True');
				push({type: 'job-failed', bucket, job: name, reason: condition?.reason ?? 'Failed', message: condition?.message ?? 'the Job failed', lastLines: [...lastLines]});
				return;
			}

		}
	} finally {
		signal.removeEventListener('abort', stopLogs);
		logAbort.abort();
	}
}

/** mc's line for one copied object (plain output): "`backup/b/k` -> `ilum/b/k`". */
export const isObjectLine = (line: string) => /^`[^`]+` -> `[^`]+`$/.test(line);

/** The line a person reads for an event (the CLI's stderr; the console may use it too). */
export function describeEvent(event: InClusterEvent): string {
	switch (event.type) {
		case 'job-created': {
			return `${event.bucket}: created Job ${event.job}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ''}`;
		}

		case 'job-followed': {
			return `${event.bucket}: following the existing Job ${event.job} (${event.state})`;
		}

		case 'job-retried': {
			return `${event.bucket}: deleted the failed Job ${event.job}; retrying as ${event.next}`;
		}

		case 'pod': {
			return `${event.bucket}: pod ${event.pod} ${event.phase}${event.reason ? ` (${event.reason}${event.message ? `: ${event.message}` : ''})` : ''}`;
		}

		case 'log': {
			return `${event.bucket} | ${event.line}`;
		}

		case 'job-succeeded': {
			// Job times have second precision: a Job that ran under a second shows 0.
			return `${event.bucket}: Job ${event.job} succeeded${event.elapsedMs === undefined ? '' : (event.elapsedMs < 1000 ? ' in under a second' : ` in ${Math.round(event.elapsedMs / 1000)} s`)}`;
		}

		case 'job-failed': {
			return `${event.bucket}: Job ${event.job} failed (${event.reason}: ${event.message})${event.lastLines.length > 0 ? `; last log line: ${event.lastLines.at(-1)}` : ''}`;
		}
	}
}
