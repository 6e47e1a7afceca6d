import assert from 'node:assert/strict';
import {test} from 'node:test';
import {AvroRows, readAvro, selectionLeaves, snappyDecompress, writeAvro, type FieldSelection} from '../../../source/formats/iceberg/avro.js';
import {manifestEntrySchema, manifestFileSchema} from '../../../source/drill/catalogs/iceberg-writer.js';

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

const entry = (status: number, path: string, extra: Record<string, unknown> = {}) => ({
	status,
	snapshot_id: 9_223_372_036_854_775_807n,
	sequence_number: 5,
	file_sequence_number: null,
	data_file: {
		content: 1, file_path: path, file_format: 'PARQUET', partition: {}, record_count: 2 ** 40, file_size_in_bytes: 4096,
		column_sizes: [{key: 1, value: 10}, {key: 2, value: 20}], value_counts: null, null_value_counts: null, nan_value_counts: null,
		lower_bounds: [{key: 1, value: Buffer.from([1, 2, 3])}], upper_bounds: null, key_metadata: Buffer.from('k'), split_offsets: [4, 99],
		equality_ids: null, sort_order_id: 0, ...extra,
	},
});

test('Avro rows: only the selected leaves, read past every other field (maps, arrays, unions, bytes), in both codecs', () => {
	const selection: FieldSelection = {status: true, data_file: {content: true, file_path: true, record_count: true, sort_order_id: true, content_size_in_bytes: true}};
	assert.deepEqual(selectionLeaves(selection), ['status', 'data_file.content', 'data_file.file_path', 'data_file.record_count', 'data_file.sort_order_id', 'data_file.content_size_in_bytes']);
	for (const codec of ['null', 'deflate'] as const) {
		const records = [entry(1, 's3://b/t/data/ä-1.parquet'), entry(2, 's3://b/t/data/2.parquet', {sort_order_id: null}), entry(0, 'x')];
		const rows = new AvroRows(writeAvro(manifestEntrySchema, records, {codec, meta: {'format-version': '2'}}), selection, `test-${codec}`);
		assert.equal(rows.meta['format-version'], '2');
		const seen: unknown[] = [];
		while (rows.next()) {
			seen.push([rows.number(0), rows.number(1), rows.text(2), rows.number(3), rows.number(4), rows.number(5)]);
		}

		// A leaf the writer's schema lacks (content_size_in_bytes, v3) and a null union branch are undefined.
		assert.deepEqual(seen, [[1, 1, 's3://b/t/data/ä-1.parquet', 2 ** 40, 0, undefined], [2, 1, 's3://b/t/data/2.parquet', 2 ** 40, undefined, undefined], [0, 1, 'x', 2 ** 40, 0, undefined]]);
	}
});

test('Avro rows: array blocks written with their byte size (negative counts) are read past; a truncated block is an error', () => {
	const schema = {type: 'record', name: 'r', fields: [{name: 'numbers', type: {type: 'array', items: 'long'}}, {name: 'name', type: 'string'}]};
	// numbers: one block of -2 items (2 bytes: 1, 2), the end block; name: "hi".
	const record = Buffer.from([0x03, 0x04, 0x02, 0x04, 0x00, 0x04, 0x68, 0x69]);
	const container = (body: Buffer) => {
		const empty = Buffer.from(writeAvro(schema, [], {codec: 'null'}));
		return Buffer.concat([empty, Buffer.from([0x02, body.length * 2]), body, empty.subarray(-16)]);
	};

	const rows = new AvroRows(container(record), {name: true}, 'test-blocks');
	assert.ok(rows.next());
	assert.equal(rows.text(0), 'hi');
	assert.equal(rows.next(), false);
	assert.throws(() => {
		const truncated = new AvroRows(container(record.subarray(0, 6)), {name: true}, 'test-blocks');
		truncated.next();
	}, /truncated/);
});

test('Avro rows: a recursive schema is read too (its nested records skipped whole)', () => {
	const schema = {type: 'record', name: 'Node', fields: [{name: 'value', type: 'long'}, {name: 'next', type: ['null', 'Node']}, {name: 'label', type: 'string'}]};
	const records = [{value: 1, next: {value: 2, next: {value: 3, next: null, label: 'c'}, label: 'b'}, label: 'a'}, {value: -7, next: null, label: 'z'}];
	const rows = new AvroRows(writeAvro(schema, records), {value: true, label: true}, 'test-recursive');
	const seen: unknown[] = [];
	while (rows.next()) {
		seen.push([rows.number(0), rows.text(1)]);
	}

	assert.deepEqual(seen, [[1, 'a'], [-7, 'z']]);
});
