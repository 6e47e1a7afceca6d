import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client} from '@aws-sdk/client-s3';
import {findScenario} from '../../source/drill/scenarios/index.js';
import {ilum} from '../../source/drill/seed/ilum.js';
import {binPath, projectRoot, runCli} from '../helpers/run-cli.js';
import {coreSeeders, startDrillWorld, waitFor, type DrillFixture} from '../helpers/drill-world.js';

/**
`restore mirror --in-cluster` against a drill world after the bucket-wipe scenario: the copy runs
as Jobs the world executes (mc mirror from the backup target into the provider). A wrong
credentials Secret fails the Job (its log line reported, exit 1, the CronJob kept suspended); a
rerun retries it; a run killed mid-way is followed by the next one instead of duplicated; the
bucket comes back (checked through S3), the CronJob is resumed.
*/

/** The CLI as a child process (added to `children`, killed at the end of the test): its output so far, and its exit code once it closed. */
function startCli(args: readonly string[], env: NodeJS.ProcessEnv, children: ChildProcess[]) {
	const child = spawn(process.execPath, [binPath, ...args], {cwd: projectRoot, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
	children.push(child);
	const output = {stdout: '', stderr: ''};
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		output.stdout += chunk;
	});
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
		output.stderr += chunk;
	});
	const exited = new Promise<number | null>(resolve => {
		child.on('close', code => {
			resolve(code);
		});
	});
	return {child, output, exited};
}

async function keys(client: S3Client, bucket: string): Promise<Set<string>> {
	const found = new Set<string>();
	let token: string | undefined;
	do {
		// eslint-disable-next-line no-await-in-loop
		const page = await client.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token}));
		for (const item of page.Contents ?? []) {
			found.add(item.Key!);
		}

		token = page.IsTruncated ? page.NextContinuationToken : undefined;
	} while (token);

	return found;
}

const lines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as Record<string, any>);

async function restoreJobs(drill: DrillFixture): Promise<Array<{name: string; run: string; bucket: string; failed: boolean}>> {
	const result = await drill.kubectl(['-n', 'ilum', 'get', 'jobs', '-l', 'app.kubernetes.io/managed-by=ilum-restore', '-o', 'json']);
	assert.equal(result.code, 0, result.stderr);
	return (JSON.parse(result.stdout).items as any[]).map(job => ({
		name: job.metadata.name,
		run: job.metadata.labels['ilum-restore/run'],
		bucket: job.metadata.labels['ilum-restore/bucket'],
		failed: (job.status?.conditions ?? []).some((condition: any) => condition.type === 'Failed' && condition.status === 'True'),
	}));
}

// The drill's endpoints check the access key id (not signatures): a wrong one is refused with InvalidAccessKeyId.
const setBackupAccessKey = (drill: DrillFixture, value: string) => {
	drill.world.store.mutate('secrets', ilum.namespace, ilum.backupSecret, object => {
		object.data = {...object.data, 'access-key': Buffer.from(value).toString('base64')};
	});
};

