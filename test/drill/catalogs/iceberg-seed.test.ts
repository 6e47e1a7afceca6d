import assert from 'node:assert/strict';
import {test} from 'node:test';
import {clusterSeeder} from '../../../source/drill/seed/cluster.js';
import {icebergConfigMap, icebergTablesSeeder, stopIcebergCatalogServers} from '../../../source/drill/seed/iceberg-tables.js';
import {formatEnvironment} from '../../../source/formats/index.js';
import {IcebergFormat} from '../../../source/formats/iceberg/index.js';
import {startDrillWorld} from '../../helpers/drill-world.js';

test('the drill world seeds two Iceberg tables in its REST catalog, in ilum-tables, with 10+ restorable snapshots', {timeout: 240_000}, async t => {
	const drill = await startDrillWorld({objects: 0, seeders: [clusterSeeder, icebergTablesSeeder]});
	t.after(async () => {
		await stopIcebergCatalogServers();
		await drill.stop();
	});
	const configMap = drill.world.store.get('configmaps', 'ilum', icebergConfigMap) as any;
	assert.ok(configMap, 'the catalog ConfigMap exists');
	assert.equal(configMap.data.warehouse, 's3://ilum-tables/warehouse');
	const {endpoint, accessKeyId, secretAccessKey} = drill.world.provider;
	const environment = formatEnvironment({s3Endpoint: endpoint, env: {AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey}});
	const iceberg = new IcebergFormat({openStore: environment.openStore});
	const orders = await iceberg.history({ref: configMap.data.ref, table: 'sales.orders'});
	assert.equal(orders.entries.length, 12);
	assert.deepEqual([...new Set(orders.entries.map(entry => entry.operation))].sort(), ['append', 'delete', 'overwrite']);
	assert.ok(orders.entries.every(entry => entry.restorable));
	assert.deepEqual([...new Set(orders.entries.map(entry => entry.summary['schema-id']))], [0, 1]);
	// The same table named by its S3 prefix (no catalog, no hint: the newest 000NN-<uuid> file).
	const viaPath = await iceberg.history({ref: 's3://ilum-tables/warehouse/sales/orders'});
	assert.deepEqual(viaPath.entries.map(entry => [entry.id, entry.restorable]), orders.entries.map(entry => [entry.id, true]));
	assert.equal(viaPath.current, orders.current);
	const runs = await iceberg.history({ref: configMap.data.ref, table: 'analytics.job_runs'});
	assert.equal(runs.entries.length, 12);
	// Snapshots are spread over the simulated day.
	const first = Date.parse(orders.entries[0]!.timestamp);
	const last = Date.parse(orders.entries.at(-1)!.timestamp);
	assert.ok(last - first > 10 * 3_600_000, `${orders.entries[0]!.timestamp} .. ${orders.entries.at(-1)!.timestamp}`);
	// A restore through the world's catalog works and verifies against Parquet in the bucket.
	const result = await iceberg.execute(await iceberg.plan({ref: configMap.data.ref, table: 'sales.orders'}, orders.entries[4]!.id));
	assert.equal(result.verified, true, JSON.stringify(result.checks));
	assert.ok(result.checks.some(check => check.name === 'parquet footers' && /rows in the footers of 5 data files/.test(check.detail)));
});

test('the catalog can be resumed over the same bucket (a world loaded from its state dir): same tables, same history', {timeout: 240_000}, async t => {
	const drill = await startDrillWorld({objects: 0, seeders: [clusterSeeder, icebergTablesSeeder]});
	t.after(async () => {
		await stopIcebergCatalogServers();
		await drill.stop();
	});
	const configMap = drill.world.store.get('configmaps', 'ilum', icebergConfigMap) as any;
	const {endpoint, accessKeyId, secretAccessKey} = drill.world.provider;
	const environment = formatEnvironment({s3Endpoint: endpoint, env: {AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey}});
	const iceberg = new IcebergFormat({openStore: environment.openStore});
	const before = await iceberg.history({ref: configMap.data.ref, table: 'analytics.job_runs'});
	await stopIcebergCatalogServers();
	const port = Number(new URL(configMap.data.ref).port);
	const {resumeIcebergCatalog} = await import('../../../source/drill/seed/iceberg-tables.js');
	const server = await resumeIcebergCatalog({client: environment.s3(), url: endpoint}, {port});
	assert.equal(server.url, configMap.data.ref);
	const after = await iceberg.history({ref: server.url, table: 'analytics.job_runs'});
	assert.deepEqual(after, before);
});
