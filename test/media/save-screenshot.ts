import {execFile} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {projectRoot} from '../helpers/run-cli.js';
import {ansiToSvg} from './ansi-to-svg.js';

const run = promisify(execFile);

/** Where the readme's screenshots live. */
export const mediaDir = path.join(projectRoot, 'media');

/**
Saves a tmux capture (with escapes) as `<name>.png` in the media folder: rendered to SVG by
ansi-to-svg.ts, then to PNG by `rsvg-convert` (librsvg2-bin); without it the SVG stays. Returns
the file written. `keepAnsi` also leaves the raw capture in the temp dir (to tune the renderer).
*/
export async function saveScreenshot(name: string, ansi: string, options: {columns?: number; keepAnsi?: boolean; dir?: string} = {}): Promise<string> {
	const dir = options.dir ?? mediaDir;
	await fs.mkdir(dir, {recursive: true});
	const svg = path.join(dir, `${name}.svg`);
	await fs.writeFile(svg, ansiToSvg(ansi, {columns: options.columns ?? 160}));
	if (options.keepAnsi) {
		await fs.writeFile(path.join(os.tmpdir(), `${name}.ansi`), ansi);
	}

	try {
		const png = path.join(dir, `${name}.png`);
		await run('rsvg-convert', ['-o', png, svg]);
		await fs.rm(svg);
		process.stderr.write(`wrote ${path.relative(projectRoot, png)}\n`);
		return png;
	} catch {
		process.stderr.write(`wrote ${path.relative(projectRoot, svg)} (install librsvg2-bin for PNG)\n`);
		return svg;
	}
}
