/**
The headline benchmark: restoring a mirror with ilum-restore versus `rclone sync --transfers 32
--checkers 32`, on the same data, in the same run.

Two data sets, each in its own bucket of one source S3 server (fauxqs, own process, loopback):
(a) 5,000 objects of 4 KiB plus 20 of 8 MiB, (b) 100,000 objects of 1 KiB. For each data set and
tool, a fresh empty target server (own process) receives the copy. Both tools run as child
processes under `/usr/bin/time -v` (wall time and peak RSS of the tool's own process).
ilum-restore runs the real CLI (`restore mirror --yes`, which also verifies the result by a full
re-diff: work rclone does not do). The copy is checked afterwards (object count and bytes).

`npm run bench -- mirror`. Options: BENCH_ROUNDS (default 1), BENCH_SETS (default "a,b"),
BENCH_MODULE_ONLY=1 (also time the command's module alone, without the CLI's other commands),
BENCH_MIRROR_OBJECTS=N (set (b) with N objects of 1 KiB instead of 100,000: memory must stay flat
with the count), BENCH_TOOLS (default "rclone,ilum-restore"; e.g. "ilum-restore" alone).
*/
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {startServerProcess, type ServerProcess} from '../helpers/fauxqs-server.js';
import {FastS3Client} from '../../source/storage/fast-s3.js';
import {seedObjects, testCredentials} from '../helpers/s3-pair.js';
import {projectRoot} from '../helpers/run-cli.js';
import {rcloneRemote, timed, type Run} from './helpers.js';

type DataSet = {name: string; bucket: string; describe: string; seed(client: FastS3Client): Promise<void>; objects: number; bytes: number};

const mib = 1024 * 1024;
const countB = Number(process.env['BENCH_MIRROR_OBJECTS'] ?? 100_000);
const sets: DataSet[] = [
	{
		name: 'a',
		bucket: 'bench-a',
		describe: '5,000 x 4 KiB + 20 x 8 MiB',
		objects: 5020,
		bytes: (5000 * 4096) + (20 * 8 * mib),
		async seed(client) {
			await seedObjects(client, 'bench-a', {count: 5000, size: 4096, prefix: 'small/', parallel: 64, metadata: index => index % 10 === 0 ? {origin: 'bench'} : undefined});
			await seedObjects(client, 'bench-a', {count: 20, size: 8 * mib, prefix: 'large/', parallel: 4});
		},
	},
	{
		name: 'b',
		bucket: 'bench-b',
		describe: `${countB.toLocaleString('en-US')} x 1 KiB`,
		objects: countB,
		bytes: countB * 1024,
		async seed(client) {
			await seedObjects(client, 'bench-b', {count: countB, size: 1024, prefix: 'k/', parallel: 64});
		},
	},
];

async function countTarget(endpoint: string, bucket: string): Promise<{objects: number; bytes: number}> {
	const client = new FastS3Client({endpoint, ...testCredentials});
	let objects = 0;
	let bytes = 0;
	try {
		for await (const object of client.list(bucket)) {
			objects++;
			bytes += object.size;
		}
	} finally {
		await client.close();
	}

	return {objects, bytes};
}

async function runIlum(source: string, target: string, set: DataSet, moduleOnly = false): Promise<Run> {
	const home = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-home-'));
	const env = {
		PATH: process.env['PATH'],
		HOME: home,
		AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
		AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
		AWS_REGION: 'us-east-1',
	};
	const entry = moduleOnly ? ['--import', 'tsx', path.join(projectRoot, 'test/helpers/restore-mirror-only.ts')] : [path.join(projectRoot, 'source/bin.js'), 'restore', 'mirror', '--yes'];
	const run = await timed(process.execPath, [...entry, '--bucket', set.bucket, '--mirror-endpoint', source, '--s3-endpoint', target], env);
	fs.rmSync(home, {recursive: true, force: true});
	return {...run, tool: moduleOnly ? 'module-only' : 'ilum-restore'};
}

async function runRclone(source: string, target: string, set: DataSet): Promise<Run> {
	const side = (name: string, endpoint: string) => rcloneRemote(name, endpoint, testCredentials);
	const env = {PATH: process.env['PATH'], HOME: os.tmpdir(), RCLONE_CONFIG: '/dev/null', ...side('SRC', source), ...side('DST', target)};
	const run = await timed('rclone', ['sync', `src:${set.bucket}`, `dst:${set.bucket}`, '--transfers', '32', '--checkers', '32'], env);
	return {...run, tool: 'rclone'};
}

