/**
Takes the readme's screenshots of the restore wizard from a real run: the console on the drill
world in tmux (160x48), R on a snapshot, then the plan, the gate, live progress and the report.

    node --import tsx test/media/wizard-screenshots.ts
*/
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';
import {saveScreenshot} from './save-screenshot.js';

const home = await fs.mkdtemp(path.join(os.tmpdir(), 'wizard-screenshots-'));
const screen = await startInTmux(`${process.execPath} ${binPath} --drill --state-dir ${path.join(home, 'state')}`, {cwd: projectRoot, env: {HOME: home}});
try {
	await screen.waitForScreen(text => text.includes('ilum-langfuse') && /Volume snapshots \(\d+\)/.test(text), {timeout: 180_000});
	await screen.sendKeys('j');
	await screen.sendKeys('R');
	await screen.waitForScreen('Plan (20 steps)', {timeout: 120_000});
	await saveScreenshot('wizard-plan', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen('All checks passed', {timeout: 120_000});
	await screen.sendKeys('Enter');
	await screen.waitForScreen('to confirm', {timeout: 120_000});
	await screen.sendKeys('-l', 'data-ilum-objectstorage-0');
	await screen.waitForScreen('> data-ilum-objectstorage-0');
	await saveScreenshot('wizard-gate', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen(text => /▸|⠋|⠙|⠹|⠸|⠼|⠴|⠦|⠧|⠇|⠏/.test(text) && text.includes('Events'), {timeout: 120_000});
	await saveScreenshot('wizard-progress', await screen.capture({escapes: true}));
	await screen.waitForScreen(/SUCCEEDED|FAILED|REFUSED/, {timeout: 300_000});
	await saveScreenshot('wizard-report', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen('Recovery points');
	await screen.sendKeys('q');
} finally {
	await screen.kill();
	await fs.rm(home, {recursive: true, force: true});
}
