import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import type {CommandContext, Flags} from './command.js';
import {UserError, exitCodes, refusal, usageError} from '../errors.js';
import {writeJson} from '../output.js';
import {FastS3Client, type S3Endpoint} from '../storage/fast-s3.js';
import type {VerifyResult} from '../layers/mirrors/copy.js';
import {backupCronJobName, kubeMirrorCluster, type KubeMirrorCluster, type MirrorCluster} from '../layers/mirrors/cluster-checks.js';
import {mirrorTargets} from '../layers/bucket-compare.js';
import {describeBackupCron} from '../layers/mirrors/cron.js';
import {abandonUnfinished, executePlan, type AccessChecker, type Gate} from '../restore/executor.js';
import {describeUnfinished, findUnfinished, type JournalState} from '../restore/journal.js';
import {formatEventLine} from '../restore/log-lines.js';
import {buildMirrorRestorePlan, formatMirrorPlanTable, isMirrorProgress, mirrorRestoreTarget, type MirrorBucketResult, type MirrorCopyStrategy, type MirrorRestoreFacts} from '../restore/mirror-plan.js';
import {pairsFromFacts, readMirrorRestoreFacts, resumeMismatch} from '../restore/mirror-session.js';
import {describePlan, formatPlan} from '../restore/plan.js';
import type {RestoreReport} from '../restore/report.js';
import {resolveStateDir, stateLayout, writeFileAtomic} from '../restore/state-dir.js';
import {uploadJournalFile} from '../layers/mirrors/uploads.js';
import {credentialsOf, endpointInSecret, secretCredentials} from '../layers/mirrors/credentials.js';
import type {KubeConfig} from '@kubernetes/client-node';
import type {ProviderRoute} from '../layers/provider-route.js';
import {ask, exitCodeOf} from './plan-runner.js';

/**
The work of `restore mirror` (see `restore-mirror.ts` for its flags and help): resolve endpoints
and credentials (flags, variables, the cluster's Secrets), check, plan, hold the backup CronJob,
copy, verify, report.
*/
const defaultBuckets = ['ilum-files', 'ilum-data', 'ilum-tables', 'ilum-mlflow', 'ilum-kestra', 'ilum-ducklake', 'ilum-langfuse'];

type Sides = {
	provider: S3Endpoint;
	mirror: S3Endpoint;
	cluster?: MirrorCluster;
	namespace: string;
	identity: string;
	checkAccess?: AccessChecker;
	/** How the provider is reached when no endpoint was given (the in-cluster name or a port-forward): closed when the command ends. */
	route?: ProviderRoute;
};

/**
`route`: the way to the provider a caller already found (`--in-cluster`'s); it stays the caller's to close.
`copy`: the copy step's strategy (`--in-cluster`'s Jobs); default the plan's own local copy.
*/
export async function runRestoreMirror(context: CommandContext, options: {readonly route?: ProviderRoute; readonly copy?: MirrorCopyStrategy} = {}): Promise<number> {
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

	const sides = await resolveSides(values, context, options.route);
	const mirror = new FastS3Client(sides.mirror, {connections: concurrency * 2});
	const provider = new FastS3Client(sides.provider, {connections: concurrency * 2});
	try {
		// A route handed in was already named by the caller.
		if (sides.route && sides.route !== options.route) {
			context.stderr.write(`ilum-restore: provider ${sides.route.describe()}\n`);
		}

		return await restore(context, values, sides, mirror, provider, concurrency, options.copy);
	} finally {
		// Everything is finished (or failed): no need to wait for idle keep-alive sockets.
		await Promise.all([mirror.destroy(), provider.destroy()]);
		if (sides.route !== options.route) {
			await sides.route?.close();
		}
	}
}

