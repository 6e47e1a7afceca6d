/**
How long the drill world takes to be ready (target: the default world under 2 s on these
machines), and how big it is: the default world (every seeder) and the core world (cluster,
objects, history; no tables), several runs each, with the time each seeder took and the medians.

    node --import tsx test/bench/drill-world.ts            # RUNS=5 OBJECTS=3000 WORLDS=default,core

Every run starts a world in this process, as `drill serve` does; caches that live across
processes (PGlite's initialized cluster under the OS temp dir) are warm after the first run ever.
*/
import {startWorld} from '../../source/drill/world.js';
import {seedTimings} from '../../source/drill/seed/index.js';
import {coreSeeders} from '../helpers/drill-world.js';

const runs = Number(process.env['RUNS'] ?? 5);
const objects = Number(process.env['OBJECTS'] ?? 3000);
const worlds = (process.env['WORLDS'] ?? (process.env['CORE'] === '1' ? 'core' : 'default,core')).split(',');
const median = (values: number[]) => {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const summary: string[] = [];
for (const kind of worlds) {
	const times: number[] = [];
	const perSeeder = new Map<string, number[]>();
	for (let run = 0; run < runs; run++) {
		const started = performance.now();
		// eslint-disable-next-line no-await-in-loop
		const world = await startWorld({seed: run + 1, objects, ...(kind === 'core' ? {seeders: coreSeeders} : {})});
		const elapsed = performance.now() - started;
		times.push(elapsed);
		for (const [name, ms] of seedTimings) {
			perSeeder.set(name, [...perSeeder.get(name) ?? [], ms]);
		}

		const volume = world.providerEndpoint.volume!;
		process.stdout.write(`${kind} world ready in ${elapsed.toFixed(0)} ms (seed ${run + 1}: ${volume.objectCount()} objects, ${(volume.usedBytes() / 1024 / 1024).toFixed(1)} MiB, ${world.store.list('volumesnapshots', 'ilum').items.length} snapshots, rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB)\n`);
		process.stdout.write(`  seeders: ${[...seedTimings].map(([name, ms]) => `${name} ${Math.round(ms)} ms`).join(', ')}\n`);
		// eslint-disable-next-line no-await-in-loop
		await world.stop();
	}

	summary.push(`${kind} world: median ${median(times).toFixed(0)} ms over ${runs} runs, ${objects} objects (target < 2000 ms for the default world); per seeder (median): ${[...perSeeder].map(([name, values]) => `${name} ${Math.round(median(values))} ms`).join(', ')}`);
}

process.stdout.write(`${summary.join('\n')}\n`);
