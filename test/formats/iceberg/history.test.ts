import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {test} from 'node:test';
import {IcebergFormat, openTable} from '../../../source/formats/iceberg/index.js';
import {UserError} from '../../../source/errors.js';
import {copyFixture, fixtures} from './helpers.js';

const iceberg = new IcebergFormat();

test('hive-v2-position-deletes: 6 snapshots over 7 metadata files, no refs, version-hint.txt, scheme-less absolute paths', async () => {
	const history = await iceberg.history({ref: path.join(fixtures, 'hive-v2-position-deletes')});
	assert.equal(history.format, 'iceberg');
	assert.equal(history.current, '1497619269847778439');
	assert.deepEqual(history.entries.map(entry => entry.id), [
		'4363979609026842966',
		'5762682948883272650',
		'7508485421322116327',
		'7490459762454857930',
		'752781918366351945',
		'1497619269847778439',
	]);
	assert.deepEqual(history.entries.map(entry => entry.operation), ['append', 'append', 'append', 'append', 'overwrite', 'overwrite']);
	assert.deepEqual(history.entries.map(entry => entry.current), [false, false, false, false, false, true]);
	assert.deepEqual(history.entries.map(entry => entry.restorable), [true, true, true, true, true, true]);
	assert.equal(history.entries[0]!.parent, undefined);
	assert.equal(history.entries[5]!.parent, '752781918366351945');
	assert.equal(history.entries[0]!.timestamp, '2022-08-19T13:46:47.090Z');
	// No refs key: main is implied by current-snapshot-id.
	assert.equal(history.entries[5]!.summary['refs'], 'main');
	const table = await openTable({ref: path.join(fixtures, 'hive-v2-position-deletes')});
	assert.equal(table.metadataFile, 'metadata/v7.metadata.json');
	assert.equal(table.metadata.formatVersion, 2);
});

test('spark-v1-gzip-metadata: gzip metadata named by version-hint.text, relative paths', async () => {
	const history = await iceberg.history({ref: path.join(fixtures, 'spark-v1-gzip-metadata')});
	assert.equal(history.current, '4468019210336628573');
	assert.deepEqual(history.entries.map(entry => [entry.id, entry.operation, entry.current, entry.restorable]), [['4468019210336628573', 'append', true, true]]);
	assert.equal(history.entries[0]!.summary['total-records'], '111968');
	const table = await openTable({ref: path.join(fixtures, 'spark-v1-gzip-metadata')});
	assert.equal(table.metadataFile, 'metadata/v2.gz.metadata.json');
	assert.equal(table.metadata.formatVersion, 1);
});

test('pyiceberg SQL catalog: the catalog pointer wins over the newest metadata file on disk', async () => {
	const ref = {ref: path.join(fixtures, 'pyiceberg-v1-sqlcatalog-v3-upgrade', 'catalog.db'), table: 'repro.merch_v1'};
	const history = await iceberg.history(ref);
	assert.equal(history.current, '5191822260710938731');
	assert.deepEqual(history.entries.map(entry => [entry.id, entry.operation, entry.current, entry.restorable]), [
		['3549704636346557910', 'append', false, true],
		['381223374871251311', 'append', false, true],
		['5191822260710938731', 'overwrite', true, true],
	]);
	const viaCatalog = await openTable(ref);
	assert.match(viaCatalog.metadataFile, /^metadata\/00003-8d01e4aa/);
	assert.equal(viaCatalog.metadata.formatVersion, 1);
	// The folder alone has no pointer: the newest file (the v3 upgrade) is current then.
	const viaFolder = await openTable({ref: path.join(fixtures, 'pyiceberg-v1-sqlcatalog-v3-upgrade', 'repro', 'merch_v1')});
	assert.equal(viaFolder.metadataFile, 'metadata/00004-v3-upgraded-v1-null-counts.metadata.json');
	assert.equal(viaFolder.metadata.formatVersion, 3);
	const folderHistory = await iceberg.history({ref: path.join(fixtures, 'pyiceberg-v1-sqlcatalog-v3-upgrade', 'repro', 'merch_v1')});
	// Its manifest list has null counts (v1 written, v3 metadata): still readable, still restorable.
	assert.deepEqual(folderHistory.entries.map(entry => entry.restorable), [true, true, true]);
	// The catalog's directory with --table works too.
	const viaDirectory = await iceberg.history({ref: path.join(fixtures, 'pyiceberg-v1-sqlcatalog-v3-upgrade'), table: 'repro.merch_v1'});
	assert.equal(viaDirectory.current, '5191822260710938731');
});

test('a missing manifest list makes that snapshot not restorable and the reason names it', async t => {
	const copy = await copyFixture('hive-v2-position-deletes');
	t.after(copy.remove);
	await fs.rm(path.join(copy.dir, 'metadata/snap-7508485421322116327-1-4ba5ef32-7f8b-4418-b5bf-3fb8002e0dde.avro'));
	const history = await iceberg.history({ref: copy.dir});
	const entry = history.entries.find(item => item.id === '7508485421322116327')!;
	assert.equal(entry.restorable, false);
	assert.equal(entry.reason, 'missing manifest list metadata/snap-7508485421322116327-1-4ba5ef32-7f8b-4418-b5bf-3fb8002e0dde.avro');
	assert.deepEqual(history.entries.map(item => item.restorable), [true, true, false, true, true, true]);
});

