/**
Takes the readme's screenshots from a real run: the console on the drill world in tmux (160x48),
captured with colours, rendered to SVG (and PNG when `rsvg-convert` is installed).

    node --import tsx test/media/screenshots.ts
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
	await fs.writeFile(path.join(os.tmpdir(), `${name}.ansi`), ansi);
	try {
		await run('rsvg-convert', ['-o', path.join(media, `${name}.png`), svg]);
		await fs.rm(svg);
		process.stderr.write(`wrote media/${name}.png\n`);
	} catch {
		process.stderr.write(`wrote media/${name}.svg (install librsvg2-bin for PNG)\n`);
	}
}

await fs.mkdir(media, {recursive: true});
const home = await fs.mkdtemp(path.join(os.tmpdir(), 'screenshots-'));
const screen = await startInTmux(`${process.execPath} ${binPath} --drill`, {cwd: projectRoot, env: {HOME: home}});
try {
	await screen.waitForScreen(text => text.includes('ilum-langfuse') && /Tables \([1-9]/.test(text) && !text.includes('loading…'), {timeout: 180_000});
	await save('console-home', await screen.capture({escapes: true}));
	await screen.sendKeys('Tab');
	await screen.waitForScreen('Mirrors (7)');
	await screen.sendKeys('j', 'j', 'j', 'j', 'j', 'j', 'Enter');
	await screen.waitForScreen('provider vs mirror');
	await save('console-bucket-drift', await screen.capture({escapes: true}));
	await screen.sendKeys('Escape');
	await screen.waitForScreen('Recovery points');
	await screen.sendKeys('Tab', 'Enter');
	await screen.waitForScreen(/ID +TIME \(UTC\)/, {timeout: 60_000});
	await save('console-table-history', await screen.capture({escapes: true}));
	await screen.sendKeys('Escape');
	await screen.waitForScreen('Recovery points');
	await screen.sendKeys('q');
} finally {
	await screen.kill();
	await fs.rm(home, {recursive: true, force: true});
}
