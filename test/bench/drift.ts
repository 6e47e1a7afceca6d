/**
The drift of one bucket between two S3 servers: ilum-restore's streaming drift (what the console's
Mirrors pane runs: `driftComparer` of layers/bucket-compare.ts over `bucketDrift` of
layers/mirrors/drift.ts) against `rclone check` on the same two endpoints, in the same run.

Two fauxqs servers (own processes, loopback) hold the same bucket of N x 1 KiB objects except
for 300 differences: 100 keys only in the source, 100 only in the target, 100 changed (50 with
another size, 50 with the same size and other bytes). Each tool runs as a child process under
`/usr/bin/time -v` (wall time, CPU, peak RSS of the tool's own process); both must find the same
counts (the bench fails otherwise). The drift child also reports the time of the drift alone
(without starting Node and the TypeScript loader).

`npm run bench -- drift`. Options: BENCH_SIZES (default "20000,100000": memory must not grow
with the count), BENCH_ROUNDS (default 1; tools alternate who goes first), BENCH_CHECKERS
(rclone's --checkers, default 32), BENCH_CPU_PROF=DIR (profile the drift child with --cpu-prof),
BENCH_HEAP_CAP (default 32: one more drift run per size with V8's old space capped at that many
MiB; it fails if the drift's memory grows with the object count).
*/
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import type {ServerProcess} from '../helpers/fauxqs-server.js';
import {FastS3Client} from '../../source/storage/fast-s3.js';
import {driftComparer, mirrorTargets} from '../../source/layers/bucket-compare.js';
import type {BucketFigures} from '../../source/layers/mirror-figures.js';
import {rcloneRemote, timed, type Run} from './helpers.js';

// The child loads only what the drift needs (the fauxqs server and the seeding helpers load in the parent).
const isChild = process.argv[2] === '--child';
const servers = isChild ? undefined : await import('../helpers/fauxqs-server.js');
const seeding = isChild ? undefined : await import('../helpers/s3-pair.js');
const testCredentials = seeding?.testCredentials ?? {region: 'us-east-1', accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? '', secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? ''};
const contentFor = (key: string, size: number) => seeding!.contentFor(key, size);

type Counts = {source: number; target: number; same: number; onlySource: number; onlyTarget: number; changed: number};

const self = fileURLToPath(import.meta.url);

/** Child mode: `drift.ts --child SOURCE TARGET BUCKET` prints the figures as one JSON line. */
async function child(source: string, target: string, bucket: string): Promise<void> {
	const started = process.hrtime.bigint();
	const provider = new FastS3Client({endpoint: source, ...testCredentials});
	const mirror = new FastS3Client({endpoint: target, ...testCredentials});
	let last: BucketFigures | undefined;
	try {
		for await (const figures of driftComparer(provider, mirror, mirrorTargets(undefined))(bucket)) {
			last = figures;
		}
	} finally {
		await Promise.all([provider.close(), mirror.close()]);
	}

	const driftMs = Number(process.hrtime.bigint() - started) / 1e6;
	const figures = last!;
	const counts: Counts = {
		source: figures.provider.objects,
		target: figures.mirror.objects,
		onlySource: figures.missingOnMirror,
		onlyTarget: figures.missingInProvider,
		changed: figures.changed,
		same: figures.provider.objects - figures.missingOnMirror - figures.changed,
	};
	process.stdout.write(JSON.stringify({counts, driftMs}) + '\n');
}

/** Which side holds key `index` and with what bytes (100 of each kind of difference, spread over the keys). */
function plan(index: number, count: number): {source?: Buffer; target?: Buffer} {
	const key = `k/${String(index).padStart(6, '0')}`;
	const body = contentFor(key, 1024);
	const slot = index % Math.floor(count / 100);
	if (slot === 1) {
		return {source: body};
	}

	if (slot === 2) {
		return {target: body};
	}

	if (slot === 3) {
		return {source: body, target: index % 2 === 0 ? contentFor(`${key}~`, 1024) : contentFor(key, 1000)};
	}

	return {source: body, target: body};
}

async function seed(client: FastS3Client, bucket: string, count: number, side: 'source' | 'target'): Promise<void> {
	await client.createBucket(bucket);
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const index = next++;
			const body = plan(index, count)[side];
			if (body) {
				// eslint-disable-next-line no-await-in-loop
				await client.put(bucket, `k/${String(index).padStart(6, '0')}`, body, body.length);
			}
		}
	};

	await Promise.all(Array.from({length: 48}, async () => worker()));
}

