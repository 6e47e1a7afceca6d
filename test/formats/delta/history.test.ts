import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {after, describe, test} from 'node:test';
import {DuckDBInstance} from '@duckdb/node-api';
import {historyFromLog} from '../../../source/formats/delta/index.js';
import {readDeltaLog} from '../../../source/formats/delta/log.js';
import {LocalFileStore} from '../../../source/storage/local-file-store.js';
import {copyFixture, deleteCommits, fixture} from './fixtures.js';

async function history(dir: string) {
	const log = await readDeltaLog(new LocalFileStore(dir));
	return historyFromLog(log, dir);
}

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
	await Promise.all(cleanups.map(async cleanup => cleanup()));
});

async function copy(name: string) {
	const copied = await copyFixture(name);
	cleanups.push(copied.remove);
	return copied.dir;
}

/** Live file keys at every version, by replaying the full log (the reference for checkpoint reads). */
async function liveKeys(dir: string, version: number): Promise<string[]> {
	const log = await readDeltaLog(new LocalFileStore(dir), {capture: () => [version]});
	return [...log.captured.get(version)!.files.keys()].sort();
}

describe('Delta history on tables other engines wrote', () => {
	test('simple_table: five versions, operations from commitInfo, the .tmp/ file is not a version', async () => {
		const result = await history(fixture('simple_table'));
		assert.equal(result.format, 'delta');
		assert.equal(result.current, '4');
		assert.deepEqual(result.entries.map(entry => entry.id), ['0', '1', '2', '3', '4']);
		assert.deepEqual(result.entries.map(entry => entry.operation), ['WRITE', 'MERGE', 'WRITE', 'UPDATE', 'DELETE']);
		assert.deepEqual(result.entries.map(entry => entry.restorable), [true, true, true, true, true]);
		assert.deepEqual(result.entries.map(entry => entry.current), [false, false, false, false, true]);
		assert.equal(result.entries[0]!.timestamp, new Date(1_587_968_586_154).toISOString());
		assert.equal(result.entries[0]!.parent, undefined);
		assert.equal(result.entries[3]!.parent, '2');
		assert.equal(result.entries[1]!.summary['liveFiles'], 22);
	});

	test('simple_table_with_checkpoint: versions 0-10, all restorable', async () => {
		const result = await history(fixture('simple_table_with_checkpoint'));
		assert.equal(result.current, '10');
		assert.equal(result.entries.length, 11);
		assert.ok(result.entries.every(entry => entry.operation === 'WRITE' && entry.restorable));
		assert.equal(result.entries[10]!.summary['liveFiles'], 11);
	});

	test('snapshot-vacuumed: only the current version is restorable, and the reason names the missing files', async () => {
		const result = await history(fixture('snapshot-vacuumed'));
		assert.equal(result.current, '5');
		assert.deepEqual(result.entries.map(entry => entry.operation), ['WRITE', 'WRITE', 'WRITE', 'WRITE', 'DELETE', 'WRITE']);
		assert.deepEqual(result.entries.map(entry => entry.restorable), [false, false, false, false, false, true]);
		assert.match(result.entries[0]!.reason!, /2 files missing.*part-00000-0441e99a-c421-400e-83a1-212aa6c84c73-c000\.snappy\.parquet/);
		assert.match(result.entries[4]!.reason!, /3 files missing.*part-00000-d83dafd8/);
		assert.equal(result.entries[5]!.reason, undefined);
	});

	test('multi-part-checkpoint: two versions', async () => {
		const result = await history(fixture('multi-part-checkpoint'));
		assert.deepEqual(result.entries.map(entry => [entry.id, entry.operation, entry.restorable]), [['0', 'WRITE', true], ['1', 'WRITE', true]]);
		assert.equal(result.current, '1');
	});

	test('dv-with-columnmapping: 16 versions, deletion vector files present, all restorable', async () => {
		const result = await history(fixture('dv-with-columnmapping'));
		assert.equal(result.current, '15');
		assert.deepEqual(result.entries.map(entry => entry.operation), ['WRITE', ...Array.from({length: 15}, () => 'DELETE')]);
		assert.ok(result.entries.every(entry => entry.restorable));
		assert.equal(result.entries[15]!.summary['numDeletionVectorsAdded'], '1');
	});

	test('checkpoint-v2-table: versions 0-9 from Databricks, .crc and _autostats ignored', async () => {
		const result = await history(fixture('checkpoint-v2-table'));
		assert.equal(result.current, '9');
		assert.deepEqual(result.entries.map(entry => entry.operation), ['CREATE TABLE', 'WRITE', 'WRITE', 'WRITE', 'WRITE', 'SET TBLPROPERTIES', 'WRITE', 'WRITE', 'WRITE', 'WRITE']);
		assert.ok(result.entries.every(entry => entry.restorable));
		assert.equal(result.entries[9]!.summary['liveFiles'], 8);
	});
});

