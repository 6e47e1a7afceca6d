import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {DeleteObjectsCommand, ListObjectsV2Command} from '@aws-sdk/client-s3';
import {loadKubeConfig} from '../../source/config/kube.js';
import {findScenario} from '../../source/drill/scenarios/index.js';
import {ilum} from '../../source/drill/seed/ilum.js';
import {adminToken, viewerToken} from '../../source/drill/world.js';
import {mirrorRestoreSource} from '../../source/restore/mirror-session.js';
import {coreSeeders, startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';
import {waitForFrame} from '../helpers/frames.js';
import {keys} from '../helpers/render-sized.js';
import {bucketCounts, drillConsoles, providerEtags, selectBucket} from './drill-console.js';

/*
The console's mirror restore with Kubernetes Jobs in the cluster (`J` on a bucket row of the Mirrors
pane), on the bucket-wipe drill: by keys, the plan names the Jobs, the gate, then the Job's name,
pod phase, log lines and mc's total on screen; S3 (read independently) has every object back,
the API saw exactly one Job created for the bucket, and the backup CronJob runs again. Then an
identity RBAC denies Jobs: the same restore is refused before anything changes, naming the
permission.
*/

let drill: DrillFixture;
let stateDir: string;
const consoles = drillConsoles();
/** May do everything the mirror restore needs except create, delete or patch Jobs. */
const noJobsToken = 'drill-nojobs-token';

before(async () => {
	drill = await startDrillWorld({
		seeders: coreSeeders,
		identities: {
			[adminToken]: {name: 'admin'},
			[viewerToken]: {name: 'viewer', readOnly: true},
			[noJobsToken]: {name: 'nojobs', rules: [
				{verbs: ['*'], apiGroups: ['', 'apps', 'storage.k8s.io', 'snapshot.storage.k8s.io', 'coordination.k8s.io', 'events.k8s.io', 'authorization.k8s.io'], resources: ['*']},
				{verbs: ['*'], apiGroups: ['batch'], resources: ['cronjobs', 'cronjobs/*']},
				{verbs: ['get', 'list', 'watch'], apiGroups: ['batch'], resources: ['jobs', 'jobs/*']},
			]},
		},
	});
	await drill.world.idle();
	stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-console-mirror-jobs-'));
});

after(async () => {
	await consoles.close();
	await drill?.stop();
	fs.rmSync(stateDir, {recursive: true, force: true});
});

const size = {columns: 200, rows: 80};
const providerKeys = async () => providerEtags(drill, 'ilum-data');

const jobCreates = () => drill.world.api.requests().filter(request => request.verb === 'create' && request.resource === 'jobs' && request.code < 300);
const cronPatches = () => drill.world.api.requests().filter(request => request.verb === 'patch' && request.resource === 'cronjobs' && request.name === ilum.backupCronJob);

test('Mirrors pane: J on a wiped bucket restores it with one Kubernetes Job in the cluster; the wizard shows the Job, its pod, log and mc\'s total', {timeout: 300_000}, async () => {
	const {world} = drill;
	const state = await findScenario('bucket-wipe')!.inject(world);
	const mirrored = Object.keys(state.mirrored).length;
	assert.ok(mirrored > 0, 'the mirror holds ilum-data');
	const createsBefore = jobCreates().length;
	const patchesBefore = cronPatches().length;
	const ui = await consoles.open(drill, {stateDir, size});
	try {
		let frame = await waitForFrame(ui.lastFrame, text => bucketCounts(text, 'ilum-data')?.provider === 0 && !text.includes('counting'), {timeout: 120_000});
		await selectBucket(ui, 'ilum-data');
		ui.stdin.write('J');
		frame = await waitForFrame(ui.lastFrame, /Plan \(\d+ steps\)/, {timeout: 120_000});
		assert.match(frame, /with Kubernetes Jobs in the cluster/, 'the plan\'s copy step is the Jobs');
		assert.match(frame, new RegExp(`ilum-data +${mirrored} \\(`));
		assert.match(frame, /Suspend the backup CronJob ilum-objectstorage-backup/);
		ui.stdin.write(keys.enter);
		frame = await waitForFrame(ui.lastFrame, /All checks passed|would refuse|RBAC/, {timeout: 120_000});
		assert.match(frame, /All checks passed/, frame);
		ui.stdin.write(keys.enter);
		await waitForFrame(ui.lastFrame, 'Type restore to confirm', {timeout: 60_000});
		ui.stdin.write('restore');
		await waitForFrame(ui.lastFrame, '> restore');
		ui.stdin.write(keys.enter);
		// While the Job runs: its name and pod on screen.
		frame = await waitForFrame(ui.lastFrame, /Jobs in the cluster/, {timeout: 120_000});
		frame = await waitForFrame(ui.lastFrame, /SUCCEEDED|FAILED|REFUSED|STOPPED/, {timeout: 240_000});
		if (process.env['SHOW_FRAME']) {
			console.log(frame);
		}

		assert.match(frame, /SUCCEEDED/, frame);
		assert.match(frame, /Jobs in the cluster \(one per bucket, mc mirror --preserve\)/);
		assert.match(frame, /ilum-data +Job ilum-restore-mirror-\S+: Succeeded in [\d.]+ s/, 'the Job, succeeded');
		assert.match(frame, /pod ilum-restore-mirror-\S+ (Succeeded|Running)/, 'its pod and phase');
		assert.match(frame, /Total: [^,]+, Transferred: [^,]+/, 'mc\'s transferred total');
		assert.match(frame, /│ /, 'its last log lines');
		assert.match(frame, /Verified: no drift in 1 bucket/);
		ui.stdin.write(keys.enter);
		await waitForFrame(ui.lastFrame, text => bucketCounts(text, 'ilum-data')?.provider === mirrored, {timeout: 120_000});
	} finally {
		ui.unmount();
	}

	const restored = await providerKeys();
	for (const [key, etag] of Object.entries(state.mirrored as Record<string, string>)) {
		assert.equal(restored.get(key), etag.replaceAll('"', ''), `${key} is back with the mirror's content`);
	}

	const created = jobCreates().slice(createsBefore);
	assert.equal(created.length, 1, `exactly one Job for the one bucket: ${created.map(request => request.path).join(', ')}`);
	assert.equal(cronPatches().length - patchesBefore, 2, 'the CronJob was suspended for the copy, then resumed');
	assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false, 'the CronJob runs again');
	const verdict = await findScenario('bucket-wipe')!.check(world, state);
	assert.equal(verdict.recovered, true, verdict.findings.join('\n'));
});

