import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {ListBucketsCommand, ListObjectsV2Command, S3Client} from '@aws-sdk/client-s3';
import {adminToken, startWorld, viewerToken, type World} from '../../source/drill/world.js';
import {readJournal, type JournalRecord} from '../../source/restore/journal.js';
import {binPath, projectRoot, runCli} from '../helpers/run-cli.js';
import {quickTiming, waitFor} from '../helpers/drill-world.js';

/*
The PV snapshot path end to end: the real CLI (a child process) against the drill world's
simulated API server, controllers and S3 provider.
*/

let world: World;
let stateRoot: string;
const operatorToken = 'drill-operator-token';

before(async () => {
	stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-volume-e2e-'));
	world = await startWorld({
		objects: 300,
		timing: quickTiming,
		identities: {
			[adminToken]: {name: 'admin'},
			[viewerToken]: {name: 'viewer', readOnly: true},
			'drill-nobody-token': {name: 'nobody', rules: []},
			// May read everything and scale, but not delete claims.
			[operatorToken]: {name: 'operator', rules: [
				{verbs: ['get', 'list', 'watch'], apiGroups: ['*'], resources: ['*']},
				{verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews']},
				{verbs: ['patch', 'update'], apiGroups: ['apps'], resources: ['statefulsets/scale']},
				{verbs: ['create'], apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots']},
			]},
		},
	});
	await world.idle();
});

/** The world's hourly backup may be running: a restore rightly refuses then, so tests wait it out. */
const noBackupRunning = async () => waitFor(() => ((world.store.get('cronjobs', 'ilum', 'ilum-objectstorage-backup') as any)?.status?.active ?? []).length === 0, 'no backup Job running', 300_000);

after(async () => {
	await world?.stop();
	fs.rmSync(stateRoot, {recursive: true, force: true});
});

const base = () => ['--kubeconfig', world.kubeconfigPath, '--s3-endpoint', world.provider.endpoint];

function snapshotNames(): string[] {
	return world.store.list('volumesnapshots', 'ilum').items.map(item => item.metadata.name).filter(name => name.startsWith('ilum-objectstorage-hourly-')).sort();
}

/** What a VolumeSnapshot holds in the drill world's data plane: bucket -> key -> ETag. */
function snapshotContents(name: string): Map<string, Map<string, string>> {
	const snapshot = world.store.get('volumesnapshots', 'ilum', name)!;
	const content = world.store.get('volumesnapshotcontents', undefined, String((snapshot as any).status.boundVolumeSnapshotContentName))!;
	const data = world.data.snapshots.get(String((content as any).status.snapshotHandle))!;
	return new Map(data.bucketNames().map(bucket => [bucket, new Map([...data.objects(bucket)].map(([key, object]) => [key, object.etag]))]));
}

/** What the provider serves now, through S3: bucket -> key -> ETag. */
async function servedContents(): Promise<Map<string, Map<string, string>>> {
	const client = new S3Client({endpoint: world.provider.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: world.provider.accessKeyId, secretAccessKey: world.provider.secretAccessKey}});
	try {
		const result = new Map<string, Map<string, string>>();
		for (const bucket of (await client.send(new ListBucketsCommand({}))).Buckets ?? []) {
			const objects = new Map<string, string>();
			let token: string | undefined;
			do {
				// eslint-disable-next-line no-await-in-loop
				const page = await client.send(new ListObjectsV2Command({Bucket: bucket.Name, ContinuationToken: token}));
				for (const object of page.Contents ?? []) {
					objects.set(object.Key!, object.ETag!.replaceAll('"', ''));
				}

				token = page.IsTruncated ? page.NextContinuationToken : undefined;
			} while (token);

			result.set(bucket.Name!, objects);
		}

		return result;
	} finally {
		client.destroy();
	}
}

const normalize = (contents: Map<string, Map<string, string>>) => Object.fromEntries([...contents].sort(([a], [b]) => a.localeCompare(b)).map(([bucket, objects]) => [bucket, Object.fromEntries([...objects].map(([key, etag]) => [key, etag.replaceAll('"', '')]).sort(([a], [b]) => a!.localeCompare(b!)))]));

const mutating = () => world.api.stats().mutating;

test('--read-only: refused before a single request; --dry-run prints the plan and changes nothing', async () => {
	const stateDir = path.join(stateRoot, 'read-only');
	await noBackupRunning();
	const target = snapshotNames().at(-3)!;
	const before = world.api.stats().requests;
	const refused = await runCli(['restore', 'volume', target, '--yes', '--read-only', '--state-dir', stateDir, ...base()]);
	assert.equal(refused.code, 3, refused.stderr);
	assert.match(refused.stderr, /--read-only/);
	assert.equal(world.api.stats().requests, before, 'not one request reached the API server');

	const mutatingBefore = mutating();
	const plan = await runCli(['restore', 'volume', target, '--dry-run', '--read-only', '--state-dir', stateDir, ...base()]);
	assert.equal(plan.code, 0, plan.stderr);
	assert.match(plan.stdout, /Delete claim data-ilum-objectstorage-0[\s\S]*\[confirm: type data-ilum-objectstorage-0\]/);
	assert.match(plan.stdout, /Nothing was changed \(dry run\)/);
	const json = await runCli(['restore', 'volume', target, '--dry-run', '--json', '--state-dir', stateDir, ...base()]);
	assert.equal(json.code, 0, json.stderr);
	const document = JSON.parse(json.stdout) as {plan: {steps: Array<{id: string}>}; preflight: Array<{ok: boolean}>; wouldRefuse: string[]};
	assert.ok(document.plan.steps.some(step => step.id === 'create-claim'));
	assert.ok(document.preflight.length > 0 && document.preflight.every(check => check.ok));
	assert.deepEqual(document.wouldRefuse, []);
	assert.equal(mutating(), mutatingBefore, 'dry runs send no mutating request');

	const neither = await runCli(['restore', 'volume', target, '--state-dir', stateDir, ...base()]);
	assert.equal(neither.code, 3, 'outside a terminal, neither --dry-run nor --yes is refused');
});

test('an identity without delete on claims gets the RBAC reason before anything changes', async () => {
	await noBackupRunning();
	const stateDir = path.join(stateRoot, 'forbidden');
	const before = mutating();
	const result = await runCli(['restore', 'volume', snapshotNames().at(-3)!, '--yes', '--context', 'drill-operator', '--state-dir', stateDir, ...base()]);
	assert.equal(result.code, 3, result.stderr);
	assert.match(result.stderr, /RBAC does not allow: delete persistentvolumeclaims 'data-ilum-objectstorage-0' in namespace ilum/);
	assert.match(result.stderr, /RBAC does not allow: patch cronjobs\.batch/);
	assert.equal(mutating(), before);
	const audit = fs.readFileSync(path.join(stateDir, 'audit.jsonl'), 'utf8').trim().split('\n').map(line => JSON.parse(line));
	assert.equal(audit.at(-1).outcome, 'refused');
	assert.equal(audit.at(-1).identity, 'operator@drill-operator');

	// An identity that may not even read the snapshot is refused with the verb and resource.
	const nobody = await runCli(['restore', 'volume', snapshotNames().at(-3)!, '--dry-run', '--context', 'drill-nobody', '--state-dir', stateDir, ...base()]);
	assert.equal(nobody.code, 3, nobody.stderr);
	assert.match(nobody.stderr, /Refused before anything was changed: forbidden by RBAC: get volumesnapshot ilum\/\S+ failed \(403\)/);
	assert.equal(mutating(), before);
});

test('in a terminal, a wrong name at the confirmation gate refuses and changes nothing', async () => {
	await noBackupRunning();
	const stateDir = path.join(stateRoot, 'wrong-gate');
	const before = mutating();
	const command = [process.execPath, binPath, 'restore', 'volume', snapshotNames().at(-3)!, '--state-dir', stateDir, ...base()].map(word => `'${word}'`).join(' ');
	// `script` gives the CLI a pseudo-terminal: it shows the plan and asks for the claim's name.
	const child = spawn('script', ['-qec', command, '/dev/null'], {cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, TERM: 'dumb'}});
	let output = '';
	child.stdout.setEncoding('utf8').on('data', chunk => {
		output += chunk;
	});
	const deadline = Date.now() + 60_000;
	while (!output.includes('to confirm:')) {
		assert.ok(Date.now() < deadline, `no prompt; output so far:\n${output}`);
		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 50);
		});
	}

	child.stdin.write('data-ilum-objectstorage-1\r');
	const code = await new Promise<number>(resolve => {
		child.on('close', exitCode => {
			resolve(exitCode ?? 1);
		});
	});
	assert.equal(code, 3, output);
	assert.match(output, /typed 'data-ilum-objectstorage-1', expected 'data-ilum-objectstorage-0'; nothing was changed/);
	assert.equal(mutating(), before);
});

