import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {test} from 'node:test';
import {DatabaseSync} from 'node:sqlite';
import {IcebergFormat, openTable} from '../../../source/formats/iceberg/index.js';
import {UserError} from '../../../source/errors.js';
import {copyFixture, fixtures} from './helpers.js';

const iceberg = new IcebergFormat();

test('path-based rollback on a copy of the Hive table: v8 + hint, main moved, tag on the replaced snapshot, verified', async t => {
	const copy = await copyFixture('hive-v2-position-deletes');
	t.after(copy.remove);
	const plan = await iceberg.plan({ref: copy.dir}, '7508485421322116327');
	assert.equal(plan.refusal, undefined);
	assert.equal(plan.from, '1497619269847778439');
	assert.equal(plan.target, '7508485421322116327');
	assert.deepEqual(plan.before, {files: 6, rows: 6, bytes: 7952});
	assert.deepEqual(plan.after, {files: 3, rows: 9, bytes: 1875});
	assert.deepEqual(plan.filesReturning, []);
	assert.equal(plan.filesLeaving.length, 3);
	assert.ok(plan.filesLeaving.every(file => file.startsWith('data/')));
	assert.match(plan.schemaChanges[0]!, /does not reset the schema/);
	const commit = plan.commit as any;
	assert.equal(commit.metadataFile, 'metadata/v8.metadata.json');
	assert.equal(commit.hint, 'metadata/version-hint.txt');
	// Dry run wrote nothing.
	assert.ok(!(await fs.readdir(path.join(copy.dir, 'metadata'))).includes('v8.metadata.json'));

	const result = await iceberg.execute(plan);
	assert.equal(result.verified, true, JSON.stringify(result.checks));
	assert.equal(result.newVersion, '7508485421322116327');
	assert.ok(result.checks.some(check => check.name === 'parquet footers' && check.ok && /9 rows in the footers of 3 data files/.test(check.detail)));
	assert.equal((await fs.readFile(path.join(copy.dir, 'metadata/version-hint.txt'), 'utf8')).trim(), '8');
	const v8 = JSON.parse(await fs.readFile(path.join(copy.dir, 'metadata/v8.metadata.json'), 'utf8'));
	// Ids stay exact in the written file (JSON.parse rounds, so compare the text).
	const text = await fs.readFile(path.join(copy.dir, 'metadata/v8.metadata.json'), 'utf8');
	assert.match(text, /"current-snapshot-id": 7508485421322116327/);
	assert.equal(v8['refs'].main.type, 'branch');
	assert.equal(v8['refs'][commit.tag].type, 'tag');
	assert.match(text, new RegExp(`"${commit.tag}": \\{\\s*"snapshot-id": 1497619269847778439`));
	assert.equal(v8['snapshot-log'].length, 7);
	assert.equal(v8['metadata-log'].at(-1)['metadata-file'], '/test-warehouse/iceberg_test/hadoop_catalog/ice/iceberg_v2_positional_not_all_data_files_have_delete_files/metadata/v7.metadata.json');

	const history = await iceberg.history({ref: copy.dir});
	assert.equal(history.current, '7508485421322116327');
	const newer = history.entries.find(entry => entry.id === '1497619269847778439')!;
	assert.equal(newer.current, false);
	assert.match(newer.reason!, /not an ancestor of main/);
	assert.match(String(newer.summary['refs']), /tag:ilum-restore-/);
	// The snapshot-log records the rollback: main moved back to the target after its commit.
	assert.match(String(history.entries.find(entry => entry.id === '7508485421322116327')!.summary['made-current']), /^\d{4}-\d\d-\d\dT.*Z$/);
	assert.equal(newer.summary['made-current'], undefined);

	// Rolling forward to the tagged snapshot is not a rollback: refused without --force, done with it.
	const forward = await iceberg.plan({ref: copy.dir}, '1497619269847778439');
	assert.match(forward.refusal!, /not an ancestor of main \(7508485421322116327\).*--force/);
	await assert.rejects(iceberg.execute(forward), (error: unknown) => error instanceof UserError && error.exitCode === 3);
	assert.ok(!(await fs.readdir(path.join(copy.dir, 'metadata'))).includes('v9.metadata.json'));
	const forced = await iceberg.plan({ref: copy.dir}, '1497619269847778439', {force: true});
	assert.equal(forced.refusal, undefined);
	assert.ok(forced.warnings.some(warning => /--force/.test(warning)));
	const again = await iceberg.execute(forced, {force: true});
	assert.equal(again.verified, true, JSON.stringify(again.checks));
	assert.equal((await iceberg.history({ref: copy.dir})).current, '1497619269847778439');
	assert.equal((await fs.readFile(path.join(copy.dir, 'metadata/version-hint.txt'), 'utf8')).trim(), '9');
});

