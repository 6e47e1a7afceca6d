import {demoSteps, DeltaTableWriter} from '../../formats/delta/writer.js';
import {FileExistsError, FileNotFoundError, type FileInfo, type FileStore} from '../../storage/file-store.js';
import {objectRecord} from '../s3/object-record.js';
import type {VolumeData} from '../s3/volume-data.js';
import type {Seeder} from './context.js';

const bucket = 'ilum-tables';
const minute = 60_000;

/** A `FileStore` straight onto the provider's disk under `ilum-tables/<prefix>/` (seeding writes there, as the S3 server would). */
export class VolumeFileStore implements FileStore {
	readonly root: string;
	private readonly volume: VolumeData;
	private readonly prefix: string;
	private readonly now: () => number;

	constructor(volume: VolumeData, prefix: string, now: () => number) {
		this.volume = volume;
		this.prefix = `${prefix}/`;
		this.now = now;
		this.root = `s3://${bucket}/${prefix}`;
	}

	async list(prefix: string): Promise<FileInfo[]> {
		const start = this.prefix + prefix;
		return [...this.volume.objects(bucket).values()]
			.filter(object => object.key.startsWith(start))
			.map(object => ({path: object.key.slice(this.prefix.length), size: object.contentLength, lastModified: object.lastModified}))
			.sort((a, b) => a.path < b.path ? -1 : (a.path > b.path ? 1 : 0));
	}

	async read(path: string): Promise<Uint8Array> {
		const object = this.volume.objects(bucket).get(this.prefix + path);
		if (!object) {
			throw new FileNotFoundError(`${this.root}/${path}`);
		}

		return object.body;
	}

	async exists(path: string): Promise<boolean> {
		return this.volume.objects(bucket).has(this.prefix + path);
	}

	async putIfAbsent(path: string, body: Uint8Array): Promise<void> {
		if (await this.exists(path)) {
			throw new FileExistsError(`${this.root}/${path}`);
		}

		await this.put(path, body);
	}

	async put(path: string, body: Uint8Array): Promise<void> {
		this.volume.put(bucket, objectRecord({key: this.prefix + path, body: Buffer.from(body), lastModified: new Date(this.now())}));
	}

	remove(path: string): void {
		this.volume.delete(bucket, this.prefix + path);
	}
}

/**
Two Delta tables in `ilum-tables`, written version by version over the day (so the hourly
snapshots and the mirror each hold a different state of them):
- `delta/orders`: 12 versions, a classic checkpoint every 5 versions;
- `delta/order_events`: the same history, then VACUUMed two hours ago: its old versions are no
  longer restorable from the table's own history, only from an older PV snapshot.
*/
export const deltaTablesSeeder: Seeder = {
	name: 'delta-tables',
	seed(context) {
		const {timeline, provider, rng} = context;
		const span = (timeline.now - (20 * minute)) - (timeline.dataFrom + (30 * minute));
		const tables = [
			{prefix: 'delta/orders', checkpointEvery: 5, vacuumAt: undefined, offset: 0},
			{prefix: 'delta/order_events', checkpointEvery: 0, vacuumAt: timeline.now - (120 * minute), offset: 7 * minute},
		];
		for (const table of tables) {
			const store = new VolumeFileStore(provider.volume, table.prefix, () => context.clock.now());
			const tableRng = rng.fork(table.prefix);
			const writer = new DeltaTableWriter(store, {
				clock: () => context.clock.now(),
				uuid: () => tableRng.uuid(),
				engineInfo: 'Apache-Spark/3.5.1 Delta-Lake/3.2.0',
				removeFile: async path => {
					store.remove(path);
				},
			});
			const steps = demoSteps(writer);
			for (const [index, step] of steps.entries()) {
				const time = timeline.dataFrom + (30 * minute) + table.offset + Math.round(span * index / (steps.length - 1)) - (index === steps.length - 1 ? 10 * minute : 0);
				context.at(time, async () => {
					await step();
					if (table.checkpointEvery > 0 && writer.version > 0 && writer.version % table.checkpointEvery === 0) {
						await writer.checkpoint();
					}
				});
			}

			if (table.vacuumAt !== undefined) {
				context.at(table.vacuumAt, async () => {
					const deleted = await writer.vacuum();
					context.log(`delta-tables: VACUUM of s3://${bucket}/${table.prefix} deleted ${deleted.length} files`);
				});
			}
		}
	},
};
