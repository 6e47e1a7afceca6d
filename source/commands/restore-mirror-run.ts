import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import readline from 'node:readline/promises';
import type {CommandContext, Flags} from './command.js';
import {UserError, exitCodes, refusal, usageError} from '../errors.js';
import {formatBytes, formatTable, writeJson} from '../output.js';
import {FastS3Client, type S3Endpoint} from '../storage/fast-s3.js';
import {copyMirror, type MirrorPair, type ProgressEvent} from '../layers/mirrors/copy.js';
import {planBucket, preflightPairs, type BucketPlan} from '../layers/mirrors/restore-plan.js';
import {backupCronJobName, checkNoInitJobRunning, holdBackupCronJob, type CronJobHold, type MirrorCluster} from '../layers/mirrors/cluster-checks.js';
import {AuditLog} from '../restore/audit.js';
import {mirrorTargets} from '../layers/bucket-compare.js';
import {describeBackupCron} from '../layers/mirrors/cron.js';
import {resolveStateDir, stateLayout, writeFileAtomic} from '../restore/state-dir.js';

/**
The work of `restore mirror` (see `restore-mirror.ts` for its flags and help): resolve endpoints
and credentials (flags, variables, the cluster's Secrets), check, plan, hold the backup CronJob,
copy, verify, report.
*/
const defaultBuckets = ['ilum-files', 'ilum-data', 'ilum-tables', 'ilum-mlflow', 'ilum-kestra', 'ilum-ducklake', 'ilum-langfuse'];

type Sides = {provider: S3Endpoint; mirror: S3Endpoint; cluster?: MirrorCluster; namespace: string; identity: string};

export async function runRestoreMirror(context: CommandContext): Promise<number> {
	const {flags: values} = context;
	if (values['dryRun'] && values['yes']) {
		throw usageError('--dry-run and --yes exclude each other', 'pass one of them');
	}

	if (!values['dryRun'] && !values['yes'] && !context.interactive) {
		throw refusal('Not a terminal: nothing was changed', 'pass --dry-run to see the plan, or --yes to restore');
	}

	if (values['readOnly'] && !values['dryRun']) {
		throw refusal('Refused: --read-only is set, so restore mirror changes nothing', 'drop --read-only to restore, or add --dry-run to see the plan');
	}

	const concurrency = Number(values['concurrency'] ?? 32);
	if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
		throw usageError(`--concurrency must be a whole number from 1 to 1024, not ${String(values['concurrency'])}`);
	}

	const sides = await resolveSides(values, context);
	const mirror = new FastS3Client(sides.mirror, {connections: concurrency * 2});
	const provider = new FastS3Client(sides.provider, {connections: concurrency * 2});
	try {
		return await restore(context, values, sides, mirror, provider, concurrency);
	} finally {
		// Everything is finished (or failed): no need to wait for idle keep-alive sockets.
		await Promise.all([mirror.destroy(), provider.destroy()]);
	}
}

