import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {findScenario} from '../../source/drill/scenarios/index.js';
import {ilum} from '../../source/drill/seed/ilum.js';
import {findUnfinished, describeUnfinished} from '../../source/restore/journal.js';
import {coreSeeders, startDrillWorld, type DrillFixture} from '../helpers/drill-world.js';
import {waitForFrame} from '../helpers/frames.js';
import {keys} from '../helpers/render-sized.js';
import {bucketCounts, confirmFromPlan, drillConsoles, selectBucket} from './drill-console.js';

/*
Esc + y while the console's in-cluster mirror restore runs its Job: the Job is deleted, the run
ends `stopped` (not failed), the report says how to go on and the journal keeps the place.
A world with more objects, so that the Job runs long enough to be stopped.
*/

let drill: DrillFixture;
let stateDir: string;
const consoles = drillConsoles();

before(async () => {
	drill = await startDrillWorld({seeders: coreSeeders, objects: 1500});
	await drill.world.idle();
	stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-console-mirror-jobs-stop-'));
});

after(async () => {
	await consoles.close();
	await drill?.stop();
	fs.rmSync(stateDir, {recursive: true, force: true});
});

const size = {columns: 200, rows: 80};

test('Esc + y during the in-cluster copy: the Job is deleted, the run ends stopped (resumable), not failed; J again resumes and finishes it', {timeout: 300_000}, async () => {
	const {world} = drill;
	const state = await findScenario('bucket-wipe')!.inject(world);
	let report: string | undefined;
	const ui = await consoles.open(drill, {stateDir, size});
	try {
		await waitForFrame(ui.lastFrame, text => bucketCounts(text, 'ilum-data')?.provider === 0 && !text.includes('counting'), {timeout: 120_000});
		await selectBucket(ui, 'ilum-data');
		ui.stdin.write('J');
		await waitForFrame(ui.lastFrame, /Plan \(\d+ steps\)/, {timeout: 120_000});
		await confirmFromPlan(ui, 'restore');
		// The Job copies: its log lines are on screen.
		await waitForFrame(ui.lastFrame, /│ `backup\/ilum-data\//, {timeout: 120_000});
		assert.ok(world.store.list('jobs', ilum.namespace).items.some(job => job.metadata?.name?.startsWith('ilum-restore-mirror-')), 'the Job exists');
		ui.stdin.write(keys.escape);
		await waitForFrame(ui.lastFrame, /Stop after the current step\?/);
		ui.stdin.write('y');
		const frame = await waitForFrame(ui.lastFrame, /SUCCEEDED|FAILED|REFUSED|STOPPED/, {timeout: 120_000});
		if (process.env['SHOW_FRAME']) {
			console.log(frame);
		}

		assert.match(frame, /STOPPED/, frame);
		assert.doesNotMatch(frame, /FAILED/);
		// The frame's lines wrap inside the box: read it as one line.
		const flat = frame.replaceAll(/[│╭╮╰╯─]/g, ' ').replaceAll(/\s+/g, ' ');
		assert.match(flat, /stopped on request in the middle of the copy: the objects copied so far are in place; resume to copy the rest \(interrupted: deleted the Jobs ilum-restore-mirror-\S+-ilum-data\)/);
		assert.match(flat, /ilum-data Job ilum-restore-mirror-\S+: stopped with the run/, 'the Job is no longer shown running');
		report = /Report saved: (\S+)/.exec(frame)?.[1];
		assert.ok(report, 'the report was saved');
		ui.stdin.write(keys.enter);
		await waitForFrame(ui.lastFrame, text => !text.includes('Jobs in the cluster'), {timeout: 60_000});
		assert.ok(!world.store.list('jobs', ilum.namespace).items.some(job => job.metadata?.name?.startsWith('ilum-restore-mirror-')), 'the Job was deleted');
		const unfinished = findUnfinished(stateDir, 'mirror/ilum-data');
		assert.ok(unfinished, 'the journal keeps the place');
		assert.match(describeUnfinished(unfinished), /stopped on request during step 'copy'/);
		assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, true, 'the CronJob stays held while the restore is unfinished');

		// J again: the wizard resumes the stopped run (the steps done before are not repeated) and finishes it.
		await waitForFrame(ui.lastFrame, /Mirrors \/ilum-data \(1\)/, {timeout: 60_000});
		ui.stdin.write('J');
		const again = await waitForFrame(ui.lastFrame, /Plan \(\d+ steps\)/, {timeout: 120_000});
		assert.match(again.replaceAll(/[│\n]/g, ' ').replaceAll(/\s+/g, ' '), /Resuming an unfinished restore of mirror\/ilum-data .* stopped on request during step 'copy'/);
		// The copy was not finished: its gate is asked again.
		await confirmFromPlan(ui, 'restore');
		const end = await waitForFrame(ui.lastFrame, /SUCCEEDED|FAILED|REFUSED|STOPPED/, {timeout: 240_000});
		assert.match(end, /SUCCEEDED/, end);
		assert.match(end, /\(resumed\)/);
		assert.match(end, /Verified: no drift in 1 bucket/);
		ui.stdin.write(keys.enter);
		await waitForFrame(ui.lastFrame, text => !text.includes('Jobs in the cluster'), {timeout: 60_000});
	} finally {
		ui.unmount();
	}

	assert.equal(findUnfinished(stateDir, 'mirror/ilum-data'), undefined, 'the run is finished');
	assert.equal(world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend, false, 'the CronJob runs again');
	const verdict = await findScenario('bucket-wipe')!.check(world, state);
	assert.equal(verdict.recovered, true, verdict.findings.join('\n'));
});
