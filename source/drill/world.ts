/**
The drill world: an Ilum installation in miniature, in this process.

`startWorld()` builds the Kubernetes object store on the drill clock, the data plane (disks and
snapshots), the two S3 endpoints (the provider, serving the disk of its pod's claim; the external
backup), runs the seeders (or loads a saved world from `stateDir`), starts the controllers and
the Kubernetes API, and writes a kubeconfig. `stop()` stops all of it and saves to `stateDir`.

    const world = await startWorld({seed: 1});
    // kubectl --kubeconfig world.kubeconfigPath -n ilum get volumesnapshot
    // aws --endpoint-url world.provider.endpoint s3 ls   (world.provider.accessKeyId / secretAccessKey)
    await world.stop();
*/
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {ObjectStore} from './kube-api/store.js';
import {startKubeApi, writeKubeconfig, type Identity, type KubeApi} from './kube-api/server.js';
import {Clock} from './clock.js';
import {DataPlane} from './data-plane.js';
import {S3Endpoint} from './s3/s3-endpoint.js';
import {VolumeData} from './s3/volume-data.js';
import {drillS3Client} from './jobs/s3-client.js';
import {EventRecorder} from './controllers/events.js';
import {defaultTiming, type Controller, type ControllerContext, type Timing} from './controllers/runtime.js';
import {startProvisioner} from './controllers/provisioner.js';
import {startSnapshotController} from './controllers/snapshot.js';
import {startKubelet} from './controllers/kubelet.js';
import {startStatefulSetController} from './controllers/statefulset.js';
import {startEndpointsController} from './controllers/endpoints.js';
import {podDialer} from './pod-ports.js';
import {startJobController} from './controllers/job.js';
import {startCronJobController} from './controllers/cronjob.js';
import {ilum} from './seed/ilum.js';
import {makeTimeline, runSeeders, seeders as defaultSeeders, type Seeder, type SeedTimeline} from './seed/index.js';
import {Rng} from './seed/rng.js';
import {Autosave, loadWorld, saveWorld} from './persist.js';

export type S3Access = {
	/** `http://127.0.0.1:PORT`, path-style, region us-east-1. */
	readonly endpoint: string;
	readonly accessKeyId: string;
	readonly secretAccessKey: string;
};

export type WorldOptions = {
	/** Everything generated derives from it (default 1). */
	seed?: number;
	/** Objects across the seven buckets (default 3000). */
	objects?: number;
	/** Save the world here as it changes (and on stop), and load it from here on start (when present). */
	stateDir?: string;
	/** Simulated seconds per real second (default 1). */
	clockSpeed?: number;
	/** Bearer token -> identity; default: `drill-admin-token` (admin) and `drill-viewer-token` (read-only viewer). */
	identities?: Record<string, Identity>;
	/**
	The simulated time the world opens at (ms since epoch; `--clock-start`): its day of history ends
	then and its clock runs on from there, so the backup CronJob fires at the simulated top of the
	hour. Pinned, the world is fully reproducible (names and times too). Default: the real time. A
	saved world resumes at its saved clock or at this time, whichever is later.
	*/
	now?: number;
	/** Where to write the kubeconfig (default: the state dir, or a temporary directory). */
	kubeconfigPath?: string;
	timing?: Partial<Timing>;
	/** Seeders to run (default: all of seed/index.ts). */
	seeders?: readonly Seeder[];
	/** World log lines (controllers, endpoints); default: dropped. */
	log?: (line: string) => void;
};

export type World = {
	readonly kubeconfigPath: string;
	readonly kubeApiUrl: string;
	readonly namespace: string;
	readonly provider: S3Access;
	readonly backup: S3Access;
	readonly store: ObjectStore;
	readonly clock: Clock;
	readonly data: DataPlane;
	readonly providerEndpoint: S3Endpoint;
	readonly backupEndpoint: S3Endpoint;
	/** The external backup target's disk. */
	readonly backupVolume: VolumeData;
	readonly api: KubeApi;
	readonly seed: number;
	readonly objects: number;
	/** Undefined when the world was loaded from a state dir. */
	readonly timeline?: SeedTimeline;
	/** Resolves when no controller has queued work (transitions waiting on the clock do not count). */
	idle(): Promise<void>;
	/** Stops controllers and servers; saves to the state dir when there is one. */
	stop(): Promise<void>;
};

export const adminToken = 'drill-admin-token';
export const viewerToken = 'drill-viewer-token';