async function restore(context: CommandContext, values: Flags, sides: Sides, mirror: FastS3Client, provider: FastS3Client, concurrency: number): Promise<number> {
	const {signal, stderr, stdout} = context;
	const json = Boolean(values['json']);
	const log = (line: string) => {
		stderr.write(line + '\n');
	};

	const prefix: string = values['prefix'] ?? '';
	// Where each bucket sits on the mirror: --mirror-root, else what the backup CronJob's command says, else the same name.
	const cronJob = sides.cluster ? await sides.cluster.getCronJob(sides.namespace, backupCronJobName).catch(() => undefined) : undefined;
	const cron = cronJob ? describeBackupCron(cronJob) : undefined;
	const targetOf = mirrorTargets(cron, values['mirrorRoot']);
	const buckets = await chooseBuckets(values, mirror, signal, cron?.buckets ?? []);
	const pairs: MirrorPair[] = buckets.map(bucket => {
		const where = targetOf(bucket);
		return {
			name: bucket,
			source: {client: mirror, bucket: where.bucket, prefix: (where.prefix ?? '') + prefix || undefined},
			target: {client: provider, bucket, prefix: prefix || undefined},
		};
	});

	if (!sides.cluster) {
		log('ilum-restore: no cluster (no kubeconfig): the backup CronJob is not suspended and bucket-init Jobs are not checked');
	} else {
		await checkNoInitJobRunning(sides.cluster, sides.namespace);
	}

	const states = await preflightPairs(pairs, {signal});
	const options = {overwriteChanged: Boolean(values['overwriteChanged']), remove: Boolean(values['remove'])};

	if (values['dryRun'] || !values['yes']) {
		const plans: BucketPlan[] = [];
		for (const state of states) {
			// eslint-disable-next-line no-await-in-loop
			plans.push(await planBucket(state.pair, {...options, signal, targetExists: state.targetExists}));
		}

		if (values['dryRun']) {
			if (json) {
				writeJson(stdout, {type: 'result', dryRun: true, buckets: plans});
			} else {
				stdout.write(formatPlan(plans, options));
				stdout.write('Dry run: nothing was changed.\n');
			}

			return exitCodes.ok;
		}

		stdout.write(formatPlan(plans, options));
		if (!await confirm(`Restore ${plans.reduce((sum, plan) => sum + plan.copy.objects + plan.overwrite.objects, 0)} objects into the provider? Type yes: `)) {
			stdout.write('Nothing was changed.\n');
			return exitCodes.refused;
		}

		const deletions = plans.reduce((sum, plan) => sum + plan.delete.objects, 0);
		if (deletions > 0 && !await confirm(`--remove deletes ${deletions} objects from the provider. Type yes again: `)) {
			stdout.write('Nothing was changed.\n');
			return exitCodes.refused;
		}
	}

	const audit = new AuditLog(resolveStateDir(values['stateDir']));
	const target = `mirror/${states.map(state => state.pair.name).join(',')}`;
	audit.record({identity: sides.identity, action: 'restore.mirror.start', target, outcome: 'started', detail: `from ${sides.mirror.endpoint} to ${sides.provider.endpoint}${options.remove ? ' --remove' : ''}${options.overwriteChanged ? ' --overwrite-changed' : ''}`});
	let hold: CronJobHold | undefined;
	if (sides.cluster) {
		hold = await holdBackupCronJob(sides.cluster, sides.namespace);
		if (hold.suspendedByUs) {
			log(`ilum-restore: suspended CronJob ${sides.namespace}/${backupCronJobName} for the restore (resumed at the end)`);
		}
	}

	const results: Array<Extract<ProgressEvent, {type: 'bucket-done'}>> = [];
	const startedAt = new Date().toISOString();
	let lastLine = 0;
	try {
		for (const state of states) {
			if (!state.targetExists) {
				// eslint-disable-next-line no-await-in-loop
				await provider.createBucket(state.pair.target.bucket, {signal});
				log(`ilum-restore: created bucket ${state.pair.target.bucket} in the provider`);
			}
		}

		for await (const event of copyMirror(states.map(state => state.pair), {...options, concurrency, verify: !values['skipVerify'], signal, progressMs: json ? 500 : 1000})) {
			if (json) {
				writeJson(stdout, event);
			}

			if (event.type === 'bucket-done') {
				results.push(event);
				if (!json) {
					log(`${event.bucket}: ${event.objectsDone} objects (${formatBytes(event.bytesDone)}) copied, ${event.deleted} deleted, ${event.skipped} skipped, ${event.failed} failed, ${event.retries} retries, ${(event.elapsedMs / 1000).toFixed(1)} s${event.verify ? `; verify (${((event.verifyMs ?? 0) / 1000).toFixed(1)} s): ${event.verify.ok ? 'no drift' : 'DRIFT'} (${event.verify.totals.same} same, ${event.verify.totals.onlySource} missing, ${event.verify.totals.differs} differ, ${event.verify.totals.unverifiable} unverifiable)` : ''}`);
				}
			} else if (!json && event.type === 'progress' && Date.now() - lastLine >= 1000) {
				lastLine = Date.now();
				log(`${event.bucket}: ${event.objectsDone}/${event.objectsTotal}${event.listingDone ? '' : '+'} objects, ${formatBytes(event.bytesDone)}/${formatBytes(event.bytesTotal)}, ${formatBytes(event.rate)}/s${event.etaMs === undefined ? '' : `, ETA ${Math.ceil(event.etaMs / 1000)} s`}, ${event.retries} retries, ${event.failed} failed`);
			} else if (!json && event.type === 'failed') {
				log(`${event.bucket}: failed ${event.key}: ${event.error}`);
			}
		}
	} catch (error) {
		if (signal.aborted) {
			audit.record({identity: sides.identity, action: 'restore.mirror', target, outcome: 'stopped', detail: 'interrupted'});
			throw new UserError('Interrupted: the objects copied so far are in place', {hint: 'run the same command again to copy the rest'});
		}

		throw error;
	} finally {
		if (hold?.suspendedByUs) {
			await hold.release();
			log(`ilum-restore: resumed CronJob ${sides.namespace}/${backupCronJobName}`);
		}
	}

	const failed = results.reduce((sum, result) => sum + result.failed, 0);
	const drift = results.filter(result => result.verify && !result.verify.ok).map(result => result.bucket);
	const ok = failed === 0 && drift.length === 0 && results.length === states.length;
	audit.record({identity: sides.identity, action: 'restore.mirror', target, outcome: ok ? 'succeeded' : 'failed', detail: `${results.reduce((sum, result) => sum + result.objectsDone, 0)} objects copied, ${results.reduce((sum, result) => sum + result.deleted, 0)} deleted, ${failed} failed${drift.length > 0 ? `, drift in ${drift.join(', ')}` : ''}`});
	const summary = {
		type: 'result',
		ok,
		buckets: results.map(result => ({
			bucket: result.bucket,
			copied: result.objectsDone,
			bytes: result.bytesDone,
			deleted: result.deleted,
			skipped: result.skipped,
			changedKept: result.changedKept,
			onlyTargetKept: result.onlyTargetKept,
			failed: result.failed,
			failedKeys: result.failedKeys,
			retries: result.retries,
			unverifiedCopies: result.unverified,
			elapsedMs: result.elapsedMs,
			verify: result.verify,
		})),
		cronJob: hold ? {name: backupCronJobName, suspendedDuringRestore: hold.suspendedByUs} : undefined,
	};
	// What doctor's RTO estimate reads: the bytes this restore moved and how long it took.
	const stateDir = resolveStateDir(values['stateDir']);
	writeFileAtomic(path.join(stateLayout(stateDir).reports, `mirror-${startedAt.replaceAll(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`), JSON.stringify({kind: 'mirror', target, outcome: ok ? 'succeeded' : 'failed', startedAt, endedAt: new Date().toISOString(), bytes: results.reduce((sum, result) => sum + result.bytesDone, 0), summary}, undefined, '\t') + '\n');
	if (json) {
		writeJson(stdout, summary);
	} else {
		stdout.write(ok ? 'Restore complete: every bucket verified.\n' : `Restore incomplete: ${failed} objects failed${drift.length > 0 ? `, drift left in ${drift.join(', ')}` : ''}; run the same command again to resume.\n`);
	}

	return ok ? exitCodes.ok : exitCodes.failed;
}

