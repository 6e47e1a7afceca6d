import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';
import {ApiException, AppsV1Api, AuthorizationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, Watch, makeInformer, setHeaderOptions, type V1PersistentVolumeClaim} from '@kubernetes/client-node';
import {type TestApi, startTestApi, waitFor} from './helpers.js';

let t: TestApi;
let kc: KubeConfig;

before(async () => {
	t = await startTestApi();
	kc = new KubeConfig();
	kc.loadFromFile(t.kubeconfig);
});

after(async () => {
	await t.close();
});

test('CoreV1Api lists with a label selector, reads, creates, and fails with ApiException codes', async () => {
	const core = kc.makeApiClient(CoreV1Api);
	const claims = await core.listNamespacedPersistentVolumeClaim({namespace: 'ilum', labelSelector: 'app.kubernetes.io/name=rustfs'});
	assert.deepEqual(claims.items.map(c => c.metadata?.name), ['data-ilum-objectstorage-0']);
	assert.match(claims.metadata?.resourceVersion ?? '', /^\d+$/);
	const secret = await core.createNamespacedSecret({namespace: 'ilum', body: {metadata: {name: 'ilum-objectstorage-credentials'}, stringData: {'access-key': 'minio', 'secret-key': 'minio123'}}});
	assert.equal(secret.data?.['access-key'], Buffer.from('minio').toString('base64'));
	await assert.rejects(core.readNamespacedPersistentVolumeClaim({namespace: 'ilum', name: 'nope'}), (error: unknown) => {
		assert.ok(error instanceof ApiException);
		assert.equal(error.code, 404);
		assert.equal(JSON.parse(String(error.body)).reason, 'NotFound');
		return true;
	});
	await assert.rejects(core.createNamespacedSecret({namespace: 'ilum', body: {metadata: {name: 'ilum-objectstorage-credentials'}}}), (error: unknown) => error instanceof ApiException && error.code === 409);
	const stale = await core.readNamespacedPersistentVolumeClaim({namespace: 'ilum', name: 'data-postgres-0'});
	await core.replaceNamespacedPersistentVolumeClaim({namespace: 'ilum', name: 'data-postgres-0', body: {...stale, metadata: {...stale.metadata, labels: {...stale.metadata?.labels, touched: 'yes'}}}});
	await assert.rejects(core.replaceNamespacedPersistentVolumeClaim({namespace: 'ilum', name: 'data-postgres-0', body: stale}), (error: unknown) => error instanceof ApiException && error.code === 409 && JSON.parse(String(error.body)).reason === 'Conflict');
});

