/**
Takes the readme's screenshots from a real run: the console on the drill world in tmux (160x48),
captured with colours, rendered to SVG (and PNG when `rsvg-convert` is installed).

    node --import tsx test/media/screenshots.ts
*/
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';
import {saveScreenshot} from './save-screenshot.js';

const home = await fs.mkdtemp(path.join(os.tmpdir(), 'screenshots-'));
const screen = await startInTmux(`${process.execPath} ${binPath} --drill`, {cwd: projectRoot, env: {HOME: home}});
try {
	await screen.waitForScreen(text => text.includes('ilum-langfuse') && /Tables \([1-9]/.test(text) && !text.includes('loading…'), {timeout: 180_000});
	await saveScreenshot('console-home', await screen.capture({escapes: true}), {keepAnsi: true});
	await screen.sendKeys('Tab');
	await screen.waitForScreen('Mirrors (7)');
	await screen.sendKeys('j', 'j', 'j', 'j', 'j', 'j', 'Enter');
	await screen.waitForScreen('provider vs mirror');
	await saveScreenshot('console-bucket-drift', await screen.capture({escapes: true}), {keepAnsi: true});
	await screen.sendKeys('Escape');
	await screen.waitForScreen('Recovery points');
	await screen.sendKeys('Tab', 'Enter');
	await screen.waitForScreen(/ID +TIME \(UTC\)/, {timeout: 60_000});
	await saveScreenshot('console-table-history', await screen.capture({escapes: true}), {keepAnsi: true});
	await screen.sendKeys('Escape');
	await screen.waitForScreen('Recovery points');
	await screen.sendKeys('q');
} finally {
	await screen.kill();
	await fs.rm(home, {recursive: true, force: true});
}