test('a missing data file makes every snapshot that still needs it not restorable', async t => {
	const copy = await copyFixture('hive-v2-position-deletes');
	t.after(copy.remove);
	const gone = 'data/00000-0-data-boroknagyz_20220819154718_db95aeae-d530-4fba-8336-e47fa712b987-job_16597105613620_0026-00001.parquet';
	await fs.rm(path.join(copy.dir, gone));
	const history = await iceberg.history({ref: copy.dir});
	assert.deepEqual(history.entries.map(item => item.restorable), [true, false, false, false, false, false]);
	assert.equal(history.entries[1]!.reason, `missing 1 data file: ${gone}`);
});

test('metadata that is not Iceberg: one line naming the file', async t => {
	const copy = await copyFixture('hive-v2-position-deletes');
	t.after(copy.remove);
	await fs.writeFile(path.join(copy.dir, 'metadata/v7.metadata.json'), JSON.stringify({hello: 'world'}));
	await assert.rejects(iceberg.history({ref: copy.dir}), (error: unknown) => {
		assert.ok(error instanceof UserError);
		assert.match(error.line(), /v7\.metadata\.json: not Iceberg table metadata \(format-version is missing\)/);
		assert.ok(!error.line().includes('\n'));
		return true;
	});
	await fs.writeFile(path.join(copy.dir, 'metadata/v7.metadata.json'), '{"format-version": 2, "loca');
	await assert.rejects(iceberg.history({ref: copy.dir}), /v7\.metadata\.json: not valid JSON/);
});

test('a ref that points at nothing is refused, naming the ref and the file', async t => {
	const copy = await copyFixture('spark-v1-gzip-metadata');
	t.after(copy.remove);
	const {gunzipSync, gzipSync} = await import('node:zlib');
	const file = path.join(copy.dir, 'metadata/v2.gz.metadata.json');
	const text = gunzipSync(await fs.readFile(file)).toString().replace('"refs" : {', '"refs" : {\n "audit" : {"snapshot-id" : 9223372036854775807, "type" : "tag"},');
	await fs.writeFile(file, gzipSync(text));
	await assert.rejects(iceberg.history({ref: copy.dir}), /v2\.gz\.metadata\.json: ref 'audit' points at snapshot 9223372036854775807, which is not in the table's snapshots/);
});

test('a table ref that does not exist, or is not Iceberg, fails with one line', async t => {
	await assert.rejects(iceberg.history({ref: path.join(fixtures, 'no-such-table')}), /no-such-table: no such file or folder/);
	const copy = await copyFixture('spark-v1-gzip-metadata');
	t.after(copy.remove);
	await fs.rm(path.join(copy.dir, 'metadata'), {recursive: true});
	await assert.rejects(iceberg.history({ref: copy.dir}), /not an Iceberg table \(no metadata\/\*\.metadata\.json\)/);
});

test('a corrupt manifest, a missing one and a missing delete file: each snapshot that lists them says which', async t => {
	const copy = await copyFixture('hive-v2-position-deletes');
	t.after(copy.remove);
	const corrupt = 'metadata/969de65c-8915-4ae5-8d54-a82701195c55-m0.avro';
	const bytes = await fs.readFile(path.join(copy.dir, corrupt));
	await fs.writeFile(path.join(copy.dir, corrupt), bytes.subarray(0, bytes.length - 40));
	await fs.rm(path.join(copy.dir, 'metadata/ea749da1-7b98-4dca-a4eb-f7d5d62f9dde-m0.avro'));
	const scan = await new IcebergFormat().history({ref: copy.dir});
	const deletes = scan.entries.find(entry => entry.id === '752781918366351945')!;
	const deleteFile = (await fs.readdir(path.join(copy.dir, 'data'))).find(name => name.includes('delete'));
	const history = scan.entries.map(entry => [entry.restorable, entry.reason] as const);
	assert.equal(history.length, 6);
	assert.deepEqual(history[0], [true, undefined]);
	for (const [restorable, reason] of history.slice(1, 5)) {
		assert.equal(restorable, false);
		assert.match(reason ?? '', /^unreadable 1 manifest: metadata\/969de65c-8915-4ae5-8d54-a82701195c55-m0\.avro: (truncated|corrupt) Avro/);
	}

	assert.equal(deletes.restorable, false);
	assert.match(history[5]![1] ?? '', /^missing 1 manifest: metadata\/ea749da1-7b98-4dca-a4eb-f7d5d62f9dde-m0\.avro; unreadable 1 manifest: /);
	assert.ok(deleteFile, 'the fixture has a delete file');
	await fs.rm(path.join(copy.dir, 'data', deleteFile));
	const again = await new IcebergFormat().history({ref: copy.dir});
	assert.match(again.entries.find(entry => entry.id === '752781918366351945')!.reason!, new RegExp(`missing 1 delete file: data/${deleteFile.replaceAll('.', String.raw`\.`)}`));
});