async function runIlum(source: string, target: string, bucket: string, profileDir?: string, heapCapMb?: number): Promise<Run & {counts: Counts; driftMs: number}> {
	let stdout = '';
	const profile = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [];
	const cap = heapCapMb ? [`--max-old-space-size=${heapCapMb}`] : [];
	const run = await timed(process.execPath, [...profile, ...cap, '--import', 'tsx', self, '--child', source, target, bucket], {PATH: process.env['PATH'], HOME: os.tmpdir(), AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey}, chunk => {
		stdout += chunk;
	});
	const result = JSON.parse(stdout.trim().split('\n').at(-1) || '{}') as {counts: Counts; driftMs: number};
	return {...run, tool: 'ilum-restore', ...result};
}

async function runRclone(source: string, target: string, bucket: string, checkers: number): Promise<Run & {counts: Counts}> {
	const combined = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-drift-')), 'combined');
	const env = {PATH: process.env['PATH'], HOME: os.tmpdir(), RCLONE_CONFIG: '/dev/null', ...rcloneRemote('SRC', source, testCredentials), ...rcloneRemote('DST', target, testCredentials)};
	const run = await timed('rclone', ['check', `src:${bucket}`, `dst:${bucket}`, '--checkers', String(checkers), '--combined', combined], env);
	// `--combined`: "= key" same, "- key" only in the source, "+ key" only in the destination, "* key" differs, "! key" error.
	const marks = new Map<string, number>();
	for (const line of fs.readFileSync(combined, 'utf8').split('\n')) {
		if (line) {
			marks.set(line[0]!, (marks.get(line[0]!) ?? 0) + 1);
		}
	}

	fs.rmSync(path.dirname(combined), {recursive: true, force: true});
	const same = marks.get('=') ?? 0;
	const onlySource = marks.get('-') ?? 0;
	const onlyTarget = marks.get('+') ?? 0;
	const changed = marks.get('*') ?? 0;
	if (marks.get('!')) {
		throw new Error(`rclone check reported ${marks.get('!')} errors: ${run.stderrTail}`);
	}

	// rclone check exits 1 when it finds differences: that is its answer, not a failure.
	return {...run, tool: 'rclone', counts: {source: same + onlySource + changed, target: same + onlyTarget + changed, same, onlySource, onlyTarget, changed}};
}

