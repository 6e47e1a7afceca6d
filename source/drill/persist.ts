import fs from 'node:fs/promises';
import path from 'node:path';
import type {StoreSnapshot} from './kube-api/store.js';
import type {FauxObject} from './s3/fauxqs.js';
import {VolumeData} from './s3/volume-data.js';

/**
A world saved to `--state-dir`: `world.json` (the Kubernetes objects, the clock, the disks'
object records) and `blobs.bin` (every object body once, however many disks and snapshots share
it). Loading gives back the same objects, disks, snapshots and endpoints' ports.
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
	volumes: Record<string, SavedVolume>;
	snapshots: Record<string, SavedVolume>;
	backupVolume: SavedVolume;
	podLogs: Record<string, string[]>;
};

export type WorldImage = Omit<SavedWorld, 'volumes' | 'snapshots' | 'backupVolume'> & {
	volumes: Map<string, VolumeData>;
	snapshots: Map<string, VolumeData>;
	backupVolume: VolumeData;
};

export async function saveWorld(directory: string, image: WorldImage): Promise<void> {
	await fs.mkdir(directory, {recursive: true});
	const offsets = new Map<Buffer, number>();
	const chunks: Buffer[] = [];
	let size = 0;
	const saveVolume = (volume: VolumeData): SavedVolume => ({
		buckets: volume.bucketNames().map(name => ({
			name,
			created: volume.store.bucketCreationDates.get(name)?.toISOString(),
			objects: [...volume.objects(name).values()].map(object => {
				let offset = offsets.get(object.body);
				if (offset === undefined) {
					offset = size;
					offsets.set(object.body, offset);
					chunks.push(object.body);
					size += object.body.length;
				}

				const {body, lastModified, ...rest} = object;
				return {...rest, lastModified: lastModified.toISOString(), body: [offset, body.length] as [number, number]};
			}),
		})),
	});
	const saved: SavedWorld = {
		...image,
		volumes: Object.fromEntries([...image.volumes].map(([handle, volume]) => [handle, saveVolume(volume)])),
		snapshots: Object.fromEntries([...image.snapshots].map(([handle, volume]) => [handle, saveVolume(volume)])),
		backupVolume: saveVolume(image.backupVolume),
	};
	const temporary = path.join(directory, `.world-${process.pid}`);
	await fs.mkdir(temporary, {recursive: true});
	const handle = await fs.open(path.join(temporary, 'blobs.bin'), 'w');
	for (const chunk of chunks) {
		// eslint-disable-next-line no-await-in-loop
		await handle.write(chunk);
	}

	await handle.close();
	await fs.writeFile(path.join(temporary, 'world.json'), JSON.stringify(saved));
	await fs.rename(path.join(temporary, 'blobs.bin'), path.join(directory, 'blobs.bin'));
	await fs.rename(path.join(temporary, 'world.json'), path.join(directory, 'world.json'));
	await fs.rm(temporary, {recursive: true, force: true});
}

export async function loadWorld(directory: string): Promise<WorldImage | undefined> {
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

	const blobs = await fs.readFile(path.join(directory, 'blobs.bin'));
	const bodies = new Map<number, Buffer>();
	const loadVolume = async (volume: SavedVolume): Promise<VolumeData> => {
		const data = await VolumeData.empty();
		for (const bucket of volume.buckets) {
			data.ensureBucket(bucket.name, bucket.created ? new Date(bucket.created) : undefined);
			for (const object of bucket.objects) {
				const [offset, length] = object.body;
				let body = bodies.get(offset);
				if (!body || body.length !== length) {
					body = blobs.subarray(offset, offset + length);
					bodies.set(offset, body);
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

	return {...saved, volumes, snapshots, backupVolume: await loadVolume(saved.backupVolume)};
}