describe('Delta history when old commits were cleaned up (checkpoints must carry the state)', () => {
	test('classic checkpoint: only commit 10 left, state read from 10.checkpoint.parquet', async () => {
		const dir = await copy('simple_table_with_checkpoint');
		const expected = await liveKeys(fixture('simple_table_with_checkpoint'), 10);
		await deleteCommits(dir, 0, 9);
		const result = await history(dir);
		assert.deepEqual(result.entries.map(entry => [entry.id, entry.restorable]), [['10', true]]);
		assert.deepEqual(await liveKeys(dir, 10), expected);
	});

	test('commits gone with no checkpoint before them: listed, not restorable, with the reason', async () => {
		const dir = await copy('simple_table_with_checkpoint');
		await deleteCommits(dir, 0, 4);
		const result = await history(dir);
		assert.deepEqual(result.entries.map(entry => entry.id), ['5', '6', '7', '8', '9', '10']);
		assert.deepEqual(result.entries.map(entry => entry.restorable), [false, false, false, false, false, true]);
		assert.match(result.entries[0]!.reason!, /cleaned up and no checkpoint covers it/);
	});

	test('multi-part checkpoint: both parts read; an incomplete set is not a checkpoint', async () => {
		const dir = await copy('multi-part-checkpoint');
		const expected = await liveKeys(fixture('multi-part-checkpoint'), 1);
		await deleteCommits(dir, 0, 0);
		assert.deepEqual((await history(dir)).entries.map(entry => [entry.id, entry.restorable]), [['1', true]]);
		assert.deepEqual(await liveKeys(dir, 1), expected);
		assert.equal(expected.length, 10);
		await fs.rm(path.join(dir, '_delta_log', '00000000000000000001.checkpoint.0000000002.0000000002.parquet'));
		const broken = await history(dir);
		assert.deepEqual(broken.entries.map(entry => [entry.id, entry.restorable]), [['1', false]]);
	});

	test('V2 checkpoint: JSON top level plus a parquet sidecar', async () => {
		const dir = await copy('checkpoint-v2-table');
		const expected7 = await liveKeys(fixture('checkpoint-v2-table'), 7);
		const expected9 = await liveKeys(fixture('checkpoint-v2-table'), 9);
		await deleteCommits(dir, 0, 6);
		const result = await history(dir);
		assert.deepEqual(result.entries.map(entry => [entry.id, entry.restorable]), [['7', true], ['8', true], ['9', true]]);
		assert.deepEqual(await liveKeys(dir, 7), expected7);
		assert.deepEqual(await liveKeys(dir, 9), expected9);
		// Without its sidecar the checkpoint is unusable: the versions it carried cannot be rebuilt.
		await fs.rm(path.join(dir, '_delta_log', '_sidecars', '00000000000000000006.checkpoint.0000000001.0000000001.1a1516f4-8a39-48f0-9ccd-cc3790d824c7.parquet'));
		const broken = await history(dir);
		assert.deepEqual(broken.entries.map(entry => entry.restorable), [false, true, true]);
	});

	test('V2 checkpoint with a Parquet top level (its sidecar named in a sidecar column)', async () => {
		const dir = await copy('checkpoint-v2-table');
		const expected = await liveKeys(fixture('checkpoint-v2-table'), 9);
		const log = path.join(dir, '_delta_log');
		const name = '00000000000000000008.checkpoint.e5ac4dc4-be27-4106-8a55-609707487f83';
		const instance = await DuckDBInstance.create(':memory:');
		const connection = await instance.connect();
		const columns = {
			checkpointMetadata: 'STRUCT(version BIGINT)',
			sidecar: 'STRUCT(path VARCHAR, sizeInBytes BIGINT, modificationTime BIGINT)',
			protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])',
			metaData: 'STRUCT(id VARCHAR, format STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)',
		};
		const spec = Object.entries(columns).map(([column, type]) => `${column}: '${type}'`).join(', ');
		await connection.run(`COPY (SELECT * FROM read_json('${path.join(log, `${name}.json`)}', format = 'newline_delimited', columns = {${spec}})) TO '${path.join(log, `${name}.parquet`)}' (FORMAT parquet)`);
		connection.closeSync();
		instance.closeSync();
		await fs.rm(path.join(log, `${name}.json`));
		await deleteCommits(dir, 0, 8);
		const result = await history(dir);
		assert.deepEqual(result.entries.map(entry => [entry.id, entry.restorable]), [['9', true]]);
		assert.deepEqual(await liveKeys(dir, 9), expected);
	});

	test('parquet checkpoint with deletion vectors and column mapping', async () => {
		const dir = await copy('dv-with-columnmapping');
		const expected = await liveKeys(fixture('dv-with-columnmapping'), 12);
		await deleteCommits(dir, 0, 9);
		const result = await history(dir);
		assert.deepEqual(result.entries.map(entry => entry.id), ['10', '11', '12', '13', '14', '15']);
		assert.ok(result.entries.every(entry => entry.restorable));
		assert.deepEqual(await liveKeys(dir, 12), expected);
	});

	test('_last_checkpoint stale or absent changes nothing; a log compaction file is not a version', async () => {
		const dir = await copy('simple_table_with_checkpoint');
		await deleteCommits(dir, 0, 9);
		await fs.writeFile(path.join(dir, '_delta_log', '_last_checkpoint'), '{"version":3,"size":4}\n');
		await fs.writeFile(path.join(dir, '_delta_log', '00000000000000000010.00000000000000000010.compacted.json'), '{"add":{"path":"bogus.parquet","size":1,"partitionValues":{},"modificationTime":1,"dataChange":true}}\n');
		assert.deepEqual((await history(dir)).entries.map(entry => [entry.id, entry.restorable]), [['10', true]]);
		await fs.rm(path.join(dir, '_delta_log', '_last_checkpoint'));
		assert.deepEqual((await history(dir)).entries.map(entry => [entry.id, entry.restorable]), [['10', true]]);
	});
});

describe('Delta history: deletion vector files are files a version needs', () => {
	test('a missing deletion_vector_<uuid>.bin makes the versions using it unrestorable, named', async () => {
		const dir = await copy('dv-with-columnmapping');
		// Commit 4 adds this DV ("GOBG7L]@&bKr%xe4PF6?" in z85); commit 9 removes the file it belongs to.
		await fs.rm(path.join(dir, 'deletion_vector_8486718a-9520-4eb1-9025-f0120e548361.bin'));
		const result = await history(dir);
		assert.deepEqual(result.entries.map(entry => entry.restorable), [true, true, true, true, false, false, false, false, false, true, true, true, true, true, true, true]);
		assert.match(result.entries[4]!.reason!, /1 file missing.*deletion_vector_8486718a-9520-4eb1-9025-f0120e548361\.bin/);
	});
});
