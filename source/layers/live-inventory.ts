import type {V1CronJob, V1Job, V1PersistentVolumeClaim, V1StatefulSet} from '@kubernetes/client-node';
import type {WatchSource, WatchState} from '../cluster/watch-store.js';
import {ClusterError} from '../cluster/cluster-errors.js';
import type {VolumeSnapshot} from '../cluster/cluster-types.js';
import {findHazards, type Hazard} from './hazards.js';
import {bucketsToCompare, probe, type LayerSources} from './inventory.js';
import {emptyFigures, type BucketFigures, type MirrorInventory} from './mirror-figures.js';
import {backupSecretName, describeBackupCron, findBackupCronJob} from './mirrors/cron.js';
import {tableInventory, type TableInventory} from './tables/table-inventory.js';
import {buildVolumeInventory, readVolumeFacts, type VolumeFacts, type VolumeInventory} from './volumes/volume-inventory.js';

export type LayerState<T> = {
	readonly value?: T;
	/** Shown as one line in the pane; the other panes keep working. */
	readonly error?: string;
	readonly loading: boolean;
	/** When the value was last replaced (epoch ms). */
	readonly at?: number;
};

export type LiveState = {
	readonly volumes: LayerState<VolumeInventory>;
	readonly mirrors: LayerState<MirrorInventory>;
	readonly tables: LayerState<TableInventory>;
	readonly hazards: readonly Hazard[];
	/** How many times subscribers were told of a change (for the redraw budget). */
	readonly version: number;
};

export type Layer = 'volumes' | 'mirrors' | 'tables';

const line = (error: unknown) => error instanceof ClusterError ? error.line() : error instanceof Error ? error.message.split('\n')[0]! : String(error);

/**
The three layers kept current for the console: Kubernetes through watches (VolumeSnapshots,
CronJobs, Jobs, claims, StatefulSets), S3 and tables on start, on `refresh`, and when the watches
say they changed: the provider's claim bound to another volume and the provider ready again (a
volume restore, from here or from anywhere) re-reads the claims, the drift and the tables; a
backup run that ended re-reads the drift; any other claim change re-reads the claims. Those
follow-ups are coalesced (`followMs`). Changes are told to subscribers at most once per
`throttleMs` (10 redraws a second while drift figures stream in).
Read with `useSyncExternalStore(live.subscribe, live.getSnapshot)`.
*/
export class LiveInventory {
	readonly sources: LayerSources;
	private state: LiveState = {volumes: {loading: true}, mirrors: {loading: true}, tables: {loading: true}, hazards: [], version: 0};
	private readonly listeners = new Set<() => void>();
	private readonly throttleMs: number;
	private timer: NodeJS.Timeout | undefined;
	private lastEmit = 0;
	private facts: VolumeFacts | undefined;
	private snapshots: WatchSource<VolumeSnapshot> | undefined;
	private cronJobs: WatchSource<V1CronJob> | undefined;
	private jobs: WatchSource<V1Job> | undefined;
	private claims: WatchSource<V1PersistentVolumeClaim> | undefined;
	private statefulSets: WatchSource<V1StatefulSet> | undefined;
	/** What the watches last said of the claims, the provider and the backup runs (a change asks for a follow-up read). */
	private marks: {claims?: string; provider?: string; backups?: string} = {};
	private readonly followMs: number;
	private followTimer: NodeJS.Timeout | undefined;
	private readonly following = new Set<Layer>();
	private secret: {data?: Readonly<Record<string, string>>; problem?: string} = {};
	private buckets = new Map<string, BucketFigures>();
	private compareAbort: AbortController | undefined;
	private tablesAbort: AbortController | undefined;
	private readonly unsubscribers: Array<() => void> = [];
	private stopped = false;

	private readonly readOnly: boolean;

