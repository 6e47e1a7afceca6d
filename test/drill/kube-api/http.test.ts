import assert from 'node:assert/strict';
import http from 'node:http';
import {after, before, test} from 'node:test';
import protobuf from 'protobufjs';
import {ObjectStore} from '../../../source/drill/kube-api/store.js';
import {startKubeApi, type KubeApi} from '../../../source/drill/kube-api/server.js';
import {seed, waitFor} from './helpers.js';

let store: ObjectStore;
let api: KubeApi;

before(async () => {
	store = new ObjectStore({historyLimit: 50});
	seed(store);
	api = await startKubeApi({store, identities: {'admin-token': {name: 'admin'}, 'viewer-token': {name: 'viewer', readOnly: true}, 'ops-token': {name: 'ops', rules: [{verbs: ['get', 'list', 'watch', 'patch'], apiGroups: ['apps'], resources: ['statefulsets', 'statefulsets/scale'], namespaces: ['ilum']}, {verbs: ['get', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['w2']}]}, 'carol-token': {name: 'carol', groups: ['oncall'], rbac: true}}, bookmarkIntervalMs: 200});
});

after(async () => {
	await api.close();
});

async function call(method: string, path: string, options: {body?: unknown; raw?: string | Buffer; type?: string; accept?: string; token?: string} = {}) {
	const headers: Record<string, string> = {Authorization: `Bearer ${options.token ?? 'admin-token'}`};
	if (options.type ?? (options.body === undefined ? undefined : 'application/json')) {
		headers['Content-Type'] = options.type ?? 'application/json';
	}

	if (options.accept) {
		headers['Accept'] = options.accept;
	}

	const response = await fetch(`${api.url}${path}`, {method, headers, body: typeof options.raw === 'string' || options.raw === undefined ? options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) : new Uint8Array(options.raw)});
	const text = await response.text();
	let json: any;
	try {
		json = JSON.parse(text);
	} catch {}

	return {status: response.status, json, text, contentType: response.headers.get('content-type')};
}

/** Reads a watch stream's JSON lines until `enough` says so or the stream ends. */
async function watchLines(path: string, enough: (lines: any[]) => boolean, token = 'admin-token'): Promise<{lines: any[]; ended: boolean}> {
	return new Promise((resolve, reject) => {
		const lines: any[] = [];
		let buffer = '';
		const request = http.get(`${api.url}${path}`, {headers: {Authorization: `Bearer ${token}`}}, response => {
			response.setEncoding('utf8');
			response.on('data', (chunk: string) => {
				buffer += chunk;
				let index: number;
				while ((index = buffer.indexOf('\n')) !== -1) {
					lines.push(JSON.parse(buffer.slice(0, index)));
					buffer = buffer.slice(index + 1);
				}

				if (enough(lines)) {
					request.destroy();
					resolve({lines, ended: false});
				}
			});
			response.on('end', () => {
				resolve({lines, ended: true});
			});
		});
		request.on('error', error => {
			if (!(error as NodeJS.ErrnoException).code?.includes('ECONNRESET')) {
				reject(error);
			}
		});
	});
}

