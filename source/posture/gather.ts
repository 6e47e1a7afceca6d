/**
Reads what `assessPosture` needs from the live cluster and storage: the three layers'
inventories, the CronJobs (snapshot schedules), the provider's buckets and their settings, the
Secrets a restore depends on, and the throughput the last restores measured.
*/
import fs from 'node:fs';
import path from 'node:path';
import {ClusterError} from '../cluster/cluster-errors.js';
import {gatherInventory, type LayerSources} from '../layers/inventory.js';
import {providerSecretName} from '../layers/connect.js';
import {backupSecretName} from '../layers/mirrors/cron.js';
import type {BucketSetting, PostureFacts} from './assess.js';
import {listBuckets, readBucketSettings} from './bucket-settings.js';

const line = (error: unknown) => error instanceof ClusterError ? error.line() : error instanceof Error ? error.message.split('\n')[0]! : String(error);

/** Bytes per second of the newest saved report of each restore kind (reports are JSON in `<state>/reports`). */
export function measuredThroughput(stateDir: string | undefined): PostureFacts['throughput'] {
	if (!stateDir) {
		return undefined;
	}

	const folder = path.join(stateDir, 'reports');
	let files: string[];
	try {
		files = fs.readdirSync(folder).filter(file => file.endsWith('.json')).sort().reverse();
	} catch {
		return undefined;
	}

	const throughput: NonNullable<PostureFacts['throughput']> = {};
	for (const file of files) {
		try {
			const report = JSON.parse(fs.readFileSync(path.join(folder, file), 'utf8')) as {kind?: string; outcome?: string; startedAt?: string; endedAt?: string; bytes?: number; verification?: {bytes?: number}};
			const kind = report.kind === 'volume' || report.kind === 'mirror' ? report.kind : undefined;
			const bytes = report.bytes ?? report.verification?.bytes;
			const seconds = report.startedAt && report.endedAt ? (Date.parse(report.endedAt) - Date.parse(report.startedAt)) / 1000 : 0;
			if (kind && report.outcome === 'succeeded' && !throughput[kind] && bytes && seconds > 0) {
				throughput[kind] = {bytesPerSecond: bytes / seconds, from: `the ${kind} restore of ${report.endedAt}`};
			}
		} catch {}
	}

	return throughput;
}

export async function gatherPosture(sources: LayerSources, options: {signal?: AbortSignal; stateDir?: string; now?: number} = {}): Promise<PostureFacts> {
	const {cluster, namespace} = sources;
	const s3 = sources.tableDiscovery.s3;
	const [inventory, cronJobs, providerBuckets, secrets] = await Promise.all([
		gatherInventory(sources, options.signal),
		cluster.listCronJobs(namespace).then(items => ({items}), (error: unknown) => ({items: [], error: line(error)})),
		s3 ? listBuckets(s3()).catch(() => undefined) : Promise.resolve(undefined),
		Promise.all([providerSecretName, backupSecretName].map(async name => ({
			name,
			exists: await cluster.readSecret(namespace, name).then(secret => secret !== undefined, () => undefined),
		}))),
	]);
	const bucketSettings: BucketSetting[] = [];
	if (s3 && providerBuckets) {
		const readings = await Promise.all(providerBuckets.map(async bucket => readBucketSettings(s3(), bucket)));
		bucketSettings.push(...readings.flatMap(reading => reading.settings));
	}

	return {
		namespace,
		now: options.now ?? sources.now?.() ?? Date.now(),
		...('error' in inventory.volumes ? {volumesError: inventory.volumes.error} : {volumes: inventory.volumes}),
		mirrors: inventory.mirrors,
		tables: inventory.tables,
		cronJobs: cronJobs.items,
		...('error' in cronJobs && cronJobs.error ? {cronJobsError: cronJobs.error} : {}),
		...(providerBuckets ? {providerBuckets} : {}),
		bucketSettings,
		secrets,
		throughput: measuredThroughput(options.stateDir),
	};
}
