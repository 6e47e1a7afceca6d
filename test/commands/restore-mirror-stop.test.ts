import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {readJournal} from '../../source/restore/journal.js';
import {binPath, runCli} from '../helpers/run-cli.js';
import {startFaultProxy} from '../helpers/fault-proxy.js';
import {seedObjects, startTestS3, testCredentials} from '../helpers/s3-pair.js';

/*
Ctrl-C in the middle of `restore mirror --yes` (the local copy): the run ends `stopped`, not
`failed`: exit 130, the result, the report and the journal say so; the same command again names
the stopped run, continues it and copies only the rest.
*/

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

test('restore mirror: SIGINT mid-copy ends the run as stopped (exit 130, resumable); the same command again copies only the rest', {timeout: 300_000}, async () => {
	const mirror = await startTestS3();
	const provider = await startTestS3();
	const proxy = await startFaultProxy(provider.endpoint.endpoint);
	const home = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-mirror-stop-'));
	const stateDir = path.join(home, 'state');
	const total = 2000;
	try {
		await mirror.createBucket('ilum-data');
		await seedObjects(mirror.client, 'ilum-data', {count: total, size: 512, prefix: 'obj/'});
		const env = {HOME: home, KUBECONFIG: '', AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_ENDPOINT_URL: '', MIRROR_ENDPOINT_URL: ''};
		const args = ['restore', 'mirror', '--yes', '--json', '--bucket', 'ilum-data', '--concurrency', '2', '--state-dir', stateDir, '--mirror-endpoint', mirror.endpoint.endpoint, '--s3-endpoint', proxy.url];
		const child = spawn(process.execPath, [binPath, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
			stdout += chunk;
		});
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			stderr += chunk;
		});
		const exited = new Promise<number | null>(resolve => {
			child.on('close', code => {
				resolve(code);
			});
		});
		await waitFor(() => proxy.putsAccepted.size >= 50 || child.exitCode !== null, '50 objects copied');
		child.kill('SIGINT');
		assert.equal(await exited, 130, `stopped on request: exit 130, not 1\n${stderr}`);
		const events = stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, any>);
		assert.ok(events.some(event => event.type === 'step-end' && event.step === 'copy' && event.outcome === 'stopped'), 'the copy step ended stopped');
		assert.ok(!events.some(event => event.type === 'step-end' && event.outcome === 'failed'), 'no step failed');
		const result = events.at(-1)!;
		assert.equal(result['type'], 'result');
		assert.equal(result['outcome'], 'stopped');
		assert.equal(result['ok'], false);
		assert.match(result['reasons'].join('\n'), /stopped on request during 'copy'.*objects copied so far are in place.*--resume/s);
		await waitFor(() => proxy.active === 0, 'the proxy to drain');
		const firstRun = new Set(proxy.putsAccepted.keys());
		assert.ok(firstRun.size < total, `the copy was cut short (${firstRun.size} of ${total})`);
		const journal = readJournal(path.join(stateDir, 'journals', 'mirror__ilum-data.jsonl'));
		assert.deepEqual(journal.at(-1), {...journal.at(-1), type: 'stopped', step: 'copy'});
		assert.ok(!journal.some(record => record.type === 'failed'));
		const report = JSON.parse(fs.readFileSync(result['report'] as string, 'utf8')) as {outcome: string; steps: Array<{id: string; outcome: string}>};
		assert.equal(report.outcome, 'stopped');
		assert.equal(report.steps.find(step => step.id === 'copy')?.outcome, 'stopped');

		// The same command again continues the stopped run (restore mirror takes up its unfinished run by itself), naming it.
		proxy.putsAccepted.clear();
		const resumed = await runCli(args, {env, timeoutMs: 240_000});
		assert.equal(resumed.code, 0, resumed.stderr);
		assert.match(resumed.stderr, /unfinished restore of mirror\/ilum-data .* is stopped on request during step 'copy' \(partly done; a resume finishes it\).*continuing it/);
		const done = JSON.parse(resumed.stdout.trim().split('\n').at(-1)!) as {outcome: string; ok: boolean; buckets: Array<{copied: number; verify: {ok: boolean}}>};
		assert.equal(done.outcome, 'succeeded');
		assert.equal(done.buckets[0]!.verify.ok, true);
		assert.equal(done.buckets[0]!.copied, total - firstRun.size, 'only what was missing is copied');
		for (const key of proxy.putsAccepted.keys()) {
			assert.ok(!firstRun.has(key), `${key} was copied twice`);
		}
	} finally {
		await proxy.stop();
		await Promise.all([mirror.stop(), provider.stop()]);
		fs.rmSync(home, {recursive: true, force: true});
	}
});
