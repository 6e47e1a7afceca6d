import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {AbortMultipartUploadCommand, CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client} from '@aws-sdk/client-s3';
import {buildS3App, newS3Store, type FauxS3Store} from '../../source/drill/s3/fauxqs.js';
import {FastS3Client} from '../../source/storage/fast-s3.js';
import {binPath, runCli} from '../helpers/run-cli.js';
import {contentFor, testCredentials} from '../helpers/s3-pair.js';

/**
A SIGKILL while large objects are halfway through their multipart copy leaves incomplete uploads
on the provider; the next run finds them (its journal in the state dir), keeps the parts in place
and uploads only the rest, and leaves no upload behind, nor anyone else's upload touched.
The provider is the drill's fauxqs (with ListMultipartUploads and ListParts), in this process, so
the test sees each request: parts 3 and up are held unanswered in the first run, so the kill lands
when parts 1 and 2 of every large object are stored and the rest are not.
*/

type Server = {url: string; store: FauxS3Store; parts: Array<{key: string; partNumber: number}>; hold: boolean; stop(): Promise<void>};

async function startServer(): Promise<Server> {
	const store = await newS3Store();
	const app = await buildS3App(store);
	const held = new Set<http.ServerResponse>();
	const server = http.createServer((request, response) => {
		const url = new URL(request.url!, 'http://x');
		const partNumber = Number(url.searchParams.get('partNumber') ?? 0);
		if (request.method === 'PUT' && url.searchParams.has('uploadId') && partNumber > 0) {
			state.parts.push({key: decodeURIComponent(url.pathname.split('/').slice(2).join('/')), partNumber});
			if (state.hold && partNumber >= 3) {
				held.add(response);
				return;
			}
		}

		app.routing(request, response);
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const state: Server = {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		store,
		parts: [],
		hold: false,
		async stop() {
			for (const response of held) {
				response.destroy();
			}

			server.closeAllConnections();
			await new Promise(resolve => server.close(resolve));
			await app.close();
		},
	};
	return state;
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

const mib = 1024 * 1024;
const sha = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');

test('SIGKILL in the middle of multipart copies: the rerun resumes them (parts in place not uploaded again), leaves no incomplete upload, and never touches another upload', async () => {
	const mirror = await startServer();
	const provider = await startServer();
	const home = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-mirror-uploads-'));
	const env = {HOME: home, KUBECONFIG: '', XDG_STATE_HOME: path.join(home, 'state'), AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_ENDPOINT_URL: '', MIRROR_ENDPOINT_URL: ''};
	const sdk = new S3Client({endpoint: provider.url, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: 'x', secretAccessKey: 'y'}});
	const source = new FastS3Client({endpoint: mirror.url, ...testCredentials});
	const target = new FastS3Client({endpoint: provider.url, ...testCredentials});
	try {
		await source.createBucket('ilum-data');
		await target.createBucket('ilum-data');
		const metadata = {contentType: 'application/x-parquet', cacheControl: 'max-age=60', userMetadata: {origin: 'mirror'}};
		// A multipart source (4 parts: 8+8+8+2 MiB): copied part by part, its ETag reproduced.
		const multi = contentFor('big/multi', 26 * mib);
		const uploadId = await source.createMultipartUpload('ilum-data', 'big/multi', metadata);
		const partEtags: string[] = [];
		for (let part = 0; part < 4; part++) {
			const slice = multi.subarray(part * 8 * mib, Math.min(multi.length, (part + 1) * 8 * mib));
			// eslint-disable-next-line no-await-in-loop
			partEtags.push(await source.uploadPart('ilum-data', 'big/multi', uploadId, part + 1, slice, slice.length));
		}

		const multiEtag = await source.completeMultipartUpload('ilum-data', 'big/multi', uploadId, partEtags.map((etag, index) => ({partNumber: index + 1, etag})));
		assert.match(multiEtag, /-4"$/);
		// A single-part source above the multipart threshold (20 MiB): cut into 8 MiB ranges.
		const single = contentFor('big/single', 20 * mib);
		await source.put('ilum-data', 'big/single', single, single.length, {contentType: 'text/csv', userMetadata: {n: '7'}});
		for (let index = 0; index < 20; index++) {
			const body = contentFor(`small/${index}`, 1000);
			// eslint-disable-next-line no-await-in-loop
			await source.put('ilum-data', `small/${index}`, body, body.length);
		}

		// Someone else's upload in progress on the provider, on a key the restore writes too: never ours to abort.
		const foreign = await sdk.send(new CreateMultipartUploadCommand({Bucket: 'ilum-data', Key: 'big/single'}));

		provider.hold = true;
		const args = ['restore', 'mirror', '--yes', '--json', '--bucket', 'ilum-data', '--mirror-endpoint', mirror.url, '--s3-endpoint', provider.url];
		const child = spawn(process.execPath, [binPath, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'ignore', 'pipe']});
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			stderr += chunk;
		});
		const exited = new Promise<string | null>(resolve => {
			child.on('exit', (_code, signal) => {
				resolve(signal);
			});
		});
		const stored = (key: string) => [...provider.store.multipartUploads.values()].filter(upload => upload.key === key && upload.uploadId !== foreign.UploadId).flatMap(upload => [...upload.parts.keys()]);
		await waitFor(() => ['big/multi', 'big/single'].every(key => stored(key).includes(1) && stored(key).includes(2)) || child.exitCode !== null, 'parts 1 and 2 of both large objects on the provider');
		child.kill('SIGKILL');
		assert.equal(await exited, 'SIGKILL', `killed mid-way; stderr: ${stderr}`);
		provider.hold = false;

		const before = await sdk.send(new ListMultipartUploadsCommand({Bucket: 'ilum-data'}));
		assert.equal(before.Uploads?.length, 3, 'the kill left two incomplete uploads (and the foreign one)');
		provider.parts.length = 0;

		const second = await runCli(args, {env});
		assert.equal(second.code, 0, second.stderr);
		const result = JSON.parse(second.stdout.trim().split('\n').at(-1)!) as {type: string; ok: boolean; buckets: Array<{uploads?: Record<string, unknown>}>};
		assert.equal(result.type, 'result');
		assert.equal(result.ok, true, second.stdout.slice(-2000));
		assert.deepEqual(result.buckets[0]?.uploads, {found: 2, resumed: 2, partsReused: 4, aborted: 0, kept: 0, notes: []}, 'the result says what was done with the interrupted uploads');

		const after = await sdk.send(new ListMultipartUploadsCommand({Bucket: 'ilum-data'}));
		assert.deepEqual((after.Uploads ?? []).map(upload => upload.UploadId), [foreign.UploadId], 'no incomplete upload of ours left; the foreign one untouched');
		const again = (key: string) => provider.parts.filter(part => part.key === key).map(part => part.partNumber).sort();
		assert.deepEqual(again('big/multi'), [3, 4], 'only the parts not in place were uploaded again');
		assert.deepEqual(again('big/single'), [3], 'only the parts not in place were uploaded again');

		for (const [key, body] of [['big/multi', multi], ['big/single', single]] as const) {
			// eslint-disable-next-line no-await-in-loop
			const [a, b] = await Promise.all([source.head('ilum-data', key), target.head('ilum-data', key)]);
			assert.deepEqual(b?.metadata, a?.metadata, `${key}: same metadata`);
			assert.equal(b?.size, body.length);
			// eslint-disable-next-line no-await-in-loop
			const copy = await target.get('ilum-data', key);
			assert.equal(sha(copy.body), sha(body), `${key}: byte-identical`);
		}

		assert.equal((await target.head('ilum-data', 'big/multi'))?.etag, multiEtag, 'the multipart ETag is reproduced');
		let objects = 0;
		for await (const _object of target.list('ilum-data')) {
			objects++;
		}

		assert.equal(objects, 22);
		await sdk.send(new AbortMultipartUploadCommand({Bucket: 'ilum-data', Key: 'big/single', UploadId: foreign.UploadId}));
	} finally {
		sdk.destroy();
		await Promise.all([source.destroy(), target.destroy()]);
		await Promise.all([mirror.stop(), provider.stop()]);
		fs.rmSync(home, {recursive: true, force: true});
	}
});
