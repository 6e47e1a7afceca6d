import fs from 'node:fs/promises';
import path from 'node:path';
import type {StoreSnapshot} from './kube-api/store.js';
import type {FauxObject} from './s3/fauxqs.js';
import {VolumeData} from './s3/volume-data.js';

/**
A world saved to `--state-dir`: `world.json` (the Kubernetes objects, the clock, the disks'
object records) and a blob file (every object body once, however many disks and snapshots share
it). Loading gives back the same objects, disks, snapshots and endpoints' ports.

Saving is incremental and crash-safe, so a running world can be saved as it changes: bodies not
yet in the blob file are written after its last recorded byte (and fsynced) first; then `world.json` is written to a
temporary file, fsynced and renamed over the old one, the single moment the new state becomes
the saved one. A process killed at any point leaves the previous `world.json`, whose bodies are
all in the blob file (an unfinished append only adds bytes nobody references). When the blob
file holds more than twice the bytes in use, the next save writes a fresh one under a new name
(`world.json` names its blob file) and removes the old after the rename.
*/
export type SavedObject = Omit<FauxObject, 'body' | 'lastModified'> & {lastModified: string; body: [number, number]};
export type SavedVolume = {buckets: Array<{name: string; created?: string; objects: SavedObject[]}>};

export type SavedWorld = {
	version: 1;
	seed: number;
	objects: number;
	clock: number;
	store: StoreSnapshot;
	provider: {accessKeyId: string; secretAccessKey: string; port: number};
	backup: {accessKeyId: string; secretAccessKey: string; port: number};
	kubeApiPort: number;
	/** The blob file's name in the state dir (`blobs.bin` when absent: worlds saved before it was named). */
	blobs?: string;
	volumes: Record<string, SavedVolume>;
	snapshots: Record<string, SavedVolume>;
	backupVolume: SavedVolume;
	podLogs: Record<string, string[]>;
};

export type WorldImage = Omit<SavedWorld, 'volumes' | 'snapshots' | 'backupVolume' | 'blobs'> & {
	volumes: Map<string, VolumeData>;
	snapshots: Map<string, VolumeData>;
	backupVolume: VolumeData;
};

/** The blob file of a state dir as this process knows it: which bodies it holds, and where. */
export class BlobFile {
	name: string;
	/** Bytes in the file (the next append's offset). */
	size: number;
	readonly offsets = new WeakMap<Buffer, number>();
	/** Serialized snapshot volumes (a snapshot's records never change): built once. */
	readonly savedSnapshots = new WeakMap<VolumeData, string>();

	constructor(name: string, size: number) {
		this.name = name;
		this.size = size;
	}
}

async function syncDirectory(directory: string): Promise<void> {
	const handle = await fs.open(directory, 'r').catch(() => undefined);
	try {
		await handle?.sync();
	} catch {} finally {
		await handle?.close();
	}
}

