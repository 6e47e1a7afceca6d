import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {V1CronJob, V1Job, V1Pod} from '@kubernetes/client-node';
import {InClusterAborted, findRun, jobName, labels, mirrorEnvironment, restoreJobManifest, runMirrorJobs, type InClusterEvent, type JobCluster} from '../../../source/layers/mirrors/in-cluster.js';
import {backupCronJob} from '../../../source/drill/seed/ilum.js';
import {inClusterCopy} from '../../../source/layers/mirrors/in-cluster-strategy.js';

/** Jobs and pods in memory; `logs` per pod are served by followLog until the pod ends. */
class FakeCluster implements JobCluster {
	jobs: V1Job[] = [];
	pods: V1Pod[] = [];
	logs = new Map<string, string[]>();
	deleted: string[] = [];
	created: string[] = [];

	async createJob(namespace: string, job: V1Job): Promise<V1Job> {
		const copy: V1Job = structuredClone({...job, metadata: {...job.metadata, namespace, uid: `uid-${job.metadata!.name}`, creationTimestamp: new Date()}});
		this.jobs.push(copy);
		this.created.push(job.metadata!.name!);
		return copy;
	}

	async listJobs(_namespace: string, selector: string): Promise<V1Job[]> {
		return this.jobs.filter(job => matches(job.metadata?.labels ?? {}, selector));
	}

	async deleteJob(_namespace: string, name: string): Promise<void> {
		this.deleted.push(name);
		this.jobs = this.jobs.filter(job => job.metadata?.name !== name);
	}

	async annotateJob(_namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
		const job = this.jobs.find(item => item.metadata?.name === name);
		if (job) {
			job.metadata!.annotations = {...job.metadata!.annotations, ...annotations};
		}
	}

	async listPods(_namespace: string, selector: string): Promise<V1Pod[]> {
		return this.pods.filter(pod => matches(pod.metadata?.labels ?? {}, selector));
	}

	async followLog(_namespace: string, pod: string, _container: string, options: {signal: AbortSignal; onLine: (line: string) => void}): Promise<void> {
		let sent = 0;
		while (!options.signal.aborted) {
			const lines = this.logs.get(pod) ?? [];
			for (; sent < lines.length; sent++) {
				options.onLine(lines[sent]!);
			}

			const phase = this.pods.find(item => item.metadata?.name === pod)?.status?.phase;
			if (phase === 'Succeeded' || phase === 'Failed') {
				return;
			}

			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => {
				setTimeout(resolve, 5);
			});
		}
	}

	/** The Job controller and kubelet in one step: a pod for the Job, with a phase and log lines. */
	runPod(job: V1Job, phase: string, lines: string[], waiting?: {reason: string; message: string}): void {
		const name = `${job.metadata!.name}-pod${this.pods.length}`;
		this.pods.push({
			metadata: {name, labels: {...job.spec!.template.metadata!.labels}, ownerReferences: [{apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: job.metadata!.uid!, controller: true}]},
			spec: {containers: [{name: 'mc'}]},
			status: {phase, containerStatuses: waiting ? [{name: 'mc', image: 'x', imageID: '', ready: false, restartCount: 0, state: {waiting}}] : []},
		});
		this.logs.set(name, lines);
	}

	finish(job: V1Job, type: 'Complete' | 'Failed', reason: string, message: string): void {
		for (const pod of this.pods.filter(item => item.metadata?.ownerReferences?.[0]?.uid === job.metadata?.uid)) {
			pod.status!.phase = type === 'Complete' ? 'Succeeded' : 'Failed';
		}

		job.status = {conditions: [{type, status: 'True', reason, message}], ...(type === 'Complete' ? {succeeded: 1} : {failed: 2})};
	}
}

function matches(labels: Record<string, string>, selector: string): boolean {
	return selector.split(',').every(term => {
		const [key, value] = term.split('=');
		return labels[key!] === value;
	});
}

async function until<T>(condition: () => T | undefined, what: string): Promise<T> {
	const deadline = Date.now() + 20_000;
	for (;;) {
		const value = condition();
		if (value) {
			return value;
		}

		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 5);
		});
	}
}

