import {ListWatch, Watch, type KubeConfig, type KubernetesObject} from '@kubernetes/client-node';
import {toClusterError, type ClusterError, type RequestInfo} from './cluster-errors.js';

/** What a live list looks like at one moment. A new object every time something changes. */
export type WatchState<T> = {
	readonly items: readonly T[];
	/** The first list has arrived. */
	readonly synced: boolean;
	/** The last failure; cleared when the watch reconnects. Items stay as they were last seen. */
	readonly error?: ClusterError;
	/** When the list last changed (epoch ms). */
	readonly updatedAt?: number;
};

/**
A long-lived source read with React's `useSyncExternalStore` (or directly by the domain):
`subscribe` returns an unsubscribe function; `getSnapshot` returns the same object until
something changes.
*/
export interface WatchSource<T> {
	subscribe(listener: () => void): () => void;
	getSnapshot(): WatchState<T>;
	/** Starts listing and watching (idempotent). */
	start(): void;
	stop(): Promise<void>;
	/** Resolves with the state once the first list arrived or failed. */
	ready(): Promise<WatchState<T>>;
}

/** Shared plumbing: listeners and the current state. */
export class StateSource<T> implements WatchSource<T> {
	protected state: WatchState<T> = {items: [], synced: false};
	private readonly listeners = new Set<() => void>();
	private readonly waiters: Array<(state: WatchState<T>) => void> = [];

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		return () => {
			this.listeners.delete(listener);
		};
	};

	getSnapshot = (): WatchState<T> => this.state;

	start(): void {}

	async stop(): Promise<void> {}

	async ready(): Promise<WatchState<T>> {
		if (this.state.synced || this.state.error) {
			return this.state;
		}

		return new Promise(resolve => {
			this.waiters.push(resolve);
		});
	}

	/** Replaces the state and tells every subscriber. */
	set(next: Partial<WatchState<T>>): void {
		this.state = {...this.state, ...next, updatedAt: Date.now()};
		if (this.state.synced || this.state.error) {
			for (const resolve of this.waiters.splice(0)) {
				resolve(this.state);
			}
		}

		for (const listener of [...this.listeners]) {
			listener();
		}
	}
}

/** A source whose items are set by hand: for tests, and for lists that are not watched. */
export class MemoryWatchSource<T> extends StateSource<T> {
	constructor(items?: readonly T[], error?: ClusterError) {
		super();
		if (items || error) {
			this.state = {items: items ?? [], synced: Boolean(items), error, updatedAt: Date.now()};
		}
	}
}

const maxBackoffMs = 30_000;

/**
A live list over `@kubernetes/client-node`'s ListWatch: list, watch from the list's
resourceVersion, relist on 410 Gone. After any other failure it shows the error and reconnects
with a growing delay (1 s .. 30 s): the watch is the source of truth, never a polling loop.
*/
class KubeWatchSource<T extends {metadata?: {name?: string; namespace?: string}}> extends StateSource<T> {
	private readonly informer: ListWatch<KubernetesObject>;
	private readonly request: RequestInfo;
	private started = false;
	private stopped = false;
	private backoffMs = 1000;
	private timer: NodeJS.Timeout | undefined;
	private scheduled = false;
	private listed = false;
	/** Failures seen so far: a (re)start that saw none clears the error shown. */
	private errors = 0;

	constructor(config: KubeConfig, path: string, request: RequestInfo, list: () => Promise<any>, options: {labelSelector?: string; fieldSelector?: string}) {
		super();
		this.request = request;
		const listAndMark = async () => {
			const result = await list();
			// The list arrived: the error (if any) is over.
			this.listed = true;
			this.backoffMs = 1000;
			this.publish();
			return result;
		};

		this.informer = new ListWatch<KubernetesObject>(path, new Watch(config), listAndMark, false, options.labelSelector, options.fieldSelector);
		const changed = () => {
			this.publish();
		};

		this.informer.on('add', changed);
		this.informer.on('update', changed);
		this.informer.on('delete', changed);
		this.informer.on('error', error => {
			this.errors++;
			this.set({error: toClusterError(error, this.request)});
			this.reconnectLater();
		});
	}

	override start(): void {
		if (this.started) {
			return;
		}

		this.started = true;
		this.stopped = false;
		this.informer.start().catch((error: unknown) => {
			this.set({error: toClusterError(error, this.request)});
			this.reconnectLater();
		});
	}

	override async stop(): Promise<void> {
		this.stopped = true;
		clearTimeout(this.timer);
		await this.informer.stop();
	}

	/** Coalesces a burst of watch events (a relist of 1,000 items) into one new state. */
	private publish(): void {
		if (this.scheduled) {
			return;
		}

		this.scheduled = true;
		setImmediate(() => {
			this.scheduled = false;
			this.set({items: this.informer.list() as unknown as T[], synced: this.listed, error: undefined});
		});
	}

	private reconnectLater(): void {
		if (this.stopped) {
			return;
		}

		clearTimeout(this.timer);
		this.timer = setTimeout(() => {
			const before = this.errors;
			this.informer.start().then(() => {
				// Watching again without a new failure: the line in the pane goes away.
				if (this.errors === before && this.state.error) {
					this.publish();
				}
			}, (error: unknown) => {
				this.errors++;
				this.set({error: toClusterError(error, this.request)});
				this.reconnectLater();
			});
		}, this.backoffMs);
		this.timer.unref();
		this.backoffMs = Math.min(this.backoffMs * 2, maxBackoffMs);
	}
}

export function kubeWatchSource<T extends {metadata?: {name?: string; namespace?: string}}>(config: KubeConfig, path: string, request: RequestInfo, list: () => Promise<any>, options: {labelSelector?: string; fieldSelector?: string} = {}): WatchSource<T> {
	return new KubeWatchSource<T>(config, path, request, list, options);
}