	/** `readOnly`: send nothing that is not a read (not even a SelfSubjectAccessReview, which is a create). */
	constructor(sources: LayerSources, options: {throttleMs?: number; readOnly?: boolean; followMs?: number} = {}) {
		this.sources = sources;
		this.throttleMs = options.throttleMs ?? 100;
		this.followMs = options.followMs ?? 500;
		this.readOnly = options.readOnly ?? false;
	}

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => {
			this.listeners.delete(listener);
		};
	};

	getSnapshot = (): LiveState => this.state;

	/** Starts the watches and the first reads. */
	start(): void {
		const {cluster, namespace} = this.sources;
		this.snapshots = cluster.watch<VolumeSnapshot>('volumesnapshots', namespace);
		this.cronJobs = cluster.watch<V1CronJob>('cronjobs', namespace);
		this.jobs = cluster.watch<V1Job>('jobs', namespace);
		this.claims = cluster.watch<V1PersistentVolumeClaim>('persistentvolumeclaims', namespace);
		this.statefulSets = cluster.watch<V1StatefulSet>('statefulsets', namespace);
		for (const source of [this.snapshots, this.cronJobs, this.jobs] as Array<WatchSource<unknown>>) {
			this.unsubscribers.push(source.subscribe(() => {
				this.rebuild();
			}));
		}

		for (const source of [this.jobs, this.claims, this.statefulSets] as Array<WatchSource<unknown>>) {
			this.unsubscribers.push(source.subscribe(() => {
				this.watchesMoved();
			}));
		}

		for (const source of [this.snapshots, this.cronJobs, this.jobs, this.claims, this.statefulSets] as Array<WatchSource<unknown>>) {
			source.start();
		}

		void this.refresh('all');
	}

	async stop(): Promise<void> {
		this.stopped = true;
		clearTimeout(this.timer);
		clearTimeout(this.followTimer);
		this.compareAbort?.abort();
		this.tablesAbort?.abort();
		for (const unsubscribe of this.unsubscribers.splice(0)) {
			unsubscribe();
		}

		await Promise.all([this.snapshots?.stop(), this.cronJobs?.stop(), this.jobs?.stop(), this.claims?.stop(), this.statefulSets?.stop()]);
	}

	/**
	Asks for the reads the watches cannot carry when what they show moved: the provider's claim (its
	uid, volume, phase) with its StatefulSet ready again, a backup Job that ended, any claim. The
	first marks seen only set the baseline (the start reads everything anyway).
	*/
	private watchesMoved(): void {
		const claims = this.claims?.getSnapshot();
		const statefulSets = this.statefulSets?.getSnapshot();
		const jobs = this.jobs?.getSnapshot();
		const layers = new Set<Layer>();
		const moved = (key: keyof typeof this.marks, mark: string | undefined): boolean => {
			const before = this.marks[key];
			if (mark === undefined) {
				return false;
			}

			this.marks[key] = mark;
			return before !== undefined && before !== mark;
		};

		if (claims?.synced) {
			const mark = claims.items.map(claim => `${claim.metadata?.name}:${claim.metadata?.uid}:${claim.spec?.volumeName ?? ''}:${claim.status?.phase ?? ''}`).sort().join(',');
			if (moved('claims', mark)) {
				layers.add('volumes');
			}
		}

		const provider = this.state.volumes.value?.provider;
		if (provider && claims?.synced && statefulSets?.synced) {
			const claim = claims.items.find(item => item.metadata?.name === provider.claim);
			const statefulSet = provider.statefulSet ? statefulSets.items.find(item => item.metadata?.name === provider.statefulSet) : undefined;
			const ready = statefulSet ? (statefulSet.spec?.replicas ?? 1) > 0 && (statefulSet.status?.readyReplicas ?? 0) >= (statefulSet.spec?.replicas ?? 1) : true;
			// Only a provider that serves again is worth reading (in between, every read would fail).
			if (ready && moved('provider', `${claim?.metadata?.uid ?? ''}:${claim?.spec?.volumeName ?? ''}:${claim?.status?.phase ?? ''}`)) {
				layers.add('volumes').add('mirrors').add('tables');
			}
		}

		if (jobs?.synced) {
			const cron = findBackupCronJob(this.cronJobs?.getSnapshot().items ?? []);
			const ended = cron ? jobs.items.filter(job => ((job.metadata?.ownerReferences ?? []).some(owner => owner.kind === 'CronJob' && owner.name === cron.metadata?.name) || (job.metadata?.name ?? '').startsWith(`${cron.metadata?.name}-`)) && (job.status?.completionTime || (job.status?.failed ?? 0) > 0)) : [];
			if (moved('backups', ended.map(job => job.metadata?.name ?? '').sort().join(','))) {
				layers.add('mirrors');
			}
		}

		if (layers.size > 0) {
			this.follow(layers);
		}
	}

	/** Coalesces follow-up reads: the last change plus `followMs`, then one read per layer asked for. */
	private follow(layers: ReadonlySet<Layer>): void {
		if (this.stopped) {
			return;
		}

		for (const layer of layers) {
			this.following.add(layer);
		}

		clearTimeout(this.followTimer);
		this.followTimer = setTimeout(() => {
			const asked = [...this.following];
			this.following.clear();
			for (const layer of asked) {
				void this.refresh(layer);
			}
		}, this.followMs);
	}

	/** Re-reads what watches do not cover: claims, classes, drivers, the Secret, the drift, the tables. */
	async refresh(layer: Layer | 'all' = 'all'): Promise<void> {
		const work: Array<Promise<void>> = [];
		if (layer === 'all' || layer === 'volumes') {
			work.push(this.refreshVolumes());
		}

		if (layer === 'all' || layer === 'mirrors') {
			work.push(this.refreshMirrors());
		}

		if (layer === 'all' || layer === 'tables') {
			work.push(this.refreshTables());
		}

		await Promise.all(work);
	}

	/** Resolves once every layer has a first value or an error, and bucket figures are done. */
	async settled(): Promise<LiveState> {
		const isSettled = () => {
			const {volumes, mirrors, tables} = this.state;
			return !volumes.loading && !mirrors.loading && !tables.loading && (mirrors.value?.buckets ?? []).every(bucket => bucket.done);
		};

		if (isSettled()) {
			return this.state;
		}

		return new Promise(resolve => {
			const unsubscribe = this.subscribe(() => {
				if (isSettled()) {
					unsubscribe();
					resolve(this.state);
				}
			});
		});
	}

	private async refreshVolumes(): Promise<void> {
		this.patch({volumes: {...this.state.volumes, loading: true}});
		try {
			this.facts = await readVolumeFacts(this.sources.cluster, this.sources.namespace, {snapshots: []});
			this.patch({volumes: {...this.state.volumes, loading: false, error: undefined}});
		} catch (error) {
			this.facts = undefined;
			this.patch({volumes: {value: undefined, loading: false, error: line(error), at: Date.now()}});
		}

		this.rebuild();
		// The provider is known now: what the watches show of it is the baseline for follow-ups.
		this.watchesMoved();
	}

	private async refreshMirrors(): Promise<void> {
		this.patch({mirrors: {...this.state.mirrors, loading: true}});
		try {
			const data = await this.sources.cluster.readSecret(this.sources.namespace, backupSecretName);
			this.secret = {data, problem: data ? undefined : `Secret ${backupSecretName} not found`};
		} catch (error) {
			this.secret = {problem: line(error)};
		}

		const [provider, canPatch] = await Promise.all([
			probe(this.sources),
			this.readOnly ? undefined : this.sources.cluster.can('patch', 'cronjobs', 'batch', this.sources.namespace).catch(() => undefined),
		]);
		this.provider = provider;
		this.canPatchCronJob = canPatch;
		this.compareAbort?.abort();
		const abort = new AbortController();
		this.compareAbort = abort;
		this.buckets = new Map();
		this.rebuild();
		const compare = this.sources.compare;
		if (compare && provider?.reachable !== false) {
			const cron = this.cronFromWatches();
			const buckets = bucketsToCompare(this.sources, cron);
			for (const bucket of buckets) {
				this.buckets.set(bucket, emptyFigures(bucket));
			}

			this.rebuild();
			await Promise.all(buckets.map(async bucket => {
				try {
					for await (const figures of compare(bucket, abort.signal)) {
						if (abort.signal.aborted) {
							return;
						}

						this.buckets.set(bucket, figures);
						this.rebuild();
					}
				} catch (error) {
					if (!abort.signal.aborted) {
						this.buckets.set(bucket, {...(this.buckets.get(bucket) ?? emptyFigures(bucket)), done: true, at: Date.now(), error: line(error)});
						this.rebuild();
					}
				}
			}));
		}
	}

	private provider: MirrorInventory['provider'];
	private canPatchCronJob: boolean | undefined;

	private async refreshTables(): Promise<void> {
		this.tablesAbort?.abort();
		const abort = new AbortController();
		this.tablesAbort = abort;
		this.patch({tables: {...this.state.tables, loading: true}});
		try {
			const value = await tableInventory(this.sources.tableSources, {...this.sources.tableDiscovery, signal: abort.signal});
			if (!abort.signal.aborted) {
				this.patch({tables: {value, loading: false, at: Date.now()}});
			}
		} catch (error) {
			if (!abort.signal.aborted) {
				this.patch({tables: {...this.state.tables, loading: false, error: line(error), at: Date.now()}});
			}
		}
	}

	private cronFromWatches(): MirrorInventory['cron'] {
		const cronJob = findBackupCronJob(this.cronJobs?.getSnapshot().items ?? []);
		return cronJob ? describeBackupCron(cronJob, {jobs: this.jobs?.getSnapshot().items ?? [], secret: this.secret.data, secretProblem: this.secret.problem}) : undefined;
	}

	/** Derives the layers from the watches and the last reads. */
	private rebuild(): void {
		const snapshots: WatchState<VolumeSnapshot> | undefined = this.snapshots?.getSnapshot();
		let volumes = this.state.volumes;
		if (this.facts && snapshots) {
			const snapshotApiError = snapshots.error && snapshots.error.kind !== 'unreachable' && snapshots.error.kind !== 'unauthorized' && !snapshots.synced ? snapshots.error.line() : undefined;
			const value = buildVolumeInventory({...this.facts, snapshots: snapshots.synced ? snapshots.items : snapshotApiError ? undefined : [], snapshotApiError});
			const watchError = snapshots.error && !snapshotApiError ? snapshots.error.line() : undefined;
			volumes = {value, loading: !snapshots.synced && !snapshots.error, error: watchError, at: snapshots.updatedAt};
		}

		const cronState = this.cronJobs?.getSnapshot();
		const cron = this.cronFromWatches();
		const cronProblem = cronState?.error ? cronState.error.line() : cron ? undefined : cronState?.synced ? `no backup CronJob in namespace ${this.sources.namespace}` : undefined;
		const buckets = [...this.buckets.values()];
		const mirrorsValue: MirrorInventory = {
			cron,
			cronProblem,
			buckets,
			provider: this.provider,
			compareProblem: this.sources.compare ? undefined : this.sources.compareProblem ?? 'no mirror endpoint to compare with',
			canPatchCronJob: this.canPatchCronJob,
		};
		const mirrors: LayerState<MirrorInventory> = {value: mirrorsValue, loading: !(cronState?.synced || cronState?.error), at: Date.now()};
		const hazards = findHazards({volumes: volumes.value, mirrors: mirrors.value, now: this.sources.now?.() ?? Date.now()});
		this.patch({volumes, mirrors, hazards});
	}

	private patch(next: Partial<LiveState>): void {
		this.state = {...this.state, ...next};
		this.schedule();
	}

	/** At most one notification per `throttleMs`; the last change is never lost. */
	private schedule(): void {
		if (this.timer || this.stopped) {
			return;
		}

		const wait = Math.max(0, this.lastEmit + this.throttleMs - Date.now());
		this.timer = setTimeout(() => {
			this.timer = undefined;
			this.lastEmit = Date.now();
			this.state = {...this.state, version: this.state.version + 1};
			for (const listener of [...this.listeners]) {
				listener();
			}
		}, wait);
	}
}