export async function startWorld(options: WorldOptions = {}): Promise<World> {
	const seed = options.seed ?? 1;
	const objects = options.objects ?? 3000;
	const log = options.log ?? (() => {});
	const saved = options.stateDir ? await loadWorld(options.stateDir) : undefined;
	if (!saved) {
		for (const seeder of options.seeders ?? defaultSeeders) {
			seeder.warmUp?.();
		}
	}

	const now = options.now ?? Date.now();
	const timeline = saved ? undefined : makeTimeline(now);
	const clock = new Clock({start: saved ? Math.max(saved.clock, now) : timeline!.installedAt});
	const store = saved ? ObjectStore.fromJSON(saved.store, {now: () => clock.date()}) : new ObjectStore({now: () => clock.date()});
	const rng = new Rng(seed);
	const data = new DataPlane(saved ? new Rng(`${seed}:${saved.clock}`) : rng.fork('handles'));
	const credentials = rng.fork('credentials');
	const providerCredentials = saved?.provider ?? {accessKeyId: `ilum${credentials.hex(12)}`, secretAccessKey: credentials.hex(40)};
	const backupCredentials = saved?.backup ?? {accessKeyId: `backup${credentials.hex(12)}`, secretAccessKey: credentials.hex(40)};

	let providerVolume: VolumeData;
	let backupVolume: VolumeData;
	if (saved) {
		for (const [handle, volume] of saved.volumes) {
			data.volumes.set(handle, volume);
		}

		for (const [handle, volume] of saved.snapshots) {
			data.snapshots.set(handle, volume);
		}

		for (const [pod, lines] of Object.entries(saved.podLogs)) {
			data.podLogs.set(pod, lines);
		}

		backupVolume = saved.backupVolume;
		// The disk of the provider's claim as saved (what its pod will serve once Ready).
		const claim = store.get('persistentvolumeclaims', ilum.namespace, ilum.claim);
		const pv = claim?.spec?.volumeName ? store.get('persistentvolumes', undefined, claim.spec.volumeName) : undefined;
		providerVolume = data.volumes.get(String(pv?.spec?.csi?.volumeHandle ?? '')) ?? await VolumeData.empty();
	} else {
		providerVolume = await data.createVolume(data.newHandle('vol'));
		backupVolume = await VolumeData.empty();
	}

	const closers: Array<() => Promise<void>> = [];
	const seedClosers: Array<() => Promise<void> | void> = [];
	const stopSeeded = async () => {
		for (const close of seedClosers.splice(0).reverse()) {
			// eslint-disable-next-line no-await-in-loop
			await close();
		}
	};

	try {
		closers.push(stopSeeded);
		const providerEndpoint = await S3Endpoint.start({name: 'provider', credentials: {accessKeyId: providerCredentials.accessKeyId, secretAccessKey: providerCredentials.secretAccessKey}, volume: saved ? undefined : providerVolume, port: saved?.provider.port});
		closers.push(async () => providerEndpoint.close());
		const backupEndpoint = await S3Endpoint.start({name: 'backup', credentials: {accessKeyId: backupCredentials.accessKeyId, secretAccessKey: backupCredentials.secretAccessKey}, volume: backupVolume, port: saved?.backup.port});
		closers.push(async () => backupEndpoint.close());
		data.services.set(`${ilum.namespace}/${ilum.service}`, providerEndpoint);

		const seedS3 = {
			provider: {endpoint: providerEndpoint, url: providerEndpoint.url, ...providerCredentials, client: drillS3Client(providerEndpoint.url, providerCredentials.accessKeyId, providerCredentials.secretAccessKey), volume: providerVolume},
			backup: {endpoint: backupEndpoint, url: backupEndpoint.url, ...backupCredentials, client: drillS3Client(backupEndpoint.url, backupCredentials.accessKeyId, backupCredentials.secretAccessKey), volume: backupVolume},
		};
		if (saved) {
			for (const seeder of options.seeders ?? defaultSeeders) {
				// eslint-disable-next-line no-await-in-loop
				await seeder.resume?.({
					store,
					clock,
					rng: rng.fork(seeder.name),
					data,
					namespace: ilum.namespace,
					log,
					stateDir: options.stateDir,
					onStop(close) {
						seedClosers.push(close);
					},
					...seedS3,
				});
			}
		}

		if (timeline) {
			await runSeeders({
				stateDir: options.stateDir,
				store,
				clock,
				rng,
				data,
				namespace: ilum.namespace,
				objects,
				timeline,
				log,
				onStop(close) {
					seedClosers.push(close);
				},
				...seedS3,
			}, options.seeders ?? defaultSeeders);
		}

		if (options.clockSpeed && options.clockSpeed !== 1) {
			clock.setSpeed(options.clockSpeed);
		}

		const context: ControllerContext = {
			store,
			clock,
			data,
			events: new EventRecorder(store, clock),
			timing: {...defaultTiming, ...options.timing},
			log,
		};
		const controllers: Controller[] = [
			startEndpointsController(context),
			startProvisioner(context),
			startSnapshotController(context),
			startStatefulSetController(context),
			startKubelet(context),
			startJobController(context),
			startCronJobController(context),
		];
		closers.push(async () => {
			for (const controller of controllers) {
				controller.stop();
			}
		});

		const identities = options.identities ?? {[adminToken]: {name: 'admin'}, [viewerToken]: {name: 'viewer', readOnly: true}};
		const api = await startKubeApi({store, identities, host: '127.0.0.1', port: saved?.kubeApiPort ?? 0, podLogs: (namespace, pod) => data.podLogs.get(`${namespace}/${pod}`), dialPod: podDialer(store, data)});
		closers.push(async () => api.close());
		let kubeconfigPath = options.kubeconfigPath;
		let temporary: string | undefined;
		if (!kubeconfigPath) {
			if (options.stateDir) {
				kubeconfigPath = path.join(options.stateDir, 'kubeconfig');
			} else {
				temporary = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-drill-'));
				kubeconfigPath = path.join(temporary, 'kubeconfig');
			}
		}

		const users = Object.entries(identities).map(([token, identity]) => ({name: identity.name, token}));
		writeKubeconfig(kubeconfigPath, {server: api.url, namespace: ilum.namespace, users});

		let stopped = false;
		const world: World = {
			kubeconfigPath,
			kubeApiUrl: api.url,
			namespace: ilum.namespace,
			provider: {endpoint: providerEndpoint.url, ...providerCredentials},
			backup: {endpoint: backupEndpoint.url, ...backupCredentials},
			store,
			clock,
			data,
			providerEndpoint,
			backupEndpoint,
			backupVolume,
			api,
			seed,
			objects: saved?.objects ?? objects,
			timeline,
			async idle() {
				for (let round = 0; round < 3; round++) {
					// eslint-disable-next-line no-await-in-loop
					await Promise.all(controllers.map(async controller => controller.idle()));
					// eslint-disable-next-line no-await-in-loop
					await new Promise(resolve => {
						setImmediate(resolve);
					});
				}
			},
			async stop() {
				if (stopped) {
					return;
				}

				stopped = true;
				for (const controller of controllers) {
					controller.stop();
				}

				clock.stop();
				for (const unsubscribe of unsubscribers) {
					unsubscribe();
				}

				// The last save, after any running one.
				await autosave?.close({final: true});
				await api.close();
				await stopSeeded();
				await providerEndpoint.close();
				await backupEndpoint.close();
				if (temporary) {
					await fs.rm(temporary, {recursive: true, force: true});
				}
			},
		};
		// Saved as it changes (Kubernetes objects, S3 writes on either endpoint), debounced; the
		// fresh world once at start, so a world killed before any change restarts as it was.
		let blobFile = saved?.blobFile;
		const stateDir = options.stateDir;
		const autosave = stateDir ? new Autosave(async () => {
			blobFile = await saveWorld(stateDir, {
				version: 1,
				seed,
				objects: world.objects,
				clock: clock.now(),
				store: store.toJSON(),
				provider: {...providerCredentials, port: providerEndpoint.port},
				backup: {...backupCredentials, port: backupEndpoint.port},
				kubeApiPort: api.port,
				volumes: data.volumes,
				snapshots: data.snapshots,
				backupVolume,
				podLogs: Object.fromEntries(data.podLogs),
			}, blobFile);
		}, {onError: error => log(`saving to ${stateDir} failed: ${error instanceof Error ? error.message : String(error)}`)}) : undefined;
		const unsubscribers: Array<() => void> = [];
		if (autosave) {
			const touch = () => {
				autosave.touch();
			};

			unsubscribers.push(store.onChange(touch), providerEndpoint.onWrite(touch), backupEndpoint.onWrite(touch));
			if (!saved) {
				touch();
			}
		}

		return world;
	} catch (error) {
		for (const close of closers.reverse()) {
			// eslint-disable-next-line no-await-in-loop
			await close().catch(() => {});
		}

		clock.stop();
		throw error;
	}
}
