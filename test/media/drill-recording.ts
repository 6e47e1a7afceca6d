/**
Records the readme's drill from a real run: `drill run pv-loss` recovered by keys in tmux (160x48),
driven exactly as `test/e2e/drill-by-keys.test.ts` drives it, the pane captured with colours every
~0.5 s. Writes media/drill-pv-loss.gif (identical consecutive frames dropped, each frame shown as
long as it lasted, pauses capped, the empty terminal before the briefing left out),
media/drill-briefing.png and media/drill-debrief.png. Frames are rendered as the other
screenshots are (test/media/ansi-to-svg.ts, then rsvg-convert); the GIF is put together by
ImageMagick (`apt-get install -y imagemagick librsvg2-bin`).

    node --import tsx test/media/drill-recording.ts
*/
import {execFile} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';
import {driveDrillByKeys} from '../helpers/drill-by-keys.js';
import {clockStartArgument} from '../helpers/clock.js';
import {ansiToSvg} from './ansi-to-svg.js';

const run = promisify(execFile);
const media = path.join(projectRoot, 'media');
const columns = 160;
const rows = 48;
/** How long a screen worth reading stays on (the recording only: it is not a test). */
const holdMs = 2500;
/** The longest a frame is shown in the GIF (long waits are shortened). */
const maxFrameMs = 4000;

type Frame = {at: number; ansi: string; label?: string};

const normalise = (ansi: string): string => {
	// tmux's own line once the drill has exited is not part of the program's output.
	const lines = ansi.replace(/\n$/, '').split('\n').slice(0, rows).map(line => line.includes('Pane is dead') ? '' : line);
	while (lines.length < rows) {
		lines.push('');
	}

	return lines.join('\n') + '\n';
};

async function render(ansi: string, png: string, work: string): Promise<void> {
	const svg = path.join(work, `${path.basename(png, '.png')}.svg`);
	await fs.writeFile(svg, ansiToSvg(ansi, {columns}));
	await run('rsvg-convert', ['-o', png, svg]);
	await fs.rm(svg);
}

await fs.mkdir(media, {recursive: true});
const home = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-recording-'));
const work = path.join(home, 'frames');
await fs.mkdir(work);
const frames: Frame[] = [];
const screen = await startInTmux(`${process.execPath} ${binPath} drill run pv-loss --objects 300 --state-dir ${path.join(home, 'state')} --clock-start ${clockStartArgument(15)}`, {cwd: projectRoot, env: {HOME: home}, columns, rows});
let recording = true;
const take = async (label?: string) => {
	const ansi = normalise(await screen.capture({escapes: true}));
	frames.push({at: Date.now(), ansi, label});
};

const recorder = (async () => {
	while (recording) {
		// eslint-disable-next-line no-await-in-loop
		await take().catch(() => {});
		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 500);
		});
	}
})();
try {
	await driveDrillByKeys(screen, {
		typeSlowly: true,
		async hold(what) {
			await take(what);
			await new Promise(resolve => {
				setTimeout(resolve, holdMs);
			});
		},
	});
} finally {
	recording = false;
	await recorder;
	await screen.kill();
}

const briefing = frames.find(frame => frame.label === 'briefing');
const debrief = frames.findLast(frame => frame.label === 'debrief');
if (briefing) {
	await render(briefing.ansi, path.join(media, 'drill-briefing.png'), work);
	process.stderr.write('wrote media/drill-briefing.png\n');
}

if (debrief) {
	await render(debrief.ansi, path.join(media, 'drill-debrief.png'), work);
	process.stderr.write('wrote media/drill-debrief.png\n');
}

// Distinct consecutive frames, each shown until the next one appeared (capped).
const distinct: Frame[] = [];
const blank = (ansi: string) => ansi.replaceAll(/\u001B\[[^a-zA-Z]*[a-zA-Z]/g, '').trim() === '';
for (const frame of frames.toSorted((a, b) => a.at - b.at)) {
	// The empty terminal while the world starts is left out: the GIF opens on the briefing.
	if (distinct.length === 0 && blank(frame.ansi)) {
		continue;
	}

	if (distinct.at(-1)?.ansi !== frame.ansi) {
		distinct.push(frame);
	}
}

const args: string[] = [];
for (const [index, frame] of distinct.entries()) {
	const png = path.join(work, `frame-${String(index).padStart(4, '0')}.png`);
	// eslint-disable-next-line no-await-in-loop
	await render(frame.ansi, png, work);
	const next = distinct[index + 1]?.at ?? frame.at + maxFrameMs;
	const shown = Math.min(maxFrameMs, Math.max(200, next - frame.at));
	args.push('-delay', String(Math.round(shown / 10)), png);
}

const gif = path.join(media, 'drill-pv-loss.gif');
// One palette for every frame (+remap, no dithering): with a palette per frame, pixels the frame
// optimisation keeps from the previous frame come out in other colours (specks on the debrief).
await run('convert', ['-loop', '0', ...args, '+dither', '+remap', '-layers', 'Optimize', gif], {maxBuffer: 64 * 1024 * 1024});
const {size} = await fs.stat(gif);
process.stderr.write(`wrote media/drill-pv-loss.gif: ${distinct.length} frames of ${frames.length} captured, ${(size / 1024 / 1024).toFixed(1)} MiB\n`);
await fs.rm(home, {recursive: true, force: true});
