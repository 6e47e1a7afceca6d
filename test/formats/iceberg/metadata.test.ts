import assert from 'node:assert/strict';
import {test} from 'node:test';
import {parseJson, PathMapper} from '../../../source/formats/iceberg/metadata.js';

test('parseJson keeps integers beyond 2^53 exact wherever they stand, and leaves the rest as JSON.parse does', () => {
	const text = '{"current-snapshot-id" : 9223372036854775807,"ids":[ -9223372036854775808 ,1234567890123456],"f":12345678901234567.5,"e":1234567890123456789e2,'
		+ '"list":"s3://b/t/metadata/snap-9223372036854775807-1-a.avro","refs":{"main":{"snapshot-id":4611686018427387904}}}';
	const value = parseJson(text);
	assert.equal(value['current-snapshot-id'], 9_223_372_036_854_775_807n);
	assert.deepEqual(value.ids, [-9_223_372_036_854_775_808n, 1_234_567_890_123_456]);
	assert.equal(value.f, 12_345_678_901_234_567.5);
	assert.equal(value.e, 1_234_567_890_123_456_789e2);
	assert.equal(value.list, 's3://b/t/metadata/snap-9223372036854775807-1-a.avro');
	assert.equal(value.refs.main['snapshot-id'], 4_611_686_018_427_387_904n);
	assert.equal(parseJson('9007199254740993'), 9_007_199_254_740_993n);
});

test('parseJson: digits inside strings that look like values, and NUL escapes, come back as written', () => {
	assert.deepEqual(parseJson('{"note":"x, 9223372036854775807]","id":9223372036854775807}'), {note: 'x, 9223372036854775807]', id: 9_223_372_036_854_775_807n});
	assert.deepEqual(parseJson('{"nul":"\\u00001234567890123456789","id":9223372036854775807}'), {nul: '\u00001234567890123456789', id: 9_223_372_036_854_775_807n});
	assert.throws(() => parseJson('{"id": 9223372036854775807,'));
});

test('PathMapper: the fast path for paths under the location as written agrees with normalizing', () => {
	const mapper = new PathMapper('s3://bucket/warehouse/t/');
	assert.equal(mapper.toRelative('s3://bucket/warehouse/t/data/a.parquet'), 'data/a.parquet');
	assert.equal(mapper.toRelative('s3a://bucket/warehouse/t/data//a.parquet'), 'data/a.parquet');
	assert.equal(mapper.toRelative('s3://bucket/warehouse/t//data/a.parquet'), 'data/a.parquet');
	assert.equal(mapper.toRelative('s3://bucket/warehouse/t/data/'), 'data');
	assert.equal(mapper.toRelative('s3://bucket/other/a.parquet'), undefined);
	assert.equal(mapper.toRelative('data/b.parquet'), 'data/b.parquet');
});
