/**
The drill world for tests: start it, talk to it with kubectl (fresh cache dir per world), the
AWS CLI or the SDK, and stop it.

    const drill = await startDrillWorld({objects: 300});
    const {stdout} = await drill.kubectl(['-n', 'ilum', 'get', 'pvc']);
    await drill.stop();

Defaults keep tests quick: 300 objects and short controller delays; pass `objects`/`timing`
to change them, or any other `startWorld` option (`seeders: coreSeeders` for a world without the
table seeders, which take most of the start-up time).
*/
import {execFile, spawn} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {S3Client} from '@aws-sdk/client-s3';
import {clearOfTheHour} from './clock.js';
import {startWorld, type S3Access, type World, type WorldOptions} from '../../source/drill/world.js';
import {clusterSeeder} from '../../source/drill/seed/cluster.js';
import {historySeeder} from '../../source/drill/seed/history-seeder.js';
import {objectsSeeder} from '../../source/drill/seed/objects-seeder.js';

/** The world without tables or catalogs (fast): the cluster, the objects and their day of history. */
export const coreSeeders = [clusterSeeder, objectsSeeder, historySeeder];

export type CommandResult = {code: number; stdout: string; stderr: string};

export type DrillFixture = {
	readonly world: World;
	/** KUBECONFIG, KUBECACHEDIR and HOME for child processes (kubectl, the CLI). */
	readonly env: NodeJS.ProcessEnv;
	readonly cacheDir: string;
	/** Runs the machine's kubectl against the world (`--cache-dir` fresh for this world). */
	kubectl(args: readonly string[], options?: {input?: string; timeoutMs?: number}): Promise<CommandResult>;
	/** Starts a long-running kubectl (`get -w`); stop it with `child.kill()`. */
	spawnKubectl(args: readonly string[]): ReturnType<typeof spawn>;
	/** The AWS CLI against one of the endpoints. */
	aws(side: 'provider' | 'backup', args: readonly string[]): Promise<CommandResult>;
	s3(side: 'provider' | 'backup'): S3Client;
	stop(): Promise<void>;
};

export const quickTiming = {snapshotReady: 300, podStart: 100, podReady: 200, provision: 100, provisionFromSnapshot: 200};

export async function startDrillWorld(options: WorldOptions = {}): Promise<DrillFixture> {
	const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-test-'));
	// A test file keeps its world for minutes: its clock starts well clear of the hourly backup run.
	const world = await startWorld({objects: 300, timing: quickTiming, kubeconfigPath: path.join(directory, 'kubeconfig'), now: clearOfTheHour(12), ...options});
	const cacheDir = path.join(directory, 'kube-cache');
	const env = {...process.env, KUBECONFIG: world.kubeconfigPath, KUBECACHEDIR: cacheDir, HOME: directory};
	const clients: S3Client[] = [];
	const access = (side: 'provider' | 'backup'): S3Access => side === 'provider' ? world.provider : world.backup;
	return {
		world,
		env,
		cacheDir,
		kubectl: async (args, runOptions = {}) => run('kubectl', ['--cache-dir', cacheDir, ...args], env, runOptions),
		spawnKubectl: args => spawn('kubectl', ['--cache-dir', cacheDir, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']}),
		async aws(side, args) {
			const {endpoint, accessKeyId, secretAccessKey} = access(side);
			return run('aws', ['--endpoint-url', endpoint, ...args], {...env, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: ''}, {timeoutMs: 60_000});
		},
		s3(side) {
			const {endpoint, accessKeyId, secretAccessKey} = access(side);
			const client = new S3Client({endpoint, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId, secretAccessKey}, maxAttempts: 1});
			clients.push(client);
			return client;
		},
		async stop() {
			for (const client of clients) {
				client.destroy();
			}

			await world.stop();
			await fs.rm(directory, {recursive: true, force: true});
		},
	};
}

async function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, options: {input?: string; timeoutMs?: number} = {}): Promise<CommandResult> {
	return new Promise(resolve => {
		const child = execFile(command, args, {env, timeout: options.timeoutMs ?? 90_000, maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
			const code = error ? (typeof (error as {code?: unknown}).code === 'number' ? (error as {code: number}).code : 1) : 0;
			resolve({code, stdout, stderr});
		});
		child.stdin?.end(options.input ?? '');
	});
}

/** Polls `condition` until it returns a truthy value (or throws the last error after the deadline). */
export async function waitFor<T>(condition: () => T | Promise<T>, what: string, timeoutMs = 60_000): Promise<NonNullable<T>> {
	const deadline = Date.now() + timeoutMs;
	let lastError: unknown;
	for (;;) {
		try {
			// eslint-disable-next-line no-await-in-loop
			const value = await condition();
			if (value) {
				return value;
			}
		} catch (error) {
			lastError = error;
		}

		if (Date.now() > deadline) {
			throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 50);
		});
	}
}