test('a restore killed with SIGKILL after every step and resumed each time ends serving the snapshot, no mutation repeated', async () => {
	await noBackupRunning();
	const stateDir = path.join(stateRoot, 'crashes');
	const target = snapshotNames().at(-4)!;
	const expected = normalize(snapshotContents(target));
	const preRestore = normalize(await servedContents());
	assert.notDeepEqual(preRestore, expected, 'the snapshot differs from what is served now (or the test proves nothing)');
	world.api.resetStats();

	const plan = JSON.parse((await runCli(['restore', 'volume', target, '--dry-run', '--json', '--state-dir', stateDir, ...base()])).stdout) as {plan: {steps: Array<{id: string; kind: string}>}};
	assert.ok(plan.plan.steps.length >= 18, plan.plan.steps.map(step => step.id).join(','));
	// Killed after each step's end is journaled; for a mutation also in the worst spot first: its
	// change made, its end not yet journaled (the resume must see the change and not redo it).
	let runs = 0;
	for (const step of plan.plan.steps) {
		const crashes: Array<Record<string, string>> = [
			...(step.kind === 'mutation' ? [{ILUM_RESTORE_CRASH_BEFORE_DONE: step.id}] : []),
			{ILUM_RESTORE_CRASH_AFTER_STEP: step.id},
		];
		for (const env of crashes) {
			// eslint-disable-next-line no-await-in-loop
			const result = await runCli(['restore', 'volume', target, '--yes', ...(runs > 0 ? ['--resume'] : []), '--state-dir', stateDir, ...base()], {env, timeoutMs: 180_000});
			runs++;
			assert.equal(result.code, 128, `run ${runs} should die by SIGKILL (${JSON.stringify(env)}): ${result.stderr}`);
		}
	}

	// Without --resume, the same command says a restore is unfinished and refuses.
	const again = await runCli(['restore', 'volume', target, '--yes', '--state-dir', stateDir, ...base()]);
	assert.equal(again.code, 3);
	assert.match(again.stderr, /unfinished restore of volume\/ilum\/data-ilum-objectstorage-0.*--resume/);
	const dryRun = await runCli(['restore', 'volume', target, '--dry-run', '--state-dir', stateDir, ...base()]);
	assert.equal(dryRun.code, 0, dryRun.stderr);
	assert.match(dryRun.stdout, /Already done by run volume-\S+: snapshot-ready, .*resume-backup/, 'a dry run shows the journaled plan and what is done');
	const last = await runCli(['restore', 'volume', target, '--yes', '--resume', '--json', '--state-dir', stateDir, ...base()], {timeoutMs: 180_000});
	assert.equal(last.code, 0, last.stderr);
	const result = JSON.parse(last.stdout.trim().split('\n').at(-1)!) as {type: string; outcome: string; report: {resumed: boolean; files: {json: string}}};
	assert.equal(result.type, 'result');
	assert.equal(result.outcome, 'succeeded');
	assert.ok(fs.existsSync(result.report.files.json));

	// The provider serves exactly what the snapshot held.
	assert.deepEqual(normalize(await servedContents()), expected);

	// The journal: every step done once; no mutation started again after it was done.
	const finished = fs.readdirSync(path.join(stateDir, 'journals', 'finished'));
	assert.equal(finished.length, 1);
	const records = readJournal(path.join(stateDir, 'journals', 'finished', finished[0]!));
	const starts = (id: string) => records.filter((record: JournalRecord) => record.type === 'start' && record.step === id).length;
	for (const step of plan.plan.steps) {
		const done = records.filter(record => record.type === 'done' && record.step === step.id);
		assert.equal(done.length, 1, `step ${step.id} done once`);
		if (step.kind === 'mutation') {
			// Entered again after the kill, found in place, not run again.
			assert.equal(starts(step.id), 2, `mutation ${step.id} entered twice`);
			assert.equal(done[0]!.type === 'done' && done[0]!.outcome, 'already', `mutation ${step.id} was not repeated`);
		} else {
			assert.equal(starts(step.id), 1, `step ${step.id} started once`);
		}
	}

	assert.equal(records.filter(record => record.type === 'resume').length, runs);

	// The API server saw each mutation exactly once.
	const writes = world.api.requests().filter(request => ['create', 'patch', 'update', 'delete'].includes(request.verb) && request.resource !== 'selfsubjectaccessreviews' && !request.dryRun);
	const count = (verb: string, resource: string, subresource?: string) => writes.filter(request => request.verb === verb && request.resource === resource && (subresource === undefined || request.subresource === subresource)).length;
	assert.equal(count('patch', 'statefulsets', 'scale'), 2, 'scaled down once and up once');
	assert.equal(count('delete', 'persistentvolumeclaims'), 1);
	assert.equal(count('create', 'persistentvolumeclaims'), 1);
	assert.equal(count('create', 'volumesnapshots'), 1);
	assert.equal(count('patch', 'cronjobs'), 2, 'suspended once, resumed once');
	assert.equal(count('patch', 'persistentvolumes'), 1);
	assert.equal(writes.length, 8, writes.map(request => `${request.verb} ${request.resource}/${request.subresource ?? ''}`).join(', '));

	// The old volume is kept, the backup CronJob runs again.
	const pv = world.store.list('persistentvolumes').items.find(item => (item as any).spec.persistentVolumeReclaimPolicy === 'Retain');
	assert.ok(pv, 'the old volume is retained');
	assert.equal((world.store.get('cronjobs', 'ilum', 'ilum-objectstorage-backup') as any).spec.suspend, false);
	const audit = fs.readFileSync(path.join(stateDir, 'audit.jsonl'), 'utf8').trim().split('\n').map(line => JSON.parse(line));
	for (const step of plan.plan.steps.filter(candidate => candidate.kind === 'mutation')) {
		// One attempt audited before the change, then found in place after the kill.
		assert.deepEqual(audit.filter(entry => entry.action === `step.${step.id}`).map(entry => entry.outcome), ['started', 'already-done'], step.id);
	}

	assert.ok(audit.every(entry => entry.identity === 'admin@drill'));
});

