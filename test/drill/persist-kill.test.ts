/**
`drill serve --state-dir` saves the world as it changes: after a change has been saved (seen in
the state dir, not waited for with a sleep), a SIGKILL loses nothing of it; the next start has the
object, the Kubernetes object and the DuckLake catalog.
*/
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {promisify} from 'node:util';
import {GetObjectCommand, PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {clockStartArgument} from '../helpers/clock.js';
import {waitFor} from '../helpers/drill-world.js';
import {serveDrill, type ServedSide} from '../helpers/drill-serve.js';
import {runCli} from '../helpers/run-cli.js';

const run = promisify(execFile);
const s3 = (side: ServedSide) => new S3Client({endpoint: side.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: side, maxAttempts: 1});
const savedText = async (stateDir: string) => fs.readFile(path.join(stateDir, 'world.json'), 'utf8').catch(() => '');

test('drill serve --state-dir: a SIGKILL after a change was saved loses nothing of it', {timeout: 400_000}, async () => {
	const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-kill-'));
	const kubectl = async (kubeconfig: string, args: string[]) => run('kubectl', ['--cache-dir', path.join(stateDir, 'kube-cache'), ...args], {env: {...process.env, KUBECONFIG: kubeconfig}});
	try {
		const first = await serveDrill(['--seed', '4', '--objects', '100', '--state-dir', stateDir, '--clock-start', clockStartArgument()]);
		// The fresh world is saved soon after it opens (no change needed).
		await waitFor(async () => (await savedText(stateDir)).length > 0, 'the first save', 60_000);
		const provider = s3(first.ready.provider);
		await provider.send(new PutObjectCommand({Bucket: 'ilum-files', Key: 'kept/after-kill.txt', Body: 'written before the kill'}));
		provider.destroy();
		await kubectl(first.ready.kubeconfig, ['-n', 'ilum', 'create', 'configmap', 'kept-after-kill', '--from-literal=answer=42']);
		await waitFor(async () => {
			const text = await savedText(stateDir);
			return text.includes('kept/after-kill.txt') && text.includes('kept-after-kill');
		}, 'the change saved in world.json', 60_000);
		await waitFor(async () => fs.stat(path.join(stateDir, 'ducklake-tables', 'catalog.tar')), 'the DuckLake catalog saved', 60_000);
		const killed = await first.kill();
		assert.equal(killed.signal, 'SIGKILL');

		const second = await serveDrill(['--state-dir', stateDir]);
		try {
			const again = s3(second.ready.provider);
			// The provider serves once its pod is Ready again.
			const body = await waitFor(async () => (await again.send(new GetObjectCommand({Bucket: 'ilum-files', Key: 'kept/after-kill.txt'}))).Body?.transformToString(), 'the object after the restart', 60_000);
			again.destroy();
			assert.equal(body, 'written before the kill');
			const {stdout} = await kubectl(second.ready.kubeconfig, ['-n', 'ilum', 'get', 'configmap', 'kept-after-kill', '-o', 'jsonpath={.data.answer}']);
			assert.equal(stdout, '42');
			const ref = (await kubectl(second.ready.kubeconfig, ['-n', 'ilum', 'get', 'configmap', 'ilum-ducklake-catalog', '-o', 'jsonpath={.data.ref}'])).stdout;
			const history = await runCli(['history', ref, '--table', 'main.orders', '--json'], {env: {AWS_ENDPOINT_URL: second.ready.provider.endpoint, AWS_ACCESS_KEY_ID: second.ready.provider.accessKeyId, AWS_SECRET_ACCESS_KEY: second.ready.provider.secretAccessKey, AWS_REGION: 'us-east-1'}});
			assert.equal(history.code, 0, history.stderr);
			assert.ok((JSON.parse(history.stdout) as {entries: unknown[]}).entries.length >= 10, history.stdout);
		} finally {
			const stopped = await second.stop();
			assert.equal(stopped.code, 0, stopped.stderr);
		}
	} finally {
		await fs.rm(stateDir, {recursive: true, force: true});
	}
});
