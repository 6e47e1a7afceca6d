import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {clusterSeeder} from '../../../source/drill/seed/cluster.js';
import {ducklakeConfigMap, ducklakeTablesSeeder, stopDuckLakeCatalogServers} from '../../../source/drill/seed/ducklake-tables.js';
import {historySeeder} from '../../../source/drill/seed/history-seeder.js';
import {startDrillWorld, type DrillFixture} from '../../helpers/drill-world.js';
import {runCli} from '../../helpers/run-cli.js';

let drill: DrillFixture;
let env: NodeJS.ProcessEnv;
let ref: string;
let files: string[];
const seeders = [clusterSeeder, ducklakeTablesSeeder, historySeeder];
const tableFiles = (world: DrillFixture['world']) => [...world.providerEndpoint.volume!.objects('ilum-ducklake').keys()].sort();

before(async () => {
	// Without the objects seeder's random churn: it also deletes and rewrites keys in
	// ilum-ducklake, table files included (reported to the drill world's owner).
	drill = await startDrillWorld({seeders});
	const {endpoint, accessKeyId, secretAccessKey} = drill.world.provider;
	env = {AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_REGION: 'us-east-1'};
	ref = drill.world.store.get('configmaps', drill.world.namespace, ducklakeConfigMap)!.data.ref as string;
	files = tableFiles(drill.world);
});

after(async () => {
	await drill?.stop();
	await stopDuckLakeCatalogServers();
});

type History = {current: string; entries: Array<{id: string; operation: string; restorable: boolean; timestamp: string; summary: {rows?: number}}>};

describe('drill world: a DuckLake catalog in Postgres with data in ilum-ducklake', () => {
	test('the ConfigMap names a ducklake:postgres: ref served on loopback', () => {
		assert.match(ref, /^ducklake:postgres:host=127\.0\.0\.1 port=\d+ dbname=postgres user=postgres$/);
	});

	test('three tables with 10+ snapshots spread over the day, every file in the bucket', async () => {
		for (const [table, operations] of [['main.orders', ['CREATE TABLE', 'INSERT', 'DELETE', 'ALTER TABLE', 'DELETE+INSERT']], ['analytics.daily_kpis', ['CREATE TABLE', 'INSERT', 'DELETE', 'ALTER TABLE', 'DELETE+INSERT']], ['main.job_events', ['CREATE TABLE', 'INSERT', 'DELETE']]] as const) {
			// eslint-disable-next-line no-await-in-loop
			const result = await runCli(['history', ref, '--table', table, '--json'], {env});
			assert.equal(result.code, 0, result.stderr);
			const history = JSON.parse(result.stdout) as History;
			assert.ok(history.entries.length >= 10, `${table}: ${history.entries.length} snapshots`);
			assert.deepEqual(new Set(history.entries.map(entry => entry.operation)), new Set(operations), table);
			assert.ok(history.entries.every(entry => entry.restorable), table);
			const span = Date.parse(history.entries.at(-1)!.timestamp) - Date.parse(history.entries[0]!.timestamp);
			assert.ok(span > 12 * 3_600_000, `${table}: snapshots span most of the day`);
		}

		const {stdout} = await drill.aws('provider', ['s3', 'ls', '--recursive', 's3://ilum-ducklake/lake/main/orders/']);
		assert.match(stdout, /main\/orders\/ducklake-[\da-f-]+-delete\.parquet/);
	});

	test('the same seed writes the same file names (no random UUIDs)', async () => {
		assert.ok(files.some(key => /^lake\/main\/orders\/ducklake-[\da-f-]{36}\.parquet$/.test(key)), files.join(' '));
		const again = await startDrillWorld({seeders});
		try {
			assert.deepEqual(tableFiles(again.world), files);
		} finally {
			await again.stop();
		}

		const other = await startDrillWorld({seeders, seed: 2});
		try {
			assert.notDeepEqual(tableFiles(other.world), files);
		} finally {
			await other.stop();
		}
	});

	test('main.orders restores to the snapshot before the overwrite, in the catalog server, verified from S3', async () => {
		const history = JSON.parse((await runCli(['history', ref, '--table', 'main.orders', '--json'], {env})).stdout) as History;
		const before = history.entries.at(-4)!;
		assert.equal(history.entries.at(-3)!.operation, 'DELETE+INSERT');
		const result = await runCli(['restore', 'table', ref, '--table', 'main.orders', '--to', before.id, '--yes', '--json'], {env});
		assert.equal(result.code, 0, result.stderr);
		const final = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {type: string; verified: boolean; checks: Array<{name: string; ok: boolean; detail: string}>};
		assert.equal(final.verified, true, JSON.stringify(final.checks));
		assert.match(final.checks.find(check => check.name === 'row count (Parquet footers)')!.detail, new RegExp(`^${before.summary.rows} rows`));
		const after = JSON.parse((await runCli(['history', ref, '--table', 'main.orders', '--json'], {env})).stdout) as History;
		assert.equal(after.entries.at(-1)!.operation, 'RESTORE');
		assert.equal(after.entries.at(-1)!.summary.rows, before.summary.rows);
	});
});
