/**
The provider reached three ways on one drill world, side by side: directly (its loopback
endpoint, as --s3-endpoint), through ilum-restore's own port-forward (what the console does with
no --s3-endpoint), and through `kubectl port-forward svc/ilum-objectstorage` (what a user would
otherwise run). For each: the bucket drift against the mirror (the console's Mirrors pane) and one
large object down and up. The API server, the S3 endpoint and the clients share this process and
the machine, so the forward's cost shows as CPU: read the ratios, not the absolute rates.

    OBJECTS=10000 RUNS=3 SIZE_MIB=64 node --import tsx test/bench/port-forward.ts
*/
import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {GetObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {Upload} from '@aws-sdk/lib-storage';
import {startWorld} from '../../source/drill/world.js';
import {connectLayers} from '../../source/layers/connect.js';
import {mirrorInventory} from '../../source/layers/inventory.js';
import {coreSeeders, quickTiming} from '../helpers/drill-world.js';

const objects = Number(process.env['OBJECTS'] ?? 10_000);
const runs = Number(process.env['RUNS'] ?? 3);
const sizeMiB = Number(process.env['SIZE_MIB'] ?? 64);
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-port-forward-'));
const world = await startWorld({objects, seeders: coreSeeders, timing: quickTiming, kubeconfigPath: path.join(directory, 'kubeconfig')});
const env = {HOME: directory, KUBECONFIG: world.kubeconfigPath} as NodeJS.ProcessEnv;
let kubectl: ChildProcess | undefined;

/** `kubectl port-forward svc/ilum-objectstorage 0:9000`, resolved with the local URL it prints. */
async function kubectlForward(): Promise<string> {
	const child = spawn('kubectl', ['--cache-dir', path.join(directory, 'kube-cache'), '-n', 'ilum', 'port-forward', 'svc/ilum-objectstorage', '0:9000'], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
	kubectl = child;
	let output = '';
	const deadline = Date.now() + 60_000;
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		output += chunk;
	});
	for (;;) {
		const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(output);
		if (match) {
			return `http://127.0.0.1:${match[1]}`;
		}

		if (Date.now() > deadline || child.exitCode !== null) {
			throw new Error(`kubectl port-forward did not start: ${output}`);
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 50);
		});
	}
}

type Way = 'direct' | 'ilum-restore forward' | 'kubectl port-forward';
const ways: Way[] = ['direct', 'ilum-restore forward', 'kubectl port-forward'];
const results: Record<Way, {drift: number[]; get: number[]; put: number[]}> = {
	direct: {drift: [], get: [], put: []},
	'ilum-restore forward': {drift: [], get: [], put: []},
	'kubectl port-forward': {drift: [], get: [], put: []},
};
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

try {
	const kubectlUrl = await kubectlForward();
	const body = Buffer.alloc(sizeMiB * 1024 * 1024, 7);
	let total = 0;
	for (let run = 0; run < runs; run++) {
		for (const way of ways) {
			// The same sources as the console: no endpoint given means our own forward.
			const endpoint = way === 'direct' ? world.provider.endpoint : (way === 'kubectl port-forward' ? kubectlUrl : undefined);
			// eslint-disable-next-line no-await-in-loop
			const sources = await connectLayers({flags: {kubeconfig: world.kubeconfigPath, namespace: 'ilum', ...(endpoint ? {s3Endpoint: endpoint} : {})}, env});
			let started = performance.now();
			// eslint-disable-next-line no-await-in-loop
			const inventory = await mirrorInventory(sources);
			results[way].drift.push(performance.now() - started);
			total = inventory.buckets.reduce((sum, bucket) => sum + bucket.provider.objects, 0);
			const client = new S3Client({endpoint: sources.providerEndpoint, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: world.provider.accessKeyId, secretAccessKey: world.provider.secretAccessKey}});
			started = performance.now();
			// eslint-disable-next-line no-await-in-loop
			await new Upload({client, params: {Bucket: 'ilum-data', Key: `bench/port-forward-${run}`, Body: body}, partSize: 8 * 1024 * 1024, queueSize: 4}).done();
			results[way].put.push(sizeMiB / ((performance.now() - started) / 1000));
			started = performance.now();
			// eslint-disable-next-line no-await-in-loop
			const answer = await client.send(new GetObjectCommand({Bucket: 'ilum-data', Key: `bench/port-forward-${run}`}));
			// eslint-disable-next-line no-await-in-loop
			await answer.Body!.transformToByteArray();
			results[way].get.push(sizeMiB / ((performance.now() - started) / 1000));
			client.destroy();
			// eslint-disable-next-line no-await-in-loop
			await sources.close?.();
		}
	}

	process.stdout.write(`${total} objects in 7 buckets, ${sizeMiB} MiB object, ${runs} runs, load ${os.loadavg()[0]!.toFixed(1)}\n`);
	process.stdout.write(`${'way'.padEnd(22)} ${'drift (median)'.padStart(15)} ${'GET MiB/s'.padStart(10)} ${'PUT MiB/s'.padStart(10)}\n`);
	for (const way of ways) {
		const figures = results[way];
		process.stdout.write(`${way.padEnd(22)} ${`${Math.round(median(figures.drift))} ms`.padStart(15)} ${median(figures.get).toFixed(0).padStart(10)} ${median(figures.put).toFixed(0).padStart(10)}\n`);
	}

	const ours = results['ilum-restore forward'];
	const theirs = results['kubectl port-forward'];
	process.stdout.write(`ilum-restore forward / kubectl port-forward: drift ${(median(ours.drift) / median(theirs.drift)).toFixed(2)}x the time, GET ${(median(ours.get) / median(theirs.get)).toFixed(2)}x, PUT ${(median(ours.put) / median(theirs.put)).toFixed(2)}x the rate\n`);
} finally {
	kubectl?.kill();
	await world.stop();
	fs.rmSync(directory, {recursive: true, force: true});
}
