/**
Takes the readme's screenshots of the restore wizard from a real run: the console on the drill
world in tmux (160x48), R on a snapshot, then the plan, the gate, live progress and the report.

    node --import tsx test/media/wizard-screenshots.ts
*/
import {execFile} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';
import {ansiToSvg} from './ansi-to-svg.js';

const run = promisify(execFile);
const media = path.join(projectRoot, 'media');

async function save(name: string, ansi: string): Promise<void> {
	const svg = path.join(media, `${name}.svg`);
	await fs.writeFile(svg, ansiToSvg(ansi, {columns: 160}));
	try {
		await run('rsvg-convert', ['-o', path.join(media, `${name}.png`), svg]);
		await fs.rm(svg);
		process.stderr.write(`wrote media/${name}.png\n`);
	} catch {
		process.stderr.write(`wrote media/${name}.svg (install librsvg2-bin for PNG)\n`);
	}
}

await fs.mkdir(media, {recursive: true});
const home = await fs.mkdtemp(path.join(os.tmpdir(), 'wizard-screenshots-'));
const screen = await startInTmux(`${process.execPath} ${binPath} --drill --state-dir ${path.join(home, 'state')}`, {cwd: projectRoot, env: {HOME: home}});
try {
	await screen.waitForScreen(text => text.includes('ilum-langfuse') && /Volume snapshots \(\d+\)/.test(text), {timeout: 180_000});
	await screen.sendKeys('j');
	await screen.sendKeys('R');
	await screen.waitForScreen('Plan (20 steps)', {timeout: 120_000});
	await save('wizard-plan', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen('All checks passed', {timeout: 120_000});
	await screen.sendKeys('Enter');
	await screen.waitForScreen('to confirm', {timeout: 120_000});
	await screen.sendKeys('-l', 'data-ilum-objectstorage-0');
	await screen.waitForScreen('> data-ilum-objectstorage-0');
	await save('wizard-gate', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen(text => /▸|⠋|⠙|⠹|⠸|⠼|⠴|⠦|⠧|⠇|⠏/.test(text) && text.includes('Events'), {timeout: 120_000});
	await save('wizard-progress', await screen.capture({escapes: true}));
	await screen.waitForScreen(/SUCCEEDED|FAILED|REFUSED/, {timeout: 300_000});
	await save('wizard-report', await screen.capture({escapes: true}));
	await screen.sendKeys('Enter');
	await screen.waitForScreen('Recovery points');
	await screen.sendKeys('q');
} finally {
	await screen.kill();
	await fs.rm(home, {recursive: true, force: true});
}
