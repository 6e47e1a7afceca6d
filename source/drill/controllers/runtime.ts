import type {ObjectStore, KubeObject, WatchEvent} from '../kube-api/store.js';
import type {Clock} from '../clock.js';
import type {DataPlane} from '../data-plane.js';
import type {EventRecorder} from './events.js';

/** What every controller gets. */
export type ControllerContext = {
	readonly store: ObjectStore;
	readonly clock: Clock;
	readonly data: DataPlane;
	readonly events: EventRecorder;
	/** Simulated delays (milliseconds of clock time) for the transitions controllers make. */
	readonly timing: Timing;
	readonly log: (line: string) => void;
};

export type Timing = {
	/** From a VolumeSnapshot's creation to readyToUse. */
	snapshotReady: number;
	/** From a pod's volumes being bound to its containers running. */
	podStart: number;
	/** From running to Ready for a server pod. */
	podReady: number;
	/** Provisioning a volume (restoring from a snapshot takes longer). */
	provision: number;
	provisionFromSnapshot: number;
};

export const defaultTiming: Timing = {
	snapshotReady: 4000,
	podStart: 1500,
	podReady: 2500,
	provision: 1000,
	provisionFromSnapshot: 3000,
};

export type Controller = {
	readonly name: string;
	stop(): void;
	/** Resolves when no reconcile is queued or running (for tests and the seed). */
	idle(): Promise<void>;
};

/**
The shape every controller takes: changes to watched resources queue keys, a reconcile function
brings the world one step closer to what the objects ask for, and may ask to be called again
later (on the clock). A reconcile that throws is retried after a short backoff.
*/
export function startController(context: ControllerContext, options: {
	name: string;
	/** Which resource changes queue which keys. */
	keysFor: (resource: string, event: WatchEvent) => string[];
	/** Keys to reconcile at start. */
	initial: () => string[];
	reconcile: (key: string) => Promise<void> | void;
}): Controller & {enqueue(key: string): void; after(ms: number, key: string): void} {
	const queue = new Set<string>();
	const failures = new Map<string, number>();
	const timers = new Set<{cancel(): void}>();
	let running = false;
	let stopped = false;
	let waiters: Array<() => void> = [];

	const settle = () => {
		if (!running && queue.size === 0) {
			const current = waiters;
			waiters = [];
			for (const resolve of current) {
				resolve();
			}
		}
	};

	const drain = async () => {
		if (running || stopped) {
			return;
		}

		running = true;
		try {
			while (queue.size > 0 && !stopped) {
				const key = queue.values().next().value!;
				queue.delete(key);
				try {
					// eslint-disable-next-line no-await-in-loop
					await options.reconcile(key);
					failures.delete(key);
				} catch (error) {
					const code = (error as {code?: number}).code;
					const count = (failures.get(key) ?? 0) + 1;
					failures.set(key, count);
					if (code !== 404 && code !== 409) {
						context.log(`${options.name}: ${key}: ${error instanceof Error ? error.message : String(error)}`);
					}

					if (code === 409 || code === undefined || code >= 500) {
						// A conflict retries at once; other failures back off (1 s, 2 s, ... 60 s).
						after(code === 409 ? 10 : Math.min(60_000, 1000 * (2 ** Math.min(6, count - 1))), key);
					}
				}
			}
		} finally {
			running = false;
			settle();
		}
	};

	const enqueue = (key: string) => {
		if (stopped) {
			return;
		}

		queue.add(key);
		setImmediate(() => {
			void drain();
		});
	};

	function after(ms: number, key: string): void {
		const timer = context.clock.setTimeout(() => {
			timers.delete(timer);
			enqueue(key);
		}, ms);
		timers.add(timer);
	}

	const unsubscribe = context.store.onChange((resource, event) => {
		for (const key of options.keysFor(resource, event)) {
			enqueue(key);
		}
	});
	for (const key of options.initial()) {
		enqueue(key);
	}

	return {
		name: options.name,
		enqueue,
		after,
		stop() {
			stopped = true;
			unsubscribe();
			for (const timer of timers) {
				timer.cancel();
			}

			queue.clear();
			settle();
		},
		async idle() {
			if (!running && queue.size === 0) {
				return;
			}

			await new Promise<void>(resolve => {
				waiters.push(resolve);
			});
		},
	};
}

export const keyOf = (object: KubeObject) => object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;

export function splitKey(key: string): [string | undefined, string] {
	const slash = key.indexOf('/');
	return slash === -1 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
}

export function ownerReference(object: KubeObject, options: {controller?: boolean; blockOwnerDeletion?: boolean} = {}): Record<string, unknown> {
	return {
		apiVersion: object.apiVersion,
		kind: object.kind,
		name: object.metadata.name,
		uid: object.metadata.uid,
		controller: options.controller ?? true,
		blockOwnerDeletion: options.blockOwnerDeletion ?? true,
	};
}

export function controllerOf(object: KubeObject): {kind: string; name: string; uid: string} | undefined {
	return (object.metadata.ownerReferences ?? []).find(reference => reference?.controller) as {kind: string; name: string; uid: string} | undefined;
}

/** Kubernetes quantities (`10Gi`, `500M`, `1024`) in bytes. */
export function parseQuantity(value: unknown): number {
	const match = /^(\d+(?:\.\d+)?)([KMGTPE]i?|[kmun])?$/.exec(String(value ?? '').trim());
	if (!match) {
		return 0;
	}

	const units: Record<string, number> = {
		Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
		k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3, u: 1e-6, n: 1e-9,
	};
	return Number(match[1]) * (match[2] ? units[match[2]]! : 1);
}