function formatPlan(plans: readonly BucketPlan[], options: {overwriteChanged: boolean; remove: boolean}): string {
	const cell = (count: {objects: number; bytes: number}) => `${count.objects} (${formatBytes(count.bytes)})`;
	const rows = plans.map(plan => [
		plan.bucket + (plan.createBucket ? ' (new)' : ''),
		cell(plan.copy),
		options.overwriteChanged ? cell(plan.overwrite) : `${plan.changedKept.objects} kept`,
		options.remove ? cell(plan.delete) : `${plan.onlyTargetKept.objects} kept`,
		String(plan.skipped.objects),
		String(plan.unverifiable),
	]);
	const notes = [
		options.overwriteChanged ? '' : 'Changed objects are kept (pass --overwrite-changed to replace them).',
		options.remove ? '' : 'Objects only in the provider are kept (pass --remove to delete them).',
	].filter(Boolean).join('\n');
	return formatTable(['BUCKET', 'COPY', 'OVERWRITE', 'DELETE', 'SKIP', 'UNVERIFIABLE'], rows) + (notes ? notes + '\n' : '');
}


async function confirm(question: string): Promise<boolean> {
	const prompt = readline.createInterface({input: process.stdin, output: process.stderr});
	try {
		return (await prompt.question(question)).trim().toLowerCase() === 'yes';
	} finally {
		prompt.close();
	}
}

/** --bucket, else the buckets the backup CronJob names, else (with --mirror-root) Ilum's default buckets, else every bucket on the mirror. */
async function chooseBuckets(values: Flags, mirror: FastS3Client, signal: AbortSignal, cronBuckets: readonly string[]): Promise<string[]> {
	const given = ([] as string[]).concat(values['bucket'] ?? []).flatMap(value => String(value).split(',')).map(value => value.trim()).filter(Boolean);
	if (given.length > 0) {
		return [...new Set(given)];
	}

	if (cronBuckets.length > 0) {
		return [...cronBuckets];
	}

	if (values['mirrorRoot']) {
		return defaultBuckets;
	}

	const all = await mirror.listBuckets({signal});
	if (all.length === 0) {
		throw new UserError(`The mirror ${mirror.endpoint.endpoint} has no buckets`, {hint: 'check --mirror-endpoint and its credentials'});
	}

	return all;
}

