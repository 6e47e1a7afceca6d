import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {DeleteObjectsCommand, ListObjectsV2Command} from '@aws-sdk/client-s3';
import {adminToken, viewerToken} from '../../source/drill/world.js';
import {bucketSummaryAnnotation, parseBucketSummary} from '../../source/restore/bucket-summary.js';
import {countObjects, noBackupRunning} from '../helpers/drill-data.js';
import {coreSeeders, startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';
import {runCli} from '../helpers/run-cli.js';

/*
`snapshot create` writes what the provider holds on the snapshot (ilum.cloud/bucket-summary), as
the volume restore's safety snapshots do, so that a later `restore volume` from it verifies
exactly. Without --s3-endpoint it reaches the provider as the console does (a port-forward through
the API server here); with no way to it (the forward refused) or an endpoint that does not answer,
it still takes the snapshot and says what is missing.
*/
let drill: DrillFixture;
let stateDir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
	drill = await startDrillWorld({seeders: coreSeeders, identities: {
		[adminToken]: {name: 'admin'},
		[viewerToken]: {name: 'viewer', readOnly: true},
		// May take snapshots, not port-forward (context drill-snapper).
		'drill-snapper-token': {name: 'snapper', rules: [
			{verbs: ['get', 'list', 'watch'], apiGroups: ['*'], resources: ['*']},
			{verbs: ['*'], apiGroups: ['snapshot.storage.k8s.io', 'authorization.k8s.io'], resources: ['*']},
		]},
	}});
	await drill.world.idle();
	stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'snapshot-create-'));
	// No endpoint from the environment: each test says where the provider is (or does not).
	env = {...drill.env, ILUM_RESTORE_WAIT_TIMEOUT_MS: '60000', AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_S3: ''};
});

after(async () => {
	await drill?.stop();
	await fs.rm(stateDir, {recursive: true, force: true});
});


type Line = {type: string; step?: string; message?: string; outcome?: string; report?: any; plan?: any};
const lines = (stdout: string): Line[] => stdout.trim().split('\n').map(line => JSON.parse(line) as Line);
/** The snapshot's name, as the plan names it. */
const takenName = (result: Line[]) => /Take VolumeSnapshot (\S+) of/.exec(String(result.find(line => line.type === 'plan')?.plan?.summary ?? ''))?.[1];
const annotationOf = (name: string) => (drill.world.store.get('volumesnapshots', 'ilum', name) as any)?.metadata?.annotations?.[bucketSummaryAnnotation] as string | undefined;


test('snapshot create records the buckets on the snapshot; restore volume from it verifies against that record', async () => {
	await noBackupRunning(drill.world);
	const objects = await countObjects(drill.s3('provider'), 'ilum-data');
	const created = await runCli(['snapshot', 'create', '--yes', '--json', '--s3-endpoint', drill.world.provider.endpoint, '--state-dir', stateDir], {env});
	assert.equal(created.code, 0, created.stderr);
	const events = lines(created.stdout);
	assert.equal(events.at(-1)?.outcome, 'succeeded', created.stdout);
	const name = takenName(events);
	assert.ok(name, created.stdout);
	const summary = parseBucketSummary(annotationOf(name));
	assert.ok(summary, `the snapshot carries ${bucketSummaryAnnotation}`);
	assert.equal(summary.buckets['ilum-data']?.objects, objects, 'the record counts what the provider held');

	// The provider changes after the snapshot (some objects deleted); the restore brings them back
	// and checks them against the snapshot's own record, not only the pre-restore listing.
	const page = await drill.s3('provider').send(new ListObjectsV2Command({Bucket: 'ilum-data', MaxKeys: 5}));
	await drill.s3('provider').send(new DeleteObjectsCommand({Bucket: 'ilum-data', Delete: {Objects: (page.Contents ?? []).map(object => ({Key: object.Key!}))}}));
	assert.equal(await countObjects(drill.s3('provider'), 'ilum-data'), objects - 5);
	await noBackupRunning(drill.world);
	const restored = await runCli(['restore', 'volume', name, '--yes', '--json', '--no-safety-snapshot', '--s3-endpoint', drill.world.provider.endpoint, '--state-dir', stateDir], {env, timeoutMs: 180_000});
	assert.equal(restored.code, 0, restored.stderr);
	const final = lines(restored.stdout).at(-1)!;
	assert.equal(final.report.verification['verify-data'].reference, 'snapshot-summary', JSON.stringify(final.report.verification));
	assert.match(final.report.verification['verify-data'].detail, new RegExp(`every bucket matches the summary recorded on ${name}`));
	assert.equal(await countObjects(drill.s3('provider'), 'ilum-data'), objects);
});

