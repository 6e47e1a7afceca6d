import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {ListBucketsCommand, ListObjectsV2Command} from '@aws-sdk/client-s3';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startDrillWorld, waitFor} from '../helpers/drill-world.js';
import {startInTmux} from '../helpers/tmux.js';

/**
The PV snapshot restore driven by keys through the real console in a real terminal (tmux) on the
drill world: R on a snapshot, the plan, the preflight, the typed gate, live progress, the report.
*/
test('R in the Volume snapshots pane restores the provider\'s volume, driven by keys', {timeout: 900_000}, async () => {
	const drill = await startDrillWorld({objects: 300});
	const {world} = drill;
	const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'console-restore-'));
	await waitFor(() => ((world.store.get('cronjobs', 'ilum', 'ilum-objectstorage-backup') as any)?.status?.active ?? []).length === 0, 'no backup Job running', 300_000);
	const screen = await startInTmux(`${process.execPath} ${binPath} --kubeconfig ${world.kubeconfigPath} --s3-endpoint ${world.provider.endpoint} --state-dir ${stateDir}`, {cwd: projectRoot, env: drill.env, rows: 48});
	try {
		await screen.waitForScreen(text => /Volume snapshots \(\d+\)/.test(text) && text.includes('ilum-langfuse'), {timeout: 180_000});
		await screen.sendKeys('j');
		await screen.sendKeys('R');
		let frame = await screen.waitForScreen(/Plan \(20 steps\)/, {timeout: 120_000});
		assert.match(frame, /Blast radius/);
		// The title names the snapshot selected (the title may wrap: take the first snapshot name on the screen).
		assert.match(frame, /Restore: restore claim ilum\/data-ilum-objectstorage-0 of StatefulSet ilum-objectstorage from/);
		const target = /ilum-objectstorage-hourly-\d{8}-\d{4}/.exec(frame)?.[0];
		assert.ok(target, frame);
		const mutatingBefore = world.api.stats().mutating;
		await screen.sendKeys('Enter');
		await screen.waitForScreen('All checks passed', {timeout: 120_000});
		await screen.sendKeys('Enter');
		await screen.waitForScreen('Type data-ilum-objectstorage-0 to confirm', {timeout: 120_000});
		assert.equal(world.api.stats().mutating, mutatingBefore, 'nothing changed before the gate');
		await screen.sendKeys('-l', 'data-ilum-objectstorage-0');
		await screen.waitForScreen('> data-ilum-objectstorage-0');
		await screen.sendKeys('Enter');
		frame = await screen.waitForScreen(/SUCCEEDED|FAILED|REFUSED/, {timeout: 300_000});
		assert.match(frame, /SUCCEEDED: restore claim ilum\/data-ilum-objectstorage-0/, frame);
		assert.match(frame, /Report saved: /);
		await screen.sendKeys('Enter');
		await screen.waitForScreen(/Volume snapshots \(\d+\)/, {timeout: 60_000});

		// The provider serves what the snapshot held.
		const snapshot = world.store.get('volumesnapshots', 'ilum', target!)!;
		const content = world.store.get('volumesnapshotcontents', undefined, String((snapshot as any).status.boundVolumeSnapshotContentName))!;
		const data = world.data.snapshots.get(String((content as any).status.snapshotHandle))!;
		const s3 = drill.s3('provider');
		for (const bucket of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
			let count = 0;
			let token: string | undefined;
			do {
				// eslint-disable-next-line no-await-in-loop
				const page = await s3.send(new ListObjectsV2Command({Bucket: bucket.Name, ContinuationToken: token}));
				count += page.KeyCount ?? 0;
				token = page.IsTruncated ? page.NextContinuationToken : undefined;
			} while (token);

			assert.equal(count, data.objects(bucket.Name!).size, `bucket ${bucket.Name}`);
		}

		const audit = (await fs.readFile(path.join(stateDir, 'audit.jsonl'), 'utf8')).trim().split('\n').map(line => JSON.parse(line));
		assert.equal(audit.at(-1).outcome, 'succeeded');
	} finally {
		await screen.kill();
		await drill.stop();
		await fs.rm(stateDir, {recursive: true, force: true});
	}
});
