/**
What the drill world does, observed the way a user would: through S3 and the Kubernetes API.
*/
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client} from '@aws-sdk/client-s3';
import {coreSeeders, startDrillWorld, waitFor, type DrillFixture} from '../helpers/drill-world.js';
import {startWorld} from '../../source/drill/world.js';
import {ilum} from '../../source/drill/seed/ilum.js';
import {clusterSeeder} from '../../source/drill/seed/cluster.js';
import {objectsSeeder} from '../../source/drill/seed/objects-seeder.js';
import {historySeeder} from '../../source/drill/seed/history-seeder.js';

async function listKeys(client: S3Client, bucket: string): Promise<Map<string, string>> {
	const keys = new Map<string, string>();
	let token: string | undefined;
	do {
		// eslint-disable-next-line no-await-in-loop
		const page = await client.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token}));
		for (const item of page.Contents ?? []) {
			keys.set(item.Key!, item.ETag!);
		}

		token = page.NextContinuationToken;
	} while (token);

	return keys;
}

async function reachable(client: S3Client): Promise<boolean> {
	try {
		await client.send(new ListBucketsCommand({}));
		return true;
	} catch {
		return false;
	}
}

async function scale(drill: DrillFixture, replicas: number): Promise<void> {
	drill.world.store.mutate('statefulsets', 'ilum', ilum.statefulSet, object => {
		object.spec.replicas = replicas;
	});
	await waitFor(() => {
		const sts = drill.world.store.get('statefulsets', 'ilum', ilum.statefulSet)!;
		return (sts.status?.readyReplicas ?? 0) === replicas && sts.status?.replicas === replicas;
	}, `the StatefulSet at ${replicas} ready replicas`);
}

test('the provider is unreachable while its StatefulSet has no ready replica, and comes back on the same port', {timeout: 120_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	try {
		const s3 = drill.s3('provider');
		const port = drill.world.providerEndpoint.port;
		assert.equal(await reachable(s3), true);
		await scale(drill, 0);
		await waitFor(async () => !(await reachable(s3)), 'the provider to refuse connections');
		await assert.rejects(fetch(drill.world.provider.endpoint), /fetch failed/);
		await scale(drill, 1);
		await waitFor(async () => reachable(s3), 'the provider to answer again');
		assert.equal(drill.world.providerEndpoint.port, port);
		assert.ok((await listKeys(s3, 'ilum-data')).size > 10);
	} finally {
		await drill.stop();
	}
});

