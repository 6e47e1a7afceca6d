import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import type {KubeConfig} from '@kubernetes/client-node';
import type {CommandContext, Flags} from './command.js';
import {ask} from './plan-runner.js';
import {UserError, exitCodes, refusal, usageError} from '../errors.js';
import {formatTable, writeJson} from '../output.js';
import {backupCronJobName, checkNoInitJobRunning, holdBackupCronJob, kubeMirrorCluster, type CronJobHold, type MirrorCluster} from '../layers/mirrors/cluster-checks.js';
import {backupSecretName, describeBackupCron} from '../layers/mirrors/cron.js';
import {mirrorTargets} from '../layers/bucket-compare.js';
import {
	InClusterAborted, describeEvent, findRun, isObjectLine, jobFailed, jobName, labels, restoreJobManifest, runMirrorJobs,
	providerSecretName, type InClusterEvent, type JobCluster, type MirrorJobTarget, type MirrorOptions, type SecretKeys,
} from '../layers/mirrors/in-cluster.js';
import {cronJobImage, inClusterCopy} from '../layers/mirrors/in-cluster-strategy.js';
import type {MirrorCopyStrategy} from '../restore/mirror-plan.js';
import type {AccessRequirement} from '../restore/plan.js';
import {AuditLog} from '../restore/audit.js';
import {resolveStateDir, stateLayout, writeFileAtomic} from '../restore/state-dir.js';
import type {FastS3Client, S3Endpoint} from '../storage/fast-s3.js';
import {credentialsOf, endpointInSecret, secretCredentials} from '../layers/mirrors/credentials.js';

/**
`restore mirror --in-cluster`: the copy runs as Kubernetes Jobs next to the data (one per bucket,
`minio/mc` running `mc mirror --preserve` from the mirror into the provider), created and followed
from here (pod phases, their logs). The cluster checks are those of the local copy: refuse while a
bucket-init Job runs, hold the backup CronJob. Resumable: a rerun follows the run's Jobs (a failed
one is retried). Verification: from here when both endpoints are reachable from here, else the
Jobs' exit status only (said so).
*/
const defaultBuckets = ['ilum-files', 'ilum-data', 'ilum-tables', 'ilum-mlflow', 'ilum-kestra', 'ilum-ducklake', 'ilum-langfuse'];

type Kube = {
	config: KubeConfig;
	jobs: JobCluster;
	mirrorCluster: MirrorCluster;
	readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
	identity: string;
};

type BucketOutcome = {
	bucket: string;
	job?: string;
	outcome: 'succeeded' | 'failed' | 'unknown';
	reason?: string;
	message?: string;
	lastLines?: readonly string[];
	elapsedMs?: number;
	/** What mc said it transferred (its "Total: ..., Transferred: ..." line). */
	bytes?: number;
};

