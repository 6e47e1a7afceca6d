/**
History of an Iceberg table with 2,000 snapshots, against the lower bound: listing the table and
reading every file history needs (metadata, 2,000 manifest lists, the manifests they name) once,
with the same store and the same concurrency, in the same run. Target: within 1.5x, under 2 s.

The table is generated first (path-based, manifests merged past 100 as Iceberg does, placeholder
data files: history lists data files, it does not read them).

`RUNS=n` sets how many measured runs of each (9: medians steadier on a busy machine).
`ICEBERG_BENCH_TABLE=/some/folder` keeps the generated table there and reuses it on the next run
(for profiling: `node --cpu-prof --import tsx test/bench/iceberg-history.ts`).
*/
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {LocalFileStore} from '../../source/storage/local-file-store.js';
import {createPathTable, IcebergTableWriter} from '../../source/drill/catalogs/iceberg-writer.js';
import {IcebergFormat, openTable} from '../../source/formats/iceberg/index.js';
import {readAvro} from '../../source/formats/iceberg/avro.js';
import {limiter} from '../../source/formats/iceberg/scan.js';

const snapshots = Number(process.env['SNAPSHOTS'] ?? 2000);
const runs = Number(process.env['RUNS'] ?? 9);
async function generate(store: LocalFileStore) {
	const target = await createPathTable(store, {columns: [{id: 1, name: 'id', type: 'long'}], deferWrites: true});
	const writer = await IcebergTableWriter.open({store, target, data: 'placeholder', mergeAfter: 100});
	for (let index = 0; index < snapshots; index++) {
		if (index > 0 && index % 250 === 0) {
			// eslint-disable-next-line no-await-in-loop
			await writer.overwrite((_file, position) => position === 0, 5);
		} else if (index > 0 && index % 333 === 0) {
			// eslint-disable-next-line no-await-in-loop
			await writer.deleteFiles((_file, position) => position === 1);
		} else {
			// eslint-disable-next-line no-await-in-loop
			await writer.append(10);
		}
	}

	await writer.close();
}

const kept = process.env['ICEBERG_BENCH_TABLE'];
const dir = kept ?? await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-iceberg-bench-'));
const reuse = kept !== undefined && await fs.access(path.join(kept, 'metadata')).then(() => true, () => false);
try {
	const started = performance.now();
	const store = new LocalFileStore(dir);
	if (!reuse) {
		await generate(store);
		process.stdout.write(`generated ${snapshots} snapshots in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
	}

	// The files history needs, found once (not timed).
	const table = await openTable({ref: dir});
	const needed = new Set<string>([table.metadataFile]);
	for (const snapshot of table.metadata.snapshots.values()) {
		const list = table.mapper.toRelative(snapshot.manifestList!)!;
		needed.add(list);
		for (const record of readAvro(await store.read(list)).records) {
			needed.add(table.mapper.toRelative(record.manifest_path)!);
		}
	}

	const files = await table.listing;
	const bytes = [...needed].reduce((sum, file) => sum + (files.get(file)?.size ?? 0), 0);
	process.stdout.write(`history needs ${needed.size} files (${(bytes / 1024 / 1024).toFixed(1)} MiB) of ${files.size}\n`);

	let cpu = process.cpuUsage();
	const cpuSince = () => {
		const used = process.cpuUsage(cpu);
		return (used.user + used.system) / 1000;
	};

	// The main thread's share (Node 23.9+): what decoding adds, apart from the reads libuv's threads do.
	const threadCpu = (process as {threadCpuUsage?: (previous?: NodeJS.CpuUsage) => NodeJS.CpuUsage}).threadCpuUsage?.bind(process);
	let main = threadCpu?.();
	const mainSince = () => {
		const used = threadCpu?.(main);
		return used ? (used.user + used.system) / 1000 : Number.NaN;
	};

	const lowerBound = async () => {
		main = threadCpu?.();
		cpu = process.cpuUsage();
		const t0 = performance.now();
		const fresh = new LocalFileStore(dir);
		await fresh.list('');
		await fresh.read('metadata/version-hint.text');
		// The scanner's default: history reads up to 32 files at once.
		const limit = limiter(32);
		await Promise.all([...needed].map(async file => limit(async () => fresh.read(file))));
		return {wall: performance.now() - t0, cpu: cpuSince(), main: mainSince()};
	};

	const history = async () => {
		main = threadCpu?.();
		cpu = process.cpuUsage();
		const t0 = performance.now();
		const result = await new IcebergFormat().history({ref: dir});
		if (result.entries.length !== snapshots || !result.entries.every(entry => entry.restorable)) {
			throw new Error('history is wrong');
		}

		return {wall: performance.now() - t0, cpu: cpuSince(), main: mainSince()};
	};

	await lowerBound();
	await history();
	const bounds: Array<{wall: number; cpu: number; main: number}> = [];
	const times: Array<{wall: number; cpu: number; main: number}> = [];
	for (let run = 0; run < runs; run++) {
		// eslint-disable-next-line no-await-in-loop
		bounds.push(await lowerBound());
		// eslint-disable-next-line no-await-in-loop
		times.push(await history());
	}

	const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
	const bound = median(bounds.map(item => item.wall));
	const time = median(times.map(item => item.wall));
	const onMain = (items: Array<{main: number}>) => threadCpu ? `, ${median(items.map(item => item.main)).toFixed(0)} ms of it on the main thread` : '';
	process.stdout.write(`read the needed files once: ${bound.toFixed(0)} ms wall, ${median(bounds.map(item => item.cpu)).toFixed(0)} ms CPU${onMain(bounds)} (medians of ${runs})\n`);
	process.stdout.write(`ilum-restore history:       ${time.toFixed(0)} ms wall, ${median(times.map(item => item.cpu)).toFixed(0)} ms CPU${onMain(times)} (medians of ${runs})\n`);
	process.stdout.write(`load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores: wall times on a busy machine swing widely\n`);
	process.stdout.write(`ratio ${(time / bound).toFixed(2)}x (target <= 1.5x), ${time < 2000 ? 'under' : 'OVER'} 2 s\n`);
	const cpuRatio = median(times.map(item => item.cpu)) / median(bounds.map(item => item.cpu));
	process.stdout.write(`CPU ratio ${cpuRatio.toFixed(2)}x (steadier than wall time when other processes take the cores)\n`);
} finally {
	if (kept === undefined) {
		await fs.rm(dir, {recursive: true, force: true});
	}
}
