/**
The same world through @kubernetes/client-node, as the console and the restore engine see it.
*/
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch} from '@kubernetes/client-node';
import {coreSeeders, startDrillWorld, waitFor} from '../helpers/drill-world.js';

test('client-node: snapshots, claims, scale, a job from the CronJob, a watch', {timeout: 120_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	try {
		const config = new KubeConfig();
		config.loadFromFile(drill.world.kubeconfigPath);
		const core = config.makeApiClient(CoreV1Api);
		const apps = config.makeApiClient(AppsV1Api);
		const batch = config.makeApiClient(BatchV1Api);
		const custom = config.makeApiClient(CustomObjectsApi);

		const claims = await core.listNamespacedPersistentVolumeClaim({namespace: 'ilum', labelSelector: 'app.kubernetes.io/name=rustfs'});
		assert.deepEqual(claims.items.map(claim => claim.metadata?.name), ['data-ilum-objectstorage-0']);
		assert.equal(claims.items[0]!.status?.phase, 'Bound');

		const snapshots = await custom.listNamespacedCustomObject({group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'ilum', plural: 'volumesnapshots'}) as {items: any[]};
		assert.equal(snapshots.items.length, 24);
		assert.ok(snapshots.items.every(item => item.status.readyToUse === true && item.status.restoreSize === '50Gi'));

		await custom.createNamespacedCustomObject({group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'ilum', plural: 'volumesnapshots', body: {
			apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: {name: 'from-client-node'}, spec: {volumeSnapshotClassName: 'ilum-objectstorage-snapshots', source: {persistentVolumeClaimName: 'data-ilum-objectstorage-0'}},
		}});
		await waitFor(async () => ((await custom.getNamespacedCustomObject({group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'ilum', plural: 'volumesnapshots', name: 'from-client-node'})) as any).status?.readyToUse === true, 'the snapshot to be ready');

		// A snapshot of a claim that does not exist reports the error in its status.
		await custom.createNamespacedCustomObject({group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'ilum', plural: 'volumesnapshots', body: {
			apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: {name: 'no-claim'}, spec: {volumeSnapshotClassName: 'ilum-objectstorage-snapshots', source: {persistentVolumeClaimName: 'nope'}},
		}});
		const failed = await waitFor(async () => ((await custom.getNamespacedCustomObject({group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'ilum', plural: 'volumesnapshots', name: 'no-claim'})) as any).status?.error, 'the snapshot error');
		assert.match(failed.message, /persistentvolumeclaim "nope" not found/);

		// A missing class too.
		await custom.createNamespacedCustomObject({group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'ilum', plural: 'volumesnapshots', body: {
			apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: {name: 'no-class'}, spec: {volumeSnapshotClassName: 'gone', source: {persistentVolumeClaimName: 'data-ilum-objectstorage-0'}},
		}});
		const noClass = await waitFor(async () => ((await custom.getNamespacedCustomObject({group: 'snapshot.storage.k8s.io', version: 'v1', namespace: 'ilum', plural: 'volumesnapshots', name: 'no-class'})) as any).status?.error, 'the class error');
		assert.match(noClass.message, /volumesnapshotclass.snapshot.storage.k8s.io "gone" not found/);

		// Scale through a merge patch, watch the pods go.
		const pods: string[] = [];
		const watch = new Watch(config);
		const request = await watch.watch('/api/v1/namespaces/ilum/pods', {}, (type, object) => {
			pods.push(`${type} ${object.metadata?.name}`);
		}, () => {});
		await apps.patchNamespacedStatefulSetScale({namespace: 'ilum', name: 'ilum-objectstorage', body: {spec: {replicas: 0}}}, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
		await waitFor(() => pods.includes('DELETED ilum-objectstorage-0'), 'the watch to see the pod deleted');
		const sts = await apps.readNamespacedStatefulSet({namespace: 'ilum', name: 'ilum-objectstorage'});
		assert.equal(sts.status?.replicas, 0);
		assert.equal(sts.status?.readyReplicas, undefined);
		request.abort();

		await apps.patchNamespacedStatefulSetScale({namespace: 'ilum', name: 'ilum-objectstorage', body: {spec: {replicas: 1}}}, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
		await waitFor(async () => (await apps.readNamespacedStatefulSet({namespace: 'ilum', name: 'ilum-objectstorage'})).status?.readyReplicas === 1, 'one ready replica');

		// A job from the CronJob's template, owned by it, as kubectl create job --from does.
		const cronJob = await batch.readNamespacedCronJob({namespace: 'ilum', name: 'ilum-objectstorage-backup'});
		await batch.createNamespacedJob({namespace: 'ilum', body: {
			metadata: {name: 'from-client', annotations: {'cronjob.kubernetes.io/instantiate': 'manual'}, ownerReferences: [{apiVersion: 'batch/v1', kind: 'CronJob', name: cronJob.metadata!.name!, uid: cronJob.metadata!.uid!, controller: true}]},
			spec: cronJob.spec!.jobTemplate.spec!,
		}});
		const job = await waitFor(async () => {
			const current = await batch.readNamespacedJob({namespace: 'ilum', name: 'from-client'});
			return current.status?.conditions?.some(condition => condition.type === 'Complete' && condition.status === 'True') ? current : undefined;
		}, 'the job to complete', 90_000);
		assert.equal(job.status?.succeeded, 1);
		assert.ok(job.status?.startTime && job.status.completionTime);
		const after = await batch.readNamespacedCronJob({namespace: 'ilum', name: 'ilum-objectstorage-backup'});
		assert.ok(after.status?.lastSuccessfulTime! > cronJob.status!.lastSuccessfulTime!);

		const events = await core.listNamespacedEvent({namespace: 'ilum', fieldSelector: `involvedObject.name=from-client,involvedObject.kind=Job,involvedObject.uid=${job.metadata!.uid}`});
		assert.deepEqual(events.items.map(event => event.reason).sort(), ['Completed', 'SuccessfulCreate']);
	} finally {
		await drill.stop();
	}
});