/** Endpoints and credentials from flags, the environment and (when there is a cluster) its Secrets. */
async function resolveSides(values: Flags, context: CommandContext): Promise<Sides> {
	const env = process.env;
	const namespace: string = values['namespace'] ?? 'ilum';
	let cluster: (MirrorCluster & {readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>}) | undefined;
	let identity = `${os.userInfo().username}@local`;
	const kubeconfigPath: string | undefined = values['kubeconfig'] ?? (env['KUBECONFIG'] || undefined);
	if (kubeconfigPath || fs.existsSync(path.join(os.homedir(), '.kube', 'config'))) {
		const {loadKubeConfig} = await import('../config/kube.js');
		const config = loadKubeConfig({kubeconfig: values['kubeconfig'], context: values['context']});
		const [{createCluster}, {KubeVolumeRestoreCluster}] = await Promise.all([import('../cluster/cluster.js'), import('../cluster/mutations.js')]);
		const reads = createCluster(config);
		const writes = new KubeVolumeRestoreCluster(config);
		identity = writes.identity;
		cluster = {
			listJobs: async ns => reads.listJobs(ns),
			getCronJob: async (ns, name) => writes.getCronJob(ns, name),
			setCronJobSuspended: async (ns, name, suspend) => writes.setCronJobSuspended(ns, name, suspend),
			readSecret: async (ns, name) => reads.readSecret(ns, name).then(secret => secret ? {...secret} : undefined),
		};
	}

	const [providerSecret, mirrorSecret] = cluster
		? await Promise.all([
			cluster.readSecret(namespace, 'ilum-objectstorage-credentials').catch(() => undefined),
			cluster.readSecret(namespace, 'ilum-backup-credentials').catch(() => undefined),
		])
		: [undefined, undefined];
	const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1';
	const providerEndpoint = values['s3Endpoint'] ?? (env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined);
	const providerKeys = credentialsOf(env['AWS_ACCESS_KEY_ID'], env['AWS_SECRET_ACCESS_KEY']) ?? secretCredentials(providerSecret);
	const mirrorEndpoint = values['mirrorEndpoint'] ?? (env['MIRROR_ENDPOINT_URL'] || undefined) ?? endpointInSecret(mirrorSecret);
	const mirrorKeys = credentialsOf(env['MIRROR_ACCESS_KEY_ID'], env['MIRROR_SECRET_ACCESS_KEY']) ?? secretCredentials(mirrorSecret) ?? providerKeys;
	if (!providerEndpoint) {
		throw usageError('The provider endpoint is unknown', 'pass --s3-endpoint (a port-forward or public URL of the object storage) or set AWS_ENDPOINT_URL');
	}

	if (!mirrorEndpoint) {
		throw usageError('The mirror endpoint is unknown', 'pass --mirror-endpoint or set MIRROR_ENDPOINT_URL (or give the cluster\'s Secret ilum-backup-credentials an endpoint)');
	}

	if (!providerKeys) {
		throw usageError('No credentials for the provider', 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or allow reading the Secret ilum-objectstorage-credentials');
	}

	if (!mirrorKeys) {
		throw usageError('No credentials for the mirror', 'set MIRROR_ACCESS_KEY_ID and MIRROR_SECRET_ACCESS_KEY, or allow reading the Secret ilum-backup-credentials');
	}

	for (const url of [providerEndpoint, mirrorEndpoint]) {
		if (!/^https?:\/\/[^/]+/.test(url)) {
			throw usageError(`Not an http(s) URL: ${url}`, 'give endpoints as http://host:port or https://host');
		}
	}

	void context;
	return {
		provider: {endpoint: providerEndpoint, region, ...providerKeys, sessionToken: env['AWS_SESSION_TOKEN'] || undefined},
		mirror: {endpoint: mirrorEndpoint, region: env['MIRROR_REGION'] || region, ...mirrorKeys},
		cluster,
		namespace,
		identity,
	};
}

function credentialsOf(accessKeyId: string | undefined, secretAccessKey: string | undefined) {
	return accessKeyId && secretAccessKey ? {accessKeyId, secretAccessKey} : undefined;
}

const accessKeyNames = ['access-key', 'accesskey', 'root-user', 'RUSTFS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'MINIO_ROOT_USER'];
const secretKeyNames = ['secret-key', 'secretkey', 'root-password', 'RUSTFS_SECRET_KEY', 'AWS_SECRET_ACCESS_KEY', 'MINIO_ROOT_PASSWORD'];

function secretCredentials(secret: Record<string, string> | undefined) {
	if (!secret) {
		return undefined;
	}

	return credentialsOf(accessKeyNames.map(name => secret[name]).find(Boolean), secretKeyNames.map(name => secret[name]).find(Boolean));
}

/** An endpoint URL among a Secret's values (`endpoint`, `url`, `MC_HOST_*`), without userinfo. */
function endpointInSecret(secret: Record<string, string> | undefined): string | undefined {
	if (!secret) {
		return undefined;
	}

	const value = Object.entries(secret).find(([key]) => /endpoint|url|host/i.test(key) && !/source|src/i.test(key))?.[1];
	const match = value ? /(https?:\/\/)(?:[^\s/@]+@)?([^\s/]+)/.exec(value) : undefined;
	return match ? `${match[1]}${match[2]}` : undefined;
}