test('the undo: restoring the safety snapshot with --yes brings back the pre-restore data, verified against its recorded summary', async () => {
	// The safety snapshot the previous test's restore took (annotated with what it held).
	const safety = world.store.list('volumesnapshots', 'ilum').items.map(item => item.metadata.name).filter(name => name.includes('-pre-restore-')).sort().at(-1);
	assert.ok(safety, 'the previous test left a safety snapshot');
	const expected = normalize(snapshotContents(safety));
	await noBackupRunning();
	const stateDir = path.join(stateRoot, 'undo');
	const result = await runCli(['restore', 'volume', safety, '--yes', '--no-safety-snapshot', '--json', '--state-dir', stateDir, ...base()], {timeoutMs: 180_000});
	assert.equal(result.code, 0, result.stderr);
	const lines = result.stdout.trim().split('\n').map(line => JSON.parse(line));
	assert.ok(lines.some(line => line.type === 'step-start' && line.step === 'scale-down'), 'progress comes as JSON lines');
	const final = lines.at(-1);
	assert.equal(final.type, 'result');
	assert.equal(final.report.verification['verify-data'].reference, 'snapshot-summary');
	assert.deepEqual(normalize(await servedContents()), expected);
	assert.ok(fs.existsSync(final.report.files.markdown));
});