export async function runRestoreMirrorInCluster(context: CommandContext): Promise<number> {
	const {flags: values, signal, stdout, stderr} = context;
	const json = Boolean(values['json']);
	const log = (line: string) => {
		stderr.write(line + '\n');
	};

	if (values['dryRun'] && values['yes']) {
		throw usageError('--dry-run and --yes exclude each other', 'pass one of them');
	}

	if (!values['dryRun'] && !values['yes'] && !context.interactive) {
		throw refusal('Not a terminal: nothing was changed', 'pass --dry-run to see the Jobs, or --yes to restore');
	}

	if (values['readOnly'] && !values['dryRun']) {
		throw refusal('Refused: --read-only is set, so restore mirror changes nothing', 'drop --read-only to restore, or add --dry-run to see the Jobs');
	}

	const namespace: string = values['namespace'] ?? 'ilum';
	const kube = await connect(values);
	// The provider from here: --s3-endpoint (or AWS_ENDPOINT_URL), else as the console reaches it (the in-cluster name, else a port-forward).
	const given: string | undefined = values['s3Endpoint'] ?? (process.env['AWS_ENDPOINT_URL_S3'] || process.env['AWS_ENDPOINT_URL'] || undefined);
	const route = given ? undefined : await import('../layers/provider-route.js').then(async ({reachProvider}) => reachProvider({config: kube.config, namespace})).catch(() => undefined);
	if (route?.problem) {
		log(`ilum-restore: ${route.problem}`);
	}

	// Both endpoints reachable from here: the guided-restore engine (plan, gates, journal, verification from here) with the Jobs as its copy step.
	const reachable = await outsideClients(values, kube, namespace, log, given ?? route?.endpoint, route?.kind !== 'port-forward');
	if (reachable) {
		await Promise.all([reachable.mirror.destroy(), reachable.provider.destroy()]);
		if (route?.endpoint) {
			log(`ilum-restore: the provider from here: ${route.describe()}`);
		}

		try {
			const {runRestoreMirror} = await import('./restore-mirror-run.js');
			return await runRestoreMirror({...context, flags: given ? {...values, s3Endpoint: given} : values}, {...(given ? {} : {route: route!}), copy: inClusterStrategy(values, json, kube)});
		} finally {
			await route?.close();
		}
	}

	await route?.close();

	// Unreadable (RBAC): the Jobs take the chart's defaults, and the hold below says what it can.
	const cronJob = await kube.mirrorCluster.getCronJob(namespace, backupCronJobName).catch(() => undefined);
	const cron = cronJob ? describeBackupCron(cronJob) : undefined;
	const targetOf = mirrorTargets(cron, values['mirrorRoot']);
	const buckets = chooseBuckets(values, cron?.buckets ?? []);
	const prefix: string | undefined = values['prefix'] || undefined;
	const targets: MirrorJobTarget[] = buckets.map(bucket => {
		const where = targetOf(bucket);
		return {bucket, source: {bucket: where.bucket, prefix: where.prefix}, prefix};
	});
	const options: MirrorOptions = {remove: Boolean(values['remove']), overwrite: Boolean(values['overwriteChanged'])};
	const image = cronJobImage(cronJob);

	await checkNoInitJobRunning(kube.mirrorCluster, namespace);
	const secretKeys = await readSecretKeys(kube, namespace);
	const found = await findRun(kube.jobs, {namespace, buckets, options});
	const settings = {namespace, runId: found.runId, options, cronJob, image, secretKeys};
	if (!values['dryRun']) {
		// RBAC, asked before anything changes or is confirmed (the engine path asks in its preflight).
		await assertAccess(kube, namespace, Boolean(cronJob));
	}

	if (values['dryRun'] || !values['yes']) {
		const manifests = targets.map(target => restoreJobManifest(target, settings));
		if (values['dryRun']) {
			if (json) {
				writeJson(stdout, {type: 'result', dryRun: true, inCluster: true, runId: found.runId, resumes: found.resumed, jobs: manifests});
			} else {
				stdout.write(formatJobs(targets, found, options, namespace));
				stdout.write('Dry run: nothing was changed.\n');
			}

			return exitCodes.ok;
		}

		stdout.write(formatJobs(targets, found, options, namespace));
		if (!await confirm(`Run ${targets.length} Job(s) in namespace ${namespace} to restore ${buckets.join(', ')} from the mirror? Type yes: `)) {
			stdout.write('Nothing was changed.\n');
			return exitCodes.refused;
		}

		if (options.remove && !await confirm('--remove deletes from the provider what the mirror does not have. Type yes again: ')) {
			stdout.write('Nothing was changed.\n');
			return exitCodes.refused;
		}
	}

	// Not both endpoints reachable from here (said on stderr): the Jobs' mc exit status is the check.
	return execute();

	async function execute(): Promise<number> {
		const audit = new AuditLog(resolveStateDir(values['stateDir']));
		const target = `mirror/${buckets.join(',')}`;
		audit.record({identity: kube.identity, action: 'restore.mirror.start', target, outcome: 'started', runId: found.runId, detail: `in-cluster Jobs (run ${found.runId}${found.resumed ? ', resumed' : ''})${options.remove ? ' --remove' : ''}${options.overwrite ? ' --overwrite-changed' : ''}`});
		let hold: CronJobHold | undefined = await holdBackupCronJob(kube.mirrorCluster, namespace);
		if (hold.suspendedByUs) {
			log(`ilum-restore: suspended CronJob ${namespace}/${backupCronJobName} for the restore (resumed at the end)`);
		}

		// A killed earlier run of these Jobs had suspended it: this run resumes it at its end.
		const resumeCronJob = hold.suspendedByUs || (found.resumeCronJob !== undefined && hold.found);
		if (!hold.suspendedByUs && resumeCronJob) {
			hold = {suspendedByUs: true, found: true, release: async () => kube.mirrorCluster.setCronJobSuspended(namespace, backupCronJobName, false)};
		}

		if (found.resumed) {
			log(`ilum-restore: following the Jobs of run ${found.runId} (kubectl -n ${namespace} get jobs -l ${labels.run}=${found.runId})`);
		}

		const outcomes = new Map<string, BucketOutcome>(buckets.map(bucket => [bucket, {bucket, outcome: 'unknown'}]));
		let aborted: InClusterAborted | undefined;
		const copiedSoFar = new Map<string, number>();
		const transferred = new Map<string, number>();
		const startedAt = new Date().toISOString();
		const lastCount = new Map<string, number>();
		try {
			for await (const event of runMirrorJobs(kube.jobs, targets, {
				...settings,
				resumeCronJob: resumeCronJob ? backupCronJobName : undefined,
				existing: found.jobs,
				signal,
				keepOnAbort: Boolean(values['keepJobs']),
				pollMs: 500,
			})) {
				record(outcomes, event);
				const total = event.type === 'log' ? transferredBytes(event.line) : undefined;
				if (event.type === 'log' && total !== undefined) {
					transferred.set(event.bucket, total);
				}

				if (json) {
					writeJson(stdout, event);
				} else if (event.type === 'log' && isObjectLine(event.line)) {
					// One line per object would flood a terminal: a count per bucket, at most once a second.
					const count = (copiedSoFar.get(event.bucket) ?? 0) + 1;
					copiedSoFar.set(event.bucket, count);
					if (Date.now() - (lastCount.get(event.bucket) ?? 0) >= 1000) {
						lastCount.set(event.bucket, Date.now());
						log(`${event.bucket}: ${count} objects copied so far (last: ${event.line.replace(/^`[^`]+` -> /, '')})`);
					}
				} else {
					if (event.type === 'job-succeeded' && copiedSoFar.has(event.bucket)) {
						log(`${event.bucket}: ${copiedSoFar.get(event.bucket)} objects copied`);
					}

					log(describeEvent(event));
				}
			}
		} catch (error) {
			if (!(error instanceof InClusterAborted)) {
				throw error;
			}

			aborted = error;
		}

		if (aborted) {
			audit.record({identity: kube.identity, action: 'restore.mirror', target, outcome: 'stopped', runId: found.runId, detail: aborted.deleted.length > 0 ? `interrupted; deleted Jobs ${aborted.deleted.join(', ')}` : `interrupted; Jobs left running: ${aborted.left.join(', ')}`});
			if (aborted.left.length > 0 && values['keepJobs']) {
				// The Jobs go on: so does the hold. The rerun that follows them resumes the CronJob at its end.
				throw new UserError(`Interrupted: the Jobs ${aborted.left.join(', ')} are left running and the backup CronJob stays suspended`, {exitCode: exitCodes.stopped, hint: `run the same command again to follow them (it resumes ${backupCronJobName} at the end), or kubectl -n ${namespace} delete jobs -l ${labels.run}=${found.runId}`});
			}

			if (hold.suspendedByUs) {
				await hold.release();
				log(`ilum-restore: resumed CronJob ${namespace}/${backupCronJobName}`);
			}

			throw new UserError(`Interrupted: deleted the Jobs ${aborted.deleted.join(', ') || '(none yet)'}; the objects copied so far are in place`, {exitCode: exitCodes.stopped, hint: 'run the same command again to copy the rest'});
		}

		const failed = [...outcomes.values()].filter(outcome => outcome.outcome !== 'succeeded');
		const verified = 'in-cluster-only';
		const ok = failed.length === 0;
		if (hold.suspendedByUs) {
			if (ok) {
				await hold.release();
				log(`ilum-restore: resumed CronJob ${namespace}/${backupCronJobName}`);
			} else {
				// A backup run (with --remove) now would carry the half-restored provider over the mirror.
				log(`ilum-restore: CronJob ${namespace}/${backupCronJobName} stays suspended (the restore is incomplete); the run that completes it resumes it`);
			}
		}

		// What doctor's RTO estimate reads (as for the local copy): the bytes mc says it transferred, and the time.
		const bytes = [...transferred.values()].reduce((total, value) => total + value, 0);
		for (const [bucket, value] of transferred) {
			outcomes.get(bucket)!.bytes = value;
		}

		writeFileAtomic(path.join(stateLayout(resolveStateDir(values['stateDir'])).reports, `mirror-${startedAt.replaceAll(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-in-cluster.json`), JSON.stringify({kind: 'mirror', target, outcome: ok ? 'succeeded' : 'failed', startedAt, endedAt: new Date().toISOString(), bytes, inCluster: true, runId: found.runId, buckets: [...outcomes.values()]}, undefined, '\t') + '\n');
		audit.record({identity: kube.identity, action: 'restore.mirror', target, outcome: ok ? 'succeeded' : 'failed', runId: found.runId, detail: ok ? 'in-cluster Jobs succeeded; verified inside the cluster only (mc exit status)' : `failed: ${failed.map(outcome => `${outcome.bucket} (${outcome.reason ?? 'unknown'})`).join(', ')}`});
		const summary = {
			type: 'result',
			ok,
			inCluster: true,
			runId: found.runId,
			resumed: found.resumed,
			verified,
			buckets: [...outcomes.values()],
			cronJob: {name: backupCronJobName, suspendedDuringRestore: hold.suspendedByUs, resumed: ok && hold.suspendedByUs},
		};
		if (json) {
			writeJson(stdout, summary);
		}

		if (!ok) {
			for (const outcome of failed) {
				log(`ilum-restore: ${outcome.bucket}: Job ${outcome.job ?? '?'} failed (${outcome.reason ?? 'unknown'}: ${outcome.message ?? ''})${outcome.lastLines?.length ? `; last log line: ${outcome.lastLines.at(-1)}` : ''}`);
			}

			if (!json) {
				stdout.write(`Restore incomplete: ${failed.length} Job(s) failed (${failed.map(outcome => outcome.bucket).join(', ')}). Fix the cause and run the same command again: a failed Job is retried.\n`);
			}

			return exitCodes.failed;
		}

		if (!json) {
			stdout.write(`Restore complete: ${buckets.length} bucket(s) restored by Jobs in the cluster. Verified inside the cluster only (mc mirror's exit status): to check from here, make both endpoints reachable (e.g. kubectl -n ${namespace} port-forward svc/ilum-objectstorage 9000, then --s3-endpoint http://127.0.0.1:9000) and run ilum-restore restore mirror --dry-run: a plan with nothing to copy.\n`);
		}

		return exitCodes.ok;
	}
}

const units: Record<string, number> = {B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12};

/** mc's last line, "Total: 1.2 GiB, Transferred: 1.2 GiB, Speed: ...": the bytes transferred. */
export function transferredBytes(line: string): number | undefined {
	const match = /Transferred:\s*([\d.]+)\s*([KMGT]i?B|B)\b/.exec(line);
	return match ? Math.round(Number(match[1]) * (units[match[2]!] ?? 1)) : undefined;
}

/**
The key names of the two Secrets the Jobs read (never their values), and a clear failure before
any Job is created when one is missing (a pod would otherwise wait in CreateContainerConfigError).
A Secret this identity may not read is left to the Jobs.
*/
async function readSecretKeys(kube: Kube, namespace: string): Promise<SecretKeys> {
	const read = async (name: string) => kube.readSecret(namespace, name).then(secret => secret ? Object.keys(secret) : null, () => undefined);
	const [provider, backup] = await Promise.all([read(providerSecretName), read(backupSecretName)]);
	for (const [name, keys] of [[providerSecretName, provider], [backupSecretName, backup]] as const) {
		if (keys === null) {
			throw new UserError(`The Secret ${namespace}/${name} does not exist: the restore Jobs read ${name === backupSecretName ? 'the mirror\'s endpoint and keys' : 'the provider\'s keys'} from it`, {hint: `create it (kubectl -n ${namespace} create secret generic ${name} ...), or run without --in-cluster`});
		}
	}

	return {...(provider ? {provider} : {}), ...(backup ? {backup} : {})};
}

function record(outcomes: Map<string, BucketOutcome>, event: InClusterEvent): void {
	const outcome = outcomes.get(event.bucket);
	if (!outcome) {
		return;
	}

	if (event.type === 'job-created' || event.type === 'job-followed') {
		outcome.job = event.job;
	} else if (event.type === 'job-succeeded') {
		Object.assign(outcome, {job: event.job, outcome: 'succeeded', elapsedMs: event.elapsedMs});
	} else if (event.type === 'job-failed') {
		Object.assign(outcome, {job: event.job, outcome: 'failed', reason: event.reason, message: event.message, lastLines: event.lastLines});
	}
}

function formatJobs(targets: readonly MirrorJobTarget[], found: Awaited<ReturnType<typeof findRun>>, options: MirrorOptions, namespace: string): string {
	const rows = targets.map(target => {
		const existing = found.jobs.get(target.bucket);
		const name = existing?.metadata?.name ?? jobName(found.runId, target.bucket);
		const state = !existing ? 'create' : (jobFailed(existing) ? 'retry' : 'follow');
		return [target.bucket, `${target.source.bucket}${target.source.prefix ? `/${target.source.prefix.replace(/\/$/, '')}` : ''}`, name, state];
	});
	const flags = ['--preserve', options.overwrite ? '--overwrite' : '', options.remove ? '--remove' : ''].filter(Boolean).join(' ');
	return formatTable(['BUCKET', 'FROM MIRROR', 'JOB', 'ACTION'], rows)
		+ `Run ${found.runId}${found.resumed ? ' (an earlier run, resumed)' : ''} in namespace ${namespace}: one Job per bucket, mc mirror ${flags}, credentials from the Secrets (secretKeyRef).\n`
		+ `Follow them: kubectl -n ${namespace} get jobs -l ${labels.run}=${found.runId}\n`;
}

/**
The copy step handed to the guided-restore engine's `restore mirror` (restore-mirror-run.ts) when
both endpoints answer from here: the Jobs over this run's kube context, their events printed as
they come (JSON lines with --json, else a line each on stderr).
*/
function inClusterStrategy(values: Flags, json: boolean, kube: Kube): MirrorCopyStrategy {
	const namespace: string = values['namespace'] ?? 'ilum';

	return inClusterCopy({
		namespace,
		cluster: async () => kube.jobs,
		cronJob: async () => kube.mirrorCluster.getCronJob(namespace, backupCronJobName).catch(() => undefined),
		secretKeys: async () => readSecretKeys(kube, namespace),
		keepOnAbort: Boolean(values['keepJobs']),
		pollMs: 500,
		progressMs: json ? 500 : 1000,
		onStopped(line) {
			process.stderr.write(`ilum-restore: ${line}\n`);
		},
		onEvent(event) {
			if (json) {
				writeJson(process.stdout, event);
			} else if (event.type !== 'log' || !isObjectLine(event.line)) {
				// Object-by-object lines become the progress line; the rest (pod phases, mc's other lines) as they come.
				process.stderr.write(describeEvent(event) + '\n');
			}
		},
	});
}

/** Refuses (exit 3, nothing changed) unless this identity may hold the CronJob and run, follow and delete the Jobs; names what is missing. */
async function assertAccess(kube: Kube, namespace: string, cronJob: boolean): Promise<void> {
	const [{KubeVolumeRestoreCluster}, {formatAccess}] = await Promise.all([import('../cluster/mutations.js'), import('../restore/plan.js')]);
	const items: AccessRequirement[] = [
		{verb: 'list', group: 'batch', resource: 'jobs', namespace},
		...(cronJob ? [{verb: 'patch', group: 'batch', resource: 'cronjobs', namespace, name: backupCronJobName}] : []),
		...(inClusterCopy({namespace, cluster: async () => kube.jobs}).access ?? []),
	];
	let verdicts: Awaited<ReturnType<InstanceType<typeof KubeVolumeRestoreCluster>['reviewAccess']>>;
	try {
		verdicts = await new KubeVolumeRestoreCluster(kube.config).reviewAccess(items);
	} catch (error) {
		throw refusal(`Refused: cannot ask the API server what ${kube.identity} may do (${error instanceof Error ? error.message : String(error)}); nothing was changed`, 'check the kube context (--context), then run the same command again');
	}

	const missing = verdicts.filter(verdict => !verdict.allowed).map(verdict => formatAccess(verdict.item));
	if (missing.length > 0) {
		throw refusal(`Refused: RBAC does not allow ${kube.identity} to ${missing.join('; ')}; nothing was changed`, 'ask an administrator for a Role granting it, or use --context with an identity that has it');
	}
}

function chooseBuckets(values: Flags, cronBuckets: readonly string[]): string[] {
	const given = ([] as string[]).concat(values['bucket'] ?? []).flatMap(value => String(value).split(',')).map(value => value.trim()).filter(Boolean);
	if (given.length > 0) {
		return [...new Set(given)];
	}

	return cronBuckets.length > 0 ? [...cronBuckets] : defaultBuckets;
}

async function confirm(question: string): Promise<boolean> {
	return (await ask(question)).toLowerCase() === 'yes';
}

async function connect(values: Flags): Promise<Kube> {
	const kubeconfigPath: string | undefined = values['kubeconfig'] ?? (process.env['KUBECONFIG'] || undefined);
	if (!kubeconfigPath && !fs.existsSync(path.join(os.homedir(), '.kube', 'config'))) {
		throw usageError('--in-cluster needs a cluster, and there is no kubeconfig', 'pass --kubeconfig (or set KUBECONFIG), or drop --in-cluster to copy through this machine');
	}

	const {loadKubeConfig} = await import('../config/kube.js');
	const config = loadKubeConfig({kubeconfig: values['kubeconfig'], context: values['context']});
	const [mirrorCluster, {KubeJobCluster}] = await Promise.all([kubeMirrorCluster(config), import('../layers/mirrors/in-cluster-kube.js')]);
	return {
		config,
		jobs: new KubeJobCluster(config),
		mirrorCluster,
		readSecret: mirrorCluster.readSecret,
		identity: mirrorCluster.identity,
	};
}

type Outside = {provider: FastS3Client; mirror: FastS3Client};

/**
Clients for both endpoints when this machine can reach them: the provider at `providerEndpoint`
(--s3-endpoint, AWS_ENDPOINT_URL, or the route found to it), the mirror from --mirror-endpoint,
MIRROR_ENDPOINT_URL or the Secret; keys from the variables or the Secrets. Undefined (and said on
stderr) when either is missing or does not answer.
*/
async function outsideClients(values: Flags, kube: Kube, namespace: string, log: (line: string) => void, providerEndpoint: string | undefined, probeProvider: boolean): Promise<Outside | undefined> {
	const env = process.env;
	const [providerSecret, mirrorSecret] = await Promise.all([
		kube.readSecret(namespace, providerSecretName).catch(() => undefined),
		kube.readSecret(namespace, backupSecretName).catch(() => undefined),
	]);
	const mirrorEndpoint: string | undefined = values['mirrorEndpoint'] ?? (env['MIRROR_ENDPOINT_URL'] || undefined) ?? endpointInSecret(mirrorSecret);
	const providerKeys = credentialsOf(env['AWS_ACCESS_KEY_ID'], env['AWS_SECRET_ACCESS_KEY']) ?? secretCredentials(providerSecret);
	const mirrorKeys = credentialsOf(env['MIRROR_ACCESS_KEY_ID'], env['MIRROR_SECRET_ACCESS_KEY']) ?? secretCredentials(mirrorSecret);
	const missing = [providerEndpoint ? '' : 'the provider endpoint (--s3-endpoint)', mirrorEndpoint ? '' : 'the mirror endpoint (--mirror-endpoint)', providerKeys ? '' : 'the provider keys', mirrorKeys ? '' : 'the mirror keys'].filter(Boolean);
	if (missing.length > 0) {
		log(`ilum-restore: no verification from here (unknown: ${missing.join(', ')}): the Jobs' mc exit status is the check`);
		return undefined;
	}

	// A closed port or a name that does not resolve: said at once (the S3 client would retry for seconds).
	// (Not a port-forward's own listener: a connection there opens a forward that outlives the check.)
	for (const [what, url] of [['the mirror', mirrorEndpoint!], ...(probeProvider ? [['the provider', providerEndpoint!] as const] : [])] as const) {
		// eslint-disable-next-line no-await-in-loop
		const problem = await tcpProblem(url, 5000);
		if (problem) {
			log(`ilum-restore: no verification from here: ${what} at ${url} does not answer (${problem}); the Jobs' mc exit status is the check`);
			return undefined;
		}
	}

	const {FastS3Client} = await import('../storage/fast-s3.js');
	const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1';
	const providerSide: S3Endpoint = {endpoint: providerEndpoint!, region, ...providerKeys!};
	const mirrorSide: S3Endpoint = {endpoint: mirrorEndpoint!, region: env['MIRROR_REGION'] || region, ...mirrorKeys!};
	const provider = new FastS3Client(providerSide);
	const mirror = new FastS3Client(mirrorSide);
	try {
		const timeout = AbortSignal.timeout(10_000);
		await Promise.all([provider.listBuckets({signal: timeout}), mirror.listBuckets({signal: timeout})]);
		return {provider, mirror};
	} catch (error) {
		await Promise.all([provider.destroy(), mirror.destroy()]);
		log(`ilum-restore: no verification from here: ${error instanceof Error ? error.message : String(error)} (the Jobs' mc exit status is the check)`);
		return undefined;
	}
}

/** Why a TCP connection to the URL's host and port fails (undefined: it connects). */
async function tcpProblem(url: string, timeoutMs: number): Promise<string | undefined> {
	let host: string;
	let port: number;
	try {
		const parsed = new URL(url);
		host = parsed.hostname.replace(/^\[|\]$/g, '');
		port = Number(parsed.port) || (parsed.protocol === 'https:' ? 443 : 80);
	} catch {
		return 'not a URL';
	}

	return new Promise(resolve => {
		const socket = net.connect({host, port, timeout: timeoutMs});
		const done = (problem: string | undefined) => {
			socket.destroy();
			resolve(problem);
		};

		socket.once('connect', () => {
			done(undefined);
		});
		socket.once('timeout', () => {
			done(`no answer in ${timeoutMs / 1000} s`);
		});
		socket.once('error', (error: NodeJS.ErrnoException) => {
			done(error.code ?? error.message);
		});
	});
}
