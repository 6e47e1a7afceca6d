import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';
import {runCli} from '../helpers/run-cli.js';

/*
The posture on the drill world: make it unprotected the way a fresh install is (no snapshot
class, no schedule, no mirror), see doctor list exactly those gaps, run each fix, see each gap go.
*/
let drill: DrillFixture;
let stateDir: string;
let env: NodeJS.ProcessEnv;

before(async () => {
	drill = await startDrillWorld();
	stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'posture-state-'));
	env = {...drill.env, ILUM_RESTORE_WAIT_TIMEOUT_MS: '60000'};
});

after(async () => {
	await drill?.stop();
	await fs.rm(stateDir, {recursive: true, force: true});
});

type Posture = {ok: boolean; gaps: Array<{id: string; layer: string; fix: string}>; layers: Array<{layer: string; status: string; uncovered?: Array<{item: string}>}>};

async function doctor(extra: string[] = []): Promise<{code: number; posture: Posture; stderr: string}> {
	const result = await runCli(['doctor', '--json', '--s3-endpoint', drill.world.provider.endpoint, '--state-dir', stateDir, ...extra], {env});
	assert.ok(result.stdout.trim().length > 0, result.stderr);
	return {code: result.code, posture: JSON.parse(result.stdout) as Posture, stderr: result.stderr};
}

const ids = (posture: Posture, layer: string) => posture.gaps.filter(gap => gap.layer === layer).map(gap => gap.id).sort();

test('doctor lists the gaps of an unprotected installation, and each fix removes its own', async () => {
	// Unprotected: no VolumeSnapshotClass, no mirror CronJob (the seed has no snapshot schedule).
	assert.equal((await drill.kubectl(['delete', 'volumesnapshotclass', 'ilum-objectstorage-snapshots'])).code, 0);
	assert.equal((await drill.kubectl(['-n', 'ilum', 'delete', 'cronjob', 'ilum-objectstorage-backup'])).code, 0);

	const first = await doctor();
	assert.equal(first.code, 1, 'a gap exits 1');
	assert.deepEqual(ids(first.posture, 'volumes'), ['no-snapshot-class', 'no-snapshot-schedule']);
	assert.deepEqual(ids(first.posture, 'mirror'), ['no-mirror']);
	assert.ok(ids(first.posture, 'tables').some(id => id.includes('order_events')), 'the vacuumed Delta table cannot reach back a week');
	for (const gap of first.posture.gaps) {
		assert.match(gap.fix, /\S/, `${gap.id} has a fix`);
	}

	// Each fix, as doctor names it, with --yes.
	const classFix = await runCli(['snapshot', 'class', 'create', '--yes', '--state-dir', stateDir], {env});
	assert.equal(classFix.code, 0, classFix.stderr);
	assert.deepEqual(ids((await doctor()).posture, 'volumes'), ['no-snapshot-schedule']);

	const scheduleFix = await runCli(['snapshot', 'schedule', 'install', '--every', '1h', '--retain', '24', '--yes', '--state-dir', stateDir], {env});
	assert.equal(scheduleFix.code, 0, scheduleFix.stderr);
	const role = await drill.kubectl(['-n', 'ilum', 'get', 'role', 'ilum-objectstorage-snapshots', '-o', 'jsonpath={.rules[0].resources[0]}:{.rules[0].verbs}']);
	assert.equal(role.stdout, 'volumesnapshots:["create","get","list","delete"]', 'the schedule may only manage VolumeSnapshots');

	const mirrorFix = await runCli(['mirror', 'install', '--destination', drill.world.backup.endpoint, '--yes', '--state-dir', stateDir], {env: {...env, MIRROR_ACCESS_KEY_ID: drill.world.backup.accessKeyId, MIRROR_SECRET_ACCESS_KEY: drill.world.backup.secretAccessKey}});
	assert.equal(mirrorFix.code, 0, mirrorFix.stderr);
	assert.doesNotMatch(mirrorFix.stdout + mirrorFix.stderr, new RegExp(drill.world.backup.secretAccessKey), 'the secret key never appears');
	const mirrorRun = await runCli(['mirror', 'run', '--yes', '--state-dir', stateDir], {env});
	assert.equal(mirrorRun.code, 0, mirrorRun.stderr);

	const second = await doctor();
	assert.deepEqual(ids(second.posture, 'volumes'), []);
	assert.deepEqual(ids(second.posture, 'mirror'), []);
	// Table history cannot be given back by a setting: only an objective it can meet is clean.
	const third = await doctor(['--keep', '1h']);
	assert.equal(third.code, 0, JSON.stringify(third.posture.gaps));
	assert.equal(third.posture.ok, true);
});

