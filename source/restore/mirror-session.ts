import type {KubeConfig, V1CronJob} from '@kubernetes/client-node';
import type {InClusterEvent} from '../layers/mirrors/in-cluster.js';
import {FastS3Client, type S3Endpoint} from '../storage/fast-s3.js';
import {mirrorTargets} from '../layers/bucket-compare.js';
import {backupSecretName, describeBackupCron} from '../layers/mirrors/cron.js';
import type {MirrorPair} from '../layers/mirrors/copy.js';
import {backupCronJobName, checkNoInitJobRunning, kubeMirrorCluster, type MirrorCluster} from '../layers/mirrors/cluster-checks.js';
import {describeSide, planBucket, preflightPairs} from '../layers/mirrors/restore-plan.js';
import {uploadJournalFile} from '../layers/mirrors/uploads.js';
import type {AccessChecker} from './executor.js';
import {findUnfinished, type JournalState} from './journal.js';
import {buildMirrorRestorePlan, mirrorRestoreTarget, readCronJobFacts, uncountedPlan, type MirrorCopyStrategy, type MirrorRestoreFacts, type MirrorSideFacts} from './mirror-plan.js';
import {createSession, type RestoreSession} from './session.js';

/**
From a request (clients, buckets, options) to the facts of a mirror restore and its session: what
the CLI's `restore mirror` and the console's wizard both do before the engine walks the plan.
Reading the facts refuses (exit 3) like the command always did: an unfinished bucket-init Job, an
empty mirror bucket over a non-empty provider bucket.
*/
export type MirrorRestoreRequest = {
	readonly provider: FastS3Client;
	readonly mirror: FastS3Client;
	readonly cluster?: MirrorCluster;
	readonly namespace: string;
	readonly buckets: readonly string[];
	/** Where a bucket sits on the mirror (`mirrorTargets` of layers/bucket-compare.ts). */
	readonly mirrorLocation: (bucket: string) => {bucket: string; prefix?: string};
	/** Only keys under this prefix, in every bucket. */
	readonly prefix?: string;
	readonly overwriteChanged: boolean;
	readonly remove: boolean;
	readonly verify: boolean;
	readonly copyStrategy?: string;
	readonly signal?: AbortSignal;
	/** Running figures while a bucket is counted (objects compared so far on each side). */
	readonly onPlanProgress?: (bucket: string, compared: {readonly source: number; readonly target: number}) => void;
};

const sideFacts = (client: FastS3Client, bucket: string, prefix: string | undefined): MirrorSideFacts => ({endpoint: client.endpoint.endpoint, bucket, ...(prefix ? {prefix} : {})});

/** The buckets as client pairs, from the facts (also after a resume: the journal's buckets, today's credentials). */
export function pairsFromFacts(facts: MirrorRestoreFacts, clients: {provider: FastS3Client; mirror: FastS3Client}): MirrorPair[] {
	return facts.buckets.map(bucket => ({
		name: bucket.name,
		source: {client: clients.mirror, bucket: bucket.source.bucket, ...(bucket.source.prefix ? {prefix: bucket.source.prefix} : {})},
		target: {client: clients.provider, bucket: bucket.target.bucket, ...(bucket.target.prefix ? {prefix: bucket.target.prefix} : {})},
	}));
}

