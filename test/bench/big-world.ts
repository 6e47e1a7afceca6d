/**
The "big world" of the console's benchmark: the drill world plus extra VolumeSnapshots and extra
Delta tables, added as bench-only seeders (the drill's own seeders are untouched).

    const world = await startWorld({objects, seeders: [...seeders, extraSnapshots(976), extraTables(93)]});

Run directly, it serves that world as `drill serve` does (one JSON line on stdout when ready,
logs on stderr, stops on SIGTERM/SIGINT):

    node --import tsx test/bench/big-world.ts --objects 700000 --snapshots 976 --tables 93

What the extra seeders make (honest about shortcuts):
- `extraSnapshots(n)`: n more ready VolumeSnapshots of the provider's claim (label
  `ilum.cloud/snapshot-schedule: bench`), spread evenly over the seeded day, each with its bound
  VolumeSnapshotContent. They all share ONE copy of the disk taken at the first of them (a copy
  per snapshot would hold n copies of the bucket index in memory): their Kubernetes objects are
  real, restoring any of them returns the data of the first.
- `extraTables(n)`: n small Delta tables `ilum-tables/delta/bench_NNN` of four versions each
  (create, two appends, a delete) written over the day, with placeholder data files (history
  reads the log, not the data).
*/
import process from 'node:process';
import {startWorld} from '../../source/drill/world.js';
import {seeders as defaultSeeders, type Seeder} from '../../source/drill/seed/index.js';
import {ilum} from '../../source/drill/seed/ilum.js';
import {recordReadySnapshot} from '../../source/drill/seed/history-seeder.js';
import {VolumeFileStore} from '../../source/drill/seed/delta-tables.js';
import type {VolumeData} from '../../source/drill/s3/volume-data.js';
import {DeltaTableWriter} from '../../source/formats/delta/writer.js';

/** n extra ready VolumeSnapshots of the provider's claim over the day (see the file header). */
export function extraSnapshots(count: number): Seeder {
	return {
		name: 'bench-snapshots',
		seed(context) {
			const {timeline, store, data, namespace} = context;
			const from = timeline.dataFrom + 60_000;
			const to = timeline.lastMirror - 60_000;
			let shared: VolumeData | undefined;
			for (let index = 0; index < count; index++) {
				const time = from + Math.round((to - from) * index / Math.max(1, count - 1));
				context.at(time, async () => {
					const claim = store.get('persistentvolumeclaims', namespace, ilum.claim)!;
					const pv = store.get('persistentvolumes', undefined, claim.spec.volumeName)!;
					const handle = data.newHandle('snap');
					if (shared) {
						data.snapshots.set(handle, shared);
					} else {
						shared = await data.snapshot(pv.spec.csi.volumeHandle, handle);
					}

					recordReadySnapshot(context, {name: `${ilum.statefulSet}-bench-${String(index).padStart(4, '0')}`, schedule: 'bench', time, handle});
				});
			}
		},
	};
}

/** n extra small Delta tables under `ilum-tables/delta/bench_NNN` (see the file header). */
export function extraTables(count: number): Seeder {
	return {
		name: 'bench-tables',
		seed(context) {
			const {timeline, provider, rng, clock} = context;
			const span = timeline.lastMirror - timeline.dataFrom - (40 * 60_000);
			for (let index = 0; index < count; index++) {
				const prefix = `delta/bench_${String(index).padStart(3, '0')}`;
				const tableRng = rng.fork(prefix);
				const store = new VolumeFileStore(provider.volume, prefix, () => clock.now());
				const writer = new DeltaTableWriter(store, {clock: () => clock.now(), uuid: () => tableRng.uuid(), engineInfo: 'Apache-Spark/3.5.1 Delta-Lake/3.2.0', data: 'placeholder'});
				const rows = (from: number, n: number) => Array.from({length: n}, (_, offset) => ({id: from + offset, name: `row-${from + offset}`}));
				const steps = [
					async () => writer.create([{name: 'id', type: 'long'}, {name: 'name', type: 'string'}], rows(0, 20)),
					async () => writer.append(rows(20, 10)),
					async () => writer.append(rows(30, 10)),
					async () => writer.delete(row => Number(row['id']) < 5, 'id < 5'),
				];
				for (const [step, run] of steps.entries()) {
					context.at(timeline.dataFrom + (20 * 60_000) + Math.round(span * ((step * count) + index) / (steps.length * count)), async () => {
						await run();
					});
				}
			}
		},
	};
}

if (process.argv[1]?.endsWith('big-world.ts')) {
	const option = (name: string, fallback: number) => {
		const at = process.argv.indexOf(`--${name}`);
		return at === -1 ? fallback : Number(process.argv[at + 1]);
	};

	const started = performance.now();
	const world = await startWorld({
		objects: option('objects', 3000),
		seeders: [...defaultSeeders, extraSnapshots(option('snapshots', 0)), extraTables(option('tables', 0))],
		log(line) {
			process.stderr.write(`big-world: ${line}\n`);
		},
	});
	process.stderr.write(`big-world: ready in ${Math.round(performance.now() - started)} ms, RSS ${Math.round(process.memoryUsage().rss / 1048576)} MiB\n`);
	process.stdout.write(JSON.stringify({kubeconfig: world.kubeconfigPath, kubeApi: world.kubeApiUrl, namespace: world.namespace, provider: world.provider, backup: world.backup, seed: world.seed, objects: world.objects}) + '\n');
	const stop = async () => {
		await world.stop();
		process.exit(0);
	};

	process.once('SIGTERM', stop);
	process.once('SIGINT', stop);
}