test('snapshot create --quiesce leaves the writers as they were', async () => {
	const replicas = async () => (await drill.kubectl(['-n', 'ilum', 'get', 'statefulset', 'ilum-objectstorage', '-o', 'jsonpath={.spec.replicas}/{.status.readyReplicas}'])).stdout;
	const before = await replicas();
	const result = await runCli(['snapshot', 'create', '--quiesce', '--yes', '--json', '--state-dir', stateDir], {env});
	assert.equal(result.code, 0, result.stderr);
	const last = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {type: string; outcome: string};
	assert.deepEqual([last.type, last.outcome], ['result', 'succeeded']);
	assert.equal(await replicas(), before);
});

test('snapshot create --quiesce killed while the writers are paused: --abandon brings them back', async () => {
	const replicas = async () => (await drill.kubectl(['-n', 'ilum', 'get', 'statefulset', 'ilum-objectstorage', '-o', 'jsonpath={.spec.replicas}'])).stdout;
	assert.equal(await replicas(), '1');
	const killed = await runCli(['snapshot', 'create', '--quiesce', '--yes', '--state-dir', stateDir], {env: {...env, ILUM_RESTORE_CRASH_AFTER_STEP: 'quiesce'}});
	assert.notEqual(killed.code, 0);
	assert.equal(await replicas(), '0', 'killed with the writers paused');

	const refused = await runCli(['snapshot', 'create', '--quiesce', '--yes', '--state-dir', stateDir], {env});
	assert.equal(refused.code, 3);
	assert.match(refused.stderr, /--resume|--abandon/);

	const abandoned = await runCli(['snapshot', 'create', '--abandon', '--state-dir', stateDir, '--yes'], {env});
	assert.equal(abandoned.code, 0, abandoned.stderr);
	assert.match(abandoned.stderr, /writers resumed/);
	assert.equal(await replicas(), '1');
});

test('the fixes refuse under --read-only and outside a terminal without --yes, changing nothing', async () => {
	const readOnly = await runCli(['snapshot', 'create', '--yes', '--read-only', '--state-dir', stateDir], {env});
	assert.equal(readOnly.code, 3);
	assert.equal(readOnly.stderr.trim().split('\n').length, 1);
	const unattended = await runCli(['mirror', 'run', '--state-dir', stateDir], {env});
	assert.equal(unattended.code, 3);
	assert.match(unattended.stderr, /--dry-run/);
});

test('snapshot create --quiesce stopped with Ctrl-C after the pause brings the writers back at once', async () => {
	const {spawn} = await import('node:child_process');
	const {binPath} = await import('../helpers/run-cli.js');
	const replicas = async () => (await drill.kubectl(['-n', 'ilum', 'get', 'statefulset', 'ilum-objectstorage', '-o', 'jsonpath={.spec.replicas}'])).stdout;
	assert.equal(await replicas(), '1');
	const child = spawn(process.execPath, [binPath, 'snapshot', 'create', '--quiesce', '--yes', '--state-dir', stateDir], {env, stdio: ['ignore', 'pipe', 'pipe']});
	let stderr = '';
	let interrupted = false;
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
		// The pause has started: interrupt as an operator would.
		if (!interrupted && /Pause writes: scale StatefulSet/.test(stderr)) {
			interrupted = true;
			child.kill('SIGINT');
		}
	});
	const code = await new Promise<number | null>(resolve => {
		child.on('close', resolve);
	});
	assert.ok(interrupted, stderr);
	assert.notEqual(code, 0);
	assert.match(stderr, /writers resumed: StatefulSet ilum-objectstorage scaled back to 1/);
	assert.equal(await replicas(), '1');
	// The interrupted run is closed: a new snapshot can be taken without --resume or --abandon.
	const again = await runCli(['snapshot', 'create', '--dry-run', '--state-dir', stateDir], {env});
	assert.equal(again.code, 0, again.stderr);
});
