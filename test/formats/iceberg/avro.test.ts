import assert from 'node:assert/strict';
import {test} from 'node:test';
import {readAvro, snappyDecompress, writeAvro} from '../../../source/formats/iceberg/avro.js';
import {manifestFileSchema} from '../../../source/drill/catalogs/iceberg-writer.js';

test('Avro round trip keeps 64-bit ids exact (BigInt) and a selection decodes only what it names', () => {
	const id = 9_223_372_036_854_775_807n;
	const record = {manifest_path: 's3://b/t/metadata/m0.avro', manifest_length: 4096, partition_spec_id: 0, content: 1, sequence_number: 7, min_sequence_number: 3, added_snapshot_id: id, added_files_count: 1, existing_files_count: 0, deleted_files_count: 0, added_rows_count: 10, existing_rows_count: 0, deleted_rows_count: 0, partitions: null, key_metadata: null};
	for (const codec of ['null', 'deflate'] as const) {
		const bytes = writeAvro(manifestFileSchema, [record, {...record, added_snapshot_id: 1n}], {codec, meta: {'snapshot-id': String(id)}});
		const all = readAvro(bytes);
		assert.equal(all.header.codec, codec);
		assert.equal(all.header.meta['snapshot-id'], '9223372036854775807');
		assert.equal(all.records[0].added_snapshot_id, id);
		assert.equal(all.records[1].added_snapshot_id, 1n);
		const some = readAvro(bytes, {selection: {manifest_path: true, content: true}});
		assert.deepEqual(Object.keys(some.records[0]), ['manifest_path', 'content']);
		assert.equal(some.records[0].content, 1);
	}
});

test('Avro: not an Avro file, and a truncated one, are errors', () => {
	assert.throws(() => readAvro(Buffer.from('PAR1....')), /not an Avro file/);
	const bytes = writeAvro(manifestFileSchema, [], {codec: 'null'});
	assert.throws(() => readAvro(bytes.subarray(0, 20)), /truncated/);
});

test('snappy blocks (Avro codec snappy) decompress: literals and back references', () => {
	// "abc" as a literal, then a 6-byte copy from offset 3.
	assert.equal(snappyDecompress(Uint8Array.from([0x09, 0x08, 0x61, 0x62, 0x63, 0x09, 0x03])).toString(), 'abcabcabc');
	assert.throws(() => snappyDecompress(Uint8Array.from([0x04, 0x09, 0x05])), /corrupt snappy/);
});
