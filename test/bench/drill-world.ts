/**
How long the drill world takes to be ready (target: the default world under 2 s on these
machines), and how big it is: the default world (every seeder) and the core world (cluster,
objects, history; no tables), several runs each, with the time each seeder took and the medians;
then `drill serve` in fresh processes (what a user waits for: spawn to the ready line).

    node --import tsx test/bench/drill-world.ts     # RUNS=5 OBJECTS=3000 WORLDS=default,core SERVE=3

The DuckLake seed is cached between processes (seed-cache.ts, under XDG_CACHE_HOME): the bench
uses a fresh cache directory, so the first default world computes it ("cold") and the others load
it ("warm"); both are reported. PGlite's initialized cluster is cached under the OS temp dir (warm
after the first run ever). The load average is printed with the results: on a shared 2-core
machine it decides most of the spread.
*/
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {startWorld} from '../../source/drill/world.js';
import {seedTimings} from '../../source/drill/seed/index.js';
import {coreSeeders} from '../helpers/drill-world.js';
import {serveDrill} from '../helpers/drill-serve.js';

const runs = Number(process.env['RUNS'] ?? 5);
const serveRuns = Number(process.env['SERVE'] ?? 3);
const objects = Number(process.env['OBJECTS'] ?? 3000);
const worlds = (process.env['WORLDS'] ?? (process.env['CORE'] === '1' ? 'core' : 'default,core')).split(',').filter(Boolean);
const median = (values: number[]) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const load = () => os.loadavg().map(value => value.toFixed(1)).join(' ');
const cacheHome = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-bench-cache-'));
process.env['XDG_CACHE_HOME'] = cacheHome;
const summary: string[] = [];
try {
	for (const kind of worlds) {
		const times: number[] = [];
		const cpu: number[] = [];
		const perSeeder = new Map<string, number[]>();
		let cold: number | undefined;
		for (let run = 0; run < runs; run++) {
			const started = performance.now();
			const usage = process.cpuUsage();
			// eslint-disable-next-line no-await-in-loop
			const world = await startWorld({seed: 1, objects, ...(kind === 'core' ? {seeders: coreSeeders} : {})});
			const elapsed = performance.now() - started;
			const used = process.cpuUsage(usage);
			if (kind === 'default' && run === 0) {
				cold = elapsed;
			} else {
				times.push(elapsed);
				cpu.push((used.user + used.system) / 1000);
				for (const [name, ms] of seedTimings) {
					perSeeder.set(name, [...perSeeder.get(name) ?? [], ms]);
				}
			}

			const volume = world.providerEndpoint.volume!;
			process.stdout.write(`${kind} world ready in ${elapsed.toFixed(0)} ms, cpu ${((used.user + used.system) / 1000).toFixed(0)} ms${kind === 'default' && run === 0 ? ' (DuckLake cache cold)' : ''} (${volume.objectCount()} objects, ${(volume.usedBytes() / 1024 / 1024).toFixed(1)} MiB, ${world.store.list('volumesnapshots', 'ilum').items.length} snapshots, rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB, load ${load()})\n`);
			process.stdout.write(`  seeders: ${[...seedTimings].map(([name, ms]) => `${name} ${Math.round(ms)} ms`).join(', ')}\n`);
			// eslint-disable-next-line no-await-in-loop
			await world.stop();
		}

		summary.push(`${kind} world in-process: median ${median(times).toFixed(0)} ms (cpu ${median(cpu).toFixed(0)} ms) over ${times.length} runs${cold === undefined ? '' : `, first start with a cold DuckLake cache ${cold.toFixed(0)} ms`}, ${objects} objects; per seeder (median): ${[...perSeeder].map(([name, values]) => `${name} ${Math.round(median(values))} ms`).join(', ')}`);
	}

	/** `drill serve` in a fresh process: ms from spawn to the ready line, and the world's own figure. */
	const serve = async () => {
		const started = performance.now();
		const served = await serveDrill(['--objects', String(objects)]);
		const wall = performance.now() - started;
		const {stderr} = await served.stop();
		return {wall, world: Number(/world ready in (\d+) ms/.exec(stderr)?.[1] ?? Number.NaN)};
	};

	const walls: number[] = [];
	const inWorld: number[] = [];
	for (let run = 0; run < serveRuns; run++) {
		// eslint-disable-next-line no-await-in-loop
		const {wall, world} = await serve();
		walls.push(wall);
		inWorld.push(world);
		process.stdout.write(`drill serve: ready line after ${wall.toFixed(0)} ms (world ready in ${world} ms; load ${load()})\n`);
	}

	if (serveRuns > 0) {
		summary.push(`drill serve (fresh process, cache warm): ready line after ${median(walls).toFixed(0)} ms median (world ready in ${median(inWorld).toFixed(0)} ms; the rest is loading modules) over ${serveRuns} runs`);
	}
} finally {
	await fs.rm(cacheHome, {recursive: true, force: true});
}

process.stdout.write(`${summary.join('\n')}\n(target < 2000 ms for the default world; load average now ${load()})\n`);