test('a snapshot captures the data, and a claim restored from it serves that data after the swap', {timeout: 120_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store} = drill.world;
	try {
		const s3 = drill.s3('provider');
		await s3.send(new PutObjectCommand({Bucket: 'ilum-files', Key: 'drill/before.txt', Body: 'kept', ContentType: 'text/plain', Metadata: {who: 'test'}}));
		store.create('volumesnapshots', {
			apiVersion: 'snapshot.storage.k8s.io/v1',
			kind: 'VolumeSnapshot',
			metadata: {name: 'before-damage', namespace: 'ilum'},
			spec: {volumeSnapshotClassName: ilum.snapshotClass, source: {persistentVolumeClaimName: ilum.claim}},
		});
		await waitFor(() => store.get('volumesnapshots', 'ilum', 'before-damage')?.status?.readyToUse === true, 'the snapshot to be ready');
		const snapshot = store.get('volumesnapshots', 'ilum', 'before-damage')!;
		assert.equal(snapshot.status.restoreSize, '50Gi');
		assert.match(snapshot.status.creationTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
		const content = store.get('volumesnapshotcontents', undefined, snapshot.status.boundVolumeSnapshotContentName)!;
		assert.equal(content.spec.deletionPolicy, 'Retain');
		assert.equal(content.status.readyToUse, true);

		// The damage, after the snapshot.
		const before = await listKeys(s3, 'ilum-data');
		for (const key of [...before.keys()].slice(0, 25)) {
			// eslint-disable-next-line no-await-in-loop
			await s3.send(new DeleteObjectCommand({Bucket: 'ilum-data', Key: key}));
		}

		await s3.send(new PutObjectCommand({Bucket: 'ilum-files', Key: 'drill/after.txt', Body: 'written after the snapshot'}));
		assert.equal((await listKeys(s3, 'ilum-data')).size, before.size - 25);

		// The swap: scale to 0, keep the old volume, claim again from the snapshot, scale to 1.
		await scale(drill, 0);
		const oldVolume = store.get('persistentvolumeclaims', 'ilum', ilum.claim)!.spec.volumeName;
		store.mutate('persistentvolumes', undefined, oldVolume, object => {
			object.spec.persistentVolumeReclaimPolicy = 'Retain';
		});
		store.delete('persistentvolumeclaims', 'ilum', ilum.claim);
		await waitFor(() => !store.get('persistentvolumeclaims', 'ilum', ilum.claim), 'the claim to go');
		await waitFor(() => store.get('persistentvolumes', undefined, oldVolume)?.status?.phase === 'Released', 'the old volume to be Released');
		store.create('persistentvolumeclaims', {
			apiVersion: 'v1',
			kind: 'PersistentVolumeClaim',
			metadata: {name: ilum.claim, namespace: 'ilum', labels: {...ilum.providerLabel}},
			spec: {accessModes: ['ReadWriteOnce'], storageClassName: ilum.storageClass, resources: {requests: {storage: '50Gi'}}, dataSource: {apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: 'before-damage'}},
		});
		// WaitForFirstConsumer: nothing is provisioned before the pod exists.
		await new Promise(resolve => {
			setTimeout(resolve, 300);
		});
		assert.equal(store.get('persistentvolumeclaims', 'ilum', ilum.claim)!.status.phase, 'Pending');
		await scale(drill, 1);
		await waitFor(async () => reachable(s3), 'the provider to answer');
		const restored = await listKeys(s3, 'ilum-data');
		assert.deepEqual(restored, before);
		const kept = await s3.send(new GetObjectCommand({Bucket: 'ilum-files', Key: 'drill/before.txt'}));
		assert.equal(await kept.Body!.transformToString(), 'kept');
		assert.equal(kept.ContentType, 'text/plain');
		assert.deepEqual(kept.Metadata, {who: 'test'});
		await assert.rejects(s3.send(new HeadObjectCommand({Bucket: 'ilum-files', Key: 'drill/after.txt'})), /NotFound/);
		assert.notEqual(store.get('persistentvolumeclaims', 'ilum', ilum.claim)!.spec.volumeName, oldVolume);
		assert.equal(store.get('persistentvolumes', undefined, oldVolume)!.status.phase, 'Released');
	} finally {
		await drill.stop();
	}
});

test('the seeded snapshots hold the data as it was each hour, and the newest matches the provider but for what came after', {timeout: 60_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store, data} = drill.world;
	try {
		const snapshots = store.list('volumesnapshots', 'ilum').items.sort((a, b) => a.status.creationTime.localeCompare(b.status.creationTime));
		assert.equal(snapshots.length, 24);
		const times = snapshots.map(snapshot => Date.parse(snapshot.status.creationTime));
		for (let index = 1; index < times.length; index++) {
			assert.equal(times[index]! - times[index - 1]!, 3_600_000);
		}

		assert.ok(snapshots.every(snapshot => snapshot.status.readyToUse === true));
		const dataOf = (snapshot: typeof snapshots[number]) => data.snapshots.get(store.get('volumesnapshotcontents', undefined, snapshot.status.boundVolumeSnapshotContentName)!.status.snapshotHandle)!;
		const oldest = JSON.stringify(dataOf(snapshots[0]!).fingerprint());
		const newest = JSON.stringify(dataOf(snapshots.at(-1)!).fingerprint());
		const live = JSON.stringify(drill.world.providerEndpoint.volume!.fingerprint());
		assert.notEqual(oldest, newest);
		assert.notEqual(newest, live);
		// The last mirror run and the newest snapshot saw the same data; the provider moved on since.
		assert.equal(JSON.stringify(drill.world.backupVolume.fingerprint()), newest);
	} finally {
		await drill.stop();
	}
});