const settings = {namespace: 'ilum', runId: 'rtest000001', options: {remove: false, overwrite: false}};

test('the Job manifest: labels, the runbook mc command with the flags mapped, credentials by secretKeyRef as the CronJob reads them', () => {
	const cronJob = backupCronJob() as V1CronJob;
	// An install whose backup Secret names its endpoint key differently: the Job follows the CronJob.
	cronJob.spec!.jobTemplate.spec!.template.spec!.containers[0]!.env!.find(variable => variable.name === 'BACKUP_ENDPOINT')!.valueFrom!.secretKeyRef!.key = 'url';
	const job = restoreJobManifest({bucket: 'ilum-data', source: {bucket: 'ilum-backup', prefix: 'ilum-data/'}, prefix: 'exports/'}, {...settings, options: {remove: true, overwrite: true}, cronJob});
	assert.equal(job.metadata?.labels?.['app.kubernetes.io/managed-by'], 'ilum-restore');
	assert.equal(job.metadata?.labels?.[labels.run], 'rtest000001');
	assert.equal(job.metadata?.labels?.[labels.bucket], 'ilum-data');
	assert.deepEqual(job.spec?.template.metadata?.labels?.[labels.run], 'rtest000001', 'the pods carry the run too');
	assert.equal(job.spec?.backoffLimit, 1);
	assert.ok(job.spec!.ttlSecondsAfterFinished! > 0 && job.spec!.activeDeadlineSeconds! > 0);
	const container = job.spec!.template.spec!.containers[0]!;
	assert.match(container.image!, /^minio\/mc:/);
	assert.deepEqual(container.command, ['/bin/sh', '-c']);
	const script = container.args![0]!;
	assert.match(script, /mc alias set backup "\$BACKUP_ENDPOINT" "\$BACKUP_ACCESS_KEY" "\$BACKUP_SECRET_KEY"/);
	assert.match(script, /mc alias set ilum 'http:\/\/ilum-objectstorage:9000' "\$ILUM_ACCESS_KEY" "\$ILUM_SECRET_KEY"/);
	assert.match(script, /mc mirror --preserve --overwrite --remove 'backup\/ilum-backup\/ilum-data\/exports' 'ilum\/ilum-data\/exports'/);
	const env = Object.fromEntries(container.env!.map(variable => [variable.name, variable]));
	assert.deepEqual(env['BACKUP_ENDPOINT']!.valueFrom?.secretKeyRef, {name: 'ilum-backup-credentials', key: 'url'});
	assert.deepEqual(env['ILUM_SECRET_KEY']!.valueFrom?.secretKeyRef, {name: 'ilum-objectstorage-credentials', key: 'secret-key'});
	assert.ok(container.env!.filter(variable => variable.name !== 'MC_CONFIG_DIR').every(variable => variable.value === undefined), 'no credential inline');

	const plain = restoreJobManifest({bucket: 'ilum-data', source: {bucket: 'ilum-data'}}, settings);
	assert.match(plain.spec!.template.spec!.containers[0]!.args![0]!, /mc mirror --preserve 'backup\/ilum-data' 'ilum\/ilum-data'\n/);
});