test('AppsV1Api reads and patches the scale subresource', async () => {
	const apps = kc.makeApiClient(AppsV1Api);
	const scale = await apps.readNamespacedStatefulSetScale({namespace: 'ilum', name: 'ilum-objectstorage'});
	assert.equal(scale.kind, 'Scale');
	assert.equal(scale.spec?.replicas, 1);
	assert.equal(scale.status?.selector, 'app=rustfs');
	const patched = await apps.patchNamespacedStatefulSetScale({namespace: 'ilum', name: 'ilum-objectstorage', body: {spec: {replicas: 0}}}, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
	assert.equal(patched.spec?.replicas, 0);
	assert.equal(t.store.get('statefulsets', 'ilum', 'ilum-objectstorage')!.spec.replicas, 0);
	const sts = await apps.readNamespacedStatefulSet({namespace: 'ilum', name: 'ilum-objectstorage'});
	assert.equal(sts.metadata?.generation, 2);
});

test('CustomObjectsApi creates a VolumeSnapshot and merge-patches it; a strategic patch is 415', async () => {
	const custom = kc.makeApiClient(CustomObjectsApi);
	const group = 'snapshot.storage.k8s.io';
	await custom.createNamespacedCustomObject({group, version: 'v1', namespace: 'ilum', plural: 'volumesnapshots', body: {apiVersion: `${group}/v1`, kind: 'VolumeSnapshot', metadata: {name: 'from-client'}, spec: {volumeSnapshotClassName: 'ilum-objectstorage-snapshots', source: {persistentVolumeClaimName: 'data-ilum-objectstorage-0'}}}});
	const patched = await custom.patchNamespacedCustomObject({group, version: 'v1', namespace: 'ilum', plural: 'volumesnapshots', name: 'from-client', body: {metadata: {labels: {kept: 'true'}}}}, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
	assert.equal(patched.metadata.labels.kept, 'true');
	await assert.rejects(custom.patchNamespacedCustomObject({group, version: 'v1', namespace: 'ilum', plural: 'volumesnapshots', name: 'from-client', body: {metadata: {labels: {a: 'b'}}}}, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)), (error: unknown) => error instanceof ApiException && error.code === 415);
	const list = await custom.listNamespacedCustomObject({group, version: 'v1', namespace: 'ilum', plural: 'volumesnapshots'});
	assert.equal(list.kind, 'VolumeSnapshotList');
	assert.deepEqual(list.items.map((i: any) => i.metadata.name), ['from-client']);
});

test('a Watch receives ADDED, MODIFIED and DELETED; an informer keeps its cache in step', async () => {
	const events: string[] = [];
	const watch = new Watch(kc);
	const request = await watch.watch('/apis/snapshot.storage.k8s.io/v1/namespaces/ilum/volumesnapshots', {allowWatchBookmarks: true}, (type, object) => {
		events.push(`${type} ${object.metadata?.name ?? ''}`);
	}, () => {});
	try {
		await waitFor(() => events.includes('ADDED from-client'), 'the initial ADDED event');
		t.store.mutate('volumesnapshots', 'ilum', 'from-client', o => {
			o.status = {readyToUse: true};
		}, {subresource: 'status'});
		t.store.delete('volumesnapshots', 'ilum', 'from-client');
		await waitFor(() => events.includes('DELETED from-client'), 'the DELETED event');
		assert.deepEqual(events, ['ADDED from-client', 'MODIFIED from-client', 'DELETED from-client']);
	} finally {
		request.abort();
	}

	const core = kc.makeApiClient(CoreV1Api);
	const informer = makeInformer<V1PersistentVolumeClaim>(kc, '/api/v1/namespaces/ilum/persistentvolumeclaims', () => core.listNamespacedPersistentVolumeClaim({namespace: 'ilum'}));
	const seen: string[] = [];
	informer.on('add', claim => seen.push(`add ${claim.metadata?.name}`));
	informer.on('update', claim => seen.push(`update ${claim.metadata?.name} ${claim.status?.phase}`));
	await informer.start();
	try {
		await waitFor(() => informer.list().length === 2, 'the informer cache to fill');
		t.store.mutate('persistentvolumeclaims', 'ilum', 'data-ilum-objectstorage-0', o => {
			o.status = {phase: 'Bound'};
		}, {subresource: 'status'});
		await waitFor(() => seen.includes('update data-ilum-objectstorage-0 Bound'), 'the informer update');
		assert.equal(informer.get('data-ilum-objectstorage-0', 'ilum')?.status?.phase, 'Bound');
	} finally {
		await informer.stop();
	}
});

test('SelfSubjectAccessReview answers per identity (bearer token)', async () => {
	const review = async (config: KubeConfig, verb: string) => {
		const api = config.makeApiClient(AuthorizationV1Api);
		const answer = await api.createSelfSubjectAccessReview({body: {spec: {resourceAttributes: {namespace: 'ilum', verb, group: 'snapshot.storage.k8s.io', resource: 'volumesnapshots'}}}});
		return answer.status?.allowed;
	};

	assert.equal(await review(kc, 'create'), true);
	const viewer = new KubeConfig();
	viewer.loadFromFile(t.kubeconfig);
	viewer.setCurrentContext('drill-viewer');
	assert.equal(await review(viewer, 'create'), false);
	assert.equal(await review(viewer, 'list'), true);
	const core = viewer.makeApiClient(CoreV1Api);
	await assert.rejects(core.deleteNamespacedPersistentVolumeClaim({namespace: 'ilum', name: 'data-postgres-0'}), (error: unknown) => error instanceof ApiException && error.code === 403);
	assert.ok(t.store.get('persistentvolumeclaims', 'ilum', 'data-postgres-0'));
});
