import {test} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {intervalMs} from '../../source/formats/retention.js';
import {deltaRetention} from '../../source/formats/delta/index.js';
import {icebergRetention} from '../../source/formats/iceberg/history.js';
import {runCli, projectRoot} from '../helpers/run-cli.js';

const fixtures = path.join(projectRoot, '../shared/fixtures/tables');

test('durations as the formats write them', () => {
	assert.equal(intervalMs('interval 30 days'), 30 * 86_400_000);
	assert.equal(intervalMs('interval 1 week'), 604_800_000);
	assert.equal(intervalMs('2 hours'), 7_200_000);
	assert.equal(intervalMs('1 week'), 604_800_000);
	assert.equal(intervalMs('soon'), undefined);
});

test('Delta keeps the shorter of log and file retention; unset values are the defaults', () => {
	assert.equal(deltaRetention(undefined).keepsMs, 7 * 86_400_000);
	assert.match(deltaRetention(undefined).settings['delta.deletedFileRetentionDuration']!, /default/);
	assert.equal(deltaRetention({'delta.deletedFileRetentionDuration': 'interval 2 days'}).keepsMs, 2 * 86_400_000);
	assert.equal(deltaRetention({'delta.logRetentionDuration': 'interval 1 day', 'delta.deletedFileRetentionDuration': 'interval 30 days'}).keepsMs, 86_400_000);
});

test('Iceberg expiry keeps history.expire.max-snapshot-age-ms, 5 days by default', () => {
	assert.equal(icebergRetention(undefined).keepsMs, 5 * 86_400_000);
	assert.equal(icebergRetention({'history.expire.max-snapshot-age-ms': '3600000'}).keepsMs, 3_600_000);
});

test('history --json carries the retention of real tables', async () => {
	const delta = await runCli(['history', path.join(fixtures, 'delta/simple_table'), '--json']);
	assert.equal(delta.code, 0, delta.stderr);
	assert.equal(JSON.parse(delta.stdout).retention.keepsMs, 7 * 86_400_000);
	const iceberg = await runCli(['history', path.join(fixtures, 'iceberg/spark-v1-gzip-metadata'), '--json']);
	assert.equal(iceberg.code, 0, iceberg.stderr);
	assert.ok('history.expire.max-snapshot-age-ms' in JSON.parse(iceberg.stdout).retention.settings);
});
