import assert from 'node:assert/strict';
import {test} from 'node:test';
import {LocalFileStore} from '../../../source/storage/local-file-store.js';
import {IcebergRestCatalogServer} from '../../../source/drill/catalogs/iceberg-rest.js';
import {IcebergTableWriter, restTarget, schemaJson, type WriterColumn} from '../../../source/drill/catalogs/iceberg-writer.js';
import {RestCatalogClient} from '../../../source/formats/iceberg/rest-client.js';
import {IcebergFormat} from '../../../source/formats/iceberg/index.js';
import {parseJson} from '../../../source/formats/iceberg/metadata.js';
import {temporaryDir} from '../../formats/iceberg/helpers.js';

const columns: WriterColumn[] = [{id: 1, name: 'id', type: 'long', required: true}, {id: 2, name: 'customer', type: 'string'}, {id: 3, name: 'amount', type: 'double'}];

async function call(base: string, method: string, path: string, body?: unknown) {
	const response = await fetch(base + path, {method, headers: {'content-type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)});
	const text = await response.text();
	return {status: response.status, body: text ? parseJson(text) : undefined};
}

/** A catalog with one table `sales.orders` of 12 snapshots: appends, an overwrite, a delete, a schema change. */
async function world(t: {after: (fn: () => Promise<void>) => void}) {
	const dir = await temporaryDir();
	t.after(dir.remove);
	const store = new LocalFileStore(dir.dir);
	const server = new IcebergRestCatalogServer({store});
	await server.start();
	t.after(async () => server.stop());
	assert.equal((await call(server.url, 'POST', '/v1/ilum/namespaces', {namespace: ['sales'], properties: {owner: 'drill'}})).status, 200);
	const created = await call(server.url, 'POST', '/v1/ilum/namespaces/sales/tables', {name: 'orders', schema: schemaJson(columns)});
	assert.equal(created.status, 200);
	const location = String(created.body.metadata.location);
	const client = new RestCatalogClient(server.url);
	const writer = await IcebergTableWriter.open({store: new LocalFileStore(new URL(location).pathname), target: restTarget(client, ['sales'], 'orders')});
	const ids: string[] = [];
	for (let index = 0; index < 6; index++) {
		// eslint-disable-next-line no-await-in-loop
		ids.push(await writer.append(10 + index));
	}

	ids.push(await writer.overwrite((_file, index) => index === 0, 7));
	ids.push(await writer.deleteFiles(file => file.records === 11));
	await writer.addColumn({name: 'note', type: 'string'});
	ids.push(await writer.append(5), await writer.append(6), await writer.append(7), await writer.append(8));
	await writer.close();
	return {server, store, ids, ref: {ref: server.url, table: 'sales.orders'}, writer};
}

test('REST catalog: config, namespaces, tables and errors follow the OpenAPI', async t => {
	const dir = await temporaryDir();
	t.after(dir.remove);
	const server = new IcebergRestCatalogServer({store: new LocalFileStore(dir.dir), prefix: 'ilum'});
	await server.start();
	t.after(async () => server.stop());
	const config = await call(server.url, 'GET', '/v1/config');
	assert.equal(config.body.overrides.prefix, 'ilum');
	assert.equal((await call(server.url, 'POST', '/v1/ilum/namespaces', {namespace: ['a', 'b']})).status, 200);
	const duplicate = await call(server.url, 'POST', '/v1/ilum/namespaces', {namespace: ['a', 'b']});
	assert.equal(duplicate.status, 409);
	assert.equal(duplicate.body.error.type, 'AlreadyExistsException');
	assert.deepEqual((await call(server.url, 'GET', '/v1/ilum/namespaces')).body.namespaces, [['a']]);
	assert.deepEqual((await call(server.url, 'GET', '/v1/ilum/namespaces?parent=a')).body.namespaces, [['a', 'b']]);
	assert.deepEqual((await call(server.url, 'GET', '/v1/ilum/namespaces/a%1Fb')).body, {namespace: ['a', 'b'], properties: {}});
	const missing = await call(server.url, 'GET', '/v1/ilum/namespaces/a%1Fb/tables/nope');
	assert.equal(missing.status, 404);
	assert.deepEqual(missing.body, {error: {message: 'Table does not exist: a.b.nope', type: 'NoSuchTableException', code: 404}});
	assert.equal((await call(server.url, 'GET', '/v1/ilum/namespaces/zz')).body.error.type, 'NoSuchNamespaceException');
	const created = await call(server.url, 'POST', '/v1/ilum/namespaces/a%1Fb/tables', {name: 't', schema: schemaJson(columns)});
	assert.equal(created.status, 200);
	assert.match(created.body['metadata-location'], /\/a\/b\/t\/metadata\/00000-[\da-f-]{36}\.metadata\.json$/);
	assert.deepEqual((await call(server.url, 'GET', '/v1/ilum/namespaces/a%1Fb/tables')).body.identifiers, [{namespace: ['a', 'b'], name: 't'}]);
	const loaded = await call(server.url, 'GET', '/v1/ilum/namespaces/a%1Fb/tables/t');
	assert.equal(loaded.body['metadata-location'], created.body['metadata-location']);
	assert.equal(loaded.body.metadata['format-version'], 2);
	assert.deepEqual(loaded.body.config, {});
	// A failed requirement: 409 CommitFailedException, nothing changes.
	const uuid = loaded.body.metadata['table-uuid'];
	const failed = await call(server.url, 'POST', '/v1/ilum/namespaces/a%1Fb/tables/t', {requirements: [{type: 'assert-table-uuid', uuid: 'other'}], updates: [{action: 'set-properties', updates: {x: '1'}}]});
	assert.equal(failed.status, 409);
	assert.equal(failed.body.error.type, 'CommitFailedException');
	const ok = await call(server.url, 'POST', '/v1/ilum/namespaces/a%1Fb/tables/t', {requirements: [{type: 'assert-table-uuid', uuid}, {type: 'assert-current-schema-id', 'current-schema-id': 0}], updates: [{action: 'set-properties', updates: {x: '1'}}]});
	assert.equal(ok.status, 200);
	assert.equal(ok.body.metadata.properties.x, '1');
	assert.match(ok.body['metadata-location'], /\/metadata\/00001-/);
	assert.equal(ok.body.metadata['metadata-log'].length, 1);
	const unknown = await call(server.url, 'POST', '/v1/ilum/namespaces/a%1Fb/tables/t', {requirements: [], updates: [{action: 'frobnicate'}]});
	assert.equal(unknown.status, 400);
	// The catalog survives a restart: its pointers live in the store.
	await server.stop();
	const again = new IcebergRestCatalogServer({store: new LocalFileStore(dir.dir), prefix: 'ilum'});
	await again.start();
	t.after(async () => again.stop());
	assert.equal((await call(again.url, 'GET', '/v1/ilum/namespaces/a%1Fb/tables/t')).body['metadata-location'], ok.body['metadata-location']);
});

test('history through the REST catalog: 12 snapshots written with real Parquet and Avro', async t => {
	const {ids, ref} = await world(t);
	const history = await new IcebergFormat().history(ref);
	assert.equal(history.entries.length, 12);
	assert.deepEqual(history.entries.map(entry => entry.id), ids);
	assert.deepEqual(history.entries.map(entry => entry.operation), ['append', 'append', 'append', 'append', 'append', 'append', 'overwrite', 'delete', 'append', 'append', 'append', 'append']);
	assert.equal(history.current, ids.at(-1));
	assert.ok(history.entries.every(entry => entry.restorable));
	assert.deepEqual(history.entries.map(entry => entry.summary['schema-id']), [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
	// The overwrite replaced the newest file (15 rows) with 7 rows; the delete dropped the 11-row file.
	assert.equal(history.entries[7]!.summary['total-records'], String(10 + 11 + 12 + 13 + 14 + 15 - 15 + 7 - 11));
});

test('REST restore: one updateTable commit with assert-ref-snapshot-id, main moved, tag created, verified', async t => {
	const {server, ids, ref} = await world(t);
	const iceberg = new IcebergFormat();
	const plan = await iceberg.plan(ref, ids[5]!);
	assert.equal(plan.refusal, undefined);
	assert.ok(plan.schemaChanges.some(line => /column note \(id 4, string\) was added after the target snapshot/.test(line)));
	assert.equal(plan.after.rows, 10 + 11 + 12 + 13 + 14 + 15);
	const before = server.commits.length;
	const result = await iceberg.execute(plan);
	assert.equal(result.verified, true, JSON.stringify(result.checks));
	assert.equal(server.commits.length, before + 1);
	const sent = server.commits.at(-1)!;
	assert.deepEqual(sent.requirements.find(item => item.type === 'assert-ref-snapshot-id' && item['ref'] === 'main'), {type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': BigInt(ids.at(-1)!) > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(ids.at(-1)!) : Number(ids.at(-1))});
	assert.deepEqual(sent.updates.map(update => [update.action, update['ref-name'], update['type']]), [['set-snapshot-ref', (plan.commit as any).tag, 'tag'], ['set-snapshot-ref', 'main', 'branch']]);
	const loaded = await server.load(['sales'], 'orders');
	assert.equal(String(loaded.metadata['refs'].main['snapshot-id']), ids[5]);
	assert.equal(String(loaded.metadata['refs'][(plan.commit as any).tag]['snapshot-id']), ids.at(-1));
	assert.equal(String(loaded.metadata['snapshot-log'].at(-1)['snapshot-id']), ids[5]);
	assert.equal(Number(loaded.metadata['current-schema-id']), 1, 'the schema is not reset');
	// Rolling forward again needs --force (the old head is no longer an ancestor of main).
	const forward = await iceberg.plan(ref, ids.at(-1)!);
	assert.match(forward.refusal!, /not an ancestor of main/);
	const forced = await iceberg.execute(await iceberg.plan(ref, (plan.commit as any).tag, {force: true}), {force: true});
	assert.equal(forced.verified, true);
	assert.equal((await iceberg.history(ref)).current, ids.at(-1));
});

test('REST restore: a plan made stale by another commit is refused before anything is sent', async t => {
	const {server, ids, ref} = await world(t);
	const iceberg = new IcebergFormat();
	const plan = await iceberg.plan(ref, ids[3]!);
	// Someone else moves main between the plan and the commit.
	await server.commit(['sales'], 'orders', {requirements: [], updates: [{action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': BigInt(ids[10]!)}]});
	const before = server.commits.length;
	await assert.rejects(iceberg.execute(plan), /moved since the plan \(main is .*, the plan expected/);
	assert.equal(server.commits.length, before, 'the stale plan is caught before any commit');
});

test('REST restore: 409 CommitFailedException from the catalog, reloaded and reported', async t => {
	const {server, ids, ref} = await world(t);
	const iceberg = new IcebergFormat();
	const plan = await iceberg.plan(ref, ids[3]!);
	// Another writer commits exactly while the restore sends its commit.
	const original = (server as any).commitKey.bind(server);
	(server as any).commitKey = async (namespace: string, name: string, request: any) => {
		(server as any).commitKey = original;
		await original(namespace, name, {requirements: [], updates: [{action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': BigInt(ids[9]!)}]});
		return original(namespace, name, request);
	};

	await assert.rejects(iceberg.execute(plan), new RegExp(`someone else committed first \\(409 CommitFailedException: Commit failed: Requirement failed: main has changed.*reloaded: main now points at ${ids[9]}; nothing was written`));
	const loaded = await server.load(['sales'], 'orders');
	assert.equal(String(loaded.metadata['refs'].main['snapshot-id']), ids[9]);
	assert.equal(Object.keys(loaded.metadata['refs']).filter(name => name.startsWith('ilum-restore-')).length, 0);
});

test('REST restore: an injected 500 before the commit: state unknown, reloaded, reported, not retried', async t => {
	const {server, ids, ref} = await world(t);
	const iceberg = new IcebergFormat();
	const plan = await iceberg.plan(ref, ids[2]!);
	server.injectCommitFailure({status: 500, when: 'before'});
	const before = server.commits.length;
	await assert.rejects(iceberg.execute(plan), new RegExp(`commit state unknown: the catalog answered HTTP 500 \\(CommitStateUnknownException.*reloaded: main now points at ${ids.at(-1)}, so the restore did not take effect; not retried`));
	assert.equal(server.commits.length, before + 1, 'exactly one commit attempt');
	assert.equal(String((await server.load(['sales'], 'orders')).metadata['refs'].main['snapshot-id']), ids.at(-1));
});

test('REST restore: an injected 502 after the commit landed: reloaded, found applied, verified, not retried', async t => {
	const {server, ids, ref} = await world(t);
	const iceberg = new IcebergFormat();
	const plan = await iceberg.plan(ref, ids[2]!);
	server.injectCommitFailure({status: 502, when: 'after'});
	const before = server.commits.length;
	const result = await iceberg.execute(plan);
	assert.equal(server.commits.length, before + 1);
	assert.equal(result.verified, true, JSON.stringify(result.checks));
	assert.match(result.checks[0]!.detail, /HTTP 502.*the commit took effect \(not retried\)/);
});