test('the backup Job mirrors with --preserve --remove: new and changed objects copied with metadata, deletions propagated', {timeout: 180_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store} = drill.world;
	try {
		const provider = drill.s3('provider');
		const backup = drill.s3('backup');
		const victim = [...(await listKeys(provider, 'ilum-kestra')).keys()][0]!;
		assert.ok((await listKeys(backup, 'ilum-kestra')).has(victim));
		await provider.send(new DeleteObjectCommand({Bucket: 'ilum-kestra', Key: victim}));
		await provider.send(new PutObjectCommand({Bucket: 'ilum-data', Key: 'exports/new/report.csv', Body: 'a,b\n1,2\n', ContentType: 'text/csv', CacheControl: 'no-store', Metadata: {owner: 'drill'}}));
		const large = Buffer.alloc(9 * 1024 * 1024 + 5, 7);
		await provider.send(new PutObjectCommand({Bucket: 'ilum-files', Key: 'drill/changed.bin', Body: Buffer.from('v1')}));

		const cronJob = store.get('cronjobs', 'ilum', ilum.backupCronJob)!;
		const template = structuredClone(cronJob.spec.jobTemplate);
		store.create('jobs', {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'manual-mirror', namespace: 'ilum', annotations: {'cronjob.kubernetes.io/instantiate': 'manual'}, ownerReferences: [{apiVersion: 'batch/v1', kind: 'CronJob', name: cronJob.metadata.name, uid: cronJob.metadata.uid, controller: true}]}, spec: template.spec});
		const complete = (name: string) => (store.get('jobs', 'ilum', name)?.status?.conditions ?? []).some((condition: any) => condition.type === 'Complete' && condition.status === 'True');
		await waitFor(() => complete('manual-mirror'), 'the mirror job to complete', 120_000);

		assert.equal((await listKeys(backup, 'ilum-kestra')).has(victim), false);
		const copied = await backup.send(new GetObjectCommand({Bucket: 'ilum-data', Key: 'exports/new/report.csv'}));
		assert.equal(await copied.Body!.transformToString(), 'a,b\n1,2\n');
		assert.equal(copied.ContentType, 'text/csv');
		assert.equal(copied.CacheControl, 'no-store');
		assert.deepEqual(copied.Metadata, {owner: 'drill'});

		// A changed object and a multipart-sized one on the next run.
		await provider.send(new PutObjectCommand({Bucket: 'ilum-files', Key: 'drill/changed.bin', Body: Buffer.from('version two')}));
		const {Upload} = await import('@aws-sdk/lib-storage');
		await new Upload({client: provider, params: {Bucket: 'ilum-files', Key: 'drill/large.bin', Body: large}, partSize: 8 * 1024 * 1024}).done();
		store.create('jobs', {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'manual-mirror-2', namespace: 'ilum'}, spec: structuredClone(template.spec)});
		await waitFor(() => complete('manual-mirror-2'), 'the second mirror job to complete', 120_000);
		const changed = await backup.send(new GetObjectCommand({Bucket: 'ilum-files', Key: 'drill/changed.bin'}));
		assert.equal(await changed.Body!.transformToString(), 'version two');
		const sourceHead = await provider.send(new HeadObjectCommand({Bucket: 'ilum-files', Key: 'drill/large.bin'}));
		const targetHead = await backup.send(new HeadObjectCommand({Bucket: 'ilum-files', Key: 'drill/large.bin'}));
		assert.equal(targetHead.ContentLength, large.length);
		assert.equal(targetHead.ETag, sourceHead.ETag);
		assert.deepEqual(await listKeys(backup, 'ilum-data'), await listKeys(provider, 'ilum-data'));
		assert.ok((drill.world.data.podLogs.get(`ilum/${store.list('pods', 'ilum').items.find(pod => pod.metadata.name.startsWith('manual-mirror-2-'))!.metadata.name}`) ?? []).some(line => line.startsWith('Total:')));
	} finally {
		await drill.stop();
	}
});

