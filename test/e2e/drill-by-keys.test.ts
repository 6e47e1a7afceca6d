import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';
import {driveDrillByKeys} from '../helpers/drill-by-keys.js';
import {clockStartArgument} from '../helpers/clock.js';

/**
The pv-loss drill recovered by keys through the real console in a real terminal (tmux), as an
operator would: the briefing, Enter, the console with the drill's clock, the hazard's fix (suspend
the backup CronJob), the newest snapshot taken before the incident, R, the wizard's plan,
preflight, typed gate, progress and report, q, and the debrief printed in the terminal.
*/
test('drill run pv-loss recovered by keys through the console ends with a clean debrief', {timeout: 30 * 60_000}, async () => {
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-by-keys-'));
	const stateDir = path.join(home, 'state');
	const launchedAt = Date.now();
	const screen = await startInTmux(`${process.execPath} ${binPath} drill run pv-loss --objects 300 --state-dir ${stateDir} --clock-start ${clockStartArgument(15)}`, {cwd: projectRoot, env: {HOME: home}, columns: 160, rows: 48});
	try {
		const drill = await driveDrillByKeys(screen);
		const endedAt = Date.now();

		// The console showed the drill's clock against the target, and it ran.
		assert.match(drill.consoleScreen.split('\n')[0]!, /DRILL pv-loss \d+:\d\d of 30:00/);
		assert.match(drill.laterScreen.split('\n')[0]!, /DRILL pv-loss \d+:\d\d of 30:00/);

		// The pane lists the snapshots newest first; the one chosen is the last good one.
		const stamps = drill.listed.map(row => row.stamp);
		assert.deepEqual(stamps, stamps.toSorted().toReversed(), 'snapshots newest first');
		assert.ok(drill.chosenName.endsWith(drill.chosenStamp), `the wizard restores the snapshot selected (${drill.chosenStamp}):\n${drill.planScreen}`);
		assert.match(drill.planScreen, /Take a safety VolumeSnapshot data-ilum-objectstorage-0-pre-restore-/);
		assert.match(drill.gateScreen, /Confirm: Delete claim data-ilum-objectstorage-0/);
		assert.match(drill.reportScreen, /SUCCEEDED: restore claim ilum\/data-ilum-objectstorage-0/, drill.reportScreen);
		// Before the restore the corruption broke the Delta tables; after it they read again (the console re-reads them by itself, no r).
		assert.match(drill.incidentScreen, /delta\/orders +delta +error/);
		assert.match(drill.refreshedScreen, /delta\/orders +delta +\d+/);

		// The debrief, as printed in the terminal.
		const {transcript} = drill;
		assert.equal(drill.exitStatus, 0, transcript);
		assert.match(transcript, /# Drill debrief: pv-loss/);
		assert.match(transcript, /- Outcome: \*\*recovered\*\*/, transcript);
		const time = /- Time to recover: ([\d.]+) (s|min) \(target 30 min: met\)/.exec(transcript);
		assert.ok(time, transcript);
		const seconds = Number(time[1]) * (time[2] === 'min' ? 60 : 1);
		// From the incident (before the briefing showed) to q (before the console closed).
		assert.ok(seconds >= ((drill.quitAt - drill.briefingSeenAt) / 1000) - 7, `time to recover ${seconds} s`);
		assert.ok(seconds <= ((endedAt - launchedAt) / 1000) + 7, `time to recover ${seconds} s`);
		assert.match(transcript, new RegExp(`- (\\d+) of \\1 objects match the last good snapshot ${drill.chosenName}\\.`), transcript);
		assert.match(transcript, /## Mistakes\s+- none seen/, transcript);

		// The same debrief saved under the state directory.
		const saved = (await fs.readdir(path.join(stateDir, 'drills'))).filter(file => file.endsWith('.json'));
		assert.equal(saved.length, 1);
		const debrief = JSON.parse(await fs.readFile(path.join(stateDir, 'drills', saved[0]!), 'utf8'));
		assert.equal(debrief.recovered, true);
		assert.equal(debrief.mode, 'operator');
		assert.deepEqual(debrief.mistakes, []);
		assert.ok(Math.abs(debrief.secondsToRecover - seconds) <= (time[2] === 'min' ? 3 : 0), 'the printed time is the saved one');
	} finally {
		await screen.kill();
		await fs.rm(home, {recursive: true, force: true});
	}
});
