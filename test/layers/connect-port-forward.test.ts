import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {DeleteObjectsCommand, ListObjectsV2Command} from '@aws-sdk/client-s3';
import {connectLayers} from '../../source/layers/connect.js';
import {gatherInventory, type LayerSources} from '../../source/layers/inventory.js';
import type {BucketFigures} from '../../source/layers/mirror-figures.js';
import {pvLoss} from '../../source/drill/scenarios/pv-loss.js';
import {runCli} from '../helpers/run-cli.js';
import {coreSeeders, startDrillWorld, waitFor, type DrillFixture} from '../helpers/drill-world.js';

/*
The console and `inventory` against a drill world whose S3 endpoint nobody tells them: no
--s3-endpoint, no AWS_ENDPOINT_URL, no --drill. They find the provider through the API server's
port-forward, as on a laptop against a real cluster.
*/

let drill: DrillFixture;
let stateDir: string;
const opened: LayerSources[] = [];

/** The environment of an operator's shell: a kubeconfig and nothing about S3. */
const env = (): NodeJS.ProcessEnv => ({KUBECONFIG: drill.world.kubeconfigPath, HOME: stateDir, AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_S3: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', MIRROR_ENDPOINT_URL: ''});

before(async () => {
	drill = await startDrillWorld({seeders: coreSeeders});
	stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-forward-'));
});

after(async () => {
	await Promise.all(opened.map(async sources => sources.close?.()));
	await drill?.stop();
	fs.rmSync(stateDir, {recursive: true, force: true});
});

/** What the provider's disk holds now, per bucket (the drill's truth, not read through S3). */
function providerCounts(): Record<string, number> {
	const volume = drill.world.providerEndpoint.volume!;
	return Object.fromEntries(volume.bucketNames().map(bucket => [bucket, volume.objects(bucket).size]));
}

const counts = (buckets: readonly BucketFigures[]) => Object.fromEntries(buckets.map(bucket => [bucket.bucket, bucket.provider.objects]));

test('inventory --json, told nothing about S3, computes bucket drift through the port-forward and says so', async () => {
	// Some drift to find: objects gone from the provider since the last mirror run.
	const page = await drill.s3('provider').send(new ListObjectsV2Command({Bucket: 'ilum-files', MaxKeys: 3}));
	await drill.s3('provider').send(new DeleteObjectsCommand({Bucket: 'ilum-files', Delete: {Objects: (page.Contents ?? []).map(object => ({Key: object.Key!}))}}));
	const result = await runCli(['inventory', '--json', '--kubeconfig', drill.world.kubeconfigPath, '--state-dir', stateDir], {env: env(), timeoutMs: 120_000});
	assert.equal(result.code, 0, result.stderr);
	const inventory = JSON.parse(result.stdout);
	const provider = inventory.mirrors.provider;
	assert.equal(provider.reachable, true, JSON.stringify(provider));
	assert.match(provider.via, /^port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0$/);
	assert.match(provider.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
	assert.notEqual(provider.endpoint, drill.world.provider.endpoint);
	const buckets: BucketFigures[] = inventory.mirrors.buckets;
	assert.ok(buckets.length >= 5 && buckets.every(bucket => bucket.done && !bucket.error), JSON.stringify(buckets.map(bucket => bucket.error)));
	const truth = providerCounts();
	for (const bucket of buckets) {
		assert.equal(bucket.provider.objects, truth[bucket.bucket], `${bucket.bucket}: the provider side counted through the forward`);
	}

	assert.ok(drill.world.api.requests().some(request => request.subresource === 'portforward' && request.code === 101), 'the API server forwarded');

	// The same drift as computed with the endpoint named directly.
	const direct = await runCli(['inventory', '--json', '--kubeconfig', drill.world.kubeconfigPath, '--s3-endpoint', drill.world.provider.endpoint, '--state-dir', stateDir], {env: env(), timeoutMs: 120_000});
	assert.equal(direct.code, 0, direct.stderr);
	const figures = (list: BucketFigures[]) => list.map(bucket => [bucket.bucket, bucket.provider.objects, bucket.mirror.objects, bucket.missingOnMirror, bucket.missingInProvider, bucket.changed]);
	assert.deepEqual(figures(buckets), figures(JSON.parse(direct.stdout).mirrors.buckets));
	assert.ok(buckets.find(bucket => bucket.bucket === 'ilum-files')!.missingInProvider >= 3, 'the deleted objects show as gone from the provider');
});

test('inventory without --json names the way to the provider', async () => {
	const result = await runCli(['inventory', '--kubeconfig', drill.world.kubeconfigPath, '--state-dir', stateDir], {env: env(), timeoutMs: 120_000});
	assert.equal(result.code, 0, result.stderr);
	assert.match(result.stdout, /\n {2}provider port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0\n/);
});

test('buckets export, told nothing about S3, reads every bucket through the forward and ends it', async () => {
	const out = path.join(stateDir, 'bucket-settings');
	const result = await runCli(['buckets', 'export', '--out', out, '--kubeconfig', drill.world.kubeconfigPath, '--state-dir', stateDir], {env: env(), timeoutMs: 120_000});
	assert.equal(result.code, 0, result.stderr);
	assert.match(result.stdout, /^7 buckets written to /);
	assert.deepEqual(fs.readdirSync(out).sort(), Object.keys(providerCounts()).sort().map(bucket => `${bucket}.json`));
});

test('a user without pods/portforward gets one line: refused, grant it or use --s3-endpoint with kubectl port-forward', async () => {
	const result = await runCli(['inventory', '--json', '--kubeconfig', drill.world.kubeconfigPath, '--context', 'drill-viewer', '--state-dir', stateDir], {env: env(), timeoutMs: 120_000});
	assert.equal(result.code, 0, result.stderr);
	const inventory = JSON.parse(result.stdout);
	const problem: string = inventory.mirrors.compareProblem;
	assert.match(problem, /^port-forward to svc\/ilum-objectstorage refused: .*cannot create resource "pods\/portforward".*grant create pods\/portforward .*kubectl -n ilum port-forward svc\/ilum-objectstorage 9000, then --s3-endpoint http:\/\/127\.0\.0\.1:9000$/);
	assert.doesNotMatch(problem, /\n/);
	// The console's status line then says S3 is not connected, and the Mirrors pane says why.
	const sources = await connectLayers({flags: {kubeconfig: drill.world.kubeconfigPath, context: 'drill-viewer', namespace: 'ilum', stateDir}, env: env()});
	opened.push(sources);
	assert.equal(sources.providerRoute?.(), 'not connected (see Mirrors)');
	assert.equal(sources.compareProblem, problem);
});

test('after a pv-loss volume restore (itself verified through a forward), the same forward (a console left open) reaches the new pod and its restored data', async () => {
	const sources = await connectLayers({flags: {kubeconfig: drill.world.kubeconfigPath, namespace: 'ilum', stateDir}, env: env()});
	opened.push(sources);
	assert.match(sources.providerRoute?.() ?? '', /^port-forward ilum\/svc\/ilum-objectstorage:9000/);
	const first = await gatherInventory(sources);
	assert.deepEqual(counts(first.mirrors.buckets), Object.fromEntries(first.mirrors.buckets.map(bucket => [bucket.bucket, providerCounts()[bucket.bucket]])));
	const podBefore = drill.world.store.get('pods', 'ilum', 'ilum-objectstorage-0')!.metadata.uid;

	const state = await pvLoss.inject(drill.world);
	const corrupted = await gatherInventory(sources);
	assert.ok(corrupted.mirrors.buckets.some(bucket => bucket.provider.objects < (first.mirrors.buckets.find(item => item.bucket === bucket.bucket)?.provider.objects ?? 0)), 'the corruption lost objects, seen through the forward');

	await waitFor(() => ((drill.world.store.get('cronjobs', 'ilum', 'ilum-objectstorage-backup') as any)?.status?.active ?? []).length === 0, 'no backup Job running', 300_000);
	const restored = await runCli(['restore', 'volume', state.lastGood, '--yes', '--json', '--no-safety-snapshot', '--kubeconfig', drill.world.kubeconfigPath, '--state-dir', stateDir], {env: env(), timeoutMs: 240_000});
	assert.equal(restored.code, 0, restored.stderr);
	// restore volume, told nothing about S3 either, verified the provider through its own forward, across the scale to zero and back.
	const final = JSON.parse(restored.stdout.trim().split('\n').at(-1)!);
	const verified = final.report.verification['verify-data'];
	assert.equal(verified.limitation === 'no S3 endpoint', false, JSON.stringify(verified));
	assert.match(verified.detail, /^provider answers, default buckets present, \d+ objects/);
	const lastGoodTotal = Object.values(state.lastGoodData).reduce((sum, objects) => sum + Object.keys(objects).length, 0);
	assert.equal(Object.values(verified.provider.buckets as Record<string, {objects: number}>).reduce((sum, bucket) => sum + bucket.objects, 0), lastGoodTotal);
	const podAfter = drill.world.store.get('pods', 'ilum', 'ilum-objectstorage-0')?.metadata.uid;
	assert.ok(podAfter && podAfter !== podBefore, 'the restore replaced the provider pod');

	const after = await waitFor(async () => {
		const inventory = await gatherInventory(sources);
		return inventory.mirrors.provider?.reachable && inventory.mirrors.buckets.every(bucket => bucket.done && !bucket.error) ? inventory : undefined;
	}, 'the inventory through the forward after the restore');
	const lastGood = Object.fromEntries(Object.entries(state.lastGoodData).map(([bucket, objects]) => [bucket, Object.keys(objects).length]));
	for (const bucket of after.mirrors.buckets) {
		assert.equal(bucket.provider.objects, lastGood[bucket.bucket] ?? 0, `${bucket.bucket}: the restored volume's objects, through the forward`);
	}

	assert.match(sources.providerRoute?.() ?? '', /-> pod ilum-objectstorage-0$/);
});