/** Checks and plans every bucket (a full drift each): the facts the plan is built from. */
export async function readMirrorRestoreFacts(request: MirrorRestoreRequest & {
	/** Count beforehand (a full diff per bucket, for the plan's figures and gates). Default true; `restore mirror --yes` skips it. */
	readonly count?: boolean;
}): Promise<MirrorRestoreFacts> {
	const {signal} = request;
	const prefix = request.prefix ?? '';
	const pairs: MirrorPair[] = request.buckets.map(bucket => {
		const where = request.mirrorLocation(bucket);
		return {
			name: bucket,
			source: {client: request.mirror, bucket: where.bucket, prefix: (where.prefix ?? '') + prefix || undefined},
			target: {client: request.provider, bucket, prefix: prefix || undefined},
		};
	});
	if (request.cluster) {
		await checkNoInitJobRunning(request.cluster, request.namespace);
	}

	const states = await preflightPairs(pairs, signal ? {signal} : {});
	const buckets = [];
	for (const state of states) {
		// eslint-disable-next-line no-await-in-loop
		const plan = request.count === false
			? uncountedPlan(state.pair.name, {source: describeSide(state.pair.source), target: describeSide(state.pair.target), targetExists: state.targetExists})
			: await planBucket(state.pair, {
				overwriteChanged: request.overwriteChanged,
				remove: request.remove,
				targetExists: state.targetExists,
				...(signal ? {signal} : {}),
				...(request.onPlanProgress ? {onProgress: (bucket: string, totals: {sourceObjects: number; targetObjects: number}) => request.onPlanProgress!(bucket, {source: totals.sourceObjects, target: totals.targetObjects})} : {}),
			});
		buckets.push({name: state.pair.name, source: sideFacts(request.mirror, state.pair.source.bucket, state.pair.source.prefix), target: sideFacts(request.provider, state.pair.target.bucket, state.pair.target.prefix), targetExists: state.targetExists, plan, ...(request.count === false ? {counted: false as const} : {})});
	}

	const cronJob = await readCronJobFacts(request.cluster, request.namespace);
	return {
		namespace: request.namespace,
		buckets,
		overwriteChanged: request.overwriteChanged,
		remove: request.remove,
		verify: request.verify,
		...(prefix ? {prefix} : {}),
		...(cronJob ? {cronJob} : {}),
		copyStrategy: request.copyStrategy ?? 'local',
	};
}

/** Why a journaled restore cannot be continued with these options (undefined: it can). */
export function resumeMismatch(facts: MirrorRestoreFacts, request: Pick<MirrorRestoreRequest, 'overwriteChanged' | 'remove' | 'prefix' | 'verify'>): string | undefined {
	const differences = [
		facts.overwriteChanged === request.overwriteChanged ? '' : `--overwrite-changed ${facts.overwriteChanged ? 'was' : 'was not'} given`,
		facts.remove === request.remove ? '' : `--remove ${facts.remove ? 'was' : 'was not'} given`,
		(facts.prefix ?? '') === (request.prefix ?? '') ? '' : `the prefix was '${facts.prefix ?? ''}'`,
	].filter(Boolean);
	return differences.length > 0 ? `it was started with other options (${differences.join(', ')})` : undefined;
}

/** A session for the console's wizard: facts read now, or the unfinished run of the same buckets continued. */
export async function prepareMirrorRestore(options: MirrorRestoreRequest & {
	readonly stateDir: string;
	readonly identity: string;
	readonly checkAccess?: AccessChecker;
	readonly readOnly?: boolean;
	readonly copy?: MirrorCopyStrategy;
	readonly concurrency?: number;
	/** Stops the copy (the wizard's stop key). */
	readonly copySignal?: AbortSignal;
}): Promise<RestoreSession & {readonly facts: MirrorRestoreFacts}> {
	const target = mirrorRestoreTarget(options.buckets);
	const unfinished: JournalState | undefined = findUnfinished(options.stateDir, target);
	if (unfinished) {
		const why = resumeMismatch(unfinished.begin.facts as MirrorRestoreFacts, options);
		if (why) {
			throw new Error(`an unfinished restore of ${target} exists and ${why}: continue it with ilum-restore restore mirror --resume, or discard it with --abandon`);
		}
	}

	const facts = unfinished ? unfinished.begin.facts as MirrorRestoreFacts : await readMirrorRestoreFacts(options);
	const plan = buildMirrorRestorePlan(facts, {
		pairs: pairsFromFacts(facts, options),
		...(options.cluster ? {cluster: options.cluster} : {}),
		...(options.copy ? {copy: options.copy} : {}),
		...(options.concurrency ? {concurrency: options.concurrency} : {}),
		...(options.copySignal ? {signal: options.copySignal} : {}),
		// Interrupted multipart uploads are journaled in this state dir (a resume takes them up).
		uploadJournal: uploadJournalFile(options.stateDir),
		progressMs: 250,
	});
	const session = createSession({
		plan,
		stateDir: options.stateDir,
		identity: options.identity,
		...(options.checkAccess ? {checkAccess: options.checkAccess} : {}),
		...(options.readOnly ? {readOnly: true} : {}),
		...(unfinished ? {resume: unfinished} : {}),
	});
	return {...session, facts};
}