test('errors are Status objects shaped like the real server\'s', async () => {
	const missing = await call('GET', '/api/v1/namespaces/ilum/persistentvolumeclaims/nope');
	assert.equal(missing.status, 404);
	assert.deepEqual(missing.json, {kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'persistentvolumeclaims "nope" not found', reason: 'NotFound', details: {name: 'nope', kind: 'persistentvolumeclaims'}, code: 404});
	const missingCustom = await call('GET', '/apis/snapshot.storage.k8s.io/v1/namespaces/ilum/volumesnapshots/nope');
	assert.deepEqual(missingCustom.json.details, {name: 'nope', group: 'snapshot.storage.k8s.io', kind: 'volumesnapshots'});
	const exists = await call('POST', '/api/v1/namespaces/ilum/persistentvolumeclaims', {body: {metadata: {name: 'data-postgres-0'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}}});
	assert.equal(exists.status, 409);
	assert.equal(exists.json.reason, 'AlreadyExists');
	assert.equal(exists.json.message, 'persistentvolumeclaims "data-postgres-0" already exists');
	const invalid = await call('POST', '/api/v1/namespaces/ilum/persistentvolumeclaims', {body: {metadata: {name: 'x'}, spec: {}}});
	assert.equal(invalid.status, 422);
	assert.equal(invalid.json.reason, 'Invalid');
	assert.deepEqual(invalid.json.details.causes[0], {reason: 'FieldValueRequired', message: 'Required value: at least 1 access mode is required', field: 'spec.accessModes'});
	const notAllowed = await call('POST', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', {body: {}});
	assert.equal(notAllowed.status, 405);
	assert.equal(notAllowed.json.reason, 'MethodNotAllowed');
	const mediaType = await call('PATCH', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', {raw: '{}', type: 'text/plain'});
	assert.equal(mediaType.status, 415);
	assert.equal(mediaType.json.reason, 'UnsupportedMediaType');
	const unknown = await call('GET', '/apis/snapshot.storage.k8s.io/v1/namespaces/ilum/widgets');
	assert.equal(unknown.status, 404);
	assert.equal(unknown.json.message, 'the server could not find the requested resource');
	const noToken = await fetch(`${api.url}/api/v1/namespaces`);
	assert.equal(noToken.status, 401);
	assert.equal((await noToken.json() as any).reason, 'Unauthorized');
	const badToken = await call('GET', '/api/v1/namespaces', {token: 'stolen'});
	assert.equal(badToken.status, 401);
	const anonymous = await startKubeApi({store, identities: {'admin-token': {name: 'admin'}}, anonymous: {name: 'system:anonymous', readOnly: true}});
	try {
		assert.equal((await fetch(`${anonymous.url}/api/v1/namespaces`)).status, 200);
		const write = await fetch(`${anonymous.url}/api/v1/namespaces`, {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{"metadata":{"name":"x"}}'});
		assert.equal(((await write.json()) as any).message, 'namespaces is forbidden: User "system:anonymous" cannot create resource "namespaces" in API group "" at the cluster scope');
	} finally {
		await anonymous.close();
	}

	const selector = await call('GET', '/api/v1/pods?fieldSelector=spec.bogus%3Dx');
	assert.equal(selector.status, 400);
	assert.equal(selector.json.message, 'field label not supported: spec.bogus');
});

test('malformed requests get an answer and leave the store as it was', async () => {
	const before = JSON.stringify(store.toJSON());
	const attempts = [
		await call('POST', '/api/v1/namespaces/ilum/configmaps', {raw: '{"metadata": {"name": "x"', type: 'application/json'}),
		await call('POST', '/api/v1/namespaces/ilum/configmaps', {raw: '[1,2]', type: 'application/json'}),
		await call('POST', '/api/v1/namespaces/ilum/configmaps', {body: {metadata: {name: 'x', labels: {a: 5}}}}),
		await call('POST', '/api/v1/namespaces/ilum/configmaps', {body: {metadata: {name: 'x', namespace: 'other'}}}),
		await call('POST', '/api/v1/namespaces/ilum/configmaps', {body: {kind: 'Secret', metadata: {name: 'x'}}}),
		await call('POST', '/api/v1/namespaces/ilum/configmaps', {raw: Buffer.from('k8s\0\u00ff\u00ff\u00ff'), type: 'application/vnd.kubernetes.protobuf'}),
		await call('POST', '/api/v1/namespaces/ilum/configmaps', {raw: 'x'.repeat(4 * 1024 * 1024), type: 'application/json'}),
		await call('PUT', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', {body: {metadata: {name: 'other'}}}),
		await call('PATCH', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', {raw: '{"metadata": 7}', type: 'application/merge-patch+json'}),
		await call('PATCH', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', {raw: '[{"op":"test","path":"/metadata/name","value":"zzz"}]', type: 'application/json-patch+json'}),
		await call('PATCH', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', {raw: '[{"op":"remove","path":"/nope/deeper"}]', type: 'application/json-patch+json'}),
		await call('PATCH', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', {raw: '{"spec":{"$patch":"explode"}}', type: 'application/strategic-merge-patch+json'}),
		await call('PATCH', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', {raw: '{"spec":{"accessModes":null}}', type: 'application/merge-patch+json'}),
		await call('PATCH', '/apis/apps/v1/namespaces/ilum/statefulsets/ilum-objectstorage/scale', {raw: '{"spec":{"replicas":-1}}', type: 'application/merge-patch+json'}),
		await call('DELETE', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', {raw: '{"propagationPolicy":"Sideways"}', type: 'application/json'}),
		await call('GET', '/api/v1/namespaces/ilum/persistentvolumeclaims?labelSelector=a%20in%20(b'),
		await call('GET', '/api/v1/namespaces/ilum/persistentvolumeclaims?limit=abc'),
		await call('GET', '/api/v1/namespaces/ilum/persistentvolumeclaims?continue=garbage'),
		await call('POST', '/api/v1/namespaces/ilum/configmaps?dryRun=Some', {body: {metadata: {name: 'x'}}}),
	];
	assert.deepEqual(attempts.map(a => a.status), [400, 400, 400, 400, 400, 400, 413, 400, 400, 422, 422, 400, 422, 422, 422, 400, 400, 400, 400]);
	for (const attempt of attempts) {
		assert.equal(attempt.json?.kind, 'Status', attempt.text);
	}

	assert.equal(JSON.stringify(store.toJSON()), before);
	assert.equal((await call('GET', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0')).status, 200);
});

test('custom resources: unknown fields are refused with Strict, pruned with a warning otherwise', async () => {
	const snapshot = (name: string, spec: Record<string, unknown>) => ({apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: {name}, spec});
	const path = '/apis/snapshot.storage.k8s.io/v1/namespaces/ilum/volumesnapshots';
	const strict = await call('POST', `${path}?fieldValidation=Strict`, {body: snapshot('typo', {source: {persistentVolumeClaimname: 'data-postgres-0'}})});
	assert.equal(strict.status, 400);
	assert.equal(strict.json.message, 'VolumeSnapshot in version "v1" cannot be handled as a VolumeSnapshot: strict decoding error: unknown field "spec.source.persistentVolumeClaimname"');
	const response = await fetch(`${api.url}${path}`, {method: 'POST', headers: {Authorization: 'Bearer admin-token', 'Content-Type': 'application/json'}, body: JSON.stringify(snapshot('pruned', {source: {persistentVolumeClaimName: 'data-postgres-0'}, retention: '7d'}))});
	assert.equal(response.status, 201);
	assert.equal(response.headers.get('warning'), '299 - "unknown field \\"spec.retention\\""');
	assert.equal(store.get('volumesnapshots', 'ilum', 'pruned')!.spec.retention, undefined);
	store.delete('volumesnapshots', 'ilum', 'pruned');
});

test('discovery, version and OpenAPI v3 are what kubectl reads', async () => {
	const version = await call('GET', '/version');
	assert.equal(version.json.minor, '33');
	const apps = await call('GET', '/apis/apps/v1');
	const scale = apps.json.resources.find((r: any) => r.name === 'statefulsets/scale');
	assert.deepEqual(scale, {name: 'statefulsets/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update']});
	const groups = await call('GET', '/apis');
	const names = groups.json.groups.map((g: any) => g.name);
	for (const group of ['storage.k8s.io', 'apps', 'batch', 'snapshot.storage.k8s.io', 'authorization.k8s.io']) {
		assert.ok(names.includes(group), group);
	}

	assert.deepEqual(groups.json.groups.find((g: any) => g.name === 'apps'), {name: 'apps', versions: [{groupVersion: 'apps/v1', version: 'v1'}], preferredVersion: {groupVersion: 'apps/v1', version: 'v1'}});
	const snapshots = await call('GET', '/apis/snapshot.storage.k8s.io/v1');
	assert.deepEqual(snapshots.json.resources.find((r: any) => r.name === 'volumesnapshotclasses').shortNames, ['vsclass', 'vsclasses']);
	const aggregated = await call('GET', '/apis', {accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json'});
	assert.equal(aggregated.contentType, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
	const statefulsets = aggregated.json.items.find((g: any) => g.metadata.name === 'apps').versions[0].resources.find((r: any) => r.resource === 'statefulsets');
	assert.equal(statefulsets.scope, 'Namespaced');
	assert.deepEqual(statefulsets.subresources[0], {subresource: 'scale', responseKind: {group: 'autoscaling', version: 'v1', kind: 'Scale'}, verbs: ['get', 'patch', 'update']});
	const legacy = await call('GET', '/api', {accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'});
	assert.equal(legacy.json.kind, 'APIVersions', 'only v2 is aggregated; older clients get the legacy documents');
	const index = await call('GET', '/openapi/v3');
	const url = index.json.paths['apis/snapshot.storage.k8s.io/v1'].serverRelativeURL;
	assert.match(url, /^\/openapi\/v3\/apis\/snapshot\.storage\.k8s\.io\/v1\?hash=[\dA-F]+$/);
	const document = await call('GET', url);
	const patch = document.json.paths['/apis/snapshot.storage.k8s.io/v1/namespaces/{namespace}/volumesnapshots/{name}'].patch;
	assert.deepEqual(patch['x-kubernetes-group-version-kind'], {group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshot'});
	assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'));
	assert.ok(!('application/strategic-merge-patch+json' in patch.requestBody.content));
});

test('Table and PartialObjectMetadataList output, limit and continue', async () => {
	const table = await call('GET', '/api/v1/namespaces/ilum/persistentvolumeclaims?limit=1', {accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json'});
	assert.equal(table.json.kind, 'Table');
	assert.deepEqual(table.json.columnDefinitions.map((c: any) => c.name), ['Name', 'Status', 'Volume', 'Capacity', 'Access Modes', 'StorageClass', 'VolumeAttributesClass', 'Age', 'VolumeMode']);
	assert.equal(table.json.rows.length, 1);
	assert.equal(table.json.rows[0].object.kind, 'PartialObjectMetadata');
	assert.equal(table.json.metadata.remainingItemCount, 1);
	const next = await call('GET', `/api/v1/namespaces/ilum/persistentvolumeclaims?limit=1&continue=${encodeURIComponent(table.json.metadata.continue)}`);
	assert.deepEqual(next.json.items.map((i: any) => i.metadata.name), ['data-postgres-0']);
	assert.equal(next.json.metadata.continue, undefined);
	const metadata = await call('GET', '/api/v1/persistentvolumeclaims', {accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io'});
	assert.equal(metadata.json.kind, 'PartialObjectMetadataList');
	assert.equal(metadata.json.items[0].spec, undefined);
	const notAcceptable = await call('GET', '/api/v1/persistentvolumeclaims', {accept: 'text/html'});
	assert.equal(notAcceptable.status, 406);
});

test('watch: initial events, resume from a resourceVersion, bookmarks, timeout, 410 Expired', async () => {
	const from = store.resourceVersion;
	store.create('configmaps', {metadata: {name: 'w1', namespace: 'ilum', labels: {w: 'yes'}}});
	store.create('configmaps', {metadata: {name: 'w2', namespace: 'ilum'}});
	const resumed = await watchLines(`/api/v1/namespaces/ilum/configmaps?watch=true&resourceVersion=${from}&labelSelector=w%3Dyes&allowWatchBookmarks=true`, lines => lines.some(l => l.type === 'BOOKMARK'));
	assert.deepEqual(resumed.lines.filter(l => l.type !== 'BOOKMARK').map(l => `${l.type} ${l.object.metadata.name}`), ['ADDED w1']);
	assert.match(resumed.lines.find(l => l.type === 'BOOKMARK').object.metadata.resourceVersion, /^\d+$/);

	const initial = await watchLines('/api/v1/namespaces/ilum/configmaps?watch=1&timeoutSeconds=1', () => false);
	assert.equal(initial.ended, true, 'timeoutSeconds ends the stream');
	assert.deepEqual(initial.lines.map(l => `${l.type} ${l.object.metadata.name}`), ['ADDED w1', 'ADDED w2']);

	// Leaving the selection is a DELETED for that watch.
	const watchesBefore = api.requests().filter(r => r.verb === 'watch').length;
	const leaving = watchLines(`/api/v1/namespaces/ilum/configmaps?watch=true&labelSelector=w%3Dyes`, lines => lines.length > 1);
	await waitFor(() => api.requests().filter(r => r.verb === 'watch').length > watchesBefore, 'the watch to start');
	store.mutate('configmaps', 'ilum', 'w1', o => {
		o.metadata.labels = {w: 'no'};
	});
	assert.deepEqual((await leaving).lines.map(l => `${l.type} ${l.object.metadata.name}`), ['ADDED w1', 'DELETED w1']);

	for (let index = 0; index < 60; index++) {
		store.mutate('configmaps', 'ilum', 'w2', o => {
			o.data = {n: String(index)};
		});
	}

	const expired = await watchLines(`/api/v1/namespaces/ilum/configmaps?watch=true&resourceVersion=${from}`, lines => lines.length > 0);
	assert.equal(expired.lines[0].type, 'ERROR');
	assert.equal(expired.lines[0].object.code, 410);
	assert.equal(expired.lines[0].object.reason, 'Expired');
});

test('identities: bearer tokens, read-only, rules; mutating requests are counted', async () => {
	api.resetStats();
	const read = await call('GET', '/api/v1/namespaces/ilum/persistentvolumeclaims', {token: 'viewer-token'});
	assert.equal(read.status, 200);
	const refused = await call('POST', '/apis/snapshot.storage.k8s.io/v1/namespaces/ilum/volumesnapshots', {token: 'viewer-token', body: {metadata: {name: 'x'}, spec: {source: {persistentVolumeClaimName: 'p'}}}});
	assert.equal(refused.status, 403);
	assert.equal(refused.json.message, 'volumesnapshots.snapshot.storage.k8s.io is forbidden: User "viewer" cannot create resource "volumesnapshots" in API group "snapshot.storage.k8s.io" in the namespace "ilum"');
	const viaPrefix = await fetch(`${api.url}/as/viewer/api/v1/namespaces/ilum/configmaps/w2`, {method: 'DELETE'});
	assert.equal(viaPrefix.status, 403);
	const scaled = await call('PATCH', '/apis/apps/v1/namespaces/ilum/statefulsets/ilum-objectstorage/scale', {token: 'ops-token', raw: '{"spec":{"replicas":2}}', type: 'application/merge-patch+json'});
	assert.equal(scaled.status, 200);
	assert.equal(scaled.json.spec.replicas, 2);
	const opsDelete = await call('DELETE', '/apis/apps/v1/namespaces/ilum/statefulsets/ilum-objectstorage', {token: 'ops-token'});
	assert.equal(opsDelete.status, 403);
	assert.equal((await call('GET', '/api/v1/namespaces/ilum/configmaps/w2', {token: 'ops-token'})).status, 200, 'resourceNames allow the named object');
	assert.equal((await call('GET', '/api/v1/namespaces/ilum/configmaps/w1', {token: 'ops-token'})).status, 403, 'and no other');
	assert.equal((await call('GET', '/api/v1/namespaces/ilum/configmaps', {token: 'ops-token'})).status, 403, 'nor a list');
	const review = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {token: 'ops-token', body: {spec: {resourceAttributes: {namespace: 'ilum', verb: 'patch', group: 'apps', resource: 'statefulsets', subresource: 'scale'}}}});
	assert.equal(review.status, 201);
	assert.equal(review.json.status.allowed, true);
	const dry = await call('DELETE', '/api/v1/namespaces/ilum/configmaps/w2?dryRun=All');
	assert.equal(dry.status, 200);
	assert.ok(store.get('configmaps', 'ilum', 'w2'));
	const stats = api.stats();
	assert.equal(stats.mutating, 4, 'the refused create and delete, the scale patch, the refused delete; not the review nor the dry run');
	assert.equal(stats.forbidden, 5);
	assert.equal(stats.byVerb['list'], 2);
});

test('rbac identities get what the stored Roles, ClusterRoles and their bindings grant', async () => {
	const carol = {token: 'carol-token'};
	assert.equal((await call('GET', '/api/v1/namespaces/ilum/persistentvolumeclaims', carol)).status, 403);
	store.create('roles', {metadata: {name: 'claims-reader', namespace: 'ilum'}, rules: [{apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list']}]});
	store.create('rolebindings', {metadata: {name: 'oncall-claims', namespace: 'ilum'}, roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'claims-reader'}, subjects: [{kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'oncall'}]});
	assert.equal((await call('GET', '/api/v1/namespaces/ilum/persistentvolumeclaims', carol)).status, 200);
	assert.equal((await call('GET', '/api/v1/namespaces/default/persistentvolumeclaims', carol)).status, 403, 'a RoleBinding grants in its namespace only');
	assert.equal((await call('DELETE', '/api/v1/namespaces/ilum/persistentvolumeclaims/data-postgres-0', carol)).status, 403);
	assert.equal((await call('GET', '/api/v1/namespaces', carol)).status, 403);
	store.create('clusterroles', {metadata: {name: 'namespace-viewer'}, rules: [{apiGroups: [''], resources: ['namespaces'], verbs: ['list']}]});
	store.create('clusterrolebindings', {metadata: {name: 'carol-namespaces'}, roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'namespace-viewer'}, subjects: [{kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'carol'}]});
	assert.equal((await call('GET', '/api/v1/namespaces', carol)).status, 200);
	const review = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {...carol, body: {spec: {resourceAttributes: {namespace: 'ilum', verb: 'delete', resource: 'persistentvolumeclaims'}}}});
	assert.equal(review.json.status.allowed, false);
});

test('a protobuf Secret body is decoded (k8s envelope, runtime.Unknown)', async () => {
	const entry = (key: string, value: Uint8Array | string) => {
		const writer = protobuf.Writer.create().uint32(10).string(key);
		return (typeof value === 'string' ? writer.uint32(18).string(value) : writer.uint32(18).bytes(value)).finish();
	};

	const metadata = protobuf.Writer.create().uint32(10).string('from-proto').uint32(26).string('').uint32(90).bytes(entry('team', 'drill')).finish();
	const secret = protobuf.Writer.create().uint32(10).bytes(metadata).uint32(18).bytes(entry('token', new Uint8Array([0, 1, 2, 255]))).uint32(26).string('Opaque').finish();
	const typeMeta = protobuf.Writer.create().uint32(10).string('v1').uint32(18).string('Secret').finish();
	const unknown = protobuf.Writer.create().uint32(10).bytes(typeMeta).uint32(18).bytes(secret).uint32(26).string('').uint32(34).string('').finish();
	const body = Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(unknown)]);
	const created = await call('POST', '/api/v1/namespaces/ilum/secrets', {raw: body, type: 'application/vnd.kubernetes.protobuf', accept: 'application/vnd.kubernetes.protobuf, application/json'});
	assert.equal(created.status, 201, created.text);
	assert.equal(created.contentType, 'application/json');
	const withUnknown = protobuf.Writer.create().uint32(10).bytes(protobuf.Writer.create().uint32(10).string('odd-proto').finish()).uint32(9 << 3).uint32(1).finish();
	const unknownEnvelope = protobuf.Writer.create().uint32(10).bytes(typeMeta).uint32(18).bytes(withUnknown).finish();
	const odd = await fetch(`${api.url}/api/v1/namespaces/ilum/secrets`, {method: 'POST', headers: {Authorization: 'Bearer admin-token', 'Content-Type': 'application/vnd.kubernetes.protobuf'}, body: new Uint8Array(Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from(unknownEnvelope)]))});
	assert.equal(odd.status, 201);
	assert.equal(odd.headers.get('warning'), '299 - "drill API: protobuf fields not decoded (dropped): Secret.9"');
	const stored = store.get('secrets', 'ilum', 'from-proto')!;
	assert.deepEqual(Buffer.from(stored.data.token, 'base64'), Buffer.from([0, 1, 2, 255]));
	assert.deepEqual(stored.metadata.labels, {team: 'drill'});
	assert.equal(stored.metadata.namespace, 'ilum');
});