test('without --s3-endpoint, the buckets are listed through a port-forward, named as such, and recorded', async () => {
	await noBackupRunning(drill.world);
	const objects = await countObjects(drill.s3('provider'), 'ilum-data');
	const forwardsBefore = drill.world.api.requests().filter(request => request.subresource === 'portforward' && request.code === 101).length;
	const plain = await runCli(['snapshot', 'create', '--yes', '--json', '--state-dir', stateDir], {env});
	assert.equal(plain.code, 0, plain.stderr);
	const events = lines(plain.stdout);
	assert.equal(events.at(-1)?.outcome, 'succeeded');
	assert.match(plain.stderr, /^ilum-restore: provider port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0$/m);
	assert.match(JSON.stringify(events.find(line => line.type === 'plan')), /Record what the provider holds \(objects and bytes per bucket, via port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0\)/);
	assert.doesNotMatch(plain.stdout + plain.stderr, /no S3 endpoint/);
	assert.equal(parseBucketSummary(annotationOf(takenName(events)!))?.buckets['ilum-data']?.objects, objects, 'the record counts what the provider held, through the forward');
	assert.ok(drill.world.api.requests().filter(request => request.subresource === 'portforward' && request.code === 101).length > forwardsBefore, 'the listing went through the API server\'s port-forward');
});

test('with no way to the provider (the forward refused), or an endpoint that does not answer, the snapshot is taken without the record and the output says so', async () => {
	const plain = await runCli(['snapshot', 'create', '--yes', '--json', '--context', 'drill-snapper', '--state-dir', stateDir], {env});
	assert.equal(plain.code, 0, plain.stderr);
	const plainEvents = lines(plain.stdout);
	assert.equal(plainEvents.at(-1)?.outcome, 'succeeded', plain.stdout);
	assert.match(plain.stderr, /^ilum-restore: port-forward to svc\/ilum-objectstorage refused: .*pods\/portforward.*--s3-endpoint http:\/\/127\.0\.0\.1:9000$/m);
	assert.match(plain.stdout + plain.stderr, /no S3 endpoint for the provider[^"]*no bucket summary/);
	assert.equal(annotationOf(takenName(plainEvents)!), undefined);

	// A port nothing listens on: the listing fails fast, the snapshot is still taken.
	const unreachable = await runCli(['snapshot', 'create', '--yes', '--json', '--s3-endpoint', 'http://127.0.0.1:9', '--state-dir', stateDir], {env, timeoutMs: 180_000});
	assert.equal(unreachable.code, 0, unreachable.stderr);
	const events = lines(unreachable.stdout);
	assert.equal(events.at(-1)?.outcome, 'succeeded');
	assert.match(unreachable.stdout, /the provider does not answer at http:\/\/127\.0\.0\.1:9[^"]*no bucket summary/);
	assert.equal(annotationOf(takenName(events)!), undefined);
});

test('snapshot create --quiesce lists the buckets before the pause (the provider is offline after it)', async () => {
	await noBackupRunning(drill.world);
	const objects = await countObjects(drill.s3('provider'), 'ilum-data');
	const created = await runCli(['snapshot', 'create', '--quiesce', '--yes', '--json', '--s3-endpoint', drill.world.provider.endpoint, '--state-dir', stateDir], {env});
	assert.equal(created.code, 0, created.stderr);
	const events = lines(created.stdout);
	assert.equal(events.at(-1)?.outcome, 'succeeded');
	const order = events.filter(line => line.type === 'step-start').map(line => line.step);
	assert.ok(order.indexOf('bucket-summary') >= 0 && order.indexOf('bucket-summary') < order.indexOf('quiesce'), order.join(', '));
	assert.equal(parseBucketSummary(annotationOf(takenName(events)!))?.buckets['ilum-data']?.objects, objects);
});