const describe = (counts: Counts) => `${counts.onlySource} only in source, ${counts.onlyTarget} only in target, ${counts.changed} changed, ${counts.same} same`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
	const sizes = (process.env['BENCH_SIZES'] ?? '20000,100000').split(',').map(Number);
	const rounds = Number(process.env['BENCH_ROUNDS'] ?? 1);
	const checkers = Number(process.env['BENCH_CHECKERS'] ?? 32);
	const profileDir = process.env['BENCH_CPU_PROF'];
	const heapCap = Number(process.env['BENCH_HEAP_CAP'] ?? 32);
	const started: ServerProcess[] = await Promise.all([servers!.startServerProcess(), servers!.startServerProcess()]);
	const [source, target] = started as [ServerProcess, ServerProcess];
	const summary: string[] = [];
	let failed = false;
	try {
		const sourceClient = new FastS3Client({endpoint: source.endpoint, ...testCredentials});
		const targetClient = new FastS3Client({endpoint: target.endpoint, ...testCredentials});
		for (const count of sizes) {
			const bucket = `drift-${count}`;
			const seedStart = Date.now();
			// eslint-disable-next-line no-await-in-loop
			await Promise.all([seed(sourceClient, bucket, count, 'source'), seed(targetClient, bucket, count, 'target')]);
			process.stdout.write(`${count} x 1 KiB, 300 differences: seeded both sides in ${seconds(Date.now() - seedStart)} (load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores)\n`);
			// One untimed listing of each side first: whoever lists first does not pay for the server's first pass alone.
			// eslint-disable-next-line no-await-in-loop
			const listed = await Promise.all([sourceClient, targetClient].map(async client => {
				let objects = 0;
				for await (const _ of client.list(bucket)) {
					objects++;
				}

				return objects;
			}));
			process.stdout.write(`  listed once (untimed warm-up): ${listed[0]} source objects, ${listed[1]} target objects\n`);
			const walls = {ilum: [] as number[], rclone: [] as number[]};
			let best: {ilum?: Run & {counts: Counts; driftMs: number}; rclone?: Run & {counts: Counts}} = {};
			for (let round = 0; round < rounds; round++) {
				const order = round % 2 === 0 ? ['rclone', 'ilum-restore'] : ['ilum-restore', 'rclone'];
				for (const tool of order) {
					if (tool === 'rclone') {
						// eslint-disable-next-line no-await-in-loop
						const run = await runRclone(source.endpoint, target.endpoint, bucket, checkers);
						process.stdout.write(`  rclone check  ${seconds(run.wallMs).padStart(9)}  CPU ${run.cpuS.toFixed(2).padStart(6)} s  peak RSS ${run.peakRssMb.toFixed(0).padStart(4)} MB  exit ${run.exitCode}: ${describe(run.counts)}\n`);
						walls.rclone.push(run.wallMs);
						best.rclone = !best.rclone || run.wallMs < best.rclone.wallMs ? run : best.rclone;
					} else {
						// eslint-disable-next-line no-await-in-loop
						const run = await runIlum(source.endpoint, target.endpoint, bucket, profileDir);
						process.stdout.write(`  ilum-restore  ${seconds(run.wallMs).padStart(9)}  CPU ${run.cpuS.toFixed(2).padStart(6)} s  peak RSS ${run.peakRssMb.toFixed(0).padStart(4)} MB  exit ${run.exitCode}: ${describe(run.counts)} (drift alone ${seconds(run.driftMs)})\n`);
						if (run.exitCode !== 0) {
							process.stdout.write(run.stderrTail + '\n');
						}

						walls.ilum.push(run.wallMs);
						best.ilum = !best.ilum || run.wallMs < best.ilum.wallMs ? run : best.ilum;
					}
				}
			}

			// The same drift with V8's old space capped: it finishes only if what it holds does not grow with the count.
			// eslint-disable-next-line no-await-in-loop
			const capped = await runIlum(source.endpoint, target.endpoint, bucket, undefined, heapCap);
			const cappedOk = capped.exitCode === 0 && capped.counts?.onlySource === 100 && capped.counts.onlyTarget === 100 && capped.counts.changed === 100;
			failed ||= !cappedOk;
			process.stdout.write(`  ilum-restore with --max-old-space-size=${heapCap}: ${cappedOk ? `${seconds(capped.wallMs)}, peak RSS ${capped.peakRssMb.toFixed(0)} MB, same counts` : `FAILED (exit ${capped.exitCode}) ${capped.stderrTail}`}\n`);
			const {ilum, rclone} = best as Required<typeof best>;
			const agree = (Object.keys(ilum.counts) as Array<keyof Counts>).every(name => ilum.counts[name] === rclone.counts[name]);
			const expected = {onlySource: 100, onlyTarget: 100, changed: 100};
			const right = ilum.counts.onlySource === expected.onlySource && ilum.counts.onlyTarget === expected.onlyTarget && ilum.counts.changed === expected.changed;
			failed ||= !agree || !right;
			const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;
			summary.push(`${count} objects, median of ${rounds}: ilum-restore ${seconds(median(walls.ilum))} / rclone check ${seconds(median(walls.rclone))} = ratio ${(median(walls.ilum) / median(walls.rclone)).toFixed(2)}`);
			summary.push(`${count} objects, best of ${rounds}: ilum-restore ${seconds(ilum.wallMs)} (drift alone ${seconds(ilum.driftMs)}) / rclone check ${seconds(rclone.wallMs)} = ratio ${(ilum.wallMs / rclone.wallMs).toFixed(2)} (drift alone ${(ilum.driftMs / rclone.wallMs).toFixed(2)}); CPU ${ilum.cpuS.toFixed(1)} s / ${rclone.cpuS.toFixed(1)} s; peak RSS ${ilum.peakRssMb.toFixed(0)} MB / ${rclone.peakRssMb.toFixed(0)} MB; counts ${agree ? 'agree' : 'DISAGREE'} (${describe(ilum.counts)}${agree ? '' : ` vs rclone ${describe(rclone.counts)}`})${right ? '' : ' NOT the 100/100/100 seeded'}`);
			best = {};
		}

		await Promise.all([sourceClient.close(), targetClient.close()]);
	} finally {
		await Promise.all(started.map(async server => server.stop()));
	}

	process.stdout.write('\n' + summary.join('\n') + '\n');
	if (failed) {
		process.exitCode = 1;
	}
}

if (isChild) {
	await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else {
	await main();
}
