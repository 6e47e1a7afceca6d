/**
`ilum-restore drill serve` as a user runs it: one JSON line on stdout when ready, logs on stderr,
exit 0 on SIGTERM; with --state-dir the world survives a restart.
*/
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {runCli} from '../helpers/run-cli.js';
import {waitFor} from '../helpers/drill-world.js';
import {clockStartArgument} from '../helpers/clock.js';
import {serveDrill, type ServedSide} from '../helpers/drill-serve.js';

const run = promisify(execFile);

const s3 = (side: ServedSide) => new S3Client({endpoint: side.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: side, maxAttempts: 1});

test('drill serve prints one JSON line, serves kubectl and S3, and exits 0 on SIGTERM; --state-dir keeps the world', {timeout: 240_000}, async () => {
	const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-state-'));
	try {
		const start = clockStartArgument();
		const first = await serveDrill(['--seed', '3', '--objects', '200', '--state-dir', stateDir, '--clock-start', start]);
		assert.equal(first.ready.namespace, 'ilum');
		// The world opens at the clock start (plus the time the seed took).
		assert.ok(Date.parse(first.ready.clock) >= Date.parse(start) - 1000 && Date.parse(first.ready.clock) < Date.parse(start) + 120_000, `${first.ready.clock} against ${start}`);
		assert.match(first.ready.provider.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
		const cacheDir = path.join(stateDir, 'kube-cache');
		const {stdout: kubectl} = await run('kubectl', ['--cache-dir', cacheDir, '-n', 'ilum', 'get', 'statefulset', 'ilum-objectstorage', '-o', 'jsonpath={.status.readyReplicas}'], {env: {...process.env, KUBECONFIG: first.ready.kubeconfig}});
		assert.equal(kubectl, '1');
		const provider = s3(first.ready.provider);
		await provider.send(new PutObjectCommand({Bucket: 'ilum-files', Key: 'kept/across-restart.txt', Body: 'still here'}));
		provider.destroy();
		const stopped = await first.stop();
		assert.equal(stopped.code, 0, stopped.stderr);
		assert.equal(stopped.stdout.trim().split('\n').length, 1);
		assert.match(stopped.stderr, /world ready in \d+ ms/);

		// An earlier clock start does not turn a saved world's clock back.
		const second = await serveDrill(['--state-dir', stateDir, '--clock-start', '2020-01-01T00:00:00Z']);
		assert.ok(Date.parse(second.ready.clock) >= Date.parse(first.ready.clock), `${second.ready.clock} after ${first.ready.clock}`);
		const again = s3(second.ready.provider);
		const listed = await waitFor(async () => (await again.send(new ListObjectsV2Command({Bucket: 'ilum-files', Prefix: 'kept/'}))).Contents, 'the provider after the restart');
		assert.deepEqual(listed.map(item => item.Key), ['kept/across-restart.txt']);
		again.destroy();
		assert.equal((await second.stop()).code, 0);
	} finally {
		await fs.rm(stateDir, {recursive: true, force: true});
	}
});

test('drill serve refuses bad flags with a usage error', async () => {
	const result = await runCli(['drill', 'serve', '--objects', '-5']);
	assert.equal(result.code, 2);
	assert.match(result.stderr, /--objects must be an integer/);
	assert.equal(result.stdout, '');
});

test('drill serve --clock-start: the backup CronJob fires at the simulated top of the hour', {timeout: 240_000}, async () => {
	// 20 simulated seconds before a top of the hour (in the past of the real clock: any hour works).
	const start = new Date((Math.floor(Date.now() / 3_600_000) * 3_600_000) - 20_000);
	const world = await serveDrill(['--objects', '100', '--clock-start', start.toISOString()]);
	const cacheDir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-clock-'));
	try {
		const jobs = async () => (await run('kubectl', ['--cache-dir', cacheDir, '-n', 'ilum', 'get', 'jobs', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.creationTimestamp}{"\\n"}{end}'], {env: {...process.env, KUBECONFIG: world.ready.kubeconfig}})).stdout;
		const topOfHour = start.getTime() + 20_000;
		// The CronJob controller names a Job after its scheduled minute.
		const name = `ilum-objectstorage-backup-${topOfHour / 60_000}`;
		const line = await waitFor(async () => (await jobs()).split('\n').find(entry => entry.startsWith(`${name} `)), `Job ${name} (the simulated top of the hour)`, 120_000);
		const created = Date.parse(line.split(' ')[1]!);
		assert.ok(created >= topOfHour && created < topOfHour + 60_000, line);
	} finally {
		await world.stop();
		await fs.rm(cacheDir, {recursive: true, force: true});
	}
});

test('drill serve refuses an unreadable --clock-start with a usage error', async () => {
	const result = await runCli(['drill', 'serve', '--clock-start', 'tomorrow']);
	assert.equal(result.code, 2);
	assert.match(result.stderr, /--clock-start must be an ISO 8601 time/);
	assert.equal(result.stdout, '');
});
