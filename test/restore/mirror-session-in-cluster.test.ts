import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {DeleteObjectsCommand, HeadObjectCommand, ListObjectsV2Command} from '@aws-sdk/client-s3';
import {loadKubeConfig} from '../../source/config/kube.js';
import {mirrorRestoreSource} from '../../source/restore/mirror-session.js';
import type {InClusterEvent} from '../../source/layers/mirrors/in-cluster.js';
import {coreSeeders, startDrillWorld} from '../helpers/drill-world.js';

/** The console's mirror restore session with `inCluster`: the engine plan, its copy step done by one Job per bucket in the drill world. */
test('the console\'s mirror restore session copies with in-cluster Jobs when asked, their events reported', {timeout: 300_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {world} = drill;
	const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-session-in-cluster-'));
	try {
		const provider = drill.s3('provider');
		const page = await provider.send(new ListObjectsV2Command({Bucket: 'ilum-data', MaxKeys: 10}));
		const lost = (page.Contents ?? []).map(item => item.Key!);
		assert.ok(lost.length > 0);
		await provider.send(new DeleteObjectsCommand({Bucket: 'ilum-data', Delete: {Objects: lost.map(Key => ({Key}))}}));

		const prepare = mirrorRestoreSource({
			config: loadKubeConfig({kubeconfig: world.kubeconfigPath}),
			namespace: 'ilum',
			provider: {endpoint: world.provider.endpoint, region: 'us-east-1', accessKeyId: world.provider.accessKeyId, secretAccessKey: world.provider.secretAccessKey},
			mirror: {endpoint: world.backup.endpoint, region: 'us-east-1', accessKeyId: world.backup.accessKeyId, secretAccessKey: world.backup.secretAccessKey},
			stateDir,
		});
		const events: InClusterEvent[] = [];
		const session = await prepare({buckets: ['ilum-data'], inCluster: true, onJobEvent: event => events.push(event)});
		try {
			assert.equal(session.facts.copyStrategy, 'in-cluster');
			assert.match(session.plan.steps.find(step => step.id === 'copy')!.title, /Kubernetes Jobs/);
			const run = session.execute({confirm: async gate => gate.confirmText});
			let next = await run.next();
			while (!next.done) {
				// eslint-disable-next-line no-await-in-loop
				next = await run.next();
			}

			assert.equal(next.value.outcome, 'succeeded', next.value.reasons.join('; '));
		} finally {
			await session.close();
		}

		const created = events.filter(event => event.type === 'job-created');
		assert.equal(created.length, 1, 'one Job for the bucket');
		assert.ok(events.some(event => event.type === 'log' && /-> `ilum\/ilum-data\//.test(event.line)), 'its log lines');
		assert.ok(events.some(event => event.type === 'job-succeeded'));
		for (const key of lost) {
			// eslint-disable-next-line no-await-in-loop
			assert.ok(await provider.send(new HeadObjectCommand({Bucket: 'ilum-data', Key: key})), `${key} is back`);
		}

		assert.equal(world.store.get('cronjobs', 'ilum', 'ilum-objectstorage-backup')?.spec?.suspend, false, 'the CronJob resumed');
	} finally {
		await drill.stop();
		fs.rmSync(stateDir, {recursive: true, force: true});
	}
});
