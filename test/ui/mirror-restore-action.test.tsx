import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {findScenario} from '../../source/drill/scenarios/index.js';
import {ilum} from '../../source/drill/seed/ilum.js';
import {coreSeeders, startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';
import {waitForFrame} from '../helpers/frames.js';
import {keys} from '../helpers/render-sized.js';
import {bucketCounts, confirmFromPlan, drillConsoles, providerEtags, selectBucket} from './drill-console.js';

/*
The mirror restore wizard from the Mirrors pane, on the bucket-wipe drill: R on ilum-data, the plan
per bucket, the preflight, the typed gate, per-bucket bars while it copies, the verification and
the report; afterwards the pane shows the bucket back without `r`, and S3 (read independently)
has every object the mirror had, byte for byte, with the backup CronJob running again.
*/

let drill: DrillFixture;
let stateDir: string;
const consoles = drillConsoles();

before(async () => {
	drill = await startDrillWorld({seeders: coreSeeders});
	await drill.world.idle();
	stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-console-mirror-'));
});

after(async () => {
	await consoles.close();
	await drill?.stop();
	fs.rmSync(stateDir, {recursive: true, force: true});
});

const size = {columns: 200, rows: 70};
const openConsole = async (options: {readOnly?: boolean} = {}) => consoles.open(drill, {stateDir, size, ...options});

test('Mirrors pane: R on a wiped bucket opens the mirror restore wizard; confirmed, it copies with per-bucket bars, verifies, resumes the CronJob; the pane refreshes', {timeout: 300_000}, async () => {
	const {world} = drill;
	const state = await findScenario('bucket-wipe')!.inject(world);
	const mirrored = Object.keys(state.mirrored).length;
	assert.ok(mirrored > 0, 'the mirror holds ilum-data');
	const ui = await openConsole();
	try {
		let frame = await waitForFrame(ui.lastFrame, text => bucketCounts(text, 'ilum-data')?.provider === 0 && !text.includes('counting'), {timeout: 120_000});
		assert.equal(bucketCounts(frame, 'ilum-data')!.mirror, mirrored);
		await selectBucket(ui, 'ilum-data');
		const seen = ui.frames.length;
		ui.stdin.write('R');
		// The plan: per bucket, what is copied; the gate's text; the CronJob held.
		frame = await waitForFrame(ui.lastFrame, /Plan \(\d+ steps\)/, {timeout: 120_000});
		assert.ok(ui.frames.slice(seen).some(text => text.includes('Planning: comparing each bucket with the mirror')), 'the screen opened at once, while the bucket was counted');
		assert.match(frame, new RegExp(`ilum-data +${mirrored} \\(`), 'the plan row of ilum-data: every mirrored object to copy');
		assert.match(frame, /Suspend the backup CronJob ilum-objectstorage-backup/);
		assert.match(frame, /\[type restore\]/);
		await confirmFromPlan(ui, 'restore');
		frame = await waitForFrame(ui.lastFrame, /SUCCEEDED|FAILED|REFUSED/, {timeout: 180_000});
		assert.match(frame, /SUCCEEDED/, frame);
		if (process.env['SHOW_FRAME']) {
			console.log(frame);
		}
		// The per-bucket figures stay on the result screen: the bar, the counts, the verification.
		assert.match(frame, /Copy by bucket/);
		assert.match(frame, new RegExp(`ilum-data +█+ ${mirrored}/${mirrored} objects .* done`));
		assert.match(frame, /verify: no drift/);
		assert.match(frame, new RegExp(`All: ${mirrored}/${mirrored} objects, .* 0 failed`));
		assert.match(frame, /Verified: no drift in 1 bucket/);
		ui.stdin.write(keys.enter);
		// No `r`: the pane catches up by itself.
		await waitForFrame(ui.lastFrame, text => bucketCounts(text, 'ilum-data')?.provider === mirrored && !text.includes('Copy by bucket'), {timeout: 120_000});
	} finally {
		ui.unmount();
	}

	// Independently, through S3: every object the mirror had, with its ETag.
	const restored = await providerEtags(drill, 'ilum-data');
	for (const [key, etag] of Object.entries(state.mirrored as Record<string, string>)) {
		assert.equal(restored.get(key), etag.replaceAll('"', ''), `${key} is back with the mirror's content`);
	}

	const patches = world.api.requests().filter(request => request.verb === 'patch' && request.resource === 'cronjobs' && request.name === ilum.backupCronJob);
	assert.equal(patches.length, 2, 'the CronJob was suspended for the copy, then resumed');
	assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false, 'the CronJob runs again');
	const verdict = await findScenario('bucket-wipe')!.check(world, state);
	assert.equal(verdict.recovered, true, verdict.findings.join('\n'));
});

test('--read-only: the Mirrors pane offers no restore (R, A, J and I are absent from the help)', {timeout: 180_000}, async () => {
	const ui = await openConsole({readOnly: true});
	try {
		await selectBucket(ui, 'ilum-data');
		ui.stdin.write('?');
		const frame = await waitForFrame(ui.lastFrame, /Home \(panes\)/);
		assert.doesNotMatch(frame, /Restore this bucket from the mirror/);
		assert.doesNotMatch(frame, /Restore every compared bucket/);
		assert.doesNotMatch(frame, /Kubernetes Jobs? in the cluster/);
		ui.stdin.write(keys.escape);
		await waitForFrame(ui.lastFrame, /Mirrors \/ilum-data \(1\)/);
		const seen = ui.frames.length;
		ui.stdin.write('R');
		ui.stdin.write('A');
		ui.stdin.write('J');
		ui.stdin.write('I');
		// The keys after them are read (the help opens): R, A, J and I opened nothing, said nothing.
		ui.stdin.write('?');
		await waitForFrame(ui.lastFrame, /Home \(panes\)/);
		assert.ok(ui.frames.slice(seen).every(text => !/Plan \(\d+ steps\)|Restore: |not started/.test(text)), 'no wizard under --read-only');
	} finally {
		ui.unmount();
	}
});

test('A in the Mirrors pane plans every compared bucket in one wizard; Esc on the plan leaves without a change', {timeout: 180_000}, async () => {
	const {world} = drill;
	const ui = await openConsole();
	try {
		await waitForFrame(ui.lastFrame, text => bucketCounts(text, 'ilum-files') !== undefined && !text.includes('counting'), {timeout: 120_000});
		await selectBucket(ui, 'ilum-files');
		const patches = world.api.requests().filter(request => request.verb === 'patch').length;
		ui.stdin.write('A');
		const frame = await waitForFrame(ui.lastFrame, /Plan \(\d+ steps\)/, {timeout: 120_000});
		const rows = ['ilum-files', 'ilum-data', 'ilum-tables', 'ilum-mlflow'].filter(bucket => new RegExp(`│ +${bucket} +\\d+ \\(`).test(frame));
		assert.equal(rows.length, 4, `a plan row per compared bucket:\n${frame}`);
		assert.match(frame, /Restore: restore ilum-\S+, ilum-/);
		ui.stdin.write(keys.escape);
		await waitForFrame(ui.lastFrame, /Mirrors \/ilum-files \(1\)/);
		assert.equal(world.api.requests().filter(request => request.verb === 'patch').length, patches, 'nothing changed');
	} finally {
		ui.unmount();
	}
});