test('the undo by rebinding: --from-volume binds the first retained volume again and the provider serves it', async () => {
	await noBackupRunning();
	const released = world.store.list('persistentvolumes').items
		.filter(item => (item as any).status?.phase === 'Released' && (item as any).spec.persistentVolumeReclaimPolicy === 'Retain')
		.sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
	assert.ok(released.length > 0, 'the earlier restores retained their old volumes');
	const volume = released[0]!;
	const disk = world.data.volumes.get(String((volume as any).spec.csi.volumeHandle))!;
	const expected = normalize(new Map(disk.bucketNames().map(bucket => [bucket, new Map([...disk.objects(bucket)].map(([key, object]) => [key, object.etag]))])));
	const stateDir = path.join(stateRoot, 'rebind');
	const plan = await runCli(['restore', 'volume', '--from-volume', volume.metadata.name, '--dry-run', '--state-dir', stateDir, ...base()]);
	assert.equal(plan.code, 0, plan.stderr);
	assert.match(plan.stdout, /Make PersistentVolume \S+ bindable \(clear its claimRef\)[\s\S]*bound to PersistentVolume/);
	const result = await runCli(['restore', 'volume', '--from-volume', volume.metadata.name, '--yes', '--state-dir', stateDir, ...base()], {timeoutMs: 180_000});
	assert.equal(result.code, 0, result.stderr);
	assert.equal((world.store.get('persistentvolumeclaims', 'ilum', 'data-ilum-objectstorage-0') as any).spec.volumeName, volume.metadata.name);
	assert.deepEqual(normalize(await servedContents()), expected);
});

