/**
Takes the readme's screenshots of a mirror restore from the console: `drill run bucket-wipe` in
tmux (160x48), Enter after the briefing, the Mirrors pane filtered to ilum-data, R (the plan per
bucket), Enter, Enter, `restore` typed at the gate, then the report with the per-bucket bars.

    node --import tsx test/media/mirror-restore-screenshots.ts
*/
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';
import {saveScreenshot} from './save-screenshot.js';

const home = await fs.mkdtemp(path.join(os.tmpdir(), 'mirror-screenshots-'));
const screen = await startInTmux(`${process.execPath} ${binPath} drill run bucket-wipe --state-dir ${path.join(home, 'state')}`, {cwd: projectRoot, env: {HOME: home}});
try {
	await screen.waitForScreen('Press Enter to open the console', {timeout: 300_000});
	await screen.sendKeys('Enter');
	await screen.waitForScreen(text => /Mirrors \(\d+\)/.test(text) && /ilum-data +0 +\d+ /.test(text) && !text.includes('counting'), {timeout: 300_000});
	await screen.sendKeys('Tab', '/');
	await screen.sendKeys('-l', 'ilum-data');
	await screen.sendKeys('Enter');
	await screen.waitForScreen(/Mirrors \/ilum-data \(1\)/, {timeout: 60_000});
	await screen.sendKeys('R');
	await screen.waitForScreen(/Plan \(\d+ steps\)[\s\S]*Undo/, {timeout: 120_000});
	await saveScreenshot('mirror-plan', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen('All checks passed', {timeout: 120_000});
	await screen.sendKeys('Enter');
	await screen.waitForScreen('Type restore to confirm', {timeout: 120_000});
	await screen.sendKeys('-l', 'restore');
	await screen.waitForScreen('> restore');
	await screen.sendKeys('Enter');
	await screen.waitForScreen(/SUCCEEDED|FAILED|REFUSED/, {timeout: 300_000});
	await screen.waitForScreen(/verify: no drift/, {timeout: 30_000});
	await saveScreenshot('mirror-report', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen(/Mirrors \/ilum-data \(1\)/, {timeout: 120_000});
	await screen.sendKeys('q');
} finally {
	await screen.kill();
	await fs.rm(home, {recursive: true, force: true});
}
