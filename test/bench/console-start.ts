/**
Cold start of the real CLI against the drill world, in a real terminal (tmux 160x48). The world
runs in its own process (`drill serve`), so the figures are the console's own:
- time to the first full frame (the three panes with rows),
- time to a complete inventory on screen (every bucket compared, every table's history read),
- the console's peak memory (VmHWM),
- `inventory --json` to its document, with its peak memory;
for the default world (3,000 objects) and a bigger one (`node --import tsx test/bench/console-start.ts 100000`).
`--drill` (world in-process) adds the world's own start to these.

`--snapshots N` and `--tables N` add N VolumeSnapshots and N small Delta tables to each world
(bench-only seeders in big-world.ts, which then serves the world instead of `drill serve`). The
issue's big world: `console-start.ts 700000 --snapshots 976 --tables 93` (7 buckets of 100,000
objects; the default world already has 24 snapshots and 7 tables).
*/
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux} from '../helpers/tmux.js';

type Served = {kubeconfig: string; provider: {endpoint: string}; backup: {endpoint: string}; objects: number};

type Extra = {snapshots: number; tables: number};

async function serve(objects: number, extra: Extra): Promise<{served: Served; stop: () => Promise<void>; readyMs: number}> {
	const started = Date.now();
	const big = extra.snapshots > 0 || extra.tables > 0;
	const command = big
		? ['--max-old-space-size=16384', '--import', 'tsx', path.join(projectRoot, 'test/bench/big-world.ts'), '--objects', String(objects), '--snapshots', String(extra.snapshots), '--tables', String(extra.tables)]
		: [binPath, 'drill', 'serve', '--objects', String(objects)];
	const child = spawn(process.execPath, command, {cwd: projectRoot, stdio: ['ignore', 'pipe', 'ignore']});
	const lines = readline.createInterface({input: child.stdout});
	const first = await new Promise<string>((resolve, reject) => {
		lines.once('line', resolve);
		child.once('exit', code => {
			reject(new Error(`drill serve exited with ${code}`));
		});
	});
	return {
		served: JSON.parse(first) as Served,
		readyMs: Date.now() - started,
		async stop() {
			child.kill('SIGTERM');
			await new Promise(resolve => child.once('exit', resolve));
		},
	};
}

async function measure(objects: number, extra: Extra): Promise<void> {
	const world = await serve(objects, extra);
	const label = `${objects} objects${extra.snapshots > 0 || extra.tables > 0 ? ` +${extra.snapshots} snapshots +${extra.tables} tables` : ''}`;
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'console-bench-'));
	const flags = `--kubeconfig ${world.served.kubeconfig} --s3-endpoint ${world.served.provider.endpoint}`;
	try {
		const started = Date.now();
		const screen = await startInTmux(`${process.execPath} ${binPath} ${flags}`, {cwd: projectRoot, env: {HOME: home}});
		try {
			const pid = execFileSync('tmux', ['display-message', '-p', '-t', screen.session, '#{pane_pid}'], {encoding: 'utf8'}).trim();
			await screen.waitForScreen(text => /Volume snapshots \(\d+\)/.test(text) && text.includes('CronJob') && /ilum-obj\S+ +\d+[smhd] +yes/.test(text), {timeout: 300_000});
			const firstFrame = Date.now() - started;
			await screen.waitForScreen(text => text.includes('ilum-langfuse') && !text.includes('counting…') && !text.includes('reading table histories') && !text.includes('loading…'), {timeout: 600_000});
			const complete = Date.now() - started;
			const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
			const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
			// CPU seconds the console used (user + system): wall times swing with the machine's load.
			const stat = (await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')).split(') ')[1]?.split(' ') ?? [];
			const cpuSeconds = (Number(stat[11] ?? 0) + Number(stat[12] ?? 0)) / 100;
			await screen.sendKeys('q');
			process.stdout.write(`${label} (world ready in ${(world.readyMs / 1000).toFixed(1)} s; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores): console first full frame ${(firstFrame / 1000).toFixed(1)} s, complete inventory on screen ${(complete / 1000).toFixed(1)} s (${cpuSeconds.toFixed(1)} s CPU), peak RSS ${(peakKiB / 1024).toFixed(0)} MiB\n`);
		} finally {
			await screen.kill();
		}

		const inventoryStart = Date.now();
		const child = spawn('/usr/bin/time', ['-f', '%U %S %M', process.execPath, binPath, 'inventory', '--json', ...flags.split(' ')], {cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, HOME: home}});
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
		const seconds = (Date.now() - inventoryStart) / 1000;
		const inventory = JSON.parse(stdout) as {volumes: {snapshots?: unknown[]}; mirrors: {buckets: Array<{provider: {objects: number}}>}; tables: {tables: unknown[]}};
		const [user, system, maxKiB] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number) as [number, number, number];
		const counted = inventory.mirrors.buckets.reduce((sum, bucket) => sum + bucket.provider.objects, 0);
		process.stdout.write(`${label}: inventory --json ${seconds.toFixed(1)} s (${(user + system).toFixed(1)} s CPU, exit ${code}): ${inventory.volumes.snapshots?.length ?? 0} snapshots, ${inventory.mirrors.buckets.length} buckets (${counted} provider objects compared), ${inventory.tables.tables.length} tables, peak RSS ${(maxKiB / 1024).toFixed(0)} MiB\n`);
	} finally {
		await world.stop();
		await fs.rm(home, {recursive: true, force: true});
	}
}

const argv = process.argv.slice(2);
const option = (name: string) => {
	const at = argv.indexOf(`--${name}`);
	return at === -1 ? 0 : Number(argv.splice(at, 2)[1]);
};

const extra = {snapshots: option('snapshots'), tables: option('tables')};
const sizes = argv.map(Number).filter(Number.isFinite);
for (const objects of sizes.length > 0 ? sizes : [3000]) {
	// eslint-disable-next-line no-await-in-loop
	await measure(objects, extra);
}
