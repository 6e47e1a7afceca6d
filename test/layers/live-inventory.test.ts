import {test} from 'node:test';
import assert from 'node:assert/strict';
import {LiveInventory} from '../../source/layers/live-inventory.js';
import type {BucketComparer} from '../../source/layers/mirror-figures.js';
import {bucketFigures, consoleFixture} from '../helpers/console-fixture.js';
import {waitFor} from '../helpers/frames.js';

test('figures streaming in fast are told to subscribers at most ~10 times a second', async () => {
	let sent = 0;
	const compare: BucketComparer = async function * (bucket) {
		for (let index = 1; index <= 2000; index++) {
			sent++;
			yield bucketFigures(bucket, {provider: {objects: index, bytes: index}, done: index === 2000});
			if (index % 50 === 0) {
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => {
					setImmediate(resolve);
				});
			}
		}
	};

	const {sources} = consoleFixture({compare});
	const live = new LiveInventory(sources, {throttleMs: 100});
	let notified = 0;
	live.subscribe(() => {
		notified++;
	});
	const started = Date.now();
	live.start();
	await live.settled();
	const elapsed = Date.now() - started;
	await live.stop();
	assert.equal(sent, 4000, 'two buckets, 2,000 figures each');
	assert.ok(notified <= Math.ceil(elapsed / 100) + 2, `${notified} notifications in ${elapsed} ms`);
	assert.equal(live.getSnapshot().mirrors.value!.buckets.find(bucket => bucket.bucket === 'ilum-data')!.provider.objects, 2000, 'the last figures are never lost');
});

test('refresh re-reads what watches do not cover', async () => {
	const fixture = consoleFixture();
	fixture.live.start();
	try {
		await fixture.live.settled();
		fixture.world.classes = [];
		await fixture.live.refresh('volumes');
		await waitFor(() => fixture.live.getSnapshot().volumes.value?.checks.some(check => check.id === 'snapshot-class' && !check.ok) ?? false, {what: 'the missing class to show'});
	} finally {
		await fixture.live.stop();
	}
});
