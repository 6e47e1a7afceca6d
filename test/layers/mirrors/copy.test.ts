import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {GetObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {copyMirror, type CopyOptions, type ProgressEvent} from '../../../source/layers/mirrors/copy.js';
import {FastS3Client, type ObjectMetadata} from '../../../source/storage/fast-s3.js';
import {startTestS3, contentFor, type TestS3} from '../../helpers/s3-pair.js';
import {everyNth, startFaultProxy} from '../../helpers/fault-proxy.js';

const mib = 1024 * 1024;

type Fixture = {key: string; body: Buffer; metadata?: ObjectMetadata; parts?: number[]};

/** A mirror bucket with what a restore meets: many small objects with and without metadata, streamed ones, a multipart one, one above the threshold. */
function fixtures(): Fixture[] {
	const list: Fixture[] = [];
	for (let index = 0; index < 150; index++) {
		const key = `data/part-${String(index).padStart(4, '0')}.json`;
		list.push({
			key,
			body: contentFor(key, 100 + (index * 37 % 3000)),
			metadata: index % 3 === 0 ? {
				contentType: 'application/json',
				contentEncoding: index % 2 === 0 ? 'gzip' : undefined,
				cacheControl: 'max-age=3600',
				contentDisposition: `attachment; filename="part-${index}.json"`,
				userMetadata: {owner: `team-${index % 4}`, 'spark-version': '3.5.1'},
			} : undefined,
		});
	}

	list.push({key: 'empty/object', body: Buffer.alloc(0), metadata: {contentType: 'text/plain', userMetadata: {}}});
	list.push({key: 'odd keys/a b+c=d&e!\'()*é', body: contentFor('odd', 2000), metadata: {contentType: 'text/plain', userMetadata: {note: 'odd key'}}});
	for (let index = 0; index < 3; index++) {
		list.push({key: `streamed/blob-${index}`, body: contentFor(`streamed-${index}`, (2 * mib) + index), metadata: {contentType: 'application/octet-stream', cacheControl: 'no-cache', userMetadata: {blob: String(index)}}});
	}

	list.push({key: 'multipart/source', body: contentFor('mp', (5 * mib) + (1 * mib) + 123), metadata: {contentType: 'application/x-parquet', userMetadata: {layout: 'parts'}}, parts: [5 * mib, mib + 123]});
	list.push({key: 'ranged/big-single', body: contentFor('big', 7 * mib), metadata: {contentType: 'application/x-tar', contentDisposition: 'inline', userMetadata: {big: 'yes'}}});
	return list;
}

async function seed(client: FastS3Client, bucket: string, items: readonly Fixture[]) {
	for (const item of items) {
		if (item.parts) {
			// eslint-disable-next-line no-await-in-loop
			const uploadId = await client.createMultipartUpload(bucket, item.key, item.metadata);
			const etags: Array<{partNumber: number; etag: string}> = [];
			let offset = 0;
			for (const [index, size] of item.parts.entries()) {
				// eslint-disable-next-line no-await-in-loop
				etags.push({partNumber: index + 1, etag: await client.uploadPart(bucket, item.key, uploadId, index + 1, item.body.subarray(offset, offset + size), size)});
				offset += size;
			}

			// eslint-disable-next-line no-await-in-loop
			await client.completeMultipartUpload(bucket, item.key, uploadId, etags);
		} else {
			// eslint-disable-next-line no-await-in-loop
			await client.put(bucket, item.key, item.body, item.body.length, item.metadata);
		}
	}
}

/** Reads every object back from the target with the AWS SDK (an independent client) and compares bytes and metadata. */
async function assertRestored(target: TestS3, bucket: string, items: readonly Fixture[]) {
	const sdk = new S3Client({endpoint: target.endpoint.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: 'x', secretAccessKey: 'y'}, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED'});
	try {
		for (const item of items) {
			// eslint-disable-next-line no-await-in-loop
			const object = await sdk.send(new GetObjectCommand({Bucket: bucket, Key: item.key}));
			// eslint-disable-next-line no-await-in-loop
			const bytes = Buffer.from(await object.Body!.transformToByteArray());
			assert.equal(bytes.length, item.body.length, `${item.key}: length`);
			assert.ok(bytes.equals(item.body), `${item.key}: bytes differ`);
			const expected = item.metadata;
			assert.equal(object.ContentType, expected?.contentType ?? 'application/octet-stream', `${item.key}: content type`);
			assert.equal(object.ContentEncoding, expected?.contentEncoding, `${item.key}: content encoding`);
			assert.equal(object.CacheControl, expected?.cacheControl, `${item.key}: cache control`);
			assert.equal(object.ContentDisposition, expected?.contentDisposition, `${item.key}: content disposition`);
			assert.deepEqual(object.Metadata ?? {}, expected?.userMetadata ?? {}, `${item.key}: user metadata`);
			if (item.parts) {
				assert.match(object.ETag ?? '', /-2"$/, 'the multipart layout is kept');
			} else if (item.body.length <= 6 * mib) {
				assert.equal(object.ETag, `"${createHash('md5').update(item.body).digest('hex')}"`, `${item.key}: ETag`);
			}
		}
	} finally {
		sdk.destroy();
	}
}

async function drain(events: AsyncIterable<ProgressEvent>) {
	const all: ProgressEvent[] = [];
	for await (const event of events) {
		all.push(event);
	}

	return all;
}

// No upload journal: these runs leave nothing in the user's state dir (uploads.test.ts covers the journal).
const small: CopyOptions = {multipartThreshold: 6 * mib, partSize: 5 * mib, progressMs: 50, uploadJournal: false};

test('a restore copies every object byte for byte with its metadata, keeps multipart ETags, and verifies', async () => {
	const source = await startTestS3();
	const target = await startTestS3();
	try {
		const items = fixtures();
		await source.createBucket('ilum-data');
		await target.createBucket('ilum-data');
		await seed(source.client, 'ilum-data', items);
		const events = await drain(copyMirror([{name: 'ilum-data', source: {client: source.client, bucket: 'ilum-data'}, target: {client: target.client, bucket: 'ilum-data'}}], small));
		const done = events.find(event => event.type === 'bucket-done');
		assert.ok(done && done.type === 'bucket-done');
		assert.equal(done.objectsDone, items.length);
		assert.equal(done.failed, 0);
		assert.equal(done.verify?.ok, true);
		assert.equal(done.verify?.totals.same, items.length - 1, 'all but the range-cut object compare equal');
		assert.equal(done.verify?.totals.unverifiable, 1, 'the range-cut object is reported as not comparable by ETag');
		assert.equal(done.unverified, 1);
		await assertRestored(target, 'ilum-data', items);

		// A second run finds nothing to do.
		const again = await drain(copyMirror([{name: 'ilum-data', source: {client: source.client, bucket: 'ilum-data'}, target: {client: target.client, bucket: 'ilum-data'}}], small));
		const second = again.find(event => event.type === 'bucket-done');
		assert.ok(second && second.type === 'bucket-done');
		assert.equal(second.objectsDone, 0);
		assert.equal(second.skipped, items.length);
	} finally {
		await Promise.all([source.stop(), target.stop()]);
	}
});

test('resets, 500s, 503 SlowDown, stalls and truncated answers on both sides: the restore still completes exactly', async () => {
	const source = await startTestS3();
	const target = await startTestS3();
	const sourceProxy = await startFaultProxy(source.endpoint.endpoint, everyNth(6, ['reset', '500', 'truncate', '503', 'stall']));
	const targetProxy = await startFaultProxy(target.endpoint.endpoint, everyNth(7, ['503', 'reset', 'stall', '500', 'truncate']));
	const viaSource = new FastS3Client({...source.endpoint, endpoint: sourceProxy.url}, {timeoutMs: 1500});
	const viaTarget = new FastS3Client({...target.endpoint, endpoint: targetProxy.url}, {timeoutMs: 1500});
	try {
		const items = fixtures();
		await source.createBucket('ilum-data');
		await target.createBucket('ilum-data');
		await seed(source.client, 'ilum-data', items);
		const events = await drain(copyMirror([{name: 'ilum-data', source: {client: viaSource, bucket: 'ilum-data'}, target: {client: viaTarget, bucket: 'ilum-data'}}], {...small, attempts: 12, concurrency: 16}));
		const done = events.find(event => event.type === 'bucket-done');
		assert.ok(done && done.type === 'bucket-done');
		assert.equal(done.failed, 0, JSON.stringify(events.filter(event => event.type === 'failed').slice(0, 3)));
		assert.ok(done.retries > 10, `retries were needed (${done.retries})`);
		for (const kind of ['reset', '500', '503', 'stall', 'truncate'] as const) {
			assert.ok(sourceProxy.faults[kind] + targetProxy.faults[kind] > 0, `${kind} was injected`);
		}

		assert.ok(events.some(event => event.type === 'retry' && /SlowDown/.test(event.error)), 'SlowDown answers were retried');
		assert.equal(done.verify?.ok, true);
		await assertRestored(target, 'ilum-data', items);
	} finally {
		await Promise.all([viaSource.destroy(), viaTarget.destroy()]);
		await Promise.all([sourceProxy.stop(), targetProxy.stop()]);
		await Promise.all([source.stop(), target.stop()]);
	}
});

test('an interrupted restore resumes: the rerun copies only what is missing', async () => {
	const source = await startTestS3();
	const target = await startTestS3();
	const targetProxy = await startFaultProxy(target.endpoint.endpoint);
	const viaTarget = new FastS3Client({...target.endpoint, endpoint: targetProxy.url});
	try {
		const items = fixtures().filter(item => item.body.length < mib);
		await source.createBucket('ilum-data');
		await target.createBucket('ilum-data');
		await seed(source.client, 'ilum-data', items);
		const pair = {name: 'ilum-data', source: {client: source.client, bucket: 'ilum-data'}, target: {client: viaTarget, bucket: 'ilum-data'}};
		const controller = new AbortController();
		await assert.rejects(async () => {
			for await (const event of copyMirror([pair], {...small, concurrency: 4, signal: controller.signal})) {
				if (event.type === 'progress' && event.objectsDone >= 40) {
					controller.abort();
				}
			}
		});
		// Requests already forwarded may still complete upstream: wait until the proxy is idle.
		const deadline = Date.now() + 30_000;
		while (targetProxy.active > 0 && Date.now() < deadline) {
			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => setTimeout(resolve, 20));
		}

		const firstRun = new Map(targetProxy.putsAccepted);
		assert.ok(firstRun.size >= 40 && firstRun.size < items.length, `interrupted part way (${firstRun.size} of ${items.length})`);
		targetProxy.putsAccepted.clear();
		const events = await drain(copyMirror([pair], small));
		const done = events.find(event => event.type === 'bucket-done');
		assert.ok(done && done.type === 'bucket-done');
		assert.equal(done.verify?.ok, true);
		assert.equal(done.objectsDone, items.length - firstRun.size, 'only the missing objects are copied');
		for (const key of targetProxy.putsAccepted.keys()) {
			assert.ok(!firstRun.has(key), `${key} was copied twice`);
		}

		await assertRestored(target, 'ilum-data', items);
	} finally {
		await viaTarget.destroy();
		await targetProxy.stop();
		await Promise.all([source.stop(), target.stop()]);
	}
});

test('changed objects are kept unless overwriting is asked; --remove deletes what only the target has', async () => {
	const source = await startTestS3();
	const target = await startTestS3();
	try {
		await source.createBucket('bucket-b');
		await target.createBucket('bucket-b');
		await source.client.put('bucket-b', 'same', Buffer.from('same'), 4);
		await target.client.put('bucket-b', 'same', Buffer.from('same'), 4);
		await source.client.put('bucket-b', 'changed', Buffer.from('mirror version'), 14);
		await target.client.put('bucket-b', 'changed', Buffer.from('provider version'), 16);
		await target.client.put('bucket-b', 'extra', Buffer.from('only here'), 9);
		const pair = {name: 'bucket-b', source: {client: source.client, bucket: 'bucket-b'}, target: {client: target.client, bucket: 'bucket-b'}};
		const first = (await drain(copyMirror([pair], small))).find(event => event.type === 'bucket-done');
		assert.ok(first && first.type === 'bucket-done');
		assert.equal(first.changedKept, 1);
		assert.equal(first.onlyTargetKept, 1);
		assert.equal((await target.client.get('bucket-b', 'changed')).body.toString(), 'provider version');
		assert.ok(await target.client.head('bucket-b', 'extra'));

		const second = (await drain(copyMirror([pair], {...small, overwriteChanged: true, remove: true}))).find(event => event.type === 'bucket-done');
		assert.ok(second && second.type === 'bucket-done');
		assert.equal(second.objectsDone, 1);
		assert.equal(second.deleted, 1);
		assert.equal(second.verify?.ok, true);
		assert.equal((await target.client.get('bucket-b', 'changed')).body.toString(), 'mirror version');
		assert.equal(await target.client.head('bucket-b', 'extra'), undefined);
	} finally {
		await Promise.all([source.stop(), target.stop()]);
	}
});
