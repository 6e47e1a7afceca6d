import {test} from 'node:test';
import assert from 'node:assert/strict';
import {findHazards} from '../../source/layers/hazards.js';
import {describeBackupCron} from '../../source/layers/mirrors/cron.js';
import {buildVolumeInventory} from '../../source/layers/volumes/volume-inventory.js';
import {bucketFigures} from '../helpers/console-fixture.js';
import {healthyWorld} from '../helpers/fake-cluster.js';

const now = Date.parse('2026-11-22T12:00:00Z');
const layers = (change?: (world: ReturnType<typeof healthyWorld>) => void) => {
	const world = healthyWorld(now);
	change?.(world);
	const volumes = buildVolumeInventory({namespace: 'ilum', claims: world.claims, statefulSets: world.statefulSets, volumes: world.volumes, snapshots: world.snapshots, classes: world.classes, drivers: world.drivers, storageClasses: world.storageClasses});
	const cron = describeBackupCron(world.cronJobs[0]!, {jobs: world.jobs});
	return {volumes, cron};
};

test('a healthy world has no hazard', () => {
	const {volumes, cron} = layers();
	assert.deepEqual(findHazards({volumes, mirrors: {cron, buckets: [bucketFigures('ilum-data')]}, now}), []);
});

test('--remove with objects gone from the provider: suspend it now, first', () => {
	const {volumes, cron} = layers();
	const hazards = findHazards({volumes, mirrors: {cron, buckets: [bucketFigures('ilum-data', {missingInProvider: 7})]}, now});
	assert.equal(hazards[0]!.id, 'remove-will-delete-backup');
	assert.match(hazards[0]!.title, /deletes 7 objects/);
	assert.match(hazards[0]!.fix, /"suspend":true/);
	const suspended = findHazards({volumes, mirrors: {cron: {...cron, suspended: true}, buckets: [bucketFigures('ilum-data', {missingInProvider: 7})]}, now});
	assert.ok(!suspended.some(hazard => hazard.id === 'remove-will-delete-backup'));
});

test('no snapshot in the last 24 h, a snapshot not ready', () => {
	const {volumes, cron} = layers(world => {
		world.snapshots = world.snapshots.filter(snapshot => snapshot.metadata.name !== 'nightly-1');
		world.snapshots.push({metadata: {name: 'broken', namespace: 'ilum'}, spec: {source: {persistentVolumeClaimName: 'data-ilum-objectstorage-0'}}, status: {readyToUse: false, error: {message: 'driver busy'}}});
	});
	const ids = findHazards({volumes, mirrors: {cron, buckets: []}, now}).map(hazard => hazard.id);
	assert.ok(ids.includes('no-recent-snapshot'));
	assert.ok(ids.includes('snapshot-not-ready'));
});

test('a mirror older than its schedule, and an unreachable provider', () => {
	const {volumes, cron} = layers();
	const stale = {...cron, lastSuccessfulTime: new Date(now - (2 * 86_400_000)).toISOString()};
	const hazards = findHazards({volumes, mirrors: {cron: stale, buckets: [], provider: {endpoint: 'http://rustfs:9000', reachable: false, error: 'ECONNREFUSED'}}, now});
	assert.deepEqual(hazards.map(hazard => hazard.id).sort(), ['mirror-stale', 'provider-unreachable']);
	assert.match(hazards.find(hazard => hazard.id === 'mirror-stale')!.title, /48 h old.*promises 1 h/);
});

test('a snapshot still being cut is not a hazard for its first 10 minutes', () => {
	const {volumes, cron} = layers(world => {
		world.snapshots.push({metadata: {name: 'cutting', namespace: 'ilum'}, spec: {source: {persistentVolumeClaimName: 'data-ilum-objectstorage-0'}}, status: {readyToUse: false, creationTime: new Date(now - 60_000).toISOString()}});
	});
	assert.ok(!findHazards({volumes, mirrors: {cron, buckets: []}, now}).some(hazard => hazard.id === 'snapshot-not-ready'));
	assert.ok(findHazards({volumes, mirrors: {cron, buckets: []}, now: now + 900_000}).some(hazard => hazard.title.includes('cutting')));
});
