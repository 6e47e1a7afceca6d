import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {buildS3App, newS3Store} from '../../../source/drill/s3/fauxqs.js';
import {FastS3Client} from '../../../source/storage/fast-s3.js';
import {copyBucket, type ProgressEvent} from '../../../source/layers/mirrors/copy.js';
import {UploadJournal} from '../../../source/layers/mirrors/uploads.js';
import {contentFor, testCredentials} from '../../helpers/s3-pair.js';

/** The drill's fauxqs (with ListMultipartUploads and ListParts) on 127.0.0.1, and a client for it. */
async function startServer() {
	const store = await newS3Store();
	const app = await buildS3App(store);
	const held = new Set<http.ServerResponse>();
	const server = http.createServer((request, response) => {
		const query = new URL(request.url!, 'http://x').searchParams;
		const partNumber = Number(query.get('partNumber') ?? 0);
		if (request.method === 'PUT' && query.has('uploadId') && partNumber > 0) {
			state.parts.push(partNumber);
			if (state.holdFrom > 0 && partNumber >= state.holdFrom) {
				held.add(response);
				return;
			}
		}

		app.routing(request, response);
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	const client = new FastS3Client({endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ...testCredentials});
	const state = {
		client,
		store,
		/** Part uploads received (part numbers). */
		parts: [] as number[],
		/** Part uploads from this number on are held unanswered (0: none). */
		holdFrom: 0,
		async stop() {
			for (const response of held) {
				response.destroy();
			}

			await client.destroy();
			server.closeAllConnections();
			await new Promise(resolve => server.close(resolve));
			await app.close();
		},
	};
	return state;
}

const mib = 1024 * 1024;

test('ListMultipartUploads and ListParts page through what is in progress', async () => {
	const s3 = await startServer();
	try {
		await s3.client.createBucket('bkt');
		const ids: string[] = [];
		for (const key of ['x/1', 'x/2', 'y/1']) {
			// eslint-disable-next-line no-await-in-loop
			ids.push(await s3.client.createMultipartUpload('bkt', key));
		}

		const body = contentFor('p', 6 * mib);
		const etag1 = await s3.client.uploadPart('bkt', 'x/2', ids[1]!, 1, body, body.length);
		const etag3 = await s3.client.uploadPart('bkt', 'x/2', ids[1]!, 3, body.subarray(0, 10), 10);
		assert.deepEqual((await s3.client.listMultipartUploads('bkt', {prefix: 'x/'})).map(upload => [upload.key, upload.uploadId]), [['x/1', ids[0]], ['x/2', ids[1]]]);
		assert.equal((await s3.client.listMultipartUploads('bkt')).length, 3);
		assert.deepEqual(await s3.client.listParts('bkt', 'x/2', ids[1]!), [{partNumber: 1, etag: etag1, size: 6 * mib}, {partNumber: 3, etag: etag3, size: 10}]);
		await s3.client.abortMultipartUpload('bkt', 'x/2', ids[1]!);
		assert.equal(await s3.client.listParts('bkt', 'x/2', ids[1]!), undefined, 'an aborted upload is gone');
	} finally {
		await s3.stop();
	}
});

test('the next copy deals with journalled uploads: a stray one aborted, a changed source not resumed, a finished object not re-uploaded; a running process\'s and foreign uploads untouched', async () => {
	const source = await startServer();
	const target = await startServer();
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'uploads-journal-'));
	const file = path.join(folder, 'mirror-uploads.jsonl');
	const journal = new UploadJournal(file);
	const endpoint = target.client.endpoint.endpoint;
	// A process that is still running (another restore on this machine).
	const sleeper = spawn('sleep', ['60'], {stdio: 'ignore'});
	try {
		await source.client.createBucket('bkt');
		await target.client.createBucket('bkt');
		// 7 MiB single-part sources: with a 6 MiB threshold and 5 MiB parts, two ranges each.
		const objects = ['a/stray', 'b/changed', 'c/done', 'd/in-place'];
		for (const key of objects) {
			const body = contentFor(key, 7 * mib);
			// eslint-disable-next-line no-await-in-loop
			await source.client.put('bkt', key, body, body.length);
		}

		const inPlace = contentFor('d/in-place', 7 * mib);
		await target.client.put('bkt', 'd/in-place', inPlace, inPlace.length);
		const sourceEtag = (await source.client.head('bkt', 'b/changed'))!.etag;
		const layout = {mode: 'ranges', partSize: 5 * mib, count: 2, size: 7 * mib} as const;
		// The journal lines of a process that was killed (its pid no longer runs).
		const gone = spawn('true', {stdio: 'ignore'});
		await new Promise(resolve => gone.on('exit', resolve));
		const append = (record: Record<string, unknown>) => {
			fs.appendFileSync(file, JSON.stringify(record) + '\n');
		};

		let serial = 0;
		const killed = {
			begin(target: {key: string}, fields: {sourceEtag: string}) {
				const id = `killed-${serial++}`;
				append({t: 'start', id, pid: gone.pid, endpoint, bucket: 'bkt', key: target.key, at: new Date().toISOString(), ...layout, ...fields});
				return {
					created(uploadId: string) {
						append({t: 'upload', id, uploadId});
					},
					part(n: number, etag: string) {
						append({t: 'part', id, n, etag});
					},
				};
			},
		};

		// Killed between CreateMultipartUpload and its answer: the upload id never reached the journal.
		killed.begin({key: 'a/stray'}, {sourceEtag});
		const stray = await target.client.createMultipartUpload('bkt', 'a/stray');
		// Cut from an older version of the source (another ETag): not resumable.
		const changed = killed.begin({key: 'b/changed'}, {sourceEtag: '"0123456789abcdef0123456789abcdef"'});
		const changedId = await target.client.createMultipartUpload('bkt', 'b/changed');
		changed.created(changedId);
		const part = contentFor('old', 5 * mib);
		changed.part(1, await target.client.uploadPart('bkt', 'b/changed', changedId, 1, part, part.length));
		// Completed, and the kill came before the journal said so.
		const done = killed.begin({key: 'c/done'}, {sourceEtag});
		const doneId = await target.client.createMultipartUpload('bkt', 'c/done');
		done.created(doneId);
		await target.client.abortMultipartUpload('bkt', 'c/done', doneId);
		// The object is in place after all: the upload is not needed.
		const needless = killed.begin({key: 'd/in-place'}, {sourceEtag});
		const needlessId = await target.client.createMultipartUpload('bkt', 'd/in-place');
		needless.created(needlessId);
		// Another running process's upload, and an upload no journal names.
		fs.appendFileSync(file, JSON.stringify({t: 'start', id: 'other', pid: sleeper.pid, endpoint, bucket: 'bkt', key: 'e/running', at: new Date().toISOString(), ...layout, sourceEtag}) + '\n');
		const runningId = await target.client.createMultipartUpload('bkt', 'e/running');
		fs.appendFileSync(file, JSON.stringify({t: 'upload', id: 'other', uploadId: runningId}) + '\n');
		const foreignId = await target.client.createMultipartUpload('bkt', 'f/foreign');

		const events: ProgressEvent[] = [];
		for await (const event of copyBucket({name: 'bkt', source: {client: source.client, bucket: 'bkt'}, target: {client: target.client, bucket: 'bkt'}}, {uploadJournal: file, multipartThreshold: 6 * mib, partSize: 5 * mib, smallObjectLimit: mib})) {
			events.push(event);
		}

		const doneEvent = events.find(event => event.type === 'bucket-done');
		assert.ok(doneEvent?.type === 'bucket-done');
		assert.equal(doneEvent.verify?.ok, true);
		assert.equal(doneEvent.objectsDone, 3, 'a/stray, b/changed, c/done copied; d/in-place skipped');
		assert.deepEqual({...doneEvent.uploads, notes: undefined}, {found: 3, resumed: 0, partsReused: 0, aborted: 3, kept: 1, notes: undefined});
		const left = (await target.client.listMultipartUploads('bkt')).map(upload => upload.uploadId).sort();
		assert.deepEqual(left, [runningId, foreignId].sort(), 'only the running process\'s and the foreign upload remain');
		assert.ok(![stray, changedId, needlessId].some(id => left.includes(id)));
		assert.deepEqual(journal.open().map(entry => entry.id), ['other'], 'the journal keeps only the running process\'s upload');
	} finally {
		sleeper.kill();
		await Promise.all([source.stop(), target.stop()]);
		fs.rmSync(folder, {recursive: true, force: true});
	}
});

