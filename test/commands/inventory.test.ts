import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/run-cli.js';
import {startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';

let drill: DrillFixture;
let flags: string[];

before(async () => {
	drill = await startDrillWorld({objects: 300});
	flags = ['--kubeconfig', drill.world.kubeconfigPath, '--s3-endpoint', drill.world.provider.endpoint];
}, {timeout: 300_000});

after(async () => {
	await drill?.stop();
});

type Json = Record<string, any>;

test('inventory --json on the drill world: the three layers, hazards, no credential', {timeout: 300_000}, async () => {
	const result = await runCli(['inventory', '--json', ...flags], {env: drill.env});
	assert.equal(result.code, 0, result.stderr);
	const inventory = JSON.parse(result.stdout) as Json;
	assert.deepEqual(Object.keys(inventory), ['volumes', 'mirrors', 'tables', 'hazards']);
	assert.equal(inventory['volumes'].provider.claim, 'data-ilum-objectstorage-0');
	assert.ok(inventory['volumes'].snapshots.length > 0);
	assert.ok(inventory['volumes'].checks.every((check: Json) => check.ok), JSON.stringify(inventory['volumes'].checks));
	assert.equal(inventory['mirrors'].cron.name, 'ilum-objectstorage-backup');
	assert.equal(inventory['mirrors'].cron.remove, true);
	assert.equal(inventory['mirrors'].buckets.length, 7);
	assert.ok(inventory['mirrors'].buckets.some((bucket: Json) => bucket.provider.objects > 0 && !bucket.error));
	const formats = new Set(inventory['tables'].tables.map((table: Json) => table.format));
	assert.deepEqual([...formats].sort(), ['delta', 'ducklake', 'iceberg']);
	for (const secret of [drill.world.provider.secretAccessKey, drill.world.backup.secretAccessKey, 'drill-admin-token']) {
		assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret), 'no credential in the output');
	}
});

test('every table\'s ref is accepted by history as is', {timeout: 300_000}, async () => {
	const result = await runCli(['inventory', '--json', ...flags], {env: drill.env});
	const tables = (JSON.parse(result.stdout) as Json)['tables'].tables as Json[];
	for (const format of ['delta', 'iceberg', 'ducklake']) {
		const table = tables.find(candidate => candidate.format === format)!;
		// eslint-disable-next-line no-await-in-loop
		const history = await runCli(['history', table['ref'], ...(table['table'] ? ['--table', table['table']] : []), '--json', '--s3-endpoint', drill.world.provider.endpoint], {env: {...drill.env, AWS_ACCESS_KEY_ID: drill.world.provider.accessKeyId, AWS_SECRET_ACCESS_KEY: drill.world.provider.secretAccessKey}});
		assert.equal(history.code, 0, `${format}: ${history.stderr}`);
		assert.match(history.stdout, new RegExp(`"current":"?${table['current']}`), format);
	}
});

test('without --json: a readable summary with the hazards first', {timeout: 300_000}, async () => {
	const result = await runCli(['inventory', ...flags], {env: drill.env});
	assert.equal(result.code, 0, result.stderr);
	assert.match(result.stdout, /^Hazards\n/);
	assert.match(result.stdout, /Volume snapshots \(claim data-ilum-objectstorage-0\)/);
	assert.match(result.stdout, /CronJob ilum-objectstorage-backup: 0 \* \* \* \*, with --remove/);
	assert.match(result.stdout, /\nTables\n/);
});

test('a cluster that does not answer, or an unknown context: one line saying what to do, exit 1', {timeout: 120_000}, async () => {
	const kubeconfig = path.join(os.tmpdir(), `unreachable-${process.pid}.kubeconfig`);
	await fs.writeFile(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:45999"}}]\nusers: [{name: u, user: {token: abc}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
	try {
		const result = await runCli(['inventory', '--json', '--kubeconfig', kubeconfig], {env: drill.env});
		assert.equal(result.code, 1);
		assert.equal(result.stdout, '');
		assert.equal(result.stderr.trim().split('\n').length, 1);
		assert.match(result.stderr, /The Kubernetes API at https:\/\/127\.0\.0\.1:45999 is unreachable \(ECONNREFUSED\): check the context/);
	} finally {
		await fs.rm(kubeconfig, {force: true});
	}

	const result = await runCli(['inventory', '--json', '--context', 'nope', '--kubeconfig', drill.world.kubeconfigPath], {env: drill.env});
	assert.equal(result.code, 1);
	assert.equal(result.stderr.trim().split('\n').length, 1);
	assert.match(result.stderr, /no context 'nope'/);
});

test('expired credentials (401): one line saying to log in again, exit 1', {timeout: 120_000}, async () => {
	const original = await fs.readFile(drill.world.kubeconfigPath, 'utf8');
	assert.match(original, /drill-admin-token/);
	const kubeconfig = path.join(os.tmpdir(), `expired-${process.pid}.kubeconfig`);
	// The drill names the identity in the server path (/as/admin) and by token: drop the one, spoil the other.
	await fs.writeFile(kubeconfig, original.replaceAll('drill-admin-token', 'expired-token').replaceAll(/\/as\/[\w%-]+/g, ''));
	try {
		const result = await runCli(['inventory', '--json', '--kubeconfig', kubeconfig, '--s3-endpoint', drill.world.provider.endpoint], {env: drill.env});
		assert.equal(result.code, 1);
		assert.equal(result.stderr.trim().split('\n').length, 1);
		assert.match(result.stderr, /rejected the credentials \(401\).*log in again/);
		assert.doesNotMatch(result.stderr, /expired-token/);
	} finally {
		await fs.rm(kubeconfig, {force: true});
	}
});
