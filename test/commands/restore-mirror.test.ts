import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {FastS3Client} from '../../source/storage/fast-s3.js';
import {binPath, runCli} from '../helpers/run-cli.js';
import {startTestS3, seedObjects, testCredentials} from '../helpers/s3-pair.js';
import {startFaultProxy} from '../helpers/fault-proxy.js';

/** An environment without any kubeconfig (no cluster), credentials for both test endpoints. */
function cliEnv(): NodeJS.ProcessEnv {
	const home = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-mirror-home-'));
	return {HOME: home, KUBECONFIG: '', XDG_STATE_HOME: path.join(home, 'state'), AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_ENDPOINT_URL: '', MIRROR_ENDPOINT_URL: ''};
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 120_000) {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}`);
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => setTimeout(resolve, 20));
	}
}

async function count(client: FastS3Client, bucket: string) {
	let objects = 0;
	for await (const _ of client.list(bucket)) {
		objects++;
	}

	return objects;
}

test('restore mirror refuses when the mirror bucket is empty and the provider bucket is not (exit 3, nothing changed)', async () => {
	const mirror = await startTestS3();
	const provider = await startTestS3();
	try {
		await mirror.createBucket('ilum-data');
		await provider.createBucket('ilum-data');
		await provider.client.put('ilum-data', 'keep/me', Buffer.from('precious'), 8);
		for (const extra of [['--yes'], ['--yes', '--remove'], ['--dry-run']]) {
			// eslint-disable-next-line no-await-in-loop
			const result = await runCli(['restore', 'mirror', '--bucket', 'ilum-data', '--mirror-endpoint', mirror.endpoint.endpoint, '--s3-endpoint', provider.endpoint.endpoint, ...extra], {env: cliEnv()});
			assert.equal(result.code, 3, result.stderr);
			assert.match(result.stderr, /mirror .*ilum-data is empty while the provider .* is not/);
		}

		assert.equal((await provider.client.get('ilum-data', 'keep/me')).body.toString(), 'precious');
	} finally {
		await Promise.all([mirror.stop(), provider.stop()]);
	}
});

test('restore mirror outside a terminal needs --dry-run or --yes; --read-only refuses; --dry-run --json prints the plan and changes nothing', async () => {
	const mirror = await startTestS3();
	const provider = await startTestS3();
	try {
		await mirror.createBucket('ilum-data');
		await mirror.createBucket('ilum-files');
		await seedObjects(mirror.client, 'ilum-data', {count: 30, size: 100, prefix: 'd/'});
		await seedObjects(mirror.client, 'ilum-files', {count: 5, size: 10, prefix: 'f/'});
		await provider.createBucket('ilum-data');
		await seedObjects(provider.client, 'ilum-data', {count: 10, size: 100, prefix: 'd/'});
		await provider.client.put('ilum-data', 'd/000003', Buffer.from('changed'), 7);
		await provider.client.put('ilum-data', 'z/only-here', Buffer.from('x'), 1);
		const endpoints = ['--mirror-endpoint', mirror.endpoint.endpoint, '--s3-endpoint', provider.endpoint.endpoint];

		const bare = await runCli(['restore', 'mirror', ...endpoints], {env: cliEnv()});
		assert.equal(bare.code, 3);
		assert.match(bare.stderr, /--dry-run .* --yes/);

		const readOnly = await runCli(['restore', 'mirror', '--yes', '--read-only', ...endpoints], {env: cliEnv()});
		assert.equal(readOnly.code, 3);
		assert.match(readOnly.stderr, /read-only/);

		const plan = await runCli(['restore', 'mirror', '--dry-run', '--json', '--remove', ...endpoints], {env: cliEnv()});
		assert.equal(plan.code, 0, plan.stderr);
		const document = JSON.parse(plan.stdout) as {type: string; dryRun: boolean; buckets: any[]};
		assert.equal(document.type, 'result');
		const data = document.buckets.find(bucket => bucket.bucket === 'ilum-data');
		const files = document.buckets.find(bucket => bucket.bucket === 'ilum-files');
		assert.deepEqual(data.copy, {objects: 20, bytes: 2000});
		assert.equal(data.changedKept.objects, 1);
		assert.deepEqual(data.delete, {objects: 1, bytes: 1});
		assert.equal(data.createBucket, false);
		assert.equal(files.createBucket, true);
		assert.deepEqual(files.copy, {objects: 5, bytes: 50});
		assert.equal(await count(provider.client, 'ilum-data'), 11, 'the dry run changed nothing');
		assert.equal(await provider.client.bucketExists('ilum-files'), false, 'the dry run created no bucket');

		const text = await runCli(['restore', 'mirror', '--dry-run', '--bucket', 'ilum-data', ...endpoints], {env: cliEnv()});
		assert.equal(text.code, 0);
		assert.match(text.stdout, /ilum-data\s+20 \(2\.0 KiB\)\s+1 kept\s+1 kept/);
		assert.match(text.stdout, /Dry run: nothing was changed/);
	} finally {
		await Promise.all([mirror.stop(), provider.stop()]);
	}
});

test('SIGKILL at a random point, then run again: every object restored, none copied twice (PUTs counted at a proxy)', async () => {
	const mirror = await startTestS3();
	const provider = await startTestS3();
	const proxy = await startFaultProxy(provider.endpoint.endpoint);
	const total = 2000;
	try {
		await mirror.createBucket('ilum-data');
		await seedObjects(mirror.client, 'ilum-data', {count: total, size: 512, prefix: 'obj/', metadata: index => ({n: String(index)})});
		const args = ['restore', 'mirror', '--yes', '--json', '--bucket', 'ilum-data', '--concurrency', '8', '--mirror-endpoint', mirror.endpoint.endpoint, '--s3-endpoint', proxy.url];
		const env = {...process.env, ...cliEnv()};
		const killAt = 200 + Math.floor(Math.random() * 1200);
		const child = spawn(process.execPath, [binPath, ...args], {env, stdio: ['ignore', 'ignore', 'pipe']});
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			stderr += chunk;
		});
		const exited = new Promise<number | null>(resolve => {
			child.on('exit', (_code, signal) => {
				resolve(signal === 'SIGKILL' ? -9 : _code);
			});
		});
		await waitFor(() => proxy.putsAccepted.size >= killAt || child.exitCode !== null, `${killAt} PUTs`);
		child.kill('SIGKILL');
		assert.equal(await exited, -9, `killed mid-way (kill at ${killAt}); stderr: ${stderr}`);
		await waitFor(() => proxy.active === 0, 'the proxy to drain');
		const firstRun = new Set(proxy.putsAccepted.keys());
		assert.ok(firstRun.size < total, `the first run was interrupted (${firstRun.size} of ${total})`);
		proxy.putsAccepted.clear();
		const forwardedBefore = proxy.putsForwarded;

		const second = await runCli(args, {env: cliEnv()});
		assert.equal(second.code, 0, second.stderr);
		const lines = second.stdout.trim().split('\n').map(line => JSON.parse(line) as {type: string; ok?: boolean; buckets?: any[]});
		const result = lines.at(-1)!;
		assert.equal(result.type, 'result');
		assert.equal(result.ok, true);
		assert.equal(result.buckets![0].verify.ok, true);
		assert.equal(result.buckets![0].copied, total - firstRun.size, `kill at ${killAt}: only what was missing is copied`);
		for (const key of proxy.putsAccepted.keys()) {
			assert.ok(!firstRun.has(key), `${key} was copied twice`);
		}

		assert.equal(proxy.putsForwarded - forwardedBefore, total - firstRun.size, 'no PUT beyond the missing objects');
		assert.equal(await count(provider.client, 'ilum-data'), total);
		const head = await provider.client.head('ilum-data', 'obj/001999');
		assert.deepEqual(head?.metadata.userMetadata, {n: '1999'});
	} finally {
		await proxy.stop();
		await Promise.all([mirror.stop(), provider.stop()]);
	}
});

test('--mirror-root and --prefix: bucket B is read from <root>/B/, and only keys under the prefix are restored', async () => {
	const mirror = await startTestS3();
	const provider = await startTestS3();
	try {
		await mirror.createBucket('offsite-backup');
		await seedObjects(mirror.client, 'offsite-backup', {count: 12, size: 64, prefix: 'ilum/ilum-data/d/'});
		await seedObjects(mirror.client, 'offsite-backup', {count: 5, size: 64, prefix: 'ilum/ilum-data/other/'});
		await seedObjects(mirror.client, 'offsite-backup', {count: 3, size: 64, prefix: 'ilum/ilum-files/d/'});
		const result = await runCli(['restore', 'mirror', '--yes', '--json', '--bucket', 'ilum-data', '--prefix', 'd/', '--mirror-root', 'offsite-backup/ilum', '--mirror-endpoint', mirror.endpoint.endpoint, '--s3-endpoint', provider.endpoint.endpoint], {env: cliEnv()});
		assert.equal(result.code, 0, result.stderr);
		const keys: string[] = [];
		for await (const object of provider.client.list('ilum-data')) {
			keys.push(object.key);
		}

		assert.deepEqual(keys, Array.from({length: 12}, (_, index) => `d/${String(index).padStart(6, '0')}`), 'keys are relative to <root>/ilum-data/, only under d/');
		assert.equal(await provider.client.bucketExists('ilum-files'), false, 'only the named bucket');
	} finally {
		await Promise.all([mirror.stop(), provider.stop()]);
	}
});
