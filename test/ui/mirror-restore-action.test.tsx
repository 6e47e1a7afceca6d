import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import {findScenario} from '../../source/drill/scenarios/index.js';
import {ilum} from '../../source/drill/seed/ilum.js';
import {connectLayers} from '../../source/layers/connect.js';
import type {LayerSources} from '../../source/layers/inventory.js';
import {LiveInventory} from '../../source/layers/live-inventory.js';
import {FastS3Client} from '../../source/storage/fast-s3.js';
import {App} from '../../source/ui/app.js';
import {coreSeeders, startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';
import {waitForFrame} from '../helpers/frames.js';
import {keys, renderSized} from '../helpers/render-sized.js';

/*
The mirror restore wizard from the Mirrors pane, on the bucket-wipe drill: R on ilum-data, the plan
per bucket, the preflight, the typed gate, per-bucket bars while it copies, the verification and
the report; afterwards the pane shows the bucket back without `r`, and S3 (read independently)
has every object the mirror had, byte for byte, with the backup CronJob running again.
*/

let drill: DrillFixture;
let stateDir: string;
const opened: Array<{sources: LayerSources; live: LiveInventory}> = [];

before(async () => {
	drill = await startDrillWorld({seeders: coreSeeders});
	await drill.world.idle();
	stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-console-mirror-'));
});

after(async () => {
	for (const {sources, live} of opened) {
		// eslint-disable-next-line no-await-in-loop
		await live.stop();
		// eslint-disable-next-line no-await-in-loop
		await sources.close?.();
	}

	await drill?.stop();
	fs.rmSync(stateDir, {recursive: true, force: true});
});

const size = {columns: 200, rows: 70};
/** The Mirrors pane's row of a bucket: objects on the provider, on the mirror. */
const bucketCounts = (frame: string, bucket: string) => {
	const match = new RegExp(`${bucket} +(\\d+) +(\\d+) `).exec(frame);
	return match ? {provider: Number(match[1]), mirror: Number(match[2])} : undefined;
};

async function openConsole(options: {readOnly?: boolean} = {}) {
	const {world} = drill;
	const sources = await connectLayers({
		flags: {kubeconfig: world.kubeconfigPath, stateDir, ...(options.readOnly ? {readOnly: true} : {})},
		world: {kubeconfig: world.kubeconfigPath, s3Endpoint: world.provider.endpoint, mirrorEndpoint: world.backup.endpoint},
	});
	const live = new LiveInventory(sources, {throttleMs: 20, ...(options.readOnly ? {readOnly: true} : {})});
	opened.push({sources, live});
	live.start();
	return renderSized(<App live={live} size={size} readOnly={options.readOnly}/>, size);
}

async function selectBucket(ui: Awaited<ReturnType<typeof openConsole>>, bucket: string) {
	ui.stdin.write(keys.tab);
	await waitForFrame(ui.lastFrame, /Mirrors.*\(\d+\)/);
	ui.stdin.write('/');
	await waitForFrame(ui.lastFrame, /\/▏/);
	ui.stdin.write(bucket);
	await waitForFrame(ui.lastFrame, `/${bucket}▏`);
	ui.stdin.write(keys.enter);
	await waitForFrame(ui.lastFrame, new RegExp(`Mirrors /${bucket} \\(1\\)`));
}

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
		ui.stdin.write(keys.enter);
		await waitForFrame(ui.lastFrame, 'All checks passed', {timeout: 120_000});
		ui.stdin.write(keys.enter);
		await waitForFrame(ui.lastFrame, 'Type restore to confirm', {timeout: 60_000});
		ui.stdin.write('restore');
		await waitForFrame(ui.lastFrame, '> restore');
		ui.stdin.write(keys.enter);
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
	const provider = new FastS3Client({endpoint: world.provider.endpoint, region: 'us-east-1', accessKeyId: world.provider.accessKeyId, secretAccessKey: world.provider.secretAccessKey});
	try {
		const restored = new Map<string, string>();
		for await (const object of provider.list('ilum-data')) {
			restored.set(object.key, object.etag.replaceAll('"', ''));
		}

		for (const [key, etag] of Object.entries(state.mirrored as Record<string, string>)) {
			assert.equal(restored.get(key), etag.replaceAll('"', ''), `${key} is back with the mirror's content`);
		}
	} finally {
		await provider.destroy();
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
