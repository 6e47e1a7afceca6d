import assert from 'node:assert/strict';
import {test} from 'node:test';
import {PatchError, builtinListStrategy, jsonPatch, mergePatch, strategicMergePatch} from '../../../source/drill/kube-api/patch.js';

const pod = {
	metadata: {name: 'p', labels: {a: '1', b: '2'}, finalizers: ['x']},
	spec: {
		containers: [
			{name: 'app', image: 'app:1', env: [{name: 'A', value: '1'}, {name: 'B', value: '2'}], ports: [{containerPort: 80, protocol: 'TCP'}]},
			{name: 'sidecar', image: 'side:1'},
		],
		volumes: [{name: 'data', persistentVolumeClaim: {claimName: 'c'}}, {name: 'tmp', emptyDir: {}}],
		tolerations: [{key: 'a'}],
	},
};

const strategic = (target: unknown, patch: unknown, kind = 'Pod') => strategicMergePatch(target, patch, path => builtinListStrategy(kind, path)) as any;

test('strategic merge patch merges lists by their keys and replaces the others', () => {
	const result = strategic(pod, {spec: {containers: [{name: 'app', image: 'app:2', env: [{name: 'B', value: 'two'}, {name: 'C', value: '3'}]}], tolerations: [{key: 'b'}]}});
	assert.deepEqual(result.spec.containers.map((c: any) => [c.name, c.image]), [['app', 'app:2'], ['sidecar', 'side:1']]);
	assert.deepEqual(result.spec.containers[0].env, [{name: 'A', value: '1'}, {name: 'B', value: 'two'}, {name: 'C', value: '3'}]);
	assert.deepEqual(result.spec.containers[0].ports, [{containerPort: 80, protocol: 'TCP'}]);
	assert.deepEqual(result.spec.tolerations, [{key: 'b'}], 'a list without a merge key is replaced');
	assert.deepEqual(pod.spec.containers[0]!.image, 'app:1', 'the input is not modified');
});

test('strategic merge patch directives: $patch delete/replace, $setElementOrder, $retainKeys, $deleteFromPrimitiveList, null', () => {
	const deleted = strategic(pod, {spec: {containers: [{name: 'sidecar', $patch: 'delete'}], volumes: [{$patch: 'replace'}, {name: 'only', emptyDir: {}}]}, metadata: {labels: {a: null}}});
	assert.deepEqual(deleted.spec.containers.map((c: any) => c.name), ['app']);
	assert.deepEqual(deleted.spec.volumes, [{name: 'only', emptyDir: {}}]);
	assert.deepEqual(deleted.metadata.labels, {b: '2'});

	const ordered = strategic(pod, {spec: {'$setElementOrder/containers': [{name: 'sidecar'}, {name: 'app'}], containers: [{name: 'sidecar', image: 'side:2'}]}});
	assert.deepEqual(ordered.spec.containers.map((c: any) => `${c.name}=${c.image}`), ['sidecar=side:2', 'app=app:1']);

	const retained = strategic(pod, {spec: {volumes: [{name: 'data', $retainKeys: ['name', 'emptyDir'], emptyDir: {}}]}});
	assert.deepEqual(retained.spec.volumes[0], {name: 'data', emptyDir: {}});

	const replacedMap = strategic(pod, {metadata: {labels: {$patch: 'replace', c: '3'}}});
	assert.deepEqual(replacedMap.metadata.labels, {c: '3'});

	const finalizers = strategic(pod, {metadata: {finalizers: ['y'], '$deleteFromPrimitiveList/finalizers': ['x']}});
	assert.deepEqual(finalizers.metadata.finalizers, ['y']);
	const united = strategic(pod, {metadata: {finalizers: ['x', 'z']}});
	assert.deepEqual(united.metadata.finalizers, ['x', 'z']);

	assert.throws(() => strategic(pod, {spec: {$patch: 'explode'}}), PatchError);
	assert.throws(() => strategic(pod, {spec: {containers: [{image: 'no-name'}]}}), /does not contain declared merge key: name/);
});

test('Service ports merge by port, container ports by containerPort', () => {
	const service = {spec: {ports: [{port: 9000, name: 's3'}, {port: 9001, name: 'console'}]}};
	const result = strategic(service, {spec: {ports: [{port: 9001, targetPort: 9091}]}}, 'Service');
	assert.deepEqual(result.spec.ports, [{port: 9000, name: 's3'}, {port: 9001, name: 'console', targetPort: 9091}]);
});

test('JSON merge patch (RFC 7386) and JSON patch (RFC 6902)', () => {
	assert.deepEqual(mergePatch({a: {b: 1, c: 2}, l: [1, 2]}, {a: {b: null, d: 3}, l: [3]}), {a: {c: 2, d: 3}, l: [3]});
	const patched = jsonPatch(pod, [
		{op: 'replace', path: '/spec/containers/0/image', value: 'app:3'},
		{op: 'add', path: '/metadata/labels/c~1d', value: 'slash'},
		{op: 'remove', path: '/spec/volumes/1'},
		{op: 'copy', from: '/metadata/name', path: '/metadata/labels/name'},
		{op: 'move', from: '/metadata/labels/a', path: '/metadata/labels/moved'},
		{op: 'add', path: '/spec/tolerations/-', value: {key: 'z'}},
		{op: 'test', path: '/spec/containers/1/name', value: 'sidecar'},
	]) as any;
	assert.equal(patched.spec.containers[0].image, 'app:3');
	assert.deepEqual(patched.metadata.labels, {b: '2', 'c/d': 'slash', name: 'p', moved: '1'});
	assert.deepEqual(patched.spec.volumes.map((v: any) => v.name), ['data']);
	assert.deepEqual(patched.spec.tolerations, [{key: 'a'}, {key: 'z'}]);
	assert.throws(() => jsonPatch(pod, [{op: 'test', path: '/metadata/name', value: 'q'}]), (error: unknown) => error instanceof PatchError && error.code === 422);
	assert.throws(() => jsonPatch(pod, [{op: 'remove', path: '/spec/missing'}]), (error: unknown) => error instanceof PatchError && error.code === 422);
	assert.throws(() => jsonPatch(pod, {op: 'add'}), (error: unknown) => error instanceof PatchError && error.code === 400);
});
