/**
The incident scenarios: each breaks the world, the check says so, a recovery by hand (through the
world's own Jobs and claims) makes the check pass with the expected data loss.
*/
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {findScenario, scenarios} from '../../../source/drill/scenarios/index.js';
import {ilum} from '../../../source/drill/seed/ilum.js';
import {coreSeeders, startDrillWorld, waitFor, type DrillFixture} from '../../helpers/drill-world.js';

const jobDone = (drill: DrillFixture, name: string) => (drill.world.store.get('jobs', 'ilum', name)?.status?.conditions ?? []).some((condition: any) => condition.type === 'Complete' && condition.status === 'True');

test('the registry lists bucket-wipe and pv-loss, every scenario with a briefing and a unique name', () => {
	const names = scenarios.map(scenario => scenario.name);
	assert.ok(names.includes('bucket-wipe') && names.includes('pv-loss'));
	assert.equal(new Set(names).size, names.length);
	for (const scenario of scenarios) {
		assert.ok(scenario.summary.length > 10 && scenario.briefing.what.length > 10 && scenario.briefing.targetRtoMinutes > 0);
	}
});

test('bucket-wipe: the wipe is detected, a mirror restore with the CronJob held recovers what the mirror had', {timeout: 180_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store, clock} = drill.world;
	try {
		const scenario = findScenario('bucket-wipe')!;
		const state = await scenario.inject(drill.world);
		assert.equal(Object.keys(drill.world.providerEndpoint.volume!.fingerprint()['ilum-data']!).length, 0);
		const next = Date.parse(state.nextBackup);
		assert.ok(next - clock.now() <= 5 * 60_000 && next > clock.now());
		const broken = await scenario.check(drill.world, state);
		assert.equal(broken.recovered, false);
		assert.equal(broken.lostObjects, Object.keys(state.before).length);

		// Hold the CronJob, then mirror back from the backup (the restore direction of mc mirror).
		store.mutate('cronjobs', 'ilum', ilum.backupCronJob, object => {
			object.spec.suspend = true;
		});
		store.create('jobs', {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'restore-ilum-data', namespace: 'ilum'}, spec: {backoffLimit: 0, template: {spec: {restartPolicy: 'Never', containers: [{
			name: 'mc',
			image: ilum.mcImage,
			command: ['/bin/sh', '-c', 'mc alias set src "$BACKUP_ENDPOINT" "$BACKUP_ACCESS_KEY" "$BACKUP_SECRET_KEY" && mc alias set dst http://ilum-objectstorage.ilum.svc.cluster.local:9000 "$AK" "$SK" && mc mirror --preserve src/ilum-data dst/ilum-data'],
			env: [
				{name: 'BACKUP_ENDPOINT', valueFrom: {secretKeyRef: {name: ilum.backupSecret, key: 'endpoint'}}},
				{name: 'BACKUP_ACCESS_KEY', valueFrom: {secretKeyRef: {name: ilum.backupSecret, key: 'access-key'}}},
				{name: 'BACKUP_SECRET_KEY', valueFrom: {secretKeyRef: {name: ilum.backupSecret, key: 'secret-key'}}},
				{name: 'AK', valueFrom: {secretKeyRef: {name: ilum.credentialsSecret, key: 'access-key'}}},
				{name: 'SK', valueFrom: {secretKeyRef: {name: ilum.credentialsSecret, key: 'secret-key'}}},
			],
		}]}}}});
		await waitFor(() => jobDone(drill, 'restore-ilum-data'), 'the restore job', 120_000);
		// The hour passes: the suspended CronJob does not run.
		clock.advance(10 * 60_000);
		await drill.world.idle();
		const verdict = await scenario.check(drill.world, state);
		assert.equal(verdict.recovered, true, verdict.findings.join('\n'));
		assert.equal(verdict.lostObjects, Object.keys(state.before).filter(key => state.mirrored[key] !== state.before[key]).length);
		assert.ok(!verdict.findings.some(line => line.startsWith('Mistake')), verdict.findings.join('\n'));
	} finally {
		await drill.stop();
	}
});

test('bucket-wipe: letting the CronJob run empties the mirror, and the debrief says so', {timeout: 180_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	try {
		const scenario = findScenario('bucket-wipe')!;
		const state = await scenario.inject(drill.world);
		drill.world.clock.advance(6 * 60_000);
		await waitFor(() => Object.keys(drill.world.backupVolume.fingerprint()['ilum-data'] ?? {}).length === 0, 'the mirror run to propagate the wipe', 120_000);
		const verdict = await scenario.check(drill.world, state);
		assert.equal(verdict.recovered, false);
		assert.ok(verdict.findings.some(line => /Mistake: the mirror of ilum-data now holds 0/.test(line)), verdict.findings.join('\n'));
	} finally {
		await drill.stop();
	}
});

test('pv-loss: corrupted volume, restored from the last good snapshot through a claim swap', {timeout: 180_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store} = drill.world;
	try {
		const scenario = findScenario('pv-loss')!;
		const state = await scenario.inject(drill.world);
		assert.ok(state.garbled > 0 && state.unreadable > 0);
		assert.equal((await scenario.check(drill.world, state)).recovered, false);

		const scaleTo = async (replicas: number) => {
			store.mutate('statefulsets', 'ilum', ilum.statefulSet, object => {
				object.spec.replicas = replicas;
			});
			await waitFor(() => (store.get('statefulsets', 'ilum', ilum.statefulSet)!.status?.readyReplicas ?? 0) === replicas, `${replicas} ready replicas`);
		};

		await scaleTo(0);
		const old = store.get('persistentvolumeclaims', 'ilum', ilum.claim)!.spec.volumeName;
		store.mutate('persistentvolumes', undefined, old, object => {
			object.spec.persistentVolumeReclaimPolicy = 'Retain';
		});
		store.delete('persistentvolumeclaims', 'ilum', ilum.claim);
		await waitFor(() => !store.get('persistentvolumeclaims', 'ilum', ilum.claim), 'the claim to go');
		store.create('persistentvolumeclaims', {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: ilum.claim, namespace: 'ilum', labels: {...ilum.providerLabel}}, spec: {accessModes: ['ReadWriteOnce'], storageClassName: ilum.storageClass, resources: {requests: {storage: ilum.volumeSize}}, dataSource: {apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: state.lastGood}}});
		await scaleTo(1);
		await waitFor(() => drill.world.providerEndpoint.reachable, 'the provider');
		const verdict = await scenario.check(drill.world, state);
		assert.equal(verdict.recovered, true, verdict.findings.join('\n'));
		assert.ok(verdict.lostObjects > 0, 'writes after the last snapshot are lost');
		assert.ok(verdict.findings.some(line => line.startsWith('Mistake: no snapshot of the corrupted volume')));
		assert.ok(store.get('persistentvolumes', undefined, old), 'the corrupted volume is kept');
	} finally {
		await drill.stop();
	}
});
