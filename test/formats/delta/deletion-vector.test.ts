import assert from 'node:assert/strict';
import {describe, test} from 'node:test';
import {deletionVectorLocation, encodeRelativeDeletionVector, z85Decode, z85Encode} from '../../../source/formats/delta/deletion-vector.js';
import {liveFileFromAdd, resolveLogPath} from '../../../source/formats/delta/log.js';

describe('deletion vector descriptors', () => {
	test('z85 (ZeroMQ RFC 32 test vector) both ways', () => {
		const bytes = new Uint8Array([0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B]);
		assert.equal(z85Encode(bytes), 'HelloWorld');
		assert.deepEqual(z85Decode('HelloWorld'), bytes);
		assert.throws(() => z85Decode('Hello'.slice(0, 4)), /multiple of 5/);
	});

	test('u: the last 20 characters are the uuid, anything before is a folder prefix', () => {
		// From dv-with-columnmapping's commit 4 (a file Spark wrote).
		assert.deepEqual(deletionVectorLocation({storageType: 'u', pathOrInlineDv: 'GOBG7L]@&bKr%xe4PF6?'}), {kind: 'relative', path: 'deletion_vector_8486718a-9520-4eb1-9025-f0120e548361.bin'});
		const prefixed = encodeRelativeDeletionVector('01c31d5c-23dc-424f-9ca3-35af6cca28f1', 'ab');
		assert.deepEqual(deletionVectorLocation({storageType: 'u', pathOrInlineDv: prefixed}), {kind: 'relative', path: 'ab/deletion_vector_01c31d5c-23dc-424f-9ca3-35af6cca28f1.bin'});
	});

	test('p: an absolute path, needed inside the table root, unchecked outside; i: no file', () => {
		const root = 's3://ilum-tables/delta/orders';
		const inside = liveFileFromAdd({path: 'part-0.parquet', size: 1, deletionVector: {storageType: 'p', pathOrInlineDv: 's3a://ilum-tables/delta/orders/dv/x.bin', offset: 1, sizeInBytes: 10, cardinality: 2}}, root);
		assert.deepEqual(inside.needed, ['part-0.parquet', 'dv/x.bin']);
		assert.deepEqual(inside.external, []);
		const outside = liveFileFromAdd({path: 'part-0.parquet', size: 1, deletionVector: {storageType: 'p', pathOrInlineDv: 's3://elsewhere/x.bin', cardinality: 2}}, root);
		assert.deepEqual(outside.external, ['s3://elsewhere/x.bin']);
		const inline = liveFileFromAdd({path: 'part-0.parquet', size: 1, deletionVector: {storageType: 'i', pathOrInlineDv: 'wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L', sizeInBytes: 40, cardinality: 6}}, root);
		assert.deepEqual(inline.needed, ['part-0.parquet']);
	});

	test('log paths: URI-encoded relative paths and absolute URIs map onto the store', () => {
		assert.deepEqual(resolveLogPath('date=2024-01-01%2012%3A00/part-0.parquet', 'file:///t'), {relative: 'date=2024-01-01 12:00/part-0.parquet'});
		assert.deepEqual(resolveLogPath('file:/t/part-0.parquet', 'file:///t'), {relative: 'part-0.parquet'});
		assert.deepEqual(resolveLogPath('/t/part-0.parquet', 'file:///t'), {relative: 'part-0.parquet'});
		assert.deepEqual(resolveLogPath('hdfs://namenode/t/part-0.parquet', 'file:///t'), {external: 'hdfs://namenode/t/part-0.parquet'});
	});
});