test('the backup Job fails while the provider is down, and the CronJob forbids a concurrent run', {timeout: 120_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store, clock} = drill.world;
	try {
		await scale(drill, 0);
		const cronJob = store.get('cronjobs', 'ilum', ilum.backupCronJob)!;
		store.mutate('cronjobs', 'ilum', ilum.backupCronJob, object => {
			object.spec.jobTemplate.spec.backoffLimit = 0;
		});
		// The next top of the hour.
		const next = (Math.floor(clock.now() / 3_600_000) + 1) * 3_600_000;
		clock.advance(next - clock.now() + 1000);
		const jobName = `${ilum.backupCronJob}-${Math.floor(next / 60_000)}`;
		await waitFor(() => store.get('jobs', 'ilum', jobName), 'the scheduled job');
		assert.equal(store.get('cronjobs', 'ilum', ilum.backupCronJob)!.status.lastScheduleTime, clock.iso(next));
		await waitFor(() => (store.get('jobs', 'ilum', jobName)?.status?.conditions ?? []).some((condition: any) => condition.type === 'Failed' && condition.status === 'True'), 'the job to fail');
		const pod = store.list('pods', 'ilum').items.find(item => item.metadata.name.startsWith(`${jobName}-`))!;
		assert.equal(pod.status.phase, 'Failed');
		assert.ok(drill.world.data.podLogs.get(`ilum/${pod.metadata.name}`)!.some(line => line.includes('connection refused')));
		assert.equal(store.get('cronjobs', 'ilum', ilum.backupCronJob)!.status.lastSuccessfulTime, cronJob.status.lastSuccessfulTime);

		// Forbid: while a job of the CronJob is still active, the next time passes without a new one.
		const current = store.get('cronjobs', 'ilum', ilum.backupCronJob)!;
		store.create('jobs', {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'held', namespace: 'ilum', annotations: {'cronjob.kubernetes.io/instantiate': 'manual'}, ownerReferences: [{apiVersion: 'batch/v1', kind: 'CronJob', name: current.metadata.name, uid: current.metadata.uid, controller: true}]}, spec: {...structuredClone(current.spec.jobTemplate.spec), suspend: true}});
		await waitFor(() => (store.get('cronjobs', 'ilum', ilum.backupCronJob)!.status.active ?? []).some((reference: any) => reference.name === 'held'), 'the held job to be listed as active');
		clock.advance(3_600_000);
		await waitFor(() => store.list('events', 'ilum').items.some(event => event['reason'] === 'JobAlreadyActive'), 'the JobAlreadyActive event');
		assert.equal(store.get('jobs', 'ilum', `${ilum.backupCronJob}-${Math.floor((next + 3_600_000) / 60_000)}`), undefined);
		store.delete('jobs', 'ilum', 'held');

		// Suspended: the next hour passes without a job.
		store.mutate('cronjobs', 'ilum', ilum.backupCronJob, object => {
			object.spec.suspend = true;
		});
		await drill.world.idle();
		clock.advance(3_600_000);
		await drill.world.idle();
		await new Promise(resolve => {
			setTimeout(resolve, 200);
		});
		assert.equal(store.get('jobs', 'ilum', `${ilum.backupCronJob}-${Math.floor((next + 7_200_000) / 60_000)}`), undefined);
		assert.equal(store.list('jobs', 'ilum').items.filter(job => job.metadata.name.startsWith(`${ilum.backupCronJob}-`) && Date.parse(job.metadata.creationTimestamp) > next + 60_000).length, 0);
	} finally {
		await drill.stop();
	}
});

test('the bucket-init Job recreates missing default buckets empty, as it would over a restore', {timeout: 120_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	try {
		const provider = drill.s3('provider');
		const volume = drill.world.providerEndpoint.volume!;
		volume.store.emptyBucket('ilum-langfuse');
		volume.store.deleteBucket('ilum-langfuse');
		const {bucketInitJob} = await import('../../source/drill/seed/ilum.js');
		drill.world.store.create('jobs', bucketInitJob('init-again'));
		await waitFor(() => (drill.world.store.get('jobs', 'ilum', 'init-again')?.status?.conditions ?? []).some((condition: any) => condition.type === 'Complete'), 'the init job to complete');
		const buckets = await provider.send(new ListBucketsCommand({}));
		assert.ok(buckets.Buckets!.some(bucket => bucket.Name === 'ilum-langfuse'));
		assert.equal((await listKeys(provider, 'ilum-langfuse')).size, 0);
		assert.ok((await listKeys(provider, 'ilum-data')).size > 0);
	} finally {
		await drill.stop();
	}
});