test('a copy stopped on request keeps its multipart upload; the next copy in the same process resumes it', async () => {
	const source = await startServer();
	const target = await startServer();
	const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'uploads-journal-'));
	const file = path.join(folder, 'mirror-uploads.jsonl');
	const pair = {name: 'bkt', source: {client: source.client, bucket: 'bkt'}, target: {client: target.client, bucket: 'bkt'}};
	const options = {uploadJournal: file, multipartThreshold: 6 * mib, partSize: 5 * mib, smallObjectLimit: mib};
	try {
		await source.client.createBucket('bkt');
		await target.client.createBucket('bkt');
		const body = contentFor('big', 12 * mib);
		await source.client.put('bkt', 'big', body, body.length, {contentType: 'text/plain', userMetadata: {k: 'v'}});
		target.holdFrom = 2;
		const stop = new AbortController();
		const first = (async () => {
			for await (const _event of copyBucket(pair, {...options, signal: stop.signal})) {
				// Drained.
			}
		})();
		const deadline = Date.now() + 60_000;
		while (![...target.store.multipartUploads.values()].some(upload => upload.parts.has(1))) {
			assert.ok(Date.now() < deadline, 'part 1 stored');
			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => setTimeout(resolve, 20));
		}

		stop.abort();
		await assert.rejects(first);
		assert.equal((await target.client.listMultipartUploads('bkt')).length, 1, 'the upload is kept for a resume');
		target.holdFrom = 0;
		target.parts.length = 0;
		const events: ProgressEvent[] = [];
		for await (const event of copyBucket(pair, options)) {
			events.push(event);
		}

		const done = events.find(event => event.type === 'bucket-done');
		assert.ok(done?.type === 'bucket-done');
		assert.deepEqual(done.uploads, {found: 1, resumed: 1, partsReused: 1, aborted: 0, kept: 0, notes: []});
		assert.deepEqual(target.parts.sort(), [2, 3], 'part 1 is not uploaded again');
		assert.equal((await target.client.get('bkt', 'big')).body.equals(body), true);
		assert.deepEqual((await target.client.head('bkt', 'big'))?.metadata, (await source.client.head('bkt', 'big'))?.metadata);
		assert.deepEqual(await target.client.listMultipartUploads('bkt'), []);
		assert.equal(fs.existsSync(file), false, 'nothing open: the journal is removed');
	} finally {
		await Promise.all([source.stop(), target.stop()]);
		fs.rmSync(folder, {recursive: true, force: true});
	}
});
