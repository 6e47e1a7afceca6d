import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {loadWorld, saveWorld, type WorldImage} from '../../source/drill/persist.js';
import {VolumeData} from '../../source/drill/s3/volume-data.js';

const object = (key: string, text: string) => {
	const body = Buffer.from(text);
	return {key, body, contentType: 'text/plain', contentLength: body.length, etag: `"${key}"`, lastModified: new Date('2026-11-22T00:00:00Z'), metadata: {}};
};

const image = async (volume: VolumeData): Promise<WorldImage> => ({
	version: 1,
	seed: 1,
	objects: 0,
	clock: Date.parse('2026-11-22T00:00:00Z'),
	store: {version: 1, resourceVersion: 1, objects: {}},
	provider: {accessKeyId: 'a', secretAccessKey: 'b', port: 1},
	backup: {accessKeyId: 'a', secretAccessKey: 'b', port: 2},
	kubeApiPort: 3,
	volumes: new Map([['pv-1', volume]]),
	snapshots: new Map(),
	backupVolume: await VolumeData.empty(),
	podLogs: {},
});

test('a save whose blob write fails part-way (a full disk) leaves the next save and the load exact', async () => {
	const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-failed-save-'));
	const realOpen = fs.open;
	try {
		const volume = await VolumeData.empty();
		volume.put('ilum-data', object('first.txt', 'first body\n'));
		const world = await image(volume);
		let blobs = await saveWorld(directory, world);

		volume.put('ilum-data', object('second.txt', 'second body, the one the full disk cut\n'));
		// The next blob write lands 7 bytes, then the disk is full.
		fs.open = (async (...args: Parameters<typeof realOpen>) => {
			const handle = await realOpen(...args);
			if (String(args[0]).endsWith('.bin')) {
				handle.writev = (async (buffers: readonly NodeJS.ArrayBufferView[], position?: number) => {
					await handle.write(Buffer.from(buffers[0]!.buffer, buffers[0]!.byteOffset, 7), 0, 7, position ?? null);
					throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'});
				}) as typeof handle.writev;
			}

			return handle;
		}) as typeof realOpen;
		await assert.rejects(saveWorld(directory, world, blobs), /ENOSPC/);
		fs.open = realOpen;

		volume.put('ilum-data', object('third.txt', 'third body\n'));
		blobs = await saveWorld(directory, world, blobs);
		const loaded = await loadWorld(directory);
		const bodies = Object.fromEntries([...loaded!.volumes.get('pv-1')!.store.buckets.get('ilum-data')!].map(([key, record]) => [key, record.body.toString()]));
		assert.deepEqual(bodies, {
			'first.txt': 'first body\n',
			'second.txt': 'second body, the one the full disk cut\n',
			'third.txt': 'third body\n',
		});
	} finally {
		fs.open = realOpen;
		await fs.rm(directory, {recursive: true, force: true});
	}
});