/** What the console's wizard asks for: some buckets (default: those the backup CronJob names), and the signal of its stop key. */
export type MirrorRestoreSessionRequest = {
	readonly buckets: readonly string[];
	/** Stops the copy once the wizard runs (its stop key). */
	readonly copySignal?: AbortSignal;
	/** Stops the planning (the operator left before the plan was ready). */
	readonly signal?: AbortSignal;
	readonly onPlanProgress?: MirrorRestoreRequest['onPlanProgress'];
	/** Copy with Kubernetes Jobs in the cluster (as `restore mirror --in-cluster`): their pod phases and log lines go to `onJobEvent`. */
	readonly inCluster?: boolean;
	readonly onJobEvent?: (event: InClusterEvent) => void;
};

/** A session that owns S3 clients: `close()` releases them when the wizard is gone. */
export type MirrorRestoreSession = RestoreSession & {readonly facts: MirrorRestoreFacts; close(): Promise<void>};

/**
The console's `prepareMirrorRestore` (see layers/connect.ts): the kube context for the CronJob,
the Jobs and RBAC, the two S3 endpoints with their keys as the console resolved them. Each
session gets its own clients (sized for the copy), closed with the session.
*/
export function mirrorRestoreSource(options: {
	readonly config: KubeConfig;
	readonly namespace: string;
	readonly provider: S3Endpoint;
	readonly mirror: S3Endpoint;
	readonly stateDir: string;
	readonly mirrorRoot?: string;
	readonly concurrency?: number;
}): (request: MirrorRestoreSessionRequest) => Promise<MirrorRestoreSession> {
	return async request => {
		const concurrency = options.concurrency ?? 32;
		// The Kubernetes client is loaded there, not at the top: `restore mirror` without a cluster does not pay for it.
		const cluster = await kubeMirrorCluster(options.config);
		const provider = new FastS3Client(options.provider, {connections: concurrency * 2});
		const mirror = new FastS3Client(options.mirror, {connections: concurrency * 2});
		const close = async () => {
			await Promise.all([provider.destroy(), mirror.destroy()]);
		};

		try {
			const cronJob = await cluster.getCronJob(options.namespace, backupCronJobName).catch(() => undefined);
			const session = await prepareMirrorRestore({
				provider,
				mirror,
				cluster,
				namespace: options.namespace,
				buckets: request.buckets,
				mirrorLocation: mirrorTargets(cronJob ? describeBackupCron(cronJob) : undefined, options.mirrorRoot),
				overwriteChanged: false,
				remove: false,
				verify: true,
				stateDir: options.stateDir,
				identity: cluster.identity,
				checkAccess: cluster.checkAccess,
				concurrency,
				...(request.copySignal ? {copySignal: request.copySignal} : {}),
				...(request.signal ? {signal: request.signal} : {}),
				...(request.onPlanProgress ? {onPlanProgress: request.onPlanProgress} : {}),
				...(request.inCluster ? {copy: await inClusterCopyFor(options.config, options.namespace, cronJob, cluster.readSecret, request.onJobEvent), copyStrategy: 'in-cluster'} : {}),
			});
			return {...session, close};
		} catch (error) {
			await close();
			throw error;
		}
	};
}

/** The in-cluster Jobs as the copy step (engineer P's `inClusterCopy`), over this kube context. */
async function inClusterCopyFor(config: KubeConfig, namespace: string, cronJob: V1CronJob | undefined, readSecret: (namespace: string, name: string) => Promise<Readonly<Record<string, string>> | undefined>, onEvent: ((event: InClusterEvent) => void) | undefined): Promise<MirrorCopyStrategy> {
	const [{inClusterCopy}, {KubeJobCluster}, {providerSecretName}] = await Promise.all([import('../layers/mirrors/in-cluster-strategy.js'), import('../layers/mirrors/in-cluster-kube.js'), import('../layers/mirrors/in-cluster.js')]);
	const keys = async (name: string) => readSecret(namespace, name).then(secret => secret ? Object.keys(secret) : undefined, () => undefined);
	return inClusterCopy({
		namespace,
		cluster: async () => new KubeJobCluster(config),
		cronJob: async () => cronJob,
		secretKeys: async () => {
			const [provider, backup] = await Promise.all([keys(providerSecretName), keys(backupSecretName)]);
			return {...(provider ? {provider} : {}), ...(backup ? {backup} : {})};
		},
		pollMs: 500,
		...(onEvent ? {onEvent} : {}),
	});
}