test('the same seed gives the same world; another seed another', {timeout: 120_000}, async () => {
	const now = Date.parse('2026-11-20T10:17:00Z');
	const fingerprint = async (seed: number) => {
		// The core seeders (cluster, objects, history); table seeders answer for their own determinism.
		const world = await startWorld({seed, objects: 200, now, seeders: [clusterSeeder, objectsSeeder, historySeeder]});
		try {
			return {
				data: world.providerEndpoint.volume!.fingerprint(),
				backup: world.backupVolume.fingerprint(),
				snapshots: world.store.list('volumesnapshots', 'ilum').items.map(item => item.metadata.name),
				credentials: [world.provider.accessKeyId, world.backup.accessKeyId],
			};
		} finally {
			await world.stop();
		}
	};

	const first = await fingerprint(7);
	const second = await fingerprint(7);
	const other = await fingerprint(8);
	assert.deepEqual(second, first);
	assert.notDeepEqual(other.data, first.data);
	assert.equal(first.snapshots[0], 'ilum-objectstorage-hourly-20261119-1102');
});

test('deleting a snapshot keeps its content and data under Retain, removes both under Delete', {timeout: 60_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store, data} = drill.world;
	try {
		store.create('volumesnapshotclasses', {apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshotClass', metadata: {name: 'throwaway'}, driver: ilum.csiDriver, deletionPolicy: 'Delete'});
		for (const [name, klass] of [['kept', ilum.snapshotClass], ['dropped', 'throwaway']] as const) {
			store.create('volumesnapshots', {apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: {name, namespace: 'ilum'}, spec: {volumeSnapshotClassName: klass, source: {persistentVolumeClaimName: ilum.claim}}});
		}

		await waitFor(() => ['kept', 'dropped'].every(name => store.get('volumesnapshots', 'ilum', name)?.status?.readyToUse === true), 'both snapshots ready');
		const contentOf = (name: string) => store.get('volumesnapshots', 'ilum', name)!.status.boundVolumeSnapshotContentName as string;
		const kept = contentOf('kept');
		const dropped = contentOf('dropped');
		const droppedHandle = store.get('volumesnapshotcontents', undefined, dropped)!.status.snapshotHandle;
		const keptHandle = store.get('volumesnapshotcontents', undefined, kept)!.status.snapshotHandle;
		store.delete('volumesnapshots', 'ilum', 'kept');
		store.delete('volumesnapshots', 'ilum', 'dropped');
		await waitFor(() => !store.get('volumesnapshots', 'ilum', 'kept') && !store.get('volumesnapshots', 'ilum', 'dropped'), 'both snapshots gone');
		await waitFor(() => !store.get('volumesnapshotcontents', undefined, dropped), 'the Delete content gone');
		assert.equal(data.snapshots.has(droppedHandle), false);
		assert.ok(store.get('volumesnapshotcontents', undefined, kept));
		assert.ok(data.snapshots.has(keptHandle));
	} finally {
		await drill.stop();
	}
});

test('a faster clock runs the hourly backup sooner', {timeout: 120_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders, clockSpeed: 900});
	const {store, clock} = drill.world;
	try {
		const next = (Math.floor(clock.now() / 3_600_000) + 1) * 3_600_000;
		const name = `${ilum.backupCronJob}-${Math.floor(next / 60_000)}`;
		// At most an hour of drill time: four real seconds at 900x.
		await waitFor(() => (store.get('jobs', 'ilum', name)?.status?.conditions ?? []).some((condition: any) => condition.type === 'Complete' && condition.status === 'True'), 'the next hourly backup to complete', 60_000);
		assert.equal(store.get('cronjobs', 'ilum', ilum.backupCronJob)!.status.lastScheduleTime, clock.iso(next));
	} finally {
		await drill.stop();
	}
});