test('restore mirror --in-cluster: failing Job reported and retried, a killed run followed, the bucket back, one Job per bucket, CronJob resumed', {timeout: 600_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {world} = drill;
	// No AWS variables: the Jobs' credentials come from the Secrets (secretKeyRef), and so do the verification's.
	// State under the drill's HOME (where the report is looked for), whatever XDG_STATE_HOME `npm test` exports.
	const env = {...drill.env, XDG_STATE_HOME: path.join(drill.env['HOME']!, '.local', 'state'), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: '', MIRROR_ENDPOINT_URL: ''};
	const base = ['restore', 'mirror', '--in-cluster', '--yes', '--json', '--bucket', 'ilum-data', '--kubeconfig', world.kubeconfigPath];
	// The mirror not reachable from this machine (a closed port): the Jobs alone, verified by mc's exit status.
	const unreachable = ['--mirror-endpoint', 'http://127.0.0.1:9'];
	const standalone = [...base, ...unreachable];
	const children: ChildProcess[] = [];
	try {
		const scenario = findScenario('bucket-wipe')!;
		await scenario.inject(world);
		const provider = drill.s3('provider');
		const mirrored = await keys(drill.s3('backup'), 'ilum-data');
		assert.ok(mirrored.size > 10, 'the mirror holds ilum-data');
		assert.equal((await keys(provider, 'ilum-data')).size, 0, 'the wipe emptied ilum-data');
		const originalKey = Buffer.from(world.store.get('secrets', ilum.namespace, ilum.backupSecret)!.data['access-key'], 'base64').toString('utf8');

		// 1. Wrong credentials in the backup Secret: mc fails, the Job fails (BackoffLimitExceeded), its log line is reported, exit 1.
		setBackupAccessKey(drill, 'NOT-THE-KEY');
		const failing = await runCli(standalone, {env, timeoutMs: 240_000});
		assert.equal(failing.code, 1, failing.stderr);
		const failedEvents = lines(failing.stdout);
		const failedJob = failedEvents.find(event => event.type === 'job-failed');
		assert.ok(failedJob, failing.stdout);
		assert.equal(failedJob.reason, 'BackoffLimitExceeded');
		assert.ok(failedEvents.some(event => event.type === 'log' && /mc: <ERROR>/.test(event.line)), 'the pod log was followed');
		assert.match(failing.stderr, /ilum-data: Job ilum-restore-mirror-\S+ failed \(BackoffLimitExceeded: [^)]+\); last log line: .*(Access Denied|SignatureDoesNotMatch|InvalidAccessKeyId|signature)/i);
		assert.equal(failedEvents.at(-1)!.type, 'result');
		assert.equal(failedEvents.at(-1)!.ok, false);
		const runId = failedEvents.at(-1)!.runId as string;
		assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, true, 'the CronJob stays suspended while the restore is incomplete');
		// The Job's manifest: credentials by reference only, the runbook's image and command.
		const manifest = world.store.get('jobs', ilum.namespace, failedJob.job)!;
		const container = manifest.spec.template.spec.containers[0];
		assert.equal(container.image, ilum.mcImage);
		assert.match(container.args[0], /mc mirror --preserve 'backup\/ilum-data' 'ilum\/ilum-data'/);
		assert.ok(container.env.filter((variable: any) => /KEY|ENDPOINT/.test(variable.name)).every((variable: any) => variable.value === undefined && variable.valueFrom?.secretKeyRef), 'no inline credentials');
		assert.ok(manifest.spec.backoffLimit >= 0 && manifest.spec.ttlSecondsAfterFinished > 0 && manifest.spec.activeDeadlineSeconds > 0);

		// 2. Secret fixed; the rerun retries the failed Job (attempt 2) and is killed once that Job exists.
		setBackupAccessKey(drill, originalKey);
		const first = startCli(standalone, env, children);
		await waitFor(() => first.output.stdout.includes('"type":"job-created"'), 'the retried Job to be created', 120_000);
		first.child.kill('SIGKILL');
		await first.exited;
		const retried = lines(first.output.stdout).find(event => event.type === 'job-created')!;
		assert.equal(retried.attempt, 2);

		// 3. The next run follows that Job (no new one), the bucket comes back (checked through S3), the CronJob resumed.
		const resumed = await runCli(standalone, {env, timeoutMs: 240_000});
		assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout.slice(-3000));
		const events = lines(resumed.stdout);
		assert.ok(!events.some(event => event.type === 'job-created'), 'no Job created again');
		assert.ok(events.some(event => event.type === 'job-followed' && event.job === retried.job), resumed.stdout);
		const result = events.at(-1)!;
		assert.equal(result.type, 'result');
		assert.equal(result.ok, true);
		assert.equal(result.runId, runId);
		assert.equal(result.verified, 'in-cluster-only');
		assert.match(resumed.stderr, /no verification from here: .*the Jobs' mc exit status is the check/);
		assert.ok(result.buckets[0].bytes > 0, 'the bytes mc transferred');
		// The run's report, which doctor's RTO estimate reads.
		const reports = path.join(drill.env['HOME']!, '.local', 'state', 'ilum-restore', 'reports');
		const report = fs.readdirSync(reports).filter(file => file.endsWith('-in-cluster.json')).map(file => JSON.parse(fs.readFileSync(path.join(reports, file), 'utf8'))).find(item => item.outcome === 'succeeded');
		assert.ok(report && report.kind === 'mirror' && report.bytes === result.buckets[0].bytes, JSON.stringify(report));
		const back = await keys(provider, 'ilum-data');
		for (const key of mirrored) {
			assert.ok(back.has(key), `${key} is back in ilum-data`);
		}

		// mc mirror --preserve: the same bytes (ETag), content type and user metadata as on the mirror.
		for (const key of [...mirrored].slice(0, 5)) {
			// eslint-disable-next-line no-await-in-loop
			const [restored, original] = await Promise.all([provider.send(new HeadObjectCommand({Bucket: 'ilum-data', Key: key})), drill.s3('backup').send(new HeadObjectCommand({Bucket: 'ilum-data', Key: key}))]);
			assert.equal(restored.ETag, original.ETag, key);
			assert.equal(restored.ContentType, original.ContentType, key);
			assert.deepEqual(restored.Metadata, original.Metadata, key);
		}

		const jobs = (await restoreJobs(drill)).filter(job => job.run === runId);
		assert.deepEqual(jobs.map(job => job.name), [retried.job], 'one Job for the bucket (the failed attempt was replaced)');
		assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false, 'the CronJob runs again');
		assert.match(resumed.stderr, /resumed CronJob ilum\/ilum-objectstorage-backup/);

		// 4. A new run over two buckets, nothing reachable from here: one Job per bucket, verified inside the cluster only.
		const both = await runCli(['restore', 'mirror', '--in-cluster', '--yes', '--bucket', 'ilum-data', '--bucket', 'ilum-files', '--kubeconfig', world.kubeconfigPath, ...unreachable], {env, timeoutMs: 240_000});
		assert.equal(both.code, 0, both.stderr);
		assert.match(both.stdout, /Verified inside the cluster only/);
		assert.match(both.stderr, /ilum-files: Job \S+ succeeded/);
		const newRun = (await restoreJobs(drill)).filter(job => job.run !== runId);
		assert.deepEqual(newRun.map(job => job.bucket).sort(), ['ilum-data', 'ilum-files']);
		assert.equal(new Set(newRun.map(job => job.run)).size, 1);
		assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false);

		// 5. Ctrl-C while a Job runs (here: failing and backing off): the run's Jobs are deleted, the CronJob resumed.
		setBackupAccessKey(drill, 'NOT-THE-KEY');
		const interrupted = startCli(['restore', 'mirror', '--in-cluster', '--yes', '--json', '--bucket', 'ilum-tables', '--kubeconfig', world.kubeconfigPath, ...unreachable], env, children);
		await waitFor(() => interrupted.output.stdout.includes('"type":"log"'), 'the Job to run', 120_000);
		const stopped = lines(interrupted.output.stdout).find(event => event.type === 'job-created')!;
		interrupted.child.kill('SIGINT');
		assert.equal(await interrupted.exited, 130, `stopped on request: 130 (resumable), not a failure\n${interrupted.output.stderr}`);
		assert.match(interrupted.output.stderr, new RegExp(`Interrupted: deleted the Jobs ${stopped.job}`));
		assert.equal(world.store.get('jobs', ilum.namespace, stopped.job), undefined, 'the Job is gone');
		assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false, 'the CronJob resumed after the interruption');
		setBackupAccessKey(drill, originalKey);

		// 6. Both endpoints reachable from here (--s3-endpoint): the guided-restore engine runs it (plan, CronJob hold, verification from here) with the Jobs as its copy step.
		const lost = [...mirrored].slice(0, 20);
		await provider.send(new DeleteObjectsCommand({Bucket: 'ilum-data', Delete: {Objects: lost.map(Key => ({Key}))}}));
		assert.ok(!(await keys(provider, 'ilum-data')).has(lost[0]!));
		const before = new Set((await restoreJobs(drill)).map(job => job.name));
		const engine = await runCli([...base, '--s3-endpoint', world.provider.endpoint], {env, timeoutMs: 240_000});
		assert.equal(engine.code, 0, engine.stderr + engine.stdout.slice(-3000));
		const engineEvents = lines(engine.stdout);
		assert.ok(engineEvents.some(event => event.type === 'job-created' && event.bucket === 'ilum-data'), 'the copy step created a Job');
		assert.ok(engineEvents.some(event => event.type === 'log' && /-> `ilum\/ilum-data\//.test(event.line)), 'the Job copied objects (its log followed)');
		const engineResult = engineEvents.at(-1)!;
		assert.equal(engineResult.type, 'result');
		assert.equal(engineResult.ok, true, JSON.stringify(engineResult));
		assert.equal(engineResult.cronJob.suspendedDuringRestore, true);
		const afterEngine = await keys(provider, 'ilum-data');
		assert.ok(lost.every(key => afterEngine.has(key)), 'the deleted objects are back');
		const created = (await restoreJobs(drill)).filter(job => !before.has(job.name));
		assert.deepEqual(created.map(job => job.bucket), ['ilum-data'], 'one Job');
		assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false, 'the engine resumed the CronJob');

		// 7. The engine path killed while its Job backs off (a wrong key in the Secret; this machine has its own keys for the mirror),
		// the key fixed, the rerun continues the journal and follows the same Job: its next pod succeeds, no second Job.
		await provider.send(new DeleteObjectsCommand({Bucket: 'ilum-data', Delete: {Objects: lost.map(Key => ({Key}))}}));
		setBackupAccessKey(drill, 'NOT-THE-KEY');
		const engineEnv = {...env, MIRROR_ACCESS_KEY_ID: world.backup.accessKeyId, MIRROR_SECRET_ACCESS_KEY: world.backup.secretAccessKey};
		const engineArgs = [...base, '--s3-endpoint', world.provider.endpoint];
		const beforeKill = new Set((await restoreJobs(drill)).map(job => job.name));
		const killed = startCli(engineArgs, engineEnv, children);
		await waitFor(() => killed.output.stdout.includes('mc: <ERROR>'), 'the Job\'s first pod to fail', 120_000);
		killed.child.kill('SIGKILL');
		await killed.exited;
		const backingOff = lines(killed.output.stdout).find(event => event.type === 'job-created')!;
		setBackupAccessKey(drill, originalKey);
		const continued = await runCli(engineArgs, {env: engineEnv, timeoutMs: 240_000});
		assert.equal(continued.code, 0, continued.stderr + continued.stdout.slice(-3000));
		assert.match(continued.stderr, /continuing it/);
		const continuedEvents = lines(continued.stdout);
		assert.ok(!continuedEvents.some(event => event.type === 'job-created'), 'no second Job');
		assert.ok(continuedEvents.some(event => event.type === 'job-followed' && event.job === backingOff.job), continued.stdout.slice(-3000));
		assert.equal(continuedEvents.at(-1)!.ok, true);
		const afterContinue = await keys(provider, 'ilum-data');
		assert.ok(lost.every(key => afterContinue.has(key)), 'the deleted objects are back');
		assert.deepEqual((await restoreJobs(drill)).filter(job => !beforeKill.has(job.name)).map(job => job.name), [backingOff.job]);
		assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false, 'the CronJob the killed run suspended is resumed');

		// 8. No --s3-endpoint, but the provider reachable through a port-forward (as the console reaches it) and the mirror from its Secret:
		// the engine path, verified from here.
		await provider.send(new DeleteObjectsCommand({Bucket: 'ilum-data', Delete: {Objects: lost.map(Key => ({Key}))}}));
		const forwarded = await runCli(base, {env, timeoutMs: 240_000});
		assert.equal(forwarded.code, 0, forwarded.stderr + forwarded.stdout.slice(-3000));
		assert.match(forwarded.stderr, /the provider from here: .*port-forward/);
		const forwardedResult = lines(forwarded.stdout).at(-1)!;
		assert.equal(forwardedResult.ok, true);
		assert.match(forwardedResult.provider.via, /^port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod /, 'the result names the way, not the local port');
		assert.ok(forwardedResult.buckets.some((bucket: any) => bucket.verify?.ok === true), JSON.stringify(forwardedResult));
		const afterForward = await keys(provider, 'ilum-data');
		assert.ok(lost.every(key => afterForward.has(key)), 'the deleted objects are back');

		// 9. No backup Secret: said before any Job is created.
		const jobCount = (await restoreJobs(drill)).length;
		world.store.delete('secrets', ilum.namespace, ilum.backupSecret);
		const noSecret = await runCli(standalone, {env});
		assert.equal(noSecret.code, 1, noSecret.stderr);
		assert.match(noSecret.stderr, /The Secret ilum\/ilum-backup-credentials does not exist: the restore Jobs read the mirror's endpoint and keys from it/);
		assert.equal((await restoreJobs(drill)).length, jobCount, 'no Job created');
	} finally {
		for (const child of children) {
			if (child.exitCode === null && child.signalCode === null) {
				child.kill('SIGKILL');
			}
		}

		await drill.stop();
	}
});