test('an identity RBAC denies Jobs: the in-cluster mirror restore is refused before anything changes, naming the missing permission', {timeout: 240_000}, async () => {
	const {world} = drill;
	// Objects lost from the provider (deleted through S3): what the restore would copy.
	const provider = drill.s3('provider');
	const page = await provider.send(new ListObjectsV2Command({Bucket: 'ilum-data', MaxKeys: 10}));
	const lost = (page.Contents ?? []).map(item => item.Key!);
	assert.ok(lost.length > 0);
	await provider.send(new DeleteObjectsCommand({Bucket: 'ilum-data', Delete: {Objects: lost.map(Key => ({Key}))}}));
	const before = await providerKeys();
	const mutatingBefore = world.api.requests().filter(request => ['create', 'update', 'patch', 'delete'].includes(request.verb) && request.resource !== 'selfsubjectaccessreviews').length;
	const prepare = mirrorRestoreSource({
		config: loadKubeConfig({kubeconfig: world.kubeconfigPath, context: 'drill-nojobs'}),
		namespace: ilum.namespace,
		provider: {endpoint: world.provider.endpoint, region: 'us-east-1', accessKeyId: world.provider.accessKeyId, secretAccessKey: world.provider.secretAccessKey},
		mirror: {endpoint: world.backup.endpoint, region: 'us-east-1', accessKeyId: world.backup.accessKeyId, secretAccessKey: world.backup.secretAccessKey},
		stateDir,
	});
	const session = await prepare({buckets: ['ilum-data'], inCluster: true});
	let asked = 0;
	try {
		const run = session.execute({async confirm(gate) {
			asked++;
			return gate.confirmText;
		}});
		let next = await run.next();
		while (!next.done) {
			// eslint-disable-next-line no-await-in-loop
			next = await run.next();
		}

		const report = next.value;
		assert.equal(report.outcome, 'refused', report.reasons.join('\n'));
		assert.match(report.reasons.join('\n'), /RBAC does not allow: create jobs\.batch in namespace ilum/, 'the missing permission, named');
		assert.doesNotMatch(report.reasons.join('\n'), /patch cronjobs/, 'only what is missing is named');
		assert.equal(asked, 0, 'no gate was even asked');
		assert.deepEqual(report.undo, [], 'nothing to undo');
	} finally {
		await session.close();
	}

	const mutatingAfter = world.api.requests().filter(request => ['create', 'update', 'patch', 'delete'].includes(request.verb) && request.resource !== 'selfsubjectaccessreviews').length;
	assert.equal(mutatingAfter, mutatingBefore, 'no change was asked of the API server (no CronJob hold, no Job)');
	assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false);
	assert.deepEqual(await providerKeys(), before, 'the provider bucket is as it was');
	assert.ok(lost.every(key => !before.has(key)), 'the lost objects are still missing (the restore would have copied them)');
});
