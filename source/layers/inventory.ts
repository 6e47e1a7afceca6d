import type {Cluster} from '../cluster/cluster.js';
import type {RestoreSession} from '../restore/session.js';
import type {MirrorRestoreSession, MirrorRestoreSessionRequest} from '../restore/mirror-session.js';
import {ClusterError} from '../cluster/cluster-errors.js';
import {findHazards, type Hazard} from './hazards.js';
import {compareToEnd, type BucketComparer, type BucketFigures, type MirrorInventory} from './mirror-figures.js';
import {backupSecretName, describeBackupCron, findBackupCronJob} from './mirrors/cron.js';
import {tableInventory, type TableDiscovery, type TableInventory, type TableSources} from './tables/table-inventory.js';
import {volumeInventory, type VolumeInventory} from './volumes/volume-inventory.js';

/** The buckets the chart creates (`objectStorage.defaultBuckets`). */
export const defaultBuckets = ['ilum-files', 'ilum-data', 'ilum-tables', 'ilum-mlflow', 'ilum-kestra', 'ilum-ducklake', 'ilum-langfuse'];

/** What `inventory --json` prints and the console's home screen shows. */
export type Inventory = {
	readonly volumes: VolumeInventory | {readonly error: string};
	readonly mirrors: MirrorInventory;
	readonly tables: TableInventory;
	readonly hazards: readonly Hazard[];
};

/** Everything the layers read from, built once (by `connectLayers` or a test). */
export type LayerSources = {
	readonly cluster: Cluster;
	readonly namespace: string;
	readonly tableSources: TableSources;
	readonly tableDiscovery: TableDiscovery;
	/** Compares a bucket on the provider and the mirror; absent when there is no mirror to compare with. */
	readonly compare?: BucketComparer;
	/** Why `compare` is absent. */
	readonly compareProblem?: string;
	/** Buckets to compare (default: the CronJob's, else the chart's). */
	readonly buckets?: readonly string[];
	/** Checks that the provider's S3 endpoint answers (throws when it does not). */
	readonly probeProvider?: () => Promise<void>;
	readonly providerEndpoint?: string;
	/** How the provider is reached, one line (`port-forward ilum/svc/ilum-objectstorage:9000 -> pod ilum-objectstorage-0`). */
	readonly providerRoute?: () => string;
	readonly now?: () => number;
	/** Builds a restore session for a VolumeSnapshot (the wizard behind `R`); absent: not offered. */
	readonly prepareVolumeRestore?: (snapshot: string) => Promise<RestoreSession>;
	/** Builds a restore session for a table and one of its versions (the wizard behind `R` in a table's history); absent: not offered. */
	readonly prepareTableRestore?: (target: {ref: string; table?: string; to: string}) => Promise<RestoreSession>;
	/** Builds a mirror restore session for some buckets (the wizard behind `R`/`A` in the Mirrors pane); absent: not offered. */
	readonly prepareMirrorRestore?: (request: MirrorRestoreSessionRequest) => Promise<MirrorRestoreSession>;
	/** Suspends (or resumes) the backup CronJob, recorded in the audit log; absent: not offered. */
	readonly setBackupSuspended?: (name: string, suspend: boolean) => Promise<void>;
	/** Release clients, port-forwards, the drill world. */
	readonly close?: () => Promise<void>;
};

const line = (error: unknown) => error instanceof ClusterError ? error.line() : error instanceof Error ? error.message.split('\n')[0]! : String(error);

/** The CronJob part of the mirrors layer (no S3). */
export async function readBackupCron(cluster: Cluster, namespace: string): Promise<Pick<MirrorInventory, 'cron' | 'cronProblem'>> {
	let cronJobs;
	try {
		cronJobs = await cluster.listCronJobs(namespace);
	} catch (error) {
		return {cronProblem: line(error)};
	}

	const cronJob = findBackupCronJob(cronJobs);
	if (!cronJob) {
		return {cronProblem: `no backup CronJob in namespace ${namespace} (none runs mc mirror / rclone sync or uses ${backupSecretName})`};
	}

	let secret;
	let secretProblem: string | undefined;
	try {
		secret = await cluster.readSecret(namespace, backupSecretName);
		if (!secret) {
			secretProblem = `Secret ${backupSecretName} not found`;
		}
	} catch (error) {
		secretProblem = line(error);
	}

	const jobs = await cluster.listJobs(namespace).catch(() => []);
	return {cron: describeBackupCron(cronJob, {jobs, secret, secretProblem})};
}

/** Buckets to compare: given, else the CronJob's, else the chart's defaults. */
export function bucketsToCompare(sources: Pick<LayerSources, 'buckets'>, cron: MirrorInventory['cron']): readonly string[] {
	return sources.buckets ?? (cron && cron.buckets.length > 0 ? cron.buckets : defaultBuckets);
}

export async function probe(sources: LayerSources): Promise<MirrorInventory['provider']> {
	if (!sources.probeProvider) {
		return undefined;
	}

	try {
		await sources.probeProvider();
		return {endpoint: sources.providerEndpoint, ...(sources.providerRoute ? {via: sources.providerRoute()} : {}), reachable: true};
	} catch (error) {
		return {endpoint: sources.providerEndpoint, ...(sources.providerRoute ? {via: sources.providerRoute()} : {}), reachable: false, error: line(error)};
	}
}

/** The whole mirrors layer, drift included (to the end). */
export async function mirrorInventory(sources: LayerSources, signal?: AbortSignal): Promise<MirrorInventory> {
	const [cronPart, provider] = await Promise.all([readBackupCron(sources.cluster, sources.namespace), probe(sources)]);
	let buckets: BucketFigures[] = [];
	if (sources.compare && provider?.reachable !== false) {
		const compare = sources.compare;
		buckets = await Promise.all(bucketsToCompare(sources, cronPart.cron).map(async bucket => compareToEnd(compare, bucket, signal)));
	}

	return {...cronPart, provider, buckets, compareProblem: sources.compare ? undefined : sources.compareProblem ?? 'no mirror endpoint to compare with'};
}

/** Reads all three layers at once and derives the hazards. Failures stay in their layer. */
export async function gatherInventory(sources: LayerSources, signal?: AbortSignal): Promise<Inventory> {
	const [volumes, mirrors, tables] = await Promise.all([
		volumeInventory(sources.cluster, sources.namespace).catch((error: unknown) => ({error: line(error)})),
		mirrorInventory(sources, signal),
		tableInventory(sources.tableSources, {...sources.tableDiscovery, signal}),
	]);
	const now = sources.now?.() ?? Date.now();
	return {volumes, mirrors, tables, hazards: findHazards({volumes: 'error' in volumes ? undefined : volumes, mirrors, now})};
}
