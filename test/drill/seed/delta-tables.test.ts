import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {clusterSeeder} from '../../../source/drill/seed/cluster.js';
import {deltaTablesSeeder} from '../../../source/drill/seed/delta-tables.js';
import {historySeeder} from '../../../source/drill/seed/history-seeder.js';
import {startDrillWorld, type DrillFixture} from '../../helpers/drill-world.js';
import {runCli} from '../../helpers/run-cli.js';

let drill: DrillFixture;
let env: NodeJS.ProcessEnv;

before(async () => {
	// Without the random object churn of the objects seeder: it also deletes and rewrites keys in
	// ilum-tables, table files included (reported to the drill world's owner).
	drill = await startDrillWorld({seeders: [clusterSeeder, deltaTablesSeeder, historySeeder]});
	const {endpoint, accessKeyId, secretAccessKey} = drill.world.provider;
	env = {AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: 'us-east-1'};
});

after(async () => {
	await drill?.stop();
});

type History = {current: string; entries: Array<{id: string; operation: string; restorable: boolean; timestamp: string}>};

describe('drill world: Delta tables in ilum-tables', () => {
	test('delta/orders: 12 versions spread over the day, checkpointed, all restorable', async () => {
		const result = await runCli(['history', 's3://ilum-tables/delta/orders', '--json'], {env});
		assert.equal(result.code, 0, result.stderr);
		const history = JSON.parse(result.stdout) as History;
		assert.equal(history.entries.length, 12);
		assert.deepEqual(new Set(history.entries.map(entry => entry.operation)), new Set(['WRITE', 'DELETE', 'ADD COLUMNS', 'SET TBLPROPERTIES']));
		assert.ok(history.entries.every(entry => entry.restorable));
		const first = Date.parse(history.entries[0]!.timestamp);
		const last = Date.parse(history.entries.at(-1)!.timestamp);
		assert.ok(last - first > 12 * 3_600_000, 'versions span most of the day');
		const {stdout} = await drill.aws('provider', ['s3', 'ls', 's3://ilum-tables/delta/orders/_delta_log/']);
		assert.match(stdout, /00000000000000000005\.checkpoint\.parquet/);
		assert.match(stdout, /00000000000000000010\.checkpoint\.parquet/);
		const plan = await runCli(['restore', 'table', 's3://ilum-tables/delta/orders', '--to', '4', '--dry-run'], {env});
		assert.equal(plan.code, 0, plan.stderr);
		assert.match(plan.stdout, /column channel \(string\) is dropped/);
	});

	test('delta/order_events: VACUUMed, so only the versions after it keep their files', async () => {
		const result = await runCli(['history', 's3://ilum-tables/delta/order_events', '--json'], {env});
		assert.equal(result.code, 0, result.stderr);
		const history = JSON.parse(result.stdout) as History;
		assert.ok(history.entries.some(entry => entry.operation === 'VACUUM START'));
		assert.ok(history.entries.some(entry => entry.operation === 'VACUUM END'));
		assert.equal(history.entries[0]!.restorable, false);
		assert.equal(history.entries.at(-1)!.restorable, true);
		const refused = await runCli(['restore', 'table', 's3://ilum-tables/delta/order_events', '--to', '1', '--yes'], {env});
		assert.equal(refused.code, 3);
		assert.match(refused.stderr, /not all files of version 1 exist/);
	});
});
