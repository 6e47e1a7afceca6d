import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {chooseTableS3} from '../../source/layers/table-environment.js';
import {clusterSeeder} from '../../source/drill/seed/cluster.js';
import {deltaTablesSeeder} from '../../source/drill/seed/delta-tables.js';
import {historySeeder} from '../../source/drill/seed/history-seeder.js';
import {runCli} from '../helpers/run-cli.js';
import {startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';

/*
`history` and `restore table` on an `s3://` ref: AWS unless the operator points at the cluster
(--kubeconfig/--context, or nothing configures AWS here); then the cluster's provider, through the
same route as the console (a port-forward in the drill, which nobody tells its endpoint).
*/

describe('which S3 an s3:// ref is read on', () => {
	const home = '/home/op';
	const none = () => false;
	const awsFiles = (file: string) => file.startsWith('/home/op/.aws/');
	const kubeFile = (file: string) => file === '/home/op/.kube/config';
	const ref = 's3://ilum-tables/delta/orders';

	test('an endpoint given (flag or variable) or an AWS profile: never the cluster', () => {
		assert.deepEqual(chooseTableS3({ref, flags: {s3Endpoint: 'http://x:9000', kubeconfig: '/k'}, env: {}, home, exists: none}), {provider: false});
		assert.deepEqual(chooseTableS3({ref, flags: {context: 'prod'}, env: {AWS_ENDPOINT_URL: 'http://x:9000'}, home, exists: none}), {provider: false});
		assert.deepEqual(chooseTableS3({ref, flags: {context: 'prod'}, env: {AWS_PROFILE: 'data'}, home, exists: none}), {provider: false});
	});

	test('--kubeconfig or --context: the cluster, even with AWS keys around', () => {
		assert.deepEqual(chooseTableS3({ref, flags: {kubeconfig: '/k'}, env: {AWS_ACCESS_KEY_ID: 'a'}, home, exists: awsFiles}), {provider: true, reason: 'kube-flags'});
		assert.deepEqual(chooseTableS3({ref, flags: {context: 'prod'}, env: {}, home, exists: none}), {provider: true, reason: 'kube-flags'});
	});

	test('no flags: the cluster only when nothing configures AWS and a kubeconfig exists', () => {
		assert.deepEqual(chooseTableS3({ref, flags: {}, env: {KUBECONFIG: '/k'}, home, exists: none}), {provider: true, reason: 'no-aws'});
		assert.deepEqual(chooseTableS3({ref, flags: {}, env: {}, home, exists: kubeFile}), {provider: true, reason: 'no-aws'});
		assert.deepEqual(chooseTableS3({ref, flags: {}, env: {KUBECONFIG: '/k', AWS_ACCESS_KEY_ID: 'a'}, home, exists: none}), {provider: false});
		assert.deepEqual(chooseTableS3({ref, flags: {}, env: {KUBECONFIG: '/k'}, home, exists: awsFiles}), {provider: false});
		assert.deepEqual(chooseTableS3({ref, flags: {}, env: {KUBECONFIG: '/k', AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/token'}, home, exists: none}), {provider: false}, 'web identity (EKS) is AWS configured');
		assert.deepEqual(chooseTableS3({ref, flags: {}, env: {}, home, exists: none}), {provider: false}, 'no kubeconfig: AWS as before');
	});

	test('refs that are not s3:// are not touched', () => {
		assert.deepEqual(chooseTableS3({ref: './warehouse/events', flags: {kubeconfig: '/k'}, env: {}, home, exists: none}), {provider: false});
		assert.deepEqual(chooseTableS3({ref: 'ducklake:/tmp/x.ducklake', flags: {kubeconfig: '/k'}, env: {}, home, exists: none}), {provider: false});
	});
});

describe('history and restore table on the cluster\'s provider, told nothing about S3', () => {
	let drill: DrillFixture;
	let home: string;
	const ref = 's3://ilum-tables/delta/orders';
	/** An operator's shell: a kubeconfig, no AWS configuration, an empty HOME. */
	const env = (): NodeJS.ProcessEnv => ({
		KUBECONFIG: drill.world.kubeconfigPath, HOME: home, PATH: process.env['PATH'], XDG_STATE_HOME: path.join(home, 'state'),
		AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_S3: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_PROFILE: '',
	});
	const forwards = () => drill.world.api.requests().filter(request => request.subresource === 'portforward' && request.code === 101).length;

	before(async () => {
		drill = await startDrillWorld({seeders: [clusterSeeder, deltaTablesSeeder, historySeeder]});
		home = fs.mkdtempSync(path.join(os.tmpdir(), 'table-environment-'));
	});

	after(async () => {
		await drill?.stop();
		fs.rmSync(home, {recursive: true, force: true});
	});

	test('history --kubeconfig s3://...: the table\'s versions, read through a port-forward that the output names', async () => {
		const before = forwards();
		const result = await runCli(['history', ref, '--json', '--kubeconfig', drill.world.kubeconfigPath], {env: env(), timeoutMs: 120_000});
		assert.equal(result.code, 0, result.stderr);
		const history = JSON.parse(result.stdout);
		assert.equal(history.format, 'delta');
		assert.equal(history.entries.length, 12, 'delta/orders has 12 versions');
		assert.match(result.stderr, /^ilum-restore: s3:\/\/ilum-tables\/delta\/orders on the cluster's provider \(--kubeconfig\/--context given; --s3-endpoint to read it elsewhere\): port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0$/m);
		assert.ok(forwards() > before, 'read through the API server\'s port-forward');
	});

	test('history without kube flags, nothing configuring AWS: the cluster too, and the output says why', async () => {
		const result = await runCli(['history', ref, '--json'], {env: env(), timeoutMs: 120_000});
		assert.equal(result.code, 0, result.stderr);
		assert.equal(JSON.parse(result.stdout).entries.length, 12);
		assert.match(result.stderr, /on the cluster's provider \(no AWS configuration here; --s3-endpoint to read it elsewhere\): port-forward /);
	});

	test('restore table --dry-run through the forward plans the restore and writes nothing', async () => {
		const history = JSON.parse((await runCli(['history', ref, '--json', '--kubeconfig', drill.world.kubeconfigPath], {env: env(), timeoutMs: 120_000})).stdout);
		const keys = drill.world.providerEndpoint.volume!.objects('ilum-tables').size;
		const target = history.entries.find((entry: any) => entry.restorable && !entry.current);
		assert.ok(target, JSON.stringify(history.entries.map((entry: any) => [entry.id, entry.restorable])));
		const result = await runCli(['restore', 'table', ref, '--to', String(target.id), '--dry-run', '--json', '--kubeconfig', drill.world.kubeconfigPath], {env: env(), timeoutMs: 120_000});
		assert.equal(result.code, 0, result.stderr);
		const events = result.stdout.trim().split('\n').map(line => JSON.parse(line));
		assert.deepEqual(events.at(-1), {type: 'result', ok: true, dryRun: true, written: false});
		assert.match(result.stderr, /on the cluster's provider .*port-forward ilum\/svc\/ilum-objectstorage:9000/);
		assert.equal(drill.world.providerEndpoint.volume!.objects('ilum-tables').size, keys, 'nothing written');
	});

	test('no way to the provider (the forward refused): one line, exit 2', async () => {
		const result = await runCli(['history', ref, '--context', 'drill-viewer'], {env: env(), timeoutMs: 120_000});
		assert.equal(result.code, 2, result.stderr);
		assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
		assert.match(result.stderr, /s3:\/\/ilum-tables\/delta\/orders: the cluster's provider cannot be reached: port-forward to svc\/ilum-objectstorage refused: .*--s3-endpoint/);
	});
});
