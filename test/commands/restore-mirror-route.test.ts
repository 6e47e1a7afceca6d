import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {ListObjectsV2Command, type S3Client} from '@aws-sdk/client-s3';
import {bucketWipe} from '../../source/drill/scenarios/bucket-wipe.js';
import {runCli} from '../helpers/run-cli.js';
import {coreSeeders, startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';

/*
`restore mirror` (the copy through this machine) told nothing about S3: no --s3-endpoint, no
AWS_ENDPOINT_URL, no AWS keys, no --drill; only a kubeconfig. It reaches the provider as the console
does (a port-forward through the API server), takes the endpoints and keys of both sides from the
cluster's Secrets, names the way it took, and closes the forward when it ends.
*/

let drill: DrillFixture;
let stateDir: string;

/** An operator's shell: a kubeconfig and nothing about S3. */
const env = (): NodeJS.ProcessEnv => ({
	KUBECONFIG: drill.world.kubeconfigPath, HOME: stateDir, PATH: process.env['PATH'],
	AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_S3: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', MIRROR_ENDPOINT_URL: '', MIRROR_ACCESS_KEY_ID: '', MIRROR_SECRET_ACCESS_KEY: '',
});

before(async () => {
	drill = await startDrillWorld({seeders: coreSeeders});
	stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-mirror-route-'));
});

after(async () => {
	await drill?.stop();
	fs.rmSync(stateDir, {recursive: true, force: true});
});

/** Every key of a bucket with its ETag, read through S3. */
async function etags(client: S3Client, bucket: string): Promise<Record<string, string>> {
	const found: Record<string, string> = {};
	let token: string | undefined;
	do {
		// eslint-disable-next-line no-await-in-loop
		const page = await client.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token}));
		for (const item of page.Contents ?? []) {
			found[item.Key!] = item.ETag!;
		}

		token = page.IsTruncated ? page.NextContinuationToken : undefined;
	} while (token);

	return found;
}

const lines = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map(line => JSON.parse(line) as Record<string, any>);
const forwards = () => drill.world.api.requests().filter(request => request.subresource === 'portforward' && request.code === 101).length;

test('restore mirror --yes after bucket-wipe, with only a kubeconfig: through a port-forward (a killed run resumed through another), the objects back, verified, the way named', {timeout: 600_000}, async () => {
	const state = await bucketWipe.inject(drill.world);
	const mirrored = await etags(drill.s3('backup'), 'ilum-data');
	assert.ok(Object.keys(mirrored).length > 10, 'the mirror holds ilum-data');
	assert.deepEqual(await etags(drill.s3('provider'), 'ilum-data'), {}, 'the wipe emptied ilum-data');

	// The dry run names the way too, and changes nothing.
	const dry = await runCli(['restore', 'mirror', '--dry-run', '--bucket', 'ilum-data', '--kubeconfig', drill.world.kubeconfigPath, '--state-dir', stateDir], {env: env(), timeoutMs: 180_000});
	assert.equal(dry.code, 0, dry.stderr);
	assert.match(dry.stdout, /^provider port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0\n/);
	assert.deepEqual(await etags(drill.s3('provider'), 'ilum-data'), {});

	// A first run killed once the CronJob is held; the rerun continues it through a forward of its own (another local port).
	const args = ['restore', 'mirror', '--yes', '--json', '--bucket', 'ilum-data', '--kubeconfig', drill.world.kubeconfigPath, '--state-dir', stateDir];
	const killed = await runCli(args, {env: {...env(), ILUM_RESTORE_CRASH_AFTER_STEP: 'suspend-backup'}, timeoutMs: 300_000});
	assert.notEqual(killed.code, 0, 'the first run stopped after holding the CronJob');
	assert.equal((drill.world.store.get('cronjobs', 'ilum', 'ilum-objectstorage-backup') as any)?.spec?.suspend, true, 'the killed run left the CronJob held');
	assert.deepEqual(await etags(drill.s3('provider'), 'ilum-data'), {});

	const before = forwards();
	const result = await runCli([...args, '--resume'], {env: env(), timeoutMs: 300_000});
	assert.equal(result.code, 0, result.stderr);
	assert.match(result.stderr, /^ilum-restore: provider port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0$/m);
	const final = lines(result.stdout).at(-1)!;
	assert.equal(final['type'], 'result');
	assert.equal(final['ok'], true, JSON.stringify(final));
	assert.match(final['provider'].via, /^port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0$/);
	assert.match(final['provider'].endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
	assert.notEqual(final['provider'].endpoint, drill.world.provider.endpoint);
	const bucket = final['buckets'].find((item: any) => item.bucket === 'ilum-data');
	assert.equal(bucket?.verify?.ok, true, JSON.stringify(bucket));
	assert.ok(forwards() > before, 'the copy went through the API server\'s port-forward');
	assert.equal((drill.world.store.get('cronjobs', 'ilum', 'ilum-objectstorage-backup') as any)?.spec?.suspend, false, 'the resumed run gave the CronJob back');

	// Checked independently, straight at the provider: every mirrored object back with its ETag.
	const restored = await etags(drill.s3('provider'), 'ilum-data');
	assert.deepEqual(restored, mirrored);
	assert.equal(Object.keys(restored).length, Object.keys(state.mirrored).length);
	// The forward ended with the command: its port answers no more.
	const port = Number(new URL(final['provider'].endpoint).port);
	const refused = await fetch(`http://127.0.0.1:${port}/`).then(() => false, () => true);
	assert.ok(refused, `the forward's port ${port} is closed after the command`);
});

test('a user who may not port-forward gets one line: the forward refused, and what to do instead (nothing restored)', async () => {
	const result = await runCli(['restore', 'mirror', '--dry-run', '--bucket', 'ilum-data', '--kubeconfig', drill.world.kubeconfigPath, '--context', 'drill-viewer', '--state-dir', stateDir], {
		// Keys and the mirror given (a viewer may not read the Secrets): only the way to the provider is missing.
		env: {...env(), AWS_ACCESS_KEY_ID: 'viewer', AWS_SECRET_ACCESS_KEY: 'viewer', MIRROR_ENDPOINT_URL: drill.world.backup.endpoint},
		timeoutMs: 120_000,
	});
	assert.equal(result.code, 2, result.stderr);
	assert.equal(result.stdout, '');
	assert.match(result.stderr.trim(), /^(?:ilum-restore: )?The provider's S3 endpoint is unknown: port-forward to svc\/ilum-objectstorage refused: .*pods\/portforward.*--s3-endpoint http:\/\/127\.0\.0\.1:9000$/);
	assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
});