async function restore(context: CommandContext, values: Flags, sides: Sides, mirror: FastS3Client, provider: FastS3Client, concurrency: number, copy: MirrorCopyStrategy | undefined): Promise<number> {
	const {signal, stderr, stdout} = context;
	const json = Boolean(values['json']);
	const dryRun = Boolean(values['dryRun']);
	const stateDir = resolveStateDir(values['stateDir']);
	const log = (line: string) => {
		stderr.write(line + '\n');
	};

	const prefix: string = values['prefix'] ?? '';
	// Where each bucket sits on the mirror: --mirror-root, else what the backup CronJob's command says, else the same name.
	const cronJob = sides.cluster ? await sides.cluster.getCronJob(sides.namespace, backupCronJobName).catch(() => undefined) : undefined;
	const cron = cronJob ? describeBackupCron(cronJob) : undefined;
	const buckets = await chooseBuckets(values, mirror, signal, cron?.buckets ?? []);
	const request = {
		provider,
		mirror,
		...(sides.cluster ? {cluster: sides.cluster} : {}),
		namespace: sides.namespace,
		buckets,
		mirrorLocation: mirrorTargets(cron, values['mirrorRoot']),
		...(prefix ? {prefix} : {}),
		overwriteChanged: Boolean(values['overwriteChanged']),
		remove: Boolean(values['remove']),
		verify: !values['skipVerify'],
		signal,
	};

	// An unfinished restore of the same buckets: continued (its journal remembers whether the CronJob was active), or discarded with --abandon.
	const target = mirrorRestoreTarget(buckets);
	const unfinished = findUnfinished(stateDir, target);
	let resume: JournalState | undefined;
	if (unfinished) {
		if (values['abandon']) {
			const moved = abandonUnfinished(stateDir, unfinished, sides.identity);
			log(`abandoned ${describeUnfinished(unfinished)}; journal kept at ${moved}. The provider and the CronJob were left as they are.`);
			return exitCodes.ok;
		}

		const why = resumeMismatch(unfinished.begin.facts as MirrorRestoreFacts, request);
		if (why) {
			throw refusal(`Refused: ${describeUnfinished(unfinished)}, and ${why}`, 'continue it with the same options and --resume, or discard its journal with --abandon');
		}

		resume = unfinished;
		log(`ilum-restore: ${describeUnfinished(unfinished)}; ${dryRun ? '--resume would continue it' : 'continuing it (copies only what is still missing or different)'}`);
	} else if (values['resume'] || values['abandon']) {
		throw new UserError(`Nothing unfinished to ${values['resume'] ? 'resume' : 'abandon'} for ${target} (state dir ${stateDir})`, {hint: 'run it without --resume to start a restore'});
	}

	if (!sides.cluster) {
		log('ilum-restore: no cluster (no kubeconfig): the backup CronJob is not suspended and bucket-init Jobs are not checked');
	}

	// With --yes nothing is shown before a local copy: no counting beforehand (the copy diffs as it
	// goes, the listings are read once). The in-cluster copy takes its totals from the count.
	const facts = resume ? resume.begin.facts as MirrorRestoreFacts : await readMirrorRestoreFacts({...request, count: dryRun || !values['yes'] || Boolean(values['inCluster'])});
	const plan = buildMirrorRestorePlan(facts, {
		pairs: pairsFromFacts(facts, {provider, mirror}),
		...(sides.cluster ? {cluster: sides.cluster} : {}),
		// Without a strategy given (--in-cluster's), the plan's own local copy, with the concurrency, progress interval and upload journal below.
		...(copy ? {copy} : {}),
		concurrency,
		// The journal of multipart uploads in the run's state dir: a rerun resumes or aborts what a kill interrupted.
		uploadJournal: uploadJournalFile(stateDir),
		// The checks just ran while reading the facts (a resumed run asks again).
		...(resume ? {} : {checkedAt: Date.now()}),
		progressMs: json ? 500 : 1000,
		signal,
	});
	const description = describePlan(plan);
	const plans = facts.buckets.flatMap(bucket => bucket.counted === false ? [] : [bucket.plan]);

	if (dryRun) {
		if (json) {
			writeJson(stdout, {type: 'result', dryRun: true, provider: providerWay(sides), buckets: plans, plan: description, ...(resume ? {resume: {runId: resume.runId, completed: [...resume.completed.keys()]}} : {})});
		} else {
			stdout.write(`provider ${providerWay(sides).via}\n` + formatMirrorPlanTable(facts).join('\n') + '\n\n' + formatPlan(description));
			stdout.write('Dry run: nothing was changed.\n');
		}

		return exitCodes.ok;
	}

	if (!json && context.interactive) {
		stdout.write(formatPlan(description));
	}

	const confirm = async (gate: Gate): Promise<string | undefined> => values['yes'] ? gate.confirmText : ask(`\nStep '${gate.step.title}' ${gate.reason}.\nType '${gate.confirmText}' to confirm: `);
	const copied = new Map<string, MirrorBucketResult>();
	const deleted = new Map<string, number>();
	for (const [step, done] of resume?.completed ?? []) {
		for (const result of (done.result as {buckets?: MirrorBucketResult[]} | undefined)?.buckets ?? []) {
			if (step === 'copy') {
				copied.set(result.bucket, result);
			} else if (step === 'delete-extra') {
				deleted.set(result.bucket, result.deleted);
			}
		}
	}

	const startedAt = new Date().toISOString();
	let report: RestoreReport | undefined;
	let lastLine = 0;
	for await (const event of executePlan({plan, stateDir, identity: sides.identity, confirm, ...(sides.checkAccess ? {checkAccess: sides.checkAccess} : {}), ...(resume ? {resume} : {}), signal})) {
		if (event.type === 'report') {
			report = event.report;
			continue;
		}

		const data = event.type === 'step-progress' ? event.progress.data : undefined;
		if (isMirrorProgress(data) && data.done && data.result) {
			if (data.phase === 'copy') {
				copied.set(data.bucket, data.result);
			} else if (data.phase === 'delete') {
				deleted.set(data.bucket, data.result.deleted);
			}
		}

		if (json) {
			writeJson(stdout, event);
		}

		// Progress lines at most once a second on stderr; everything else as it comes.
		if (isMirrorProgress(data) && !data.done) {
			if (json || Date.now() - lastLine < 1000) {
				continue;
			}

			lastLine = Date.now();
		}

		const line = formatEventLine(event);
		if (line !== undefined) {
			log(line);
		}
	}

	if (!report) {
		throw new Error('the restore ended without a report');
	}

	const verified = new Map(((report.steps.find(step => step.id === 'verify')?.result as {buckets?: Array<{bucket: string} & VerifyResult>} | undefined)?.buckets ?? []).map(result => [result.bucket, result]));
	const ok = report.outcome === 'succeeded';
	const bytes = [...copied.values()].reduce((total, result) => total + result.bytes, 0);
	const summary = {
		type: 'result',
		outcome: report.outcome,
		ok,
		provider: providerWay(sides),
		buckets: facts.buckets.filter(bucket => copied.has(bucket.name)).map(bucket => {
			const result = copied.get(bucket.name)!;
			const check = verified.get(bucket.name);
			return {
				...result,
				deleted: result.deleted + (deleted.get(bucket.name) ?? 0),
				...(check ? {verify: {ok: check.ok, totals: check.totals, differences: check.differences}} : {}),
			};
		}),
		cronJob: sides.cluster ? {name: backupCronJobName, suspendedDuringRestore: plan.steps.some(step => step.id === 'suspend-backup')} : undefined,
		reasons: report.reasons,
		report: report.files?.json,
	};
	if (report.outcome !== 'refused') {
		// What doctor's RTO estimate reads: the bytes this restore moved and how long it took.
		writeFileAtomic(path.join(stateLayout(stateDir).reports, `mirror-${startedAt.replaceAll(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`), JSON.stringify({kind: 'mirror', target, outcome: report.outcome, startedAt, endedAt: new Date().toISOString(), bytes, summary}, undefined, '\t') + '\n');
	}

	if (json) {
		writeJson(stdout, summary);
	} else {
		stdout.write(formatEventLine({type: 'report', report}) + '\n');
		if (report.outcome === 'refused') {
			stderr.write(`ilum-restore: refused: ${report.reasons.join('; ')}\n`);
		} else {
			stdout.write(ok ? 'Restore complete: every bucket verified.\n' : `${report.outcome === 'stopped' ? 'Restore stopped' : 'Restore incomplete'}: ${report.reasons[0] ?? report.outcome}; run the same command with --resume to continue.\n`);
		}
	}

	return exitCodeOf(report.outcome);
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
async function resolveSides(values: Flags, context: CommandContext, found?: ProviderRoute): Promise<Sides> {
	const env = process.env;
	const namespace: string = values['namespace'] ?? 'ilum';
	let cluster: KubeMirrorCluster | undefined;
	let config: KubeConfig | undefined;
	const kubeconfigPath: string | undefined = values['kubeconfig'] ?? (env['KUBECONFIG'] || undefined);
	if (kubeconfigPath || fs.existsSync(path.join(os.homedir(), '.kube', 'config'))) {
		const {loadKubeConfig} = await import('../config/kube.js');
		config = loadKubeConfig({kubeconfig: values['kubeconfig'], context: values['context']});
		cluster = await kubeMirrorCluster(config);
	}

	const [providerSecret, mirrorSecret] = cluster
		? await Promise.all([
			cluster.readSecret(namespace, 'ilum-objectstorage-credentials').catch(() => undefined),
			cluster.readSecret(namespace, 'ilum-backup-credentials').catch(() => undefined),
		])
		: [undefined, undefined];
	const region = env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1';
	const givenEndpoint: string | undefined = values['s3Endpoint'] ?? (env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined);
	const providerKeys = credentialsOf(env['AWS_ACCESS_KEY_ID'], env['AWS_SECRET_ACCESS_KEY']) ?? secretCredentials(providerSecret);
	const mirrorEndpoint = values['mirrorEndpoint'] ?? (env['MIRROR_ENDPOINT_URL'] || undefined) ?? endpointInSecret(mirrorSecret);
	const mirrorKeys = credentialsOf(env['MIRROR_ACCESS_KEY_ID'], env['MIRROR_SECRET_ACCESS_KEY']) ?? secretCredentials(mirrorSecret) ?? providerKeys;
	if (!givenEndpoint && !config) {
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

	for (const url of [givenEndpoint, mirrorEndpoint]) {
		if (url !== undefined && !/^https?:\/\/[^/]+/.test(url)) {
			throw usageError(`Not an http(s) URL: ${url}`, 'give endpoints as http://host:port or https://host');
		}
	}

	// No endpoint given: as the console reaches the provider (its in-cluster name when it answers, else a port-forward through the API server).
	let route: ProviderRoute | undefined = givenEndpoint || !found?.endpoint ? undefined : found;
	let providerEndpoint = givenEndpoint ?? route?.endpoint;
	if (!providerEndpoint && config) {
		const {reachProvider} = await import('../layers/provider-route.js');
		route = await reachProvider({config, namespace});
		if (!route.endpoint) {
			await route.close();
			// The route's problem says what to do instead (grant pods/portforward, or kubectl port-forward and --s3-endpoint).
			throw new UserError(`The provider's S3 endpoint is unknown: ${route.problem ?? 'no way to it'}`, {exitCode: exitCodes.usage});
		}

		providerEndpoint = route.endpoint;
	}

	void context;
	return {
		...(route ? {route} : {}),
		provider: {endpoint: providerEndpoint!, region, ...providerKeys, sessionToken: env['AWS_SESSION_TOKEN'] || undefined},
		mirror: {endpoint: mirrorEndpoint, region: env['MIRROR_REGION'] || region, ...mirrorKeys},
		cluster,
		namespace,
		identity: cluster?.identity ?? `${os.userInfo().username}@local`,
		...(cluster ? {checkAccess: cluster.checkAccess} : {}),
	};
}

/** The way to the provider for the output: the endpoint, and the route when one was found (`port-forward ilum/svc/ilum-objectstorage:9000 -> pod ...`). */
function providerWay(sides: Sides): {endpoint: string; via: string} {
	return {endpoint: sides.provider.endpoint, via: sides.route?.describe() ?? sides.provider.endpoint};
}
