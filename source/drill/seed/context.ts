import type {S3Client} from '@aws-sdk/client-s3';
import type {ObjectStore} from '../kube-api/store.js';
import type {Clock} from '../clock.js';
import type {DataPlane} from '../data-plane.js';
import type {S3Endpoint} from '../s3/s3-endpoint.js';
import type {VolumeData} from '../s3/volume-data.js';
import type {Rng} from './rng.js';

/** One S3 side of the world as seeders see it. */
export type SeedS3 = {
	readonly endpoint: S3Endpoint;
	/** `endpoint.url`, path-style, region us-east-1. */
	readonly url: string;
	readonly accessKeyId: string;
	readonly secretAccessKey: string;
	/** An SDK client for it (forcePathStyle). */
	readonly client: S3Client;
	/** The disk it serves: write here directly for speed (see s3/object-record.ts `objectRecord`). */
	readonly volume: VolumeData;
};

/**
What a seeder receives. Seeders run in the order of `seeders` (index.ts) at install time (the
clock then reads `timeline.installedAt`), create Kubernetes objects through `store`, and put data
in the buckets either at once or, to give the world a history, at a past time with `at()`.

Steps registered with `at(time, step)` run in time order after every seeder has been called,
with the clock set to that time, interleaved with the world's own history: the hourly
VolumeSnapshots (each captures the provider's data as it is then) and the backup mirror runs
(the last at `timeline.lastMirror`). So a table seeder writing version N at `at(t_N, ...)`
leaves older versions in older snapshots, and the versions before the last mirror in the backup.
*/
export type SeedContext = {
	readonly store: ObjectStore;
	readonly clock: Clock;
	/** This seeder's own generator (forked by seeder name: adding a seeder changes no other's data). */
	readonly rng: Rng;
	readonly data: DataPlane;
	/** `ilum`. */
	readonly namespace: string;
	/** How many objects `--objects` asks for across the seven buckets. */
	readonly objects: number;
	/** The in-cluster object storage (RustFS behind Service `ilum-objectstorage`). */
	readonly provider: SeedS3;
	/** The external backup target the mirror CronJob writes to. */
	readonly backup: SeedS3;
	readonly timeline: SeedTimeline;
	/** Runs `step` later in the seed, with the clock at `time` (ms since epoch, within the timeline). */
	at(time: number, step: (time: number) => Promise<void> | void): void;
	/** A line on the world's log (stderr of `drill serve`). */
	log(line: string): void;
	/** Registers what to close when the world stops (a catalog server the seeder started). */
	onStop(close: () => Promise<void> | void): void;
	/**
	The world's `--state-dir`, when it has one: keep durable files of your own under
	`<stateDir>/<seeder name>/` (a catalog database) so `resume` can reopen them.
	*/
	readonly stateDir?: string;
};

/** What `Seeder.resume` gets when a saved world is loaded (no timeline: the past is already there). */
export type ResumeContext = Omit<SeedContext, 'at' | 'timeline' | 'objects'>;

export type SeedTimeline = {
	/** When the chart was installed (the clock's start). */
	readonly installedAt: number;
	/** When the bulk of the objects existed (the oldest snapshot is an hour later). */
	readonly dataFrom: number;
	/** Times of the hourly VolumeSnapshots, oldest first (24 of them). */
	readonly snapshots: readonly number[];
	/** The backup CronJob's runs; the mirror equals the provider as of the last one. */
	readonly mirrorRuns: readonly number[];
	readonly lastMirror: number;
	/** After the last mirror run and the newest snapshot: writes here exist only on the live provider. */
	readonly drift: number;
	/** The end of the seed: "now" when the world opens. */
	readonly now: number;
};

export type Seeder = {
	readonly name: string;
	seed(context: SeedContext): Promise<void> | void;
	/**
	Called instead of `seed` when the world is loaded from a state dir: restart what the seeder
	runs besides data (catalog servers) and update the objects that name it (ConfigMaps).
	*/
	resume?(context: ResumeContext): Promise<void> | void;
	/**
	Called first thing when a fresh world starts (before its endpoints and the other seeders): start
	slow work that needs nothing from the world, such as a server in a worker thread, for `seed` to
	pick up. Must not throw; a world that never calls `seed` afterwards leaves it to be collected.
	*/
	warmUp?(): void;
};
