/**
Takes the readme's screenshots of a table restore from the console: the drill world in tmux
(160x48), the Tables pane filtered to the Delta `orders` table, Enter (its history), ↑ (the
previous version chosen), R (the plan screen with the table preview), then the report.

    node --import tsx test/media/table-restore-screenshots.ts
*/
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';
import {saveScreenshot} from './save-screenshot.js';

const home = await fs.mkdtemp(path.join(os.tmpdir(), 'table-screenshots-'));
const screen = await startInTmux(`${process.execPath} ${binPath} --drill --state-dir ${path.join(home, 'state')}`, {cwd: projectRoot, env: {HOME: home}});
try {
	await screen.waitForScreen(text => /Tables \(\d+\)/.test(text) && text.includes('orders'), {timeout: 240_000});
	await screen.sendKeys('BTab');
	await screen.sendKeys('/');
	await screen.sendKeys('-l', 'delta/orders');
	await screen.sendKeys('Enter');
	await screen.waitForScreen(/Tables \/delta\/orders \(1\)/, {timeout: 60_000});
	await screen.sendKeys('Enter');
	await screen.waitForScreen(/selected \(current\)/, {timeout: 120_000});
	await screen.sendKeys('Up');
	await screen.waitForScreen(/version \d+ selected · /, {timeout: 60_000});
	await saveScreenshot('table-history', await screen.capture({escapes: true}));
	await screen.sendKeys('R');
	await screen.waitForScreen(/Plan \(3 steps\)[\s\S]*Undo/, {timeout: 120_000});
	await saveScreenshot('table-plan', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen('All checks passed', {timeout: 120_000});
	await screen.sendKeys('Enter');
	await screen.waitForScreen('Type orders to confirm', {timeout: 120_000});
	await screen.sendKeys('-l', 'orders');
	await screen.waitForScreen('> orders');
	await screen.sendKeys('Enter');
	await screen.waitForScreen(/SUCCEEDED|FAILED|REFUSED/, {timeout: 300_000});
	await saveScreenshot('table-report', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen(/selected \(current\)/, {timeout: 120_000});
	await screen.sendKeys('q');
	await screen.sendKeys('q');
} finally {
	await screen.kill();
	await fs.rm(home, {recursive: true, force: true});
}