test('--to an ISO time picks the newest ancestor older than it', async () => {
	const ref = {ref: path.join(fixtures, 'hive-v2-position-deletes')};
	assert.equal((await iceberg.plan(ref, '2022-08-19T13:47:30Z')).target, '5762682948883272650');
	assert.equal((await iceberg.plan(ref, '2022-08-19T13:47:24.291Z')).target, '4363979609026842966');
	await assert.rejects(iceberg.plan(ref, '2022-08-19T13:00:00Z'), /no snapshot of main is older than 2022-08-19T13:00:00.000Z/);
	await assert.rejects(iceberg.plan(ref, '123'), /no snapshot 123 \(the table has 6 snapshots\)/);
	await assert.rejects(iceberg.plan(ref, 'yesterday'), /not a snapshot id, an ISO timestamp or a ref/);
	const same = await iceberg.plan(ref, '1497619269847778439');
	assert.match(same.refusal!, /already the current snapshot/);
});

test('a target whose files are gone is refused, naming them, and nothing is written', async t => {
	const copy = await copyFixture('hive-v2-position-deletes');
	t.after(copy.remove);
	await fs.rm(path.join(copy.dir, 'metadata/4ba5ef32-7f8b-4418-b5bf-3fb8002e0dde-m0.avro'));
	const plan = await iceberg.plan({ref: copy.dir}, '7508485421322116327');
	assert.match(plan.refusal!, /cannot be restored: missing 1 manifest: metadata\/4ba5ef32-7f8b-4418-b5bf-3fb8002e0dde-m0\.avro/);
	await assert.rejects(iceberg.execute(plan), /refused/);
	assert.equal((await fs.readFile(path.join(copy.dir, 'metadata/version-hint.txt'), 'utf8')).trim(), '7');
});

test('a concurrent writer that took the next version first makes the restore fail cleanly', async t => {
	const copy = await copyFixture('hive-v2-position-deletes');
	t.after(copy.remove);
	const plan = await iceberg.plan({ref: copy.dir}, '7508485421322116327');
	await fs.writeFile(path.join(copy.dir, 'metadata/v8.metadata.json'), await fs.readFile(path.join(copy.dir, 'metadata/v7.metadata.json')));
	// The hint still says 7 but v8 exists: v8 is current (Hadoop reads on), and it is not what the plan saw.
	await assert.rejects(iceberg.execute(plan), /changed since the plan \(current metadata is .*v8\.metadata\.json.*nothing was written/);
});

test('SQL catalog rollback on a copy: next 0000N-<uuid> file, catalog pointer swapped conditionally', async t => {
	const copy = await copyFixture('pyiceberg-v1-sqlcatalog-v3-upgrade');
	t.after(copy.remove);
	const ref = {ref: path.join(copy.dir, 'catalog.db'), table: 'repro.merch_v1'};
	const plan = await iceberg.plan(ref, '381223374871251311');
	assert.equal(plan.refusal, undefined);
	assert.deepEqual(plan.before, {files: 2, rows: 4, bytes: 2640});
	assert.deepEqual(plan.after, {files: 2, rows: 6, bytes: 2676});
	assert.equal(plan.filesReturning.length, 2);
	assert.equal(plan.filesLeaving.length, 2);
	assert.match((plan.commit as any).metadataFile, /^metadata\/00004-[\da-f-]{36}\.metadata\.json$/);
	const result = await iceberg.execute(plan);
	assert.equal(result.verified, true, JSON.stringify(result.checks));
	const db = new DatabaseSync(ref.ref, {readOnly: true});
	const row = db.prepare('SELECT metadata_location, previous_metadata_location FROM iceberg_tables').get() as any;
	db.close();
	assert.equal(row.metadata_location, `data/persistent/iceberg_v1_repro/repro/merch_v1/${(plan.commit as any).metadataFile}`);
	assert.match(row.previous_metadata_location, /00003-8d01e4aa/);
	const table = await openTable(ref);
	assert.equal(table.metadata.mainSnapshotId, '381223374871251311');
	assert.equal(table.metadata.formatVersion, 1);
});

test('a writer that creates the same next metadata file in the window before the write: put-if-absent fails cleanly', async t => {
	const copy = await copyFixture('hive-v2-position-deletes');
	t.after(copy.remove);
	const {LocalFileStore} = await import('../../../source/storage/local-file-store.js');
	let raced = false;
	const racing = new IcebergFormat({openStore(uri) {
		const store = new LocalFileStore(uri);
		const putIfAbsent = store.putIfAbsent.bind(store);
		store.putIfAbsent = async (file, body) => {
			if (!raced && file === 'metadata/v8.metadata.json') {
				raced = true;
				await putIfAbsent(file, Buffer.from('{"someone": "else"}'));
			}

			return putIfAbsent(file, body);
		};

		return store;
	}});
	const plan = await racing.plan({ref: copy.dir}, '7508485421322116327');
	await assert.rejects(racing.execute(plan), /v8\.metadata\.json: another writer committed this version first; nothing was changed/);
	assert.ok(raced);
	assert.equal((await fs.readFile(path.join(copy.dir, 'metadata/version-hint.txt'), 'utf8')).trim(), '7', 'the hint is untouched');
	assert.equal(await fs.readFile(path.join(copy.dir, 'metadata/v8.metadata.json'), 'utf8'), '{"someone": "else"}');
});
