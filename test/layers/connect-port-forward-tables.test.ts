import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {runCli} from '../helpers/run-cli.js';
import {startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';

/*
The tables layer, told nothing about S3 either: the Delta, Iceberg and DuckLake tables whose files
live on the provider are read through the port-forward.
*/

let drill: DrillFixture;
let stateDir: string;

before(async () => {
	drill = await startDrillWorld();
	stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-forward-tables-'));
}, {timeout: 300_000});

after(async () => {
	await drill?.stop();
	fs.rmSync(stateDir, {recursive: true, force: true});
});

test('inventory --json reads every table\'s history through the port-forward', {timeout: 300_000}, async () => {
	const env = {KUBECONFIG: drill.world.kubeconfigPath, HOME: stateDir, AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_S3: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: ''};
	const result = await runCli(['inventory', '--json', '--kubeconfig', drill.world.kubeconfigPath, '--state-dir', stateDir], {env, timeoutMs: 240_000});
	assert.equal(result.code, 0, result.stderr);
	const inventory = JSON.parse(result.stdout);
	assert.match(inventory.mirrors.provider.via, /^port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0$/);
	const tables: Array<{format: string; ref: string; current?: unknown; error?: string}> = inventory.tables.tables;
	assert.deepEqual([...new Set(tables.map(table => table.format))].sort(), ['delta', 'ducklake', 'iceberg']);
	assert.deepEqual(tables.filter(table => table.error).map(table => `${table.ref}: ${table.error}`), []);
	assert.deepEqual(inventory.tables.errors, []);
	assert.ok(tables.some(table => table.format === 'delta' && table.ref.startsWith('s3://ilum-tables/') && table.current !== undefined), JSON.stringify(tables));
});
