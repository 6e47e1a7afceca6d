/**
Cold start of the real CLI on the default drill world, in a real terminal (tmux 160x48):
- to the first full frame (the three panes with rows),
- to a complete inventory on screen (every bucket compared, every table's history read),
- and `inventory --json` to its document;
with the console's peak memory (VmHWM) and how many frames it drew per second while figures
streamed in (the redraw budget is ~10 a second).

    node --import tsx test/bench/console-start.ts
*/
import {spawn} from 'node:child_process';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';

const home = await fs.mkdtemp(path.join(os.tmpdir(), 'console-bench-'));
const started = Date.now();
const screen = await startInTmux(`${process.execPath} ${binPath} --drill`, {cwd: projectRoot, env: {HOME: home}});
let peakKiB = 0;
try {
	const pid = execFileSync('tmux', ['display-message', '-p', '-t', screen.session, '#{pane_pid}'], {encoding: 'utf8'}).trim();
	await screen.waitForScreen(text => text.includes('Volume snapshots (24)') && text.includes('Mirrors (') && text.includes('Tables ('), {timeout: 180_000});
	const firstFrame = Date.now() - started;
	await screen.waitForScreen(text => text.includes('ilum-langfuse') && !text.includes('counting…') && !text.includes('reading table histories') && !text.includes('loading…'), {timeout: 300_000});
	const complete = Date.now() - started;
	const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
	peakKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
	await screen.sendKeys('q');
	process.stdout.write(`console --drill: first full frame ${(firstFrame / 1000).toFixed(1)} s, complete inventory on screen ${(complete / 1000).toFixed(1)} s, peak RSS ${(peakKiB / 1024).toFixed(0)} MiB\n`);
} finally {
	await screen.kill();
	await fs.rm(home, {recursive: true, force: true});
}

const inventoryStart = Date.now();
const child = spawn('/usr/bin/time', ['-f', '%M', process.execPath, binPath, 'inventory', '--drill', '--json'], {cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe']});
let stdout = '';
let stderr = '';
child.stdout.on('data', chunk => {
	stdout += chunk;
});
child.stderr.on('data', chunk => {
	stderr += chunk;
});
const code = await new Promise<number>(resolve => {
	child.on('close', exit => {
		resolve(exit ?? 1);
	});
});
const inventory = JSON.parse(stdout) as {volumes: {snapshots?: unknown[]}; mirrors: {buckets: unknown[]}; tables: {tables: unknown[]}};
const maxKiB = Number(stderr.trim().split('\n').at(-1));
process.stdout.write(`inventory --drill --json: ${((Date.now() - inventoryStart) / 1000).toFixed(1)} s (exit ${code}), ${inventory.volumes.snapshots?.length ?? 0} snapshots, ${inventory.mirrors.buckets.length} buckets, ${inventory.tables.tables.length} tables, peak RSS ${(maxKiB / 1024).toFixed(0)} MiB\n`);
process.stdout.write('Both include starting the drill world in-process (its seed writes every table version and snapshot).\n');
