import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {startWorld} from '../../source/drill/world.js';
import {coreSeeders, waitFor} from '../helpers/drill-world.js';
import {clearOfTheHour} from '../helpers/clock.js';

const savedWorld = async (stateDir: string) => JSON.parse(await fs.readFile(path.join(stateDir, 'world.json'), 'utf8')) as {blobs: string; store: {resourceVersion: number}};

test('a world with a state dir saves as it changes, appending only new bodies to its blob file', {timeout: 120_000}, async () => {
	const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-persist-'));
	try {
		const world = await startWorld({objects: 50, seeders: coreSeeders, stateDir, now: clearOfTheHour()});
		try {
			const first = await waitFor(async () => savedWorld(stateDir).catch(() => undefined), 'the first save');
			const blobs = path.join(stateDir, first.blobs);
			const before = (await fs.stat(blobs)).size;
			const client = new S3Client({endpoint: world.provider.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: world.provider, maxAttempts: 1});
			const body = Buffer.from('a new body, appended once\n'.repeat(40));
			await client.send(new PutObjectCommand({Bucket: 'ilum-data', Key: 'saved/as-it-changes.txt', Body: body}));
			client.destroy();
			await waitFor(async () => (await fs.readFile(path.join(stateDir, 'world.json'), 'utf8')).includes('saved/as-it-changes.txt'), 'the save after the put');
			const after = await savedWorld(stateDir);
			assert.equal(after.blobs, first.blobs, 'the same blob file');
			assert.equal((await fs.stat(blobs)).size, before + body.length, 'only the new body was appended');
			world.store.create('configmaps', {apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'saved-too', namespace: 'ilum'}, data: {a: 'b'}});
			await waitFor(async () => (await savedWorld(stateDir)).store.resourceVersion >= Number(world.store.resourceVersion), 'the save after the ConfigMap');
			assert.equal((await fs.stat(blobs)).size, before + body.length, 'no body appended for a Kubernetes change');
			assert.deepEqual((await fs.readdir(stateDir)).filter(name => name.endsWith('.tmp')), []);
		} finally {
			await world.stop();
		}

		const again = await startWorld({stateDir});
		try {
			assert.ok(again.data.volumes.size > 0);
			const claim = again.store.get('configmaps', 'ilum', 'saved-too');
			assert.equal(claim?.data?.['a'], 'b');
			const found = [...again.data.volumes.values()].some(volume => volume.objects('ilum-data').has('saved/as-it-changes.txt'));
			assert.ok(found, 'the object is on the provider\'s disk');
		} finally {
			await again.stop();
		}
	} finally {
		await fs.rm(stateDir, {recursive: true, force: true});
	}
});
