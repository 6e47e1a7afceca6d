import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import {render} from 'ink-testing-library';
import {KubeVolumeRestoreCluster} from '../../../source/cluster/mutations.js';
import {loadKubeConfig} from '../../../source/config/kube.js';
import {prepareVolumeRestore, providerProbe} from '../../../source/layers/volumes/restore-plan.js';
import type {SnapshotItem} from '../../../source/layers/volumes/volume-inventory.js';
import type {RestoreReport} from '../../../source/restore/report.js';
import {volumeRestoreAction} from '../../../source/ui/wizard/volume-restore-action.js';
import {countObjects, noBackupRunning, snapshotData} from '../../helpers/drill-data.js';
import {startDrillWorld, type DrillFixture} from '../../helpers/drill-world.js';
import {waitForFrame} from '../../helpers/frames.js';

let drill: DrillFixture;
let stateDir: string;

before(async () => {
	drill = await startDrillWorld();
	await drill.world.idle();
	stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-wizard-drill-'));
});

after(async () => {
	await drill?.stop();
	fs.rmSync(stateDir, {recursive: true, force: true});
});

const snapshotItem = (name: string): SnapshotItem => ({name, namespace: 'ilum', ofProvider: true, ready: true, claim: 'data-ilum-objectstorage-0'});

test('R on a snapshot opens the wizard; keys drive the restore to a verified report on the drill world', async () => {
	const {world} = drill;
	const cluster = new KubeVolumeRestoreCluster(loadKubeConfig({kubeconfig: world.kubeconfigPath}));
	const names = world.store.list('volumesnapshots', 'ilum').items.map(item => item.metadata.name).sort();
	const target = names.at(-5)!;
	const expected = snapshotData(world, target).objects('ilum-data').size;

	// The world's hourly backup may be running: a restore rightly refuses then, so wait it out.
	await noBackupRunning(world);
	let screen: React.ReactElement | undefined;
	let closedWith: RestoreReport | undefined | 'open' = 'open';
	const action = volumeRestoreAction({
		prepare: async name => prepareVolumeRestore({cluster, namespace: 'ilum', snapshot: name, stateDir, s3Endpoint: world.provider.endpoint, probeFor: async endpoint => providerProbe(cluster, 'ilum', endpoint)}),
		open(element) {
			screen = element;
			return {close() {
				screen = undefined;
			}};
		},
		onClosed(report) {
			closedWith = report;
		},
	});
	const live = {} as any;
	assert.equal(action.disabledReason?.(snapshotItem(target), {live, paneId: 'volumes', readOnly: true}), 'read-only mode: restores are not available');
	assert.match(action.disabledReason?.({...snapshotItem(target), ready: false}, {live, paneId: 'volumes', readOnly: false}) ?? '', /not ready/);
	assert.equal(await action.run(snapshotItem(target), {live, paneId: 'volumes', readOnly: false}), undefined);
	assert.ok(screen, 'the action opened a screen');

	const {lastFrame, stdin, unmount} = render(screen);
	try {
		await waitForFrame(lastFrame, /Plan \(20 steps\)[\s\S]*type data-ilum-objectstorage-0/, {timeout: 120_000});
		stdin.write('\r');
		await waitForFrame(lastFrame, /All checks passed/, {timeout: 120_000});
		stdin.write('\r');
		await waitForFrame(lastFrame, /Type data-ilum-objectstorage-0 to confirm/, {timeout: 120_000});
		stdin.write('data-ilum-objectstorage-0');
		await waitForFrame(lastFrame, /> data-ilum-objectstorage-0/, {timeout: 120_000});
		stdin.write('\r');
		const frame = await waitForFrame(lastFrame, /SUCCEEDED|FAILED|REFUSED/, {timeout: 180_000});
		assert.match(frame, /SUCCEEDED: restore claim ilum\/data-ilum-objectstorage-0/, frame);
		assert.match(frame, /How to undo[\s\S]*pre-restore/);
		stdin.write('\r');
		await waitForFrame(() => (closedWith === 'open' ? '' : 'closed'), /closed/);
		assert.equal((closedWith as unknown as RestoreReport).outcome, 'succeeded');
		assert.equal(await countObjects(drill.s3('provider'), 'ilum-data'), expected, 'the provider serves the snapshot\'s ilum-data');
	} finally {
		unmount();
	}
});
