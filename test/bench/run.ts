/**
`npm run bench`: runs every benchmark in this folder, one child process each (so one bench's
memory and warm caches do not colour the next), in name order. A benchmark is a standalone
script `test/bench/<name>.ts` (not helpers.ts, big-world.ts: shared pieces) that prints its own comparison (ratios against the tool a user
would otherwise use, measured side by side in the same run). Not a test: nothing here fails on time.

`npm run bench -- mirror` runs only the benchmarks whose file name contains "mirror".
*/
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

const folder = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const benches = fs.readdirSync(folder)
	.filter(file => file.endsWith('.ts') && !['run.ts', 'helpers.ts', 'big-world.ts'].includes(file) && !file.endsWith('.test.ts'))
	.filter(file => filters.length === 0 || filters.some(filter => file.includes(filter)))
	.sort();

let failed = 0;
for (const bench of benches) {
	process.stdout.write(`\n== ${bench.replace(/\.ts$/, '')} ==\n`);
	const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(folder, bench)], {stdio: 'inherit'});
	if (result.status !== 0) {
		failed++;
		process.stdout.write(`(${bench} exited with ${result.status ?? result.signal})\n`);
	}
}

process.exitCode = failed > 0 ? 1 : 0;