/**
Saves `image` to `directory` (see above). `blobs` is what an earlier save (or the load) of this
process left: pass the same object every time (undefined the first time: a fresh blob file).
Returns it for the next save.
*/
export async function saveWorld(directory: string, image: WorldImage, blobs?: BlobFile): Promise<BlobFile> {
	await fs.mkdir(directory, {recursive: true});
	const liveBytes = new Map<Buffer, number>();
	const collect = (volume: VolumeData) => {
		for (const name of volume.bucketNames()) {
			for (const object of volume.objects(name).values()) {
				liveBytes.set(object.body, object.body.length);
			}
		}
	};

	for (const volume of [...image.volumes.values(), ...image.snapshots.values(), image.backupVolume]) {
		collect(volume);
	}

	let live = 0;
	for (const length of liveBytes.values()) {
		live += length;
	}

	let target = blobs;
	let fresh = false;
	if (!target || target.size > (2 * live) + (16 * 1024 * 1024)) {
		target = new BlobFile(`blobs-${Date.now().toString(36)}-${process.pid}.bin`, 0);
		fresh = true;
	}

	// 1. Bodies the blob file lacks, written after its last recorded byte and fsynced. Their offsets
	// count only once that succeeded: a failed write (a full disk) leaves them unrecorded, and the
	// next save writes them again at the same place, over whatever part of them landed.
	const pending = new Map<Buffer, number>();
	let offset = target.size;
	for (const body of liveBytes.keys()) {
		if (target.offsets.get(body) === undefined) {
			pending.set(body, offset);
			offset += body.length;
		}
	}

	if (pending.size > 0 || fresh) {
		const chunks = [...pending.keys()];
		const handle = await fs.open(path.join(directory, target.name), fresh ? 'w' : 'r+');
		try {
			let position = target.size;
			for (let index = 0; index < chunks.length; index += 256) {
				const batch = chunks.slice(index, index + 256);
				// eslint-disable-next-line no-await-in-loop
				await handle.writev(batch, position);
				position += batch.reduce((sum, body) => sum + body.length, 0);
			}

			await handle.sync();
		} finally {
			await handle.close();
		}

		for (const [body, at] of pending) {
			target.offsets.set(body, at);
		}

		target.size = offset;
	}

	// 2. world.json, written whole and renamed into place.
	const saveVolume = (volume: VolumeData): SavedVolume => ({
		buckets: volume.bucketNames().map(name => ({
			name,
			created: volume.store.bucketCreationDates.get(name)?.toISOString(),
			objects: [...volume.objects(name).values()].map(object => {
				const {body, lastModified, ...rest} = object;
				return {...rest, lastModified: lastModified.toISOString(), body: [target.offsets.get(body)!, body.length] as [number, number]};
			}),
		})),
	});
	const {volumes, snapshots, backupVolume, ...rest} = image;
	const head: Omit<SavedWorld, 'volumes' | 'snapshots' | 'backupVolume'> = {...rest, blobs: target.name};
	const snapshotParts: string[] = [];
	for (const [handle, volume] of snapshots) {
		let text = target.savedSnapshots.get(volume);
		if (text === undefined) {
			text = JSON.stringify(saveVolume(volume));
			target.savedSnapshots.set(volume, text);
		}

		snapshotParts.push(`${JSON.stringify(handle)}:${text}`);
	}

	const text = `${JSON.stringify(head).slice(0, -1)},"volumes":${JSON.stringify(Object.fromEntries([...volumes].map(([handle, volume]) => [handle, saveVolume(volume)])))},"snapshots":{${snapshotParts.join(',')}},"backupVolume":${JSON.stringify(saveVolume(backupVolume))}}`;
	const temporary = path.join(directory, `.world.json.${process.pid}.tmp`);
	const handle = await fs.open(temporary, 'w');
	try {
		await handle.writeFile(text);
		await handle.sync();
	} finally {
		await handle.close();
	}

	// The blob file world.json names now: the one of the load or the last save (read from disk only
	// on a first save, not the whole world.json parsed again at every save).
	const previous = blobs?.name ?? await fs.readFile(path.join(directory, 'world.json'), 'utf8').then(old => (JSON.parse(old) as SavedWorld).blobs ?? 'blobs.bin', () => undefined);
	await fs.rename(temporary, path.join(directory, 'world.json'));
	await syncDirectory(directory);
	if (previous && previous !== target.name) {
		await fs.rm(path.join(directory, previous), {force: true});
	}

	if (fresh) {
		// Blob files of saves that never got their world.json (a process killed mid-save).
		for (const name of await fs.readdir(directory)) {
			if (/^blobs-[\w-]+\.bin$/.test(name) && name !== target.name) {
				// eslint-disable-next-line no-await-in-loop
				await fs.rm(path.join(directory, name), {force: true});
			}
		}
	}

	return target;
}

