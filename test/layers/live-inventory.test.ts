import {test} from 'node:test';
import assert from 'node:assert/strict';
import {LiveInventory} from '../../source/layers/live-inventory.js';
import type {BucketComparer} from '../../source/layers/mirror-figures.js';
import {bucketFigures, consoleFixture, deltaHistory, fixedNow} from '../helpers/console-fixture.js';
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

test('a restore seen by the watches (the provider\'s claim on another volume, the provider ready again) re-reads claims, drift and tables without refresh; so does a backup run that ended', async () => {
	let compared = 0;
	let tablesRead = 0;
	const figures = bucketFigures('ilum-data');
	const compare: BucketComparer = async function * () {
		compared++;
		yield figures;
	};

	const fixture = consoleFixture({buckets: [figures], compare, history: async ref => {
		tablesRead++;
		return deltaHistory(ref);
	}, world(world) {
		const statefulSet = world.statefulSets[0]!;
		world.statefulSets[0] = {...statefulSet, spec: {...statefulSet.spec!, replicas: 1}, status: {replicas: 1, readyReplicas: 1}};
	}});
	const live = new LiveInventory(fixture.sources, {throttleMs: 10, followMs: 50});
	live.start();
	try {
		await live.settled();
		await waitFor(() => live.getSnapshot().volumes.value?.provider?.volume === 'pv-data', {what: 'the provider on its volume'});
		const before = {compared, tablesRead};
		const {world, cluster} = fixture;
		const statefulSet = world.statefulSets[0]!;
		const claim = world.claims[0]!;
		// The restore: the provider scaled to 0, its claim replaced by one from the snapshot, scaled back.
		world.statefulSets[0] = {...statefulSet, spec: {...statefulSet.spec!, replicas: 0}, status: {replicas: 0, readyReplicas: 0}};
		world.claims[0] = {...claim, metadata: {...claim.metadata, uid: 'restored-claim'}, spec: {...claim.spec, volumeName: 'pv-restored'}};
		cluster.push();
		await waitFor(() => live.getSnapshot().volumes.value?.provider?.volume === 'pv-restored', {what: 'the new claim read again'});
		assert.equal(compared, before.compared, 'no drift read while the provider is down');
		world.statefulSets[0] = {...statefulSet, spec: {...statefulSet.spec!, replicas: 1}, status: {replicas: 1, readyReplicas: 1}};
		cluster.push();
		await waitFor(() => compared > before.compared && tablesRead > before.tablesRead, {what: 'the drift and the tables read again once the provider is back'});
		await live.settled();

		// A backup run ends: the mirror changed, the drift is read again.
		const afterRestore = compared;
		world.jobs.push({metadata: {name: 'ilum-backup-29000000', namespace: 'ilum', ownerReferences: [{apiVersion: 'batch/v1', kind: 'CronJob', name: 'ilum-backup', uid: 'cron'}]}, status: {succeeded: 1, completionTime: new Date(fixedNow)}});
		cluster.push();
		await waitFor(() => compared > afterRestore, {what: 'the drift read again after the backup run'});
	} finally {
		await live.stop();
	}
});
