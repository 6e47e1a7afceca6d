import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {noBackupRunning, snapshotData} from '../helpers/drill-data.js';
import {coreSeeders, startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';
import {waitForFrame} from '../helpers/frames.js';
import {keys} from '../helpers/render-sized.js';
import {runCli} from '../helpers/run-cli.js';
import {bucketCounts, confirmFromPlan, drillConsoles} from './drill-console.js';

/*
The console after a wizard closes shows the world as the restore left it, without `r`: the
Mirrors pane's drift (the provider's bucket, now the snapshot's) and the Volume snapshots pane
(the safety snapshot the restore took).
*/

let drill: DrillFixture;
let stateDir: string;
const consoles = drillConsoles();

before(async () => {
	drill = await startDrillWorld({seeders: coreSeeders});
	await drill.world.idle();
	stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-console-after-restore-'));
});

after(async () => {
	await consoles.close();
	await drill?.stop();
	fs.rmSync(stateDir, {recursive: true, force: true});
});

const size = {columns: 200, rows: 60};

test('after the volume restore wizard closes, the panes show the restored world without r', async () => {
	const {world} = drill;
	const names = world.store.list('volumesnapshots', 'ilum').items.map(item => item.metadata.name).sort();
	const target = names.at(-5)!;
	// The pane cuts long names in the middle: rows are told apart by their UTC stamp.
	const stamp = /\d{8}-\d{4}$/.exec(target)![0];
	const expected = snapshotData(world, target).objects('ilum-data').size;
	await noBackupRunning(world);

	const ui = await consoles.open(drill, {stateDir, size});
	try {
		let frame = await waitForFrame(ui.lastFrame, text => text.includes(stamp) && bucketCounts(text, 'ilum-data') !== undefined && !text.includes('counting'), {timeout: 120_000});
		const before = bucketCounts(frame, 'ilum-data')!;
		assert.notEqual(before.provider, expected, `the snapshot's ilum-data differs from the provider's now (${expected} objects)`);
		const listed = Number(/Volume snapshots \((\d+)\)/.exec(frame)![1]);

		// Select the snapshot (filter on its name), R, the wizard to its report, Enter back home.
		ui.stdin.write('/');
		await waitForFrame(ui.lastFrame, /\/▏/);
		ui.stdin.write(target);
		await waitForFrame(ui.lastFrame, `/${target}▏`);
		ui.stdin.write(keys.enter);
		await waitForFrame(ui.lastFrame, /Volume snapshots \/\S+ \(1\)/);
		ui.stdin.write('R');
		await waitForFrame(ui.lastFrame, /Plan \(\d+ steps\)/, {timeout: 120_000});
		await confirmFromPlan(ui, 'data-ilum-objectstorage-0');
		frame = await waitForFrame(ui.lastFrame, /SUCCEEDED|FAILED|REFUSED/, {timeout: 180_000});
		assert.match(frame, /SUCCEEDED/, frame);
		ui.stdin.write(keys.enter);
		await waitForFrame(ui.lastFrame, 'Recovery points');
		// Esc clears the filter: every snapshot, the safety one too. No `r`: the panes catch up by themselves
		// (the provider's ilum-data now holds what the snapshot held).
		ui.stdin.write(keys.escape);
		frame = await waitForFrame(ui.lastFrame, text => bucketCounts(text, 'ilum-data')?.provider === expected && text.includes(`Volume snapshots (${listed + 1})`) && !text.includes('counting'), {timeout: 60_000});
		assert.equal(bucketCounts(frame, 'ilum-data')!.mirror, before.mirror, 'the mirror is untouched');
	} finally {
		ui.unmount();
	}
});

test('a restore from elsewhere (the CLI in another terminal) shows in the open console without r', async () => {
	const {world} = drill;
	const names = world.store.list('volumesnapshots', 'ilum').items.map(item => item.metadata.name).filter(name => name.includes('-hourly-')).sort();
	const target = names.at(-3)!;
	const expected = snapshotData(world, target).objects('ilum-data').size;
	await noBackupRunning(world);
	const ui = await consoles.open(drill, {stateDir, size});
	try {
		const frame = await waitForFrame(ui.lastFrame, text => bucketCounts(text, 'ilum-data') !== undefined && !text.includes('counting'), {timeout: 120_000});
		assert.notEqual(bucketCounts(frame, 'ilum-data')!.provider, expected, 'the snapshot differs from what the provider holds now');
		const restored = await runCli(['restore', 'volume', target, '--yes', '--no-safety-snapshot', '--kubeconfig', world.kubeconfigPath, '--s3-endpoint', world.provider.endpoint, '--state-dir', stateDir], {timeoutMs: 180_000});
		assert.equal(restored.code, 0, restored.stderr);
		// No key pressed: the watches saw the claim bound to a new volume and the provider back.
		await waitForFrame(ui.lastFrame, text => bucketCounts(text, 'ilum-data')?.provider === expected && !text.includes('counting'), {timeout: 60_000});
	} finally {
		ui.unmount();
	}
});