/** The saved world, and its blob file as `saveWorld` takes it (so the next saves only append). */
export async function loadWorld(directory: string): Promise<(WorldImage & {blobFile: BlobFile}) | undefined> {
	let text: string;
	try {
		text = await fs.readFile(path.join(directory, 'world.json'), 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
			return undefined;
		}

		throw error;
	}

	const saved = JSON.parse(text) as SavedWorld;
	if (saved.version !== 1) {
		throw new Error(`${directory}/world.json is not a saved drill world (version 1)`);
	}

	const blobName = saved.blobs ?? 'blobs.bin';
	const blobs = await fs.readFile(path.join(directory, blobName));
	const blobFile = new BlobFile(blobName, blobs.length);
	const bodies = new Map<number, Buffer>();
	const loadVolume = async (volume: SavedVolume): Promise<VolumeData> => {
		const data = await VolumeData.empty();
		for (const bucket of volume.buckets) {
			data.ensureBucket(bucket.name, bucket.created ? new Date(bucket.created) : undefined);
			for (const object of bucket.objects) {
				const [offset, length] = object.body;
				let body = bodies.get(offset);
				if (!body || body.length !== length) {
					if (offset + length > blobs.length) {
						throw new Error(`${directory}/${blobName} is shorter than ${directory}/world.json says: not a whole saved drill world`);
					}

					body = blobs.subarray(offset, offset + length);
					bodies.set(offset, body);
					blobFile.offsets.set(body, offset);
				}

				data.put(bucket.name, {...object, body, lastModified: new Date(object.lastModified)});
			}
		}

		return data;
	};

	const volumes = new Map<string, VolumeData>();
	for (const [handle, volume] of Object.entries(saved.volumes)) {
		// eslint-disable-next-line no-await-in-loop
		volumes.set(handle, await loadVolume(volume));
	}

	const snapshots = new Map<string, VolumeData>();
	for (const [handle, volume] of Object.entries(saved.snapshots)) {
		// eslint-disable-next-line no-await-in-loop
		snapshots.set(handle, await loadVolume(volume));
	}

	const {blobs: _blobs, ...image} = saved;
	return {...image, volumes, snapshots, backupVolume: await loadVolume(saved.backupVolume), blobFile};
}

/**
Runs `save` after changes, debounced: `touch()` after every change; the save runs once no change
came for `quietMs`, or `maxDelayMs` after the first unsaved change, whichever is first. Saves never
overlap (a change during one schedules the next). A big world's save takes long (its objects'
records are written whole): the longest wait grows to 10 times the last save's duration, so saving
takes at most about a tenth of the time while changes keep coming. `close()` waits for a running
save and runs a last one if changes are unsaved.
*/
export class Autosave {
	readonly #save: () => Promise<void>;
	readonly #quietMs: number;
	readonly #maxDelayMs: number;
	readonly #onError: (error: unknown) => void;
	#dirtySince: number | undefined;
	#timer: NodeJS.Timeout | undefined;
	#running: Promise<void> | undefined;
	#closed = false;
	#lastDurationMs = 0;
	/** Completed saves (tests and logs). */
	saves = 0;

	constructor(save: () => Promise<void>, options: {quietMs?: number; maxDelayMs?: number; onError?: (error: unknown) => void} = {}) {
		this.#save = save;
		this.#quietMs = options.quietMs ?? 250;
		this.#maxDelayMs = options.maxDelayMs ?? 2000;
		this.#onError = options.onError ?? (() => {});
	}

	touch(): void {
		if (this.#closed) {
			return;
		}

		this.#dirtySince ??= Date.now();
		this.#schedule();
	}

	#schedule(): void {
		clearTimeout(this.#timer);
		if (this.#running || this.#dirtySince === undefined) {
			return;
		}

		const maxDelay = Math.max(this.#maxDelayMs, 10 * this.#lastDurationMs);
		const wait = Math.max(0, Math.min(Math.max(this.#quietMs, this.#lastDurationMs), this.#dirtySince + maxDelay - Date.now()));
		this.#timer = setTimeout(() => {
			this.#timer = undefined;
			void this.#run();
		}, wait);
		this.#timer.unref();
	}

	async #run(): Promise<void> {
		if (this.#running || this.#dirtySince === undefined) {
			return this.#running;
		}

		this.#dirtySince = undefined;
		this.#running = (async () => {
			const started = Date.now();
			try {
				await this.#save();
				this.saves++;
			} catch (error) {
				this.#onError(error);
			}

			this.#lastDurationMs = Date.now() - started;
		})();
		await this.#running;
		this.#running = undefined;
		if (!this.#closed) {
			this.#schedule();
		}
	}

	/** Stops saving on changes; waits for a running save, then saves what is unsaved. */
	async close(options: {final?: boolean} = {}): Promise<void> {
		this.#closed = true;
		clearTimeout(this.#timer);
		await this.#running;
		if (options.final) {
			this.#dirtySince ??= Date.now();
			await this.#run();
		}
	}
}
