import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {after, describe, test} from 'node:test';
import {DuckDBInstance} from '@duckdb/node-api';
import {DeltaFormat} from '../../../source/formats/delta/index.js';
import {writeDemoTable} from '../../../source/formats/delta/writer.js';
import {formatEnvironment} from '../../../source/formats/index.js';
import {LocalFileStore} from '../../../source/storage/local-file-store.js';
import {deleteCommits} from './fixtures.js';

const directories: string[] = [];
after(async () => {
	await Promise.all(directories.map(async directory => fs.rm(directory, {recursive: true, force: true})));
});

async function temporary(): Promise<string> {
	const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-writer-'));
	directories.push(directory);
	return directory;
}

const delta = new DeltaFormat(formatEnvironment());
const operations = ['WRITE', 'WRITE', 'WRITE', 'DELETE', 'WRITE', 'ADD COLUMNS', 'WRITE', 'SET TBLPROPERTIES', 'DELETE', 'WRITE', 'WRITE', 'WRITE'];

async function duckCount(directory: string, files: readonly string[]): Promise<number> {
	const instance = await DuckDBInstance.create(':memory:');
	const connection = await instance.connect();
	const list = files.map(file => `'${path.join(directory, file)}'`).join(', ');
	const reader = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet([${list}], union_by_name = true)`);
	connection.closeSync();
	instance.closeSync();
	return Number(reader.getRows()[0]![0]);
}

describe('Delta table writer (tests and the drill world)', () => {
	test('12 versions of real Parquet: appends, deletes, a schema change, an overwrite; checkpoints every 5', async () => {
		const directory = await temporary();
		const writer = await writeDemoTable(new LocalFileStore(directory), {checkpointEvery: 5});
		const history = await delta.history({ref: directory});
		assert.deepEqual(history.entries.map(entry => entry.operation), operations);
		assert.ok(history.entries.every(entry => entry.restorable));
		assert.equal(history.current, '11');
		const log = await fs.readdir(path.join(directory, '_delta_log'));
		assert.ok(log.includes('00000000000000000005.checkpoint.parquet') && log.includes('00000000000000000010.checkpoint.parquet'));
		assert.equal(await duckCount(directory, writer.liveFiles()), writer.liveRows());
		const plan = await delta.plan({ref: directory}, '6');
		assert.deepEqual(plan.schemaChanges, ['table property delta.logRetentionDuration: interval 30 days -> (unset)']);
		const older = await delta.plan({ref: directory}, '4');
		assert.deepEqual(older.schemaChanges, ['column channel (string) is dropped', 'table property delta.logRetentionDuration: interval 30 days -> (unset)']);
		// 200 orders written by then, 40 of them cancelled and deleted at version 3.
		assert.equal(older.after.rows, 200);
		assert.equal(older.before.rows, writer.liveRows());
		// The checkpoints carry the state: with commits 0-4 gone, history starts at 5 and every version is still whole.
		await deleteCommits(directory, 0, 4);
		const trimmed = await delta.history({ref: directory});
		assert.deepEqual(trimmed.entries.map(entry => entry.id), ['5', '6', '7', '8', '9', '10', '11']);
		assert.ok(trimmed.entries.every(entry => entry.restorable));
		const result = await delta.execute(await delta.plan({ref: directory}, '5'));
		assert.equal(result.verified, true, JSON.stringify(result.checks));
	});

	test('vacuumed: VACUUM START/END commits, only versions whose files survive are restorable', async () => {
		const directory = await temporary();
		await writeDemoTable(new LocalFileStore(directory), {vacuum: true});
		const history = await delta.history({ref: directory});
		assert.deepEqual(history.entries.map(entry => entry.operation), [...operations, 'VACUUM START', 'VACUUM END']);
		assert.deepEqual(history.entries.map(entry => entry.restorable), [false, false, false, false, false, false, false, false, false, true, true, true, true, true]);
		const refused = await delta.plan({ref: directory}, '4');
		assert.match(refused.refusal!, /not all files of version 4 exist/);
		const plan = await delta.plan({ref: directory}, '10');
		assert.equal(plan.refusal, undefined);
		assert.equal((await delta.execute(plan)).verified, true);
	});
});