const rounds = Number(process.env['BENCH_ROUNDS'] ?? 1);
const wanted = (process.env['BENCH_SETS'] ?? 'a,b').split(',');
/** BENCH_MODULE_ONLY=1 also runs the command's module alone: what the CLI costs once it loads only the command it runs. */
const moduleOnly = process.env['BENCH_MODULE_ONLY'] === '1';
const tools = (process.env['BENCH_TOOLS'] ?? 'rclone,ilum-restore').split(',');
const source = await startServerProcess();
const servers: ServerProcess[] = [source];
const lines: string[] = [];
try {
	const seeder = new FastS3Client({endpoint: source.endpoint, ...testCredentials});
	for (const set of sets.filter(candidate => wanted.includes(candidate.name))) {
		const seedStart = Date.now();
		await seeder.createBucket(set.bucket);
		await set.seed(seeder);
		process.stdout.write(`(${set.name}) ${set.describe}: seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s\n`);
		const results: Record<string, Run[]> = {'ilum-restore': [], rclone: [], 'module-only': []};
		for (let round = 0; round < rounds; round++) {
			const order = (round % 2 === 0 ? ['rclone', 'ilum-restore'] : ['ilum-restore', 'rclone']).filter(tool => tools.includes(tool));
			for (const tool of moduleOnly ? [...order, 'module-only'] : order) {
				const target = await startServerProcess();
				servers.push(target);
				const run = tool === 'rclone' ? await runRclone(source.endpoint, target.endpoint, set) : await runIlum(source.endpoint, target.endpoint, set, tool === 'module-only');
				const copied = await countTarget(target.endpoint, set.bucket).catch(() => ({objects: -1, bytes: -1}));
				await target.stop();
				const complete = copied.objects === set.objects && copied.bytes === set.bytes;
				process.stdout.write(`  ${tool.padEnd(12)} ${(run.wallMs / 1000).toFixed(2).padStart(7)} s  CPU ${run.cpuS.toFixed(2).padStart(6)} s  peak RSS ${run.peakRssMb.toFixed(0).padStart(4)} MB  exit ${run.exitCode}  ${complete ? 'complete' : `INCOMPLETE (${copied.objects} objects, ${copied.bytes} B)`}\n`);
				if (run.exitCode !== 0 || !complete) {
					process.stdout.write(run.stderrTail + '\n');
				}

				if (run.exitCode === 0 && complete) {
					// A failed or incomplete run says nothing of the speed (it would win "best of").
					results[tool]!.push(run);
				}
			}
		}

		const best = (runs: Run[]) => runs.reduce((a, b) => (a.wallMs <= b.wallMs ? a : b));
		if (results['ilum-restore']!.length === 0 || results['rclone']!.length === 0) {
			const [tool, runs] = results['ilum-restore']!.length > 0 ? ['ilum-restore', results['ilum-restore']!] : ['rclone', results['rclone']!];
			if (runs.length > 0) {
				const alone = best(runs);
				lines.push(`(${set.name}) ${set.describe}: ${tool} alone ${(alone.wallMs / 1000).toFixed(2)} s; CPU ${alone.cpuS.toFixed(1)} s; peak RSS ${alone.peakRssMb.toFixed(0)} MB`);
			}

			continue;
		}

		const ours = best(results['ilum-restore']!);
		const theirs = best(results['rclone']!);
		const line = `(${set.name}) ${set.describe}: ilum-restore ${(ours.wallMs / 1000).toFixed(2)} s / rclone ${(theirs.wallMs / 1000).toFixed(2)} s = ratio ${(ours.wallMs / theirs.wallMs).toFixed(2)}; CPU ${ours.cpuS.toFixed(1)} s / ${theirs.cpuS.toFixed(1)} s; peak RSS ilum-restore ${ours.peakRssMb.toFixed(0)} MB, rclone ${theirs.peakRssMb.toFixed(0)} MB`;
		lines.push(line);
		if (moduleOnly) {
			const alone = best(results['module-only']!);
			lines.push(`(${set.name}) restore mirror's module alone (no other command loaded): ${(alone.wallMs / 1000).toFixed(2)} s = ratio ${(alone.wallMs / theirs.wallMs).toFixed(2)}; CPU ${alone.cpuS.toFixed(1)} s; peak RSS ${alone.peakRssMb.toFixed(0)} MB`);
		}
	}

	await seeder.close();
} finally {
	await Promise.all(servers.map(async server => server.stop()));
}

process.stdout.write('\n' + lines.join('\n') + '\n');
