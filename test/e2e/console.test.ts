import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';

/**
The real CLI in a real terminal (tmux, 160x48) on the embedded drill world: the home screen,
moving with keys, a snapshot's detail, a bucket's drift, a table's history, help, quit.
*/
test('console on the drill world, driven by keys', {timeout: 600_000}, async () => {
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'console-e2e-'));
	const screen = await startInTmux(`${process.execPath} ${binPath} --drill`, {cwd: projectRoot, env: {HOME: home, KUBECONFIG: undefined}});
	try {
		let frame = await screen.waitForScreen(text => text.includes('Volume snapshots (24)') && text.includes('ilum-langfuse') && /Tables \(\d+\)/.test(text), {timeout: 120_000});
		assert.match(frame, /Mirrors \(7\)/);
		assert.match(frame, /✓ VolumeSnapshotClass for /);
		assert.match(frame, /CronJob ilum-objectstorage-backup/);
		assert.match(frame, /Recovery points/);
		assert.doesNotMatch(frame, /secret-key|drill-admin-token/);

		await screen.sendKeys('j', 'Enter');
		frame = await screen.waitForScreen('Source claim');
		assert.match(frame, /VolumeSnapshot ilum\/ilum-objectstorage-hourly-\d{8}-\d{4}/);
		assert.match(frame, /Ready to use +true/);
		await screen.sendKeys('Escape');
		await screen.waitForScreen('Recovery points');

		await screen.sendKeys('Tab', 'j', 'Enter');
		frame = await screen.waitForScreen('Bucket ilum-data: provider vs mirror');
		assert.match(frame, /Missing on mirror/);
		await screen.sendKeys('Escape');

		await screen.waitForScreen(text => /Tables \([1-9]\d*\)/.test(text) && !text.includes('reading table histories'), {timeout: 120_000});
		await screen.sendKeys('Tab', 'Enter');
		frame = await screen.waitForScreen(/ID +TIME \(UTC\) +OPERATION +RESTORABLE +NOTE/, {timeout: 60_000});
		assert.match(frame, /Ref /);
		await screen.sendKeys('Escape');
		await screen.waitForScreen('Recovery points');
		await screen.sendKeys('?');
		frame = await screen.waitForScreen('Keys');
		assert.match(frame, /Command palette/);
		// Escape and a key sent together read as Alt+key: one at a time, as a person types.
		await screen.sendKeys('Escape');
		await screen.waitForScreen('Recovery points');
		await screen.sendKeys('q');
		const deadline = Date.now() + 30_000;
		while (await screen.alive()) {
			assert.ok(Date.now() < deadline, 'q quits');
			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => {
				setTimeout(resolve, 100);
			});
		}
	} finally {
		await screen.kill();
		await fs.rm(home, {recursive: true, force: true});
	}
});

test('console against a cluster: a VolumeSnapshot created with kubectl appears without a refresh', {timeout: 600_000}, async () => {
	const {startDrillWorld} = await import('../helpers/drill-world.js');
	const drill = await startDrillWorld({objects: 300});
	const mutatingBefore = drill.world.api.stats().mutating;
	const screen = await startInTmux(`${process.execPath} ${binPath} --kubeconfig ${drill.world.kubeconfigPath} --s3-endpoint ${drill.world.provider.endpoint} --read-only`, {cwd: projectRoot, env: drill.env});
	try {
		let frame = await screen.waitForScreen(text => /Volume snapshots \(\d+\)/.test(text) && text.includes('READ-ONLY') && text.includes('ilum-langfuse') && /Tables \([1-9]/.test(text), {timeout: 120_000});
		assert.equal(drill.world.api.stats().mutating, mutatingBefore, 'a read-only console sends no mutating request');
		const before = Number(/Volume snapshots \((\d+)\)/.exec(frame)![1]);
		const manifest = JSON.stringify({apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: {name: 'e2e-manual-snap', namespace: 'ilum'}, spec: {volumeSnapshotClassName: 'ilum-objectstorage-snapshots', source: {persistentVolumeClaimName: 'data-ilum-objectstorage-0'}}});
		const created = await drill.kubectl(['create', '-f', '-'], {input: manifest});
		assert.equal(created.code, 0, created.stderr);
		frame = await screen.waitForScreen(`Volume snapshots (${before + 1})`, {timeout: 60_000});
		assert.match(frame, /e2e-manual-snap/);
		// Read-only: the suspend action is not offered in Mirrors.
		await screen.sendKeys('Tab');
		frame = await screen.waitForScreen(text => text.includes('Tab/→/l next pane'));
		assert.doesNotMatch(frame, /s suspend/);
		await screen.sendKeys('q');
	} finally {
		await screen.kill();
		await drill.stop();
	}
});
