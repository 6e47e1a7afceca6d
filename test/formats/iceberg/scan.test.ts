import assert from 'node:assert/strict';
import {test} from 'node:test';
import {PathTable} from '../../../source/formats/iceberg/scan.js';

test('PathTable: thousands of paths (short, long, sharing prefixes and endings) each get one index, found again from any buffer', () => {
	const table = new PathTable();
	const paths: string[] = [];
	for (let index = 0; index < 6000; index++) {
		const kind = index % 4;
		paths.push(kind === 0
			? `s3://bucket/warehouse/db/t/metadata/${index.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000-m0.avro`
			: kind === 1 ? `p${index}`
				: kind === 2 ? `data/part=${index}/00000-0-same-ending-for-all-of-these-files.parquet`
					: `data/é/${'x'.repeat(index % 97)}${index}.parquet`);
	}

	const indices = paths.map(path => {
		// Each path somewhere inside a larger buffer, as in a decoded block.
		const buffer = Buffer.concat([Buffer.from('prefix bytes '), Buffer.from(path), Buffer.from(' suffix')]);
		return table.intern(buffer, 13, 13 + Buffer.byteLength(path));
	});
	assert.deepEqual(indices, paths.map((_path, index) => index));
	assert.equal(table.size, paths.length);
	for (const [index, path] of paths.entries()) {
		const bytes = Buffer.from(path);
		assert.equal(table.intern(bytes, 0, bytes.length), index);
		assert.equal(table.text(index), path);
	}

	assert.equal(table.size, paths.length);
});
