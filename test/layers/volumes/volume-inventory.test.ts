import {test} from 'node:test';
import assert from 'node:assert/strict';
import {buildVolumeInventory, type VolumeFacts} from '../../../source/layers/volumes/volume-inventory.js';
import {healthyWorld} from '../../helpers/fake-cluster.js';

const now = Date.parse('2026-11-22T12:00:00Z');
const facts = (change?: (world: ReturnType<typeof healthyWorld>) => void): VolumeFacts => {
	const world = healthyWorld(now);
	change?.(world);
	return {namespace: 'ilum', claims: world.claims, statefulSets: world.statefulSets, volumes: world.volumes, snapshots: world.snapshots, classes: world.classes, drivers: world.drivers, storageClasses: world.storageClasses};
};

test('finds the provider claim by label and lists its snapshots first, newest first, others marked', () => {
	const inventory = buildVolumeInventory(facts());
	assert.equal(inventory.provider?.claim, 'data-ilum-objectstorage-0');
	assert.equal(inventory.provider?.driver, 'hostpath.csi.k8s.io');
	assert.deepEqual(inventory.snapshots.map(snapshot => [snapshot.name, snapshot.ofProvider]), [['nightly-1', true], ['nightly-0', true], ['scratch', false]]);
	assert.equal(inventory.snapshots[0]!.deletionPolicy, 'Retain');
	assert.ok(inventory.checks.every(check => check.ok), JSON.stringify(inventory.checks));
});

test('without the label, the StatefulSet claim template names the claim', () => {
	const inventory = buildVolumeInventory(facts(world => {
		world.claims[0]!.metadata!.labels = {};
	}));
	assert.equal(inventory.provider?.claim, 'data-ilum-objectstorage-0');
	assert.match(inventory.provider!.foundBy, /StatefulSet ilum-objectstorage claim template data/);
});

test('a missing VolumeSnapshotClass for the driver fails with the class to create', () => {
	const inventory = buildVolumeInventory(facts(world => {
		world.classes = [{metadata: {name: 'other'}, driver: 'ebs.csi.aws.com', deletionPolicy: 'Delete'}];
	}));
	const check = inventory.checks.find(candidate => candidate.id === 'snapshot-class')!;
	assert.equal(check.ok, false);
	assert.match(check.fix!, /driver: hostpath\.csi\.k8s\.io/);
});

test('a missing CSIDriver, a non-CSI volume and a Delete policy are reported with fixes', () => {
	const noDriver = buildVolumeInventory(facts(world => {
		world.drivers = [];
	}));
	assert.match(noDriver.checks.find(check => check.id === 'csi-driver')!.fix!, /install the CSI driver hostpath\.csi\.k8s\.io/);
	const hostPath = buildVolumeInventory(facts(world => {
		world.volumes[0]!.spec = {hostPath: {path: '/data'}};
		world.storageClasses = [];
	}));
	assert.equal(hostPath.checks.find(check => check.id === 'csi-volume')!.ok, false);
	const deleting = buildVolumeInventory(facts(world => {
		world.classes[0]!.deletionPolicy = 'Delete';
	}));
	const policy = deleting.checks.find(check => check.id === 'deletion-policy')!;
	assert.equal(policy.warning, true);
});

test('the driver comes from the StorageClass provisioner when the PV is not known', () => {
	const inventory = buildVolumeInventory(facts(world => {
		world.volumes = [];
	}));
	assert.equal(inventory.provider?.driver, 'hostpath.csi.k8s.io');
});

test('no provider claim: one failed check saying what to do', () => {
	const inventory = buildVolumeInventory(facts(world => {
		world.claims = [];
		world.statefulSets = [];
	}));
	assert.equal(inventory.provider, undefined);
	assert.match(inventory.checks[0]!.fix!, /-n/);
});
