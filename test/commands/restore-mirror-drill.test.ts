import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {startWorld} from '../../source/drill/world.js';
import {bucketInitJob, ilum} from '../../source/drill/seed/ilum.js';
import {clusterSeeder} from '../../source/drill/seed/cluster.js';
import {objectsSeeder} from '../../source/drill/seed/objects-seeder.js';
import {historySeeder} from '../../source/drill/seed/history-seeder.js';
import {FastS3Client} from '../../source/storage/fast-s3.js';
import {runCli} from '../helpers/run-cli.js';

/**
`restore mirror` against the drill world, as on a cluster: endpoints and credentials from the
Secrets (the provider endpoint given, as from a port-forward), the backup CronJob suspended for the
duration and resumed, and a refusal while a bucket-init Job has not finished.
*/
test('restore mirror on a cluster: credentials from the Secrets, CronJob held and resumed, refusal while bucket-init runs', {timeout: 300_000}, async () => {
	// "Now" pinned 40 minutes before the CronJob's next hourly run: it must not run during the test
	// (with --remove it would delete from the mirror what the provider just lost).
	const world = await startWorld({objects: 300, now: Date.parse('2026-11-20T10:17:00Z'), seeders: [clusterSeeder, objectsSeeder, historySeeder]});
	const home = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-mirror-drill-'));
	// No AWS variables: the credentials must come from the cluster.
	const env = {HOME: home, XDG_STATE_HOME: path.join(home, 'state'), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: '', MIRROR_ENDPOINT_URL: ''};
	const provider = new FastS3Client({endpoint: world.provider.endpoint, region: 'us-east-1', accessKeyId: world.provider.accessKeyId, secretAccessKey: world.provider.secretAccessKey});
	try {
		// Lose some objects in the provider (ones the mirror has: the newest may not be mirrored yet).
		const mirror = new FastS3Client({endpoint: world.backup.endpoint, region: 'us-east-1', accessKeyId: world.backup.accessKeyId, secretAccessKey: world.backup.secretAccessKey});
		const mirrored = new Set<string>();
		for await (const object of mirror.list('ilum-data')) {
			mirrored.add(object.key);
		}

		await mirror.destroy();
		const lost: string[] = [];
		for await (const object of provider.list('ilum-data')) {
			if (lost.length < 25 && mirrored.has(object.key)) {
				lost.push(object.key);
			}
		}

		assert.ok(lost.length > 0, 'the world has data');
		assert.deepEqual(await provider.deleteObjects('ilum-data', lost), []);
		const before = await provider.head('ilum-data', lost[0]!);
		assert.equal(before, undefined);

		world.api.resetStats();
		const args = ['restore', 'mirror', '--yes', '--json', '--bucket', 'ilum-data', '--kubeconfig', world.kubeconfigPath, '--s3-endpoint', world.provider.endpoint];
		const result = await runCli(args, {env});
		assert.equal(result.code, 0, result.stderr);
		const last = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {type: string; ok: boolean; buckets: any[]; cronJob: {suspendedDuringRestore: boolean}};
		assert.equal(last.ok, true);
		assert.equal(last.buckets[0].copied, lost.length, result.stdout.slice(-2000) + result.stderr);
		assert.equal(last.buckets[0].verify.ok, true);
		assert.equal(last.cronJob.suspendedDuringRestore, true);
		for (const key of lost) {
			// eslint-disable-next-line no-await-in-loop
			assert.ok(await provider.head('ilum-data', key), `${key} is back`);
		}

		const patches = world.api.requests().filter(request => request.verb === 'patch' && request.resource === 'cronjobs' && request.name === ilum.backupCronJob);
		assert.equal(patches.length, 2, 'suspended, then resumed');
		assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false, 'the CronJob runs again');
		assert.match(result.stderr, /suspended CronJob ilum\/ilum-objectstorage-backup/);

		// A bucket-init Job that has not finished (here: created suspended) would run over a restore.
		const job = bucketInitJob('ilum-objectstorage-create-buckets-rerun');
		job.spec.suspend = true;
		world.store.create('jobs', job);
		const refused = await runCli(args, {env});
		assert.equal(refused.code, 3, refused.stderr);
		assert.match(refused.stderr, /bucket-init Job ilum\/ilum-objectstorage-create-buckets-rerun has not finished/);
	} finally {
		await provider.destroy();
		await world.stop();
		fs.rmSync(home, {recursive: true, force: true});
	}
});
