import assert from 'node:assert/strict';
import {test} from 'node:test';
import {ApiError} from '../../../source/drill/kube-api/api-error.js';
import {ObjectStore, type WatchEvent} from '../../../source/drill/kube-api/store.js';

function world(): ObjectStore {
	const store = new ObjectStore();
	store.create('namespaces', {metadata: {name: 'ilum'}});
	return store;
}

function pvc(name: string, labels: Record<string, string> = {}) {
	return {apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name, namespace: 'ilum', labels}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}};
}

function apiError(code: number, reason: string, message?: string) {
	return (error: unknown) => {
		assert.ok(error instanceof ApiError, String(error));
		assert.equal(error.code, code);
		assert.equal(error.reason, reason);
		if (message !== undefined) {
			assert.equal(error.message, message);
		}

		return true;
	};
}

test('create fills metadata, defaults, and refuses duplicates and bad names like the real server', () => {
	const store = world();
	const created = store.create('persistentvolumeclaims', pvc('data-0'));
	assert.match(created.metadata.uid, /^[\da-f-]{36}$/);
	assert.match(created.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
	assert.equal(created.status?.phase, 'Pending');
	assert.throws(() => store.create('persistentvolumeclaims', pvc('data-0')), apiError(409, 'AlreadyExists', 'persistentvolumeclaims "data-0" already exists'));
	assert.throws(() => store.create('persistentvolumeclaims', pvc('Bad_Name')), apiError(422, 'Invalid'));
	assert.throws(() => store.create('persistentvolumeclaims', {...pvc('x'), spec: {}}), (error: unknown) => {
		assert.ok(error instanceof ApiError);
		assert.deepEqual(error.status().details?.causes?.map(c => c.field), ['spec.accessModes', 'spec.resources[storage]']);
		assert.match(error.message, /^PersistentVolumeClaim "x" is invalid: \[spec\.accessModes: Required value/);
		return true;
	});
	assert.throws(() => store.create('persistentvolumeclaims', {...pvc('y'), metadata: {name: 'y', namespace: 'nope'}}), apiError(404, 'NotFound', 'namespaces "nope" not found'));
	assert.throws(() => store.create('persistentvolumeclaims', {...pvc('copied'), metadata: {...pvc('copied').metadata, resourceVersion: '7'}}), apiError(500, '', 'resourceVersion should not be set on objects to be created'));
	const generated = store.create('volumesnapshots', {metadata: {generateName: 'snap-', namespace: 'ilum'}, spec: {source: {persistentVolumeClaimName: 'data-0'}}});
	assert.match(generated.metadata.name, /^snap-[a-z\d]{5}$/);
	assert.equal(generated.metadata.generation, 1);
	assert.equal(generated.apiVersion, 'snapshot.storage.k8s.io/v1');
});

test('update enforces optimistic concurrency and the status subresource', () => {
	const store = world();
	const created = store.create('volumesnapshots', {metadata: {name: 's', namespace: 'ilum'}, spec: {source: {persistentVolumeClaimName: 'p'}}});
	const stale = structuredClone(created);
	const updated = store.mutate('volumesnapshots', 'ilum', 's', o => {
		o.metadata.labels = {a: 'b'};
		o.status = {readyToUse: true};
	});
	assert.notEqual(updated.metadata.resourceVersion, created.metadata.resourceVersion);
	assert.equal(updated.status, undefined, 'the main resource ignores status');
	assert.throws(() => store.update('volumesnapshots', stale), apiError(409, 'Conflict', 'Operation cannot be fulfilled on volumesnapshots.snapshot.storage.k8s.io "s": the object has been modified; please apply your changes to the latest version and try again'));
	const ready = store.mutate('volumesnapshots', 'ilum', 's', o => {
		o.status = {readyToUse: true};
		o.metadata.labels = {ignored: 'yes'};
	}, {subresource: 'status'});
	assert.deepEqual(ready.status, {readyToUse: true});
	assert.deepEqual(ready.metadata.labels, {a: 'b'});
	assert.equal(ready.metadata.generation, 1);
	const same = store.update('volumesnapshots', ready);
	assert.equal(same.metadata.resourceVersion, ready.metadata.resourceVersion, 'a no-op update keeps the resourceVersion');
	const reordered = store.update('volumesnapshots', {spec: ready.spec, metadata: {...ready.metadata, labels: {a: 'b'}}, kind: ready.kind, apiVersion: ready.apiVersion});
	assert.equal(reordered.metadata.resourceVersion, ready.metadata.resourceVersion, 'key order does not make a change');
	assert.throws(() => store.mutate('volumesnapshots', 'ilum', 's', o => {
		o.spec.source.persistentVolumeClaimName = 'other';
	}), apiError(422, 'Invalid'));
});

test('list filters by label and field selectors and pages with limit/continue', () => {
	const store = world();
	for (const name of ['a', 'b', 'c', 'd']) {
		store.create('persistentvolumeclaims', pvc(name, {app: name === 'd' ? 'other' : 'rustfs', tier: name}));
	}

	const names = (result: {items: Array<{metadata: {name: string}}>}) => result.items.map(o => o.metadata.name);
	assert.deepEqual(names(store.list('persistentvolumeclaims', 'ilum', {labelSelector: 'app=rustfs'})), ['a', 'b', 'c']);
	assert.deepEqual(names(store.list('persistentvolumeclaims', 'ilum', {labelSelector: 'app!=rustfs'})), ['d']);
	assert.deepEqual(names(store.list('persistentvolumeclaims', undefined, {labelSelector: 'tier in (a, c),app'})), ['a', 'c']);
	assert.deepEqual(names(store.list('persistentvolumeclaims', 'ilum', {labelSelector: 'tier notin (a),!missing'})), ['b', 'c', 'd']);
	assert.deepEqual(names(store.list('persistentvolumeclaims', 'ilum', {fieldSelector: 'metadata.name=b'})), ['b']);
	assert.throws(() => store.list('persistentvolumeclaims', 'ilum', {fieldSelector: 'spec.foo=b'}), apiError(400, 'BadRequest', 'field label not supported: spec.foo'));
	assert.throws(() => store.list('persistentvolumeclaims', 'ilum', {labelSelector: 'a in (b'}), apiError(400, 'BadRequest'));
	const first = store.list('persistentvolumeclaims', 'ilum', {limit: 3});
	assert.deepEqual(names(first), ['a', 'b', 'c']);
	assert.equal(first.remainingItemCount, 1);
	assert.deepEqual(names(store.list('persistentvolumeclaims', 'ilum', {limit: 3, continue: first.continue})), ['d']);
	assert.equal(store.list('persistentvolumeclaims', 'elsewhere').items.length, 0);
});

test('watch replays newer events, follows changes, and expires when too old', () => {
	const store = new ObjectStore({historyLimit: 3});
	store.create('namespaces', {metadata: {name: 'ilum'}});
	const from = store.resourceVersion;
	store.create('configmaps', {metadata: {name: 'one', namespace: 'ilum'}, data: {a: '1'}});
	const seen: WatchEvent[] = [];
	const stop = store.watch('configmaps', 'ilum', from, event => seen.push(event));
	store.mutate('configmaps', 'ilum', 'one', o => {
		o.data = {a: '2'};
	});
	store.delete('configmaps', 'ilum', 'one');
	stop();
	store.create('configmaps', {metadata: {name: 'two', namespace: 'ilum'}});
	assert.deepEqual(seen.map(e => `${e.type} ${e.object.metadata.name}`), ['ADDED one', 'MODIFIED one', 'DELETED one']);
	assert.throws(() => store.watch('configmaps', 'ilum', '1', () => {}), apiError(410, 'Expired'));
});

test('finalizers delay deletion, and the garbage collector removes orphaned dependents', async () => {
	const store = world();
	const job = store.create('jobs', {metadata: {name: 'j', namespace: 'ilum'}, spec: {template: {spec: {restartPolicy: 'Never', containers: [{name: 'c', image: 'busybox'}]}}}});
	store.create('pods', {metadata: {name: 'j-1', namespace: 'ilum', ownerReferences: [{apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid: job.metadata.uid, controller: true}]}, spec: {containers: [{name: 'c', image: 'busybox'}]}});
	store.create('configmaps', {metadata: {name: 'kept', namespace: 'ilum', finalizers: ['example.com/keep']}});
	const marked = store.delete('configmaps', 'ilum', 'kept');
	assert.ok(marked.metadata.deletionTimestamp);
	assert.ok(store.get('configmaps', 'ilum', 'kept'));
	store.mutate('configmaps', 'ilum', 'kept', o => {
		o.metadata.finalizers = [];
	});
	assert.equal(store.get('configmaps', 'ilum', 'kept'), undefined);
	store.delete('jobs', 'ilum', 'j');
	const deadline = Date.now() + 5000;
	while (store.get('pods', 'ilum', 'j-1') && Date.now() < deadline) {
		await new Promise(resolve => setImmediate(resolve));
	}

	assert.equal(store.get('pods', 'ilum', 'j-1'), undefined);
});

test('the store survives a round trip through JSON and refuses malformed objects without damage', () => {
	const store = world();
	store.create('secrets', {metadata: {name: 's', namespace: 'ilum'}, stringData: {key: 'value'}});
	assert.throws(() => store.create('configmaps', {metadata: {name: 'bad', namespace: 'ilum', labels: 5 as any}}), apiError(400, 'BadRequest'));
	assert.throws(() => store.create('configmaps', {metadata: 'x' as any}), apiError(400, 'BadRequest'));
	const copy = ObjectStore.fromJSON(JSON.parse(JSON.stringify(store)));
	assert.equal(copy.get('secrets', 'ilum', 's')?.data.key, Buffer.from('value').toString('base64'));
	assert.equal(copy.resourceVersion, store.resourceVersion);
	assert.equal(copy.get('configmaps', 'ilum', 'bad'), undefined);
	copy.create('configmaps', {metadata: {name: 'after', namespace: 'ilum'}});
	assert.ok(Number(copy.get('configmaps', 'ilum', 'after')!.metadata.resourceVersion) > Number(store.resourceVersion));
});

test('deleting a namespace marks it Terminating, deletes what it holds, then goes; new content is refused meanwhile', async () => {
	const store = world();
	store.create('persistentvolumeclaims', pvc('a'));
	store.create('configmaps', {metadata: {name: 'kept', namespace: 'ilum', finalizers: ['example.com/keep']}});
	const seen: string[] = [];
	store.onChange((resource, event) => seen.push(`${event.type} ${resource}/${event.object.metadata.name}`));
	const terminating = store.delete('namespaces', undefined, 'ilum');
	assert.equal(terminating.status?.phase, 'Terminating');
	assert.throws(() => store.create('configmaps', {metadata: {name: 'late', namespace: 'ilum'}}), apiError(403, 'Forbidden'));
	const deadline = Date.now() + 5000;
	while (store.get('namespaces', undefined, 'ilum') && Date.now() < deadline) {
		await new Promise(resolve => setImmediate(resolve));
	}

	assert.equal(store.get('namespaces', undefined, 'ilum'), undefined);
	assert.equal(store.list('persistentvolumeclaims').items.length, 0);
	assert.equal(store.list('configmaps').items.length, 0);
	assert.deepEqual(seen.filter(line => line.startsWith('DELETED')).sort(), ['DELETED configmaps/kept', 'DELETED namespaces/ilum', 'DELETED persistentvolumeclaims/a']);
});

test('orphan propagation keeps dependents and drops their owner reference', async () => {
	const store = world();
	const owner = store.create('configmaps', {metadata: {name: 'owner', namespace: 'ilum'}});
	store.create('configmaps', {metadata: {name: 'child', namespace: 'ilum', ownerReferences: [{apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid}]}});
	store.delete('configmaps', 'ilum', 'owner', {propagationPolicy: 'Orphan'});
	await new Promise(resolve => setImmediate(resolve));
	const child = store.get('configmaps', 'ilum', 'child');
	assert.ok(child);
	assert.equal(child.metadata.ownerReferences, undefined);
});
