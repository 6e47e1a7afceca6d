import {test} from 'node:test';
import assert from 'node:assert/strict';
import {copyMirrorInWorker} from '../../../source/layers/mirrors/copy-worker.js';
import type {ProgressEvent} from '../../../source/layers/mirrors/copy.js';
import {seedObjects, startTestS3} from '../../helpers/s3-pair.js';

test('the copy in a worker thread: the same events and result as in process; a stop ends it with an abort', async () => {
	const source = await startTestS3();
	const target = await startTestS3();
	try {
		await source.createBucket('bkt');
		await target.createBucket('bkt');
		await seedObjects(source.client, 'bkt', {count: 300, size: 2000, prefix: 'k/', metadata: index => ({n: String(index)})});
		const pair = {name: 'bkt', source: {client: source.client, bucket: 'bkt'}, target: {client: target.client, bucket: 'bkt'}};
		const events: ProgressEvent[] = [];
		for await (const event of copyMirrorInWorker([pair], {concurrency: 8, progressMs: 50, uploadJournal: false})) {
			events.push(event);
		}

		assert.equal(events[0]?.type, 'bucket-start');
		const done = events.at(-1);
		assert.ok(done?.type === 'bucket-done');
		assert.equal(done.objectsDone, 300);
		assert.equal(done.verify?.ok, true);
		assert.deepEqual((await target.client.head('bkt', 'k/000299'))?.metadata.userMetadata, {n: '299'});

		await seedObjects(source.client, 'bkt', {count: 3000, size: 100, prefix: 'more/'});
		const stop = new AbortController();
		let progress = 0;
		await assert.rejects(async () => {
			for await (const event of copyMirrorInWorker([pair], {concurrency: 2, progressMs: 20, signal: stop.signal, uploadJournal: false})) {
				if (event.type === 'progress' && event.objectsDone > 0 && ++progress === 1) {
					stop.abort();
				}
			}
		}, {name: 'AbortError'});
		let copied = 0;
		for await (const object of target.client.list('bkt', {prefix: 'more/'})) {
			copied += object ? 1 : 0;
		}

		assert.ok(copied < 3000, `stopped before the end (${copied} of 3000)`);
	} finally {
		await Promise.all([source.stop(), target.stop()]);
	}
});