test('without the CronJob\'s env, the Secrets\' own key names are referenced (never their values)', () => {
	const {env} = mirrorEnvironment(undefined, {provider: ['root-user', 'root-password'], backup: ['url', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']});
	const refs = Object.fromEntries(env.map(variable => [variable.name, variable.valueFrom?.secretKeyRef?.key]));
	assert.deepEqual(refs, {BACKUP_ENDPOINT: 'url', BACKUP_ACCESS_KEY: 'AWS_ACCESS_KEY_ID', BACKUP_SECRET_KEY: 'AWS_SECRET_ACCESS_KEY', ILUM_ACCESS_KEY: 'root-user', ILUM_SECRET_KEY: 'root-password'});
	const defaults = Object.fromEntries(mirrorEnvironment(undefined).env.map(variable => [variable.name, variable.valueFrom?.secretKeyRef?.key]));
	assert.deepEqual(defaults, {BACKUP_ENDPOINT: 'endpoint', BACKUP_ACCESS_KEY: 'access-key', BACKUP_SECRET_KEY: 'secret-key', ILUM_ACCESS_KEY: 'access-key', ILUM_SECRET_KEY: 'secret-key'});
});

test('Job names stay within 63 characters and distinct for long bucket names', () => {
	const long = 'a'.repeat(60);
	const one = jobName('rtest000001', long);
	const two = jobName('rtest000001', `${long}b`);
	assert.ok(one.length <= 63 && two.length <= 63);
	assert.notEqual(one, two);
	assert.equal(jobName('rtest000001', 'ilum-data', 2), 'ilum-restore-mirror-rtest000001-ilum-data-a2');
});

test('a run is followed to its end: created, pod phase, log lines, succeeded; a failed Job reports its reason and last line', async () => {
	const cluster = new FakeCluster();
	const events: InClusterEvent[] = [];
	const run = (async () => {
		for await (const event of runMirrorJobs(cluster, [{bucket: 'ilum-data', source: {bucket: 'ilum-data'}}, {bucket: 'ilum-files', source: {bucket: 'ilum-files'}}], {...settings, signal: new AbortController().signal, pollMs: 5})) {
			events.push(event);
		}
	})();
	const data = await until(() => cluster.jobs.find(job => job.metadata?.labels?.[labels.bucket] === 'ilum-data'), 'the ilum-data Job');
	const files = await until(() => cluster.jobs.find(job => job.metadata?.labels?.[labels.bucket] === 'ilum-files'), 'the ilum-files Job');
	assert.equal(cluster.jobs.length, 2, 'one Job per bucket');
	cluster.runPod(data, 'Running', ['Added `backup` successfully.', '`backup/ilum-data/a` -> `ilum/ilum-data/a`']);
	cluster.runPod(files, 'Running', ['mc: <ERROR> Unable to list: Access Denied.']);
	await until(() => events.some(event => event.type === 'log' && event.bucket === 'ilum-files'), 'the failing pod\'s log');
	cluster.finish(data, 'Complete', 'CompletionsReached', 'done');
	cluster.finish(files, 'Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
	await run;
	const types = events.filter(event => event.bucket === 'ilum-data').map(event => event.type);
	assert.deepEqual(types, ['job-created', 'pod', 'log', 'log', 'pod', 'job-succeeded']);
	assert.ok(events.some(event => event.type === 'pod' && event.bucket === 'ilum-data' && event.phase === 'Succeeded'));
	const failed = events.find(event => event.type === 'job-failed');
	assert.ok(failed && failed.type === 'job-failed');
	assert.equal(failed.reason, 'BackoffLimitExceeded');
	assert.deepEqual(failed.lastLines, ['mc: <ERROR> Unable to list: Access Denied.']);
});

test('a rerun adopts the run: active Jobs are followed, failed ones retried as a new attempt, no duplicates; other flags refuse', async () => {
	const cluster = new FakeCluster();
	const first = restoreJobManifest({bucket: 'ilum-data', source: {bucket: 'ilum-data'}}, settings);
	const second = restoreJobManifest({bucket: 'ilum-files', source: {bucket: 'ilum-files'}}, settings);
	const active = await cluster.createJob('ilum', first);
	const failedJob = await cluster.createJob('ilum', second);
	cluster.finish(failedJob, 'Failed', 'BackoffLimitExceeded', 'x');
	cluster.created = [];

	await assert.rejects(findRun(cluster, {namespace: 'ilum', buckets: ['ilum-data'], options: {remove: true, overwrite: false}}), /still running with other flags/);
	const found = await findRun(cluster, {namespace: 'ilum', buckets: ['ilum-data', 'ilum-files'], options: settings.options});
	assert.equal(found.runId, 'rtest000001');
	assert.equal(found.resumed, true);
	const events: InClusterEvent[] = [];
	const run = (async () => {
		for await (const event of runMirrorJobs(cluster, [{bucket: 'ilum-data', source: {bucket: 'ilum-data'}}, {bucket: 'ilum-files', source: {bucket: 'ilum-files'}}], {...settings, existing: found.jobs, signal: new AbortController().signal, pollMs: 5})) {
			events.push(event);
		}
	})();
	const retry = await until(() => cluster.jobs.find(job => job.metadata?.name?.endsWith('-a2')), 'the second attempt');
	assert.deepEqual(cluster.created, [retry.metadata!.name], 'only the failed bucket gets a new Job');
	assert.deepEqual(cluster.deleted, [failedJob.metadata!.name], 'the failed attempt is deleted');
	cluster.finish(active, 'Complete', 'CompletionsReached', 'done');
	cluster.finish(retry, 'Complete', 'CompletionsReached', 'done');
	await run;
	assert.ok(events.some(event => event.type === 'job-followed' && event.job === active.metadata!.name));
	assert.equal(events.filter(event => event.type === 'job-succeeded').length, 2);

	// Every Job succeeded and was seen to: that run is over (marked reported), the next restore is a new run.
	assert.ok(cluster.jobs.every(job => job.metadata?.annotations?.['ilum-restore/reported']));
	const next = await findRun(cluster, {namespace: 'ilum', buckets: ['ilum-data'], options: settings.options});
	assert.notEqual(next.runId, 'rtest000001');
	assert.equal(next.resumed, false);

	// Succeeded while no client watched (killed): adopted, to be reported.
	delete cluster.jobs[0]!.metadata!.annotations!['ilum-restore/reported'];
	const unreported = await findRun(cluster, {namespace: 'ilum', buckets: ['ilum-data'], options: settings.options});
	assert.equal(unreported.runId, 'rtest000001');
});

test('abort deletes the run\'s Jobs (or leaves them with keepOnAbort); a pod stuck on its configuration fails its bucket', async () => {
	for (const keepOnAbort of [false, true]) {
		const cluster = new FakeCluster();
		const controller = new AbortController();
		const events: InClusterEvent[] = [];
		const run = (async () => {
			for await (const event of runMirrorJobs(cluster, [{bucket: 'ilum-data', source: {bucket: 'ilum-data'}}], {...settings, signal: controller.signal, pollMs: 5, keepOnAbort})) {
				events.push(event);
			}
		})();
		// eslint-disable-next-line no-await-in-loop
		const job = await until(() => cluster.jobs[0], 'the Job');
		cluster.runPod(job, 'Running', []);
		// eslint-disable-next-line no-await-in-loop
		await until(() => events.find(event => event.type === 'pod'), 'the pod');
		controller.abort();
		// eslint-disable-next-line no-await-in-loop
		const error = await run.then(() => undefined, (error_: unknown) => error_);
		assert.ok(error instanceof InClusterAborted, String(error));
		assert.deepEqual(cluster.deleted, keepOnAbort ? [] : [job.metadata!.name]);
		assert.deepEqual(error.left, keepOnAbort ? [job.metadata!.name] : []);
	}

	const cluster = new FakeCluster();
	const events: InClusterEvent[] = [];
	const run = (async () => {
		for await (const event of runMirrorJobs(cluster, [{bucket: 'ilum-data', source: {bucket: 'ilum-data'}}], {...settings, signal: new AbortController().signal, pollMs: 5, stuckMs: 50})) {
			events.push(event);
		}
	})();
	const job = await until(() => cluster.jobs[0], 'the Job');
	cluster.runPod(job, 'Pending', [], {reason: 'CreateContainerConfigError', message: 'secret "ilum-backup-credentials" not found'});
	await run;
	const failed = events.find(event => event.type === 'job-failed');
	assert.ok(failed && failed.type === 'job-failed');
	assert.equal(failed.reason, 'CreateContainerConfigError');
	assert.match(failed.message, /secret "ilum-backup-credentials" not found/);
});

test('one list of Jobs and one of pods per poll, whatever the number of buckets', async () => {
	const cluster = new FakeCluster();
	let listCalls = 0;
	const listJobs = cluster.listJobs.bind(cluster);
	cluster.listJobs = async (namespace, selector) => {
		listCalls++;
		return listJobs(namespace, selector);
	};

	const buckets = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
	const pollMs = 50;
	const started = Date.now();
	const run = (async () => {
		for await (const event of runMirrorJobs(cluster, buckets.map(bucket => ({bucket, source: {bucket}})), {...settings, signal: new AbortController().signal, pollMs})) {
			void event;
		}
	})();
	await until(() => cluster.jobs.length === buckets.length ? true : undefined, 'the Jobs');
	await new Promise(resolve => {
		setTimeout(resolve, 300);
	});
	for (const job of cluster.jobs) {
		cluster.finish(job, 'Complete', 'CompletionsReached', 'done');
	}

	await run;
	const polls = (Date.now() - started) / pollMs;
	assert.ok(listCalls <= polls + 3, `${listCalls} list calls in ${polls.toFixed(1)} poll intervals (7 buckets)`);
});

test('as the engine\'s copy step: Job events become bucket-start, progress and bucket-done; a failed Job fails the step with its last line', async () => {
	const plan = (objects: number) => ({bucket: 'ilum-data', source: 'ilum-data', target: 'ilum-data', createBucket: false, copy: {objects, bytes: objects * 10}, overwrite: {objects: 0, bytes: 0}, delete: {objects: 0, bytes: 0}, skipped: {objects: 5, bytes: 50}, changedKept: {objects: 0, bytes: 0}, onlyTargetKept: {objects: 0, bytes: 0}, unverifiable: 0});
	const request = (signal: AbortSignal) => ({
		namespace: 'ilum',
		buckets: [{name: 'ilum-data', source: {endpoint: 'x', bucket: 'ilum-data'}, target: {endpoint: 'y', bucket: 'ilum-data'}, targetExists: true, plan: plan(2)}],
		pairs: [],
		overwriteChanged: false,
		verify: true,
		signal,
	}) as unknown as Parameters<ReturnType<typeof inClusterCopy>['copy']>[0];
	const seen: InClusterEvent[] = [];

	for (const outcome of ['Complete', 'Failed'] as const) {
		const cluster = new FakeCluster();
		const strategy = inClusterCopy({namespace: 'ilum', cluster: async () => cluster, pollMs: 5, progressMs: 0, onEvent: event => seen.push(event)});
		assert.equal(strategy.name, 'in-cluster');
		assert.ok(strategy.access?.some(item => item.verb === 'create' && item.resource === 'jobs'));
		const events: string[] = [];
		const run = (async () => {
			for await (const event of strategy.copy(request(new AbortController().signal))) {
				events.push(event.type === 'progress' || event.type === 'bucket-done' ? `${event.type}:${event.objectsDone}/${event.objectsTotal}` : event.type);
			}
		})();
		// eslint-disable-next-line no-await-in-loop
		const job = await until(() => cluster.jobs[0], 'the Job');
		cluster.runPod(job, 'Running', outcome === 'Complete'
			? ['`backup/ilum-data/a` -> `ilum/ilum-data/a`', '`backup/ilum-data/b` -> `ilum/ilum-data/b`', 'Total: 20 B, Transferred: 20 B, Speed: 1 B/s']
			: ['mc: <ERROR> Unable to list: Access Denied.']);
		// eslint-disable-next-line no-await-in-loop
		await until(() => seen.filter(event => event.type === 'log').length >= (outcome === 'Complete' ? 3 : 4) ? true : undefined, 'the log lines');
		cluster.finish(job, outcome, outcome === 'Complete' ? 'CompletionsReached' : 'BackoffLimitExceeded', 'x');
		if (outcome === 'Complete') {
			// eslint-disable-next-line no-await-in-loop
			await run;
			assert.deepEqual(events, ['bucket-start', 'progress:1/2', 'progress:2/2', 'bucket-done:2/2']);
		} else {
			// eslint-disable-next-line no-await-in-loop
			await assert.rejects(run, /ilum-data: Job \S+ failed \(BackoffLimitExceeded: x\); last log line: mc: <ERROR> Unable to list: Access Denied\./);
		}
	}
});