test('reclaim policy Delete removes the volume and its disk with the claim; a claim smaller than the snapshot is refused', {timeout: 120_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store, data} = drill.world;
	try {
		await scale(drill, 0);
		const pvName = store.get('persistentvolumeclaims', 'ilum', ilum.claim)!.spec.volumeName;
		const handle = store.get('persistentvolumes', undefined, pvName)!.spec.csi.volumeHandle;
		assert.equal(store.get('persistentvolumes', undefined, pvName)!.spec.persistentVolumeReclaimPolicy, 'Delete');
		store.delete('persistentvolumeclaims', 'ilum', ilum.claim);
		await waitFor(() => !store.get('persistentvolumes', undefined, pvName), 'the volume to be deleted with its claim');
		assert.equal(data.volumes.has(handle), false);

		const snapshot = store.list('volumesnapshots', 'ilum').items[0]!.metadata.name;
		store.create('persistentvolumeclaims', {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: 'too-small', namespace: 'ilum'}, spec: {accessModes: ['ReadWriteOnce'], storageClassName: ilum.storageClass, resources: {requests: {storage: '10Gi'}}, dataSource: {apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: snapshot}}});
		store.create('pods', {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'consumer', namespace: 'ilum'}, spec: {containers: [{name: 'c', image: 'busybox:1.36'}], volumes: [{name: 'd', persistentVolumeClaim: {claimName: 'too-small'}}]}});
		const claim = store.get('persistentvolumeclaims', 'ilum', 'too-small')!;
		const failure = await waitFor(() => store.list('events', 'ilum').items.find(event => (event['involvedObject'] as {uid?: string} | undefined)?.uid === claim.metadata.uid && event['reason'] === 'ProvisioningFailed'), 'the ProvisioningFailed event');
		assert.match(String(failure['message']), /requested volume size 10737418240 is less than the size 53687091200 for the source snapshot/);
		assert.equal(store.get('persistentvolumeclaims', 'ilum', 'too-small')!.status.phase, 'Pending');
	} finally {
		await drill.stop();
	}
});

test('a claim deleted and created again at once still releases the old volume', {timeout: 120_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store} = drill.world;
	try {
		await scale(drill, 0);
		const old = store.get('persistentvolumeclaims', 'ilum', ilum.claim)!;
		store.mutate('persistentvolumes', undefined, old.spec.volumeName, object => {
			object.spec.persistentVolumeReclaimPolicy = 'Retain';
		});
		store.mutate('persistentvolumeclaims', 'ilum', ilum.claim, object => {
			object.metadata.finalizers = [];
		}, {subresource: 'any'});
		await drill.world.idle();
		store.delete('persistentvolumeclaims', 'ilum', ilum.claim);
		store.create('persistentvolumeclaims', {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: ilum.claim, namespace: 'ilum'}, spec: {accessModes: ['ReadWriteOnce'], storageClassName: ilum.storageClass, resources: {requests: {storage: ilum.volumeSize}}}});
		await waitFor(() => store.get('persistentvolumes', undefined, old.spec.volumeName)?.status?.phase === 'Released', 'the old volume to be Released');
	} finally {
		await drill.stop();
	}
});

test('a released volume with its claimRef cleared becomes Available and binds to a claim naming it', {timeout: 120_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store} = drill.world;
	try {
		const provider = drill.s3('provider');
		const before = await listKeys(provider, 'ilum-files');
		await scale(drill, 0);
		const volume = store.get('persistentvolumeclaims', 'ilum', ilum.claim)!.spec.volumeName;
		store.mutate('persistentvolumes', undefined, volume, object => {
			object.spec.persistentVolumeReclaimPolicy = 'Retain';
		});
		store.delete('persistentvolumeclaims', 'ilum', ilum.claim);
		await waitFor(() => store.get('persistentvolumes', undefined, volume)?.status?.phase === 'Released', 'Released');
		store.mutate('persistentvolumes', undefined, volume, object => {
			delete object.spec.claimRef;
		});
		await waitFor(() => store.get('persistentvolumes', undefined, volume)?.status?.phase === 'Available', 'Available');
		store.create('persistentvolumeclaims', {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name: ilum.claim, namespace: 'ilum'}, spec: {accessModes: ['ReadWriteOnce'], storageClassName: ilum.storageClass, volumeName: volume, resources: {requests: {storage: ilum.volumeSize}}}});
		await waitFor(() => store.get('persistentvolumeclaims', 'ilum', ilum.claim)?.status?.phase === 'Bound', 'the claim bound to the named volume');
		assert.equal(store.get('persistentvolumes', undefined, volume)!.spec.claimRef.name, ilum.claim);
		await scale(drill, 1);
		await waitFor(async () => reachable(provider), 'the provider');
		assert.deepEqual(await listKeys(provider, 'ilum-files'), before);
	} finally {
		await drill.stop();
	}
});
