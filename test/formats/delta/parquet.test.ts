import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {DuckDBInstance} from '@duckdb/node-api';
import {readParquetActions} from '../../../source/formats/delta/parquet.js';

test('checkpoint actions from Parquet: longs as numbers, absent fields dropped, null partition values kept', async () => {
	const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-parquet-'));
	try {
		const file = path.join(directory, 'checkpoint.parquet');
		const instance = await DuckDBInstance.create(':memory:');
		const connection = await instance.connect();
		await connection.run(`COPY (
			SELECT {'path': 'day=__HIVE_DEFAULT_PARTITION__/part-0.parquet', 'partitionValues': MAP {'day': NULL::VARCHAR}, 'size': 1234::BIGINT, 'modificationTime': 1700000000000::BIGINT, 'dataChange': false, 'stats': NULL::VARCHAR} AS add, NULL::STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER) AS protocol
			UNION ALL
			SELECT NULL, {'minReaderVersion': 1, 'minWriterVersion': 2}
		) TO '${file}' (FORMAT parquet)`);
		connection.closeSync();
		instance.closeSync();
		const actions = await readParquetActions(new Uint8Array(await fs.readFile(file)), ['add', 'protocol', 'metaData']);
		assert.deepEqual(actions, [
			{add: {path: 'day=__HIVE_DEFAULT_PARTITION__/part-0.parquet', partitionValues: {day: null}, size: 1234, modificationTime: 1_700_000_000_000, dataChange: false}},
			{protocol: {minReaderVersion: 1, minWriterVersion: 2}},
		]);
	} finally {
		await fs.rm(directory, {recursive: true, force: true});
	}
});