test('Ctrl-C (SIGINT) stops after the current step; the same command with --resume finishes', async () => {
	await noBackupRunning();
	const stateDir = path.join(stateRoot, 'interrupt');
	const target = snapshotNames().at(-2)!;
	world.api.resetStats();
	const child = spawn(process.execPath, [binPath, 'restore', 'volume', target, '--yes', '--state-dir', stateDir, ...base()], {cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe']});
	let stderr = '';
	let interrupted = false;
	child.stderr.setEncoding('utf8').on('data', chunk => {
		stderr += chunk;
		if (!interrupted && /Scale StatefulSet \S+ to 0/.test(stderr)) {
			interrupted = true;
			child.kill('SIGINT');
		}
	});
	child.stdout.resume();
	const code = await new Promise<number | null>(resolve => {
		child.on('close', exitCode => {
			resolve(exitCode);
		});
	});
	assert.equal(code, 130, `stopped on request: exit 130 (resumable), not 1\n${stderr}`);
	assert.match(stderr, /stopped on request/);
	const journal = readJournal(path.join(stateDir, 'journals', 'volume__ilum__data-ilum-objectstorage-0.jsonl'));
	assert.ok(journal.some(record => record.type === 'done' && record.step === 'scale-down'), 'the step that was running when Ctrl-C came was finished');
	assert.equal(journal.at(-1)!.type, 'stopped');
	const resumed = await runCli(['restore', 'volume', target, '--yes', '--resume', '--state-dir', stateDir, ...base()], {timeoutMs: 180_000});
	assert.equal(resumed.code, 0, resumed.stderr);
	assert.deepEqual(normalize(await servedContents()), normalize(snapshotContents(target)));
	const scales = world.api.requests().filter(request => request.verb === 'patch' && request.subresource === 'scale');
	assert.equal(scales.length, 2, 'scaled down once and up once across both runs');
});
