/**
How long the default drill world takes to be ready (target: under 2 s on these machines), and
how big it is. Prints one line per run and the median.
*/
import {startWorld} from '../../source/drill/world.js';
import {seedTimings} from '../../source/drill/seed/index.js';
import {coreSeeders} from '../helpers/drill-world.js';

const runs = Number(process.env['RUNS'] ?? 3);
const objects = Number(process.env['OBJECTS'] ?? 3000);
/** CORE=1: without the table seeders (Delta, Iceberg, DuckLake). */
const core = process.env['CORE'] === '1';
const times: number[] = [];
for (let run = 0; run < runs; run++) {
	const started = performance.now();
	// eslint-disable-next-line no-await-in-loop
	const world = await startWorld({seed: run + 1, objects, ...(core ? {seeders: coreSeeders} : {})});
	const elapsed = performance.now() - started;
	times.push(elapsed);
	const volume = world.providerEndpoint.volume!;
	process.stdout.write(`  seeders: ${[...seedTimings].map(([name, ms]) => `${name} ${Math.round(ms)} ms`).join(', ')}\n`);
	process.stdout.write(`drill world ready in ${elapsed.toFixed(0)} ms (seed ${run + 1}: ${volume.objectCount()} objects, ${(volume.usedBytes() / 1024 / 1024).toFixed(1)} MiB, ${world.store.list('volumesnapshots', 'ilum').items.length} snapshots, rss ${(process.memoryUsage().rss / 1024 / 1024).toFixed(0)} MiB)\n`);
	// eslint-disable-next-line no-await-in-loop
	await world.stop();
}

times.sort((a, b) => a - b);
process.stdout.write(`median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms over ${runs} runs, ${objects} objects${core ? ', core seeders only' : ''} (target < 2000 ms)\n`);
