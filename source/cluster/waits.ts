import {CoreV1Api, Watch, type CoreV1Event, type KubeConfig} from '@kubernetes/client-node';
import type {StepProgress} from '../restore/plan.js';

/**
Waits on the cluster by watching, never by sleeping: list, check, then watch from the list's
resourceVersion and check again on every change; when the watch ends (server timeout, 410
Expired), list and watch again. If a watch cannot be opened at all, it falls back to listing
once a second until the deadline.
*/

type Meta = {metadata?: {name?: string; namespace?: string; uid?: string; resourceVersion?: string}};

export type WaitOptions<T extends Meta> = {
	readonly config: KubeConfig;
	/** The collection's path, e.g. `/api/v1/namespaces/ilum/pods`. */
	readonly path: string;
	readonly labelSelector?: string;
	readonly fieldSelector?: string;
	/** The same list, read once (with the same selectors). */
	readonly list: () => Promise<{items: T[]; resourceVersion?: string}>;
	/** True when the wait is over. */
	readonly satisfied: (items: T[]) => boolean;
	/** One line about the current state, shown while waiting. */
	readonly describe: (items: T[]) => string;
	/** What is awaited, for the timeout message. */
	readonly what: string;
	readonly object?: string;
	readonly timeoutMs: number;
	readonly signal: AbortSignal;
	/** A warning is reported when nothing changed for this long (default 30 s). */
	readonly quietAfterMs?: number;
	/** Also report the Kubernetes events of these objects while waiting. */
	readonly events?: {readonly namespace: string; readonly names: readonly string[]};
	/** Optional quantity for progress bars (e.g. ready replicas of wanted). */
	readonly quantity?: (items: T[]) => {current: number; total: number; unit: string};
};

type Signal = {kind: 'change'} | {kind: 'ended'} | {kind: 'error'; error: unknown} | {kind: 'deadline'} | {kind: 'aborted'} | {kind: 'quiet'};

/** After this long without any change, a wait says so (and again each time as long again passes). */
export const quietAfterMs = 30_000;

const keyOf = (item: Meta) => item.metadata?.uid ?? `${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;

export async function * waitFor<T extends Meta>(options: WaitOptions<T>): AsyncGenerator<StepProgress, T[], void> {
	const deadline = Date.now() + options.timeoutMs;
	let lastLine = '';
	let current: T[] = [];
	const progress = (items: T[]): StepProgress | undefined => {
		const line = options.describe(items);
		if (line === lastLine) {
			return undefined;
		}

		lastLine = line;
		return {message: line, kind: 'wait', ...(options.object ? {object: options.object} : {}), ...(options.quantity ? options.quantity(items) : {})};
	};

	let watchFailures = 0;
	let listFailures = 0;
	let wake: (() => void) | undefined;
	const pendingEvents: StepProgress[] = [];
	const stopEvents = await watchEvents(options, progress => {
		pendingEvents.push(progress);
		wake?.();
	});
	try {
		for (;;) {
			if (options.signal.aborted) {
				throw new Error(`stopped while waiting for ${options.what}`);
			}

			if (Date.now() > deadline) {
				throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what} (last seen: ${lastLine || 'nothing'})`);
			}

			let listed: {items: T[]; resourceVersion?: string};
			try {
				listed = await options.list();
				listFailures = 0;
			} catch (error) {
				// A blip of the API server is waited out (within the deadline); a refusal is not.
				const status = (error as {status?: number}).status;
				if (status === 401 || status === 403 || status === 404 || Date.now() > deadline) {
					throw error;
				}

				listFailures++;
				yield {message: `cannot read (${error instanceof Error ? error.message : String(error)}); retrying`, kind: 'warning', ...(options.object ? {object: options.object} : {})};
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => setTimeout(resolve, Math.min(2000, 250 * listFailures)));
				continue;
			}

			current = listed.items;
			const objects = new Map(current.map(item => [keyOf(item), item]));
			if (options.satisfied(current)) {
				return current;
			}

			const first = progress(current);
			if (first) {
				yield first;
			}

			// Watch from the list's resourceVersion; a queue turns callbacks into awaited signals.
			const queue: Signal[] = [];
			const push = (signal: Signal) => {
				queue.push(signal);
				wake?.();
			};

			const timer = setTimeout(() => {
				push({kind: 'deadline'});
			}, Math.max(0, deadline - Date.now()));
			let lastChange = Date.now();
			const heartbeat = setInterval(() => {
				if (Date.now() - lastChange >= (options.quietAfterMs ?? quietAfterMs)) {
					push({kind: 'quiet'});
				}
			}, Math.max(50, Math.floor((options.quietAfterMs ?? quietAfterMs) / 3)));
			const onAbort = () => {
				push({kind: 'aborted'});
			};

			options.signal.addEventListener('abort', onAbort, {once: true});
			if (options.signal.aborted) {
				onAbort();
			}

			let controller: AbortController | undefined;
			try {
				try {
					controller = await new Watch(options.config).watch(options.path, {
						...(options.labelSelector ? {labelSelector: options.labelSelector} : {}),
						...(options.fieldSelector ? {fieldSelector: options.fieldSelector} : {}),
						...(listed.resourceVersion ? {resourceVersion: listed.resourceVersion} : {}),
						allowWatchBookmarks: true,
						timeoutSeconds: Math.max(1, Math.min(300, Math.ceil((deadline - Date.now()) / 1000))),
					}, (phase, object) => {
						if (phase === 'ADDED' || phase === 'MODIFIED') {
							objects.set(keyOf(object as T), object as T);
							push({kind: 'change'});
						} else if (phase === 'DELETED') {
							objects.delete(keyOf(object as T));
							push({kind: 'change'});
						} else if (phase === 'ERROR') {
							push({kind: 'ended'});
						}
					}, error => {
						push(error ? {kind: 'error', error} : {kind: 'ended'});
					});
				} catch (error) {
					push({kind: 'error', error});
				}

				let relist = false;
				while (!relist) {
					while (pendingEvents.length > 0) {
						yield pendingEvents.shift()!;
					}

					if (queue.length === 0) {
						// eslint-disable-next-line no-await-in-loop
						await new Promise<void>(resolve => {
							wake = resolve;
						});
						wake = undefined;
					}

					if (queue.length === 0) {
						continue;
					}

					const signal = queue.shift()!;
					switch (signal.kind) {
						case 'quiet': {
							const quiet = Math.round((Date.now() - lastChange) / 1000);
							lastChange = Date.now();
							yield {message: `nothing moved for ${quiet} s (still waiting for ${options.what}; last seen: ${lastLine || 'nothing'})`, kind: 'warning', ...(options.object ? {object: options.object} : {})};
							break;
						}

						case 'change': {
							lastChange = Date.now();
							current = [...objects.values()];
							if (options.satisfied(current)) {
								return current;
							}

							const line = progress(current);
							if (line) {
								yield line;
							}

							break;
						}

						case 'ended': {
							relist = true;
							break;
						}

						case 'error': {
							watchFailures++;
							relist = true;
							// Watching does not work here: poll instead (once a second, with the same deadline).
							// eslint-disable-next-line no-await-in-loop
							await new Promise(resolve => setTimeout(resolve, Math.min(1000, 100 * watchFailures)));
							break;
						}

						case 'deadline': {
							throw new Error(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${options.what} (last seen: ${lastLine || 'nothing'})`);
						}

						case 'aborted': {
							throw new Error(`stopped while waiting for ${options.what}`);
						}
					}
				}
			} finally {
				clearTimeout(timer);
				clearInterval(heartbeat);
				options.signal.removeEventListener('abort', onAbort);
				controller?.abort();
			}
		}
	} finally {
		stopEvents();
	}
}

/** Watches the namespace's events from now on and reports those about the named objects. */
async function watchEvents(options: WaitOptions<any>, report: (progress: StepProgress) => void): Promise<() => void> {
	if (!options.events || options.events.names.length === 0) {
		return () => {};
	}

	const {namespace, names} = options.events;
	try {
		const list = await options.config.makeApiClient(CoreV1Api).listNamespacedEvent({namespace, limit: 1});
		const controller = await new Watch(options.config).watch(`/api/v1/namespaces/${namespace}/events`, {
			...(list.metadata?.resourceVersion ? {resourceVersion: list.metadata.resourceVersion} : {}),
			allowWatchBookmarks: true,
		}, (phase, object: CoreV1Event) => {
			if ((phase === 'ADDED' || phase === 'MODIFIED') && names.includes(object.involvedObject?.name ?? '')) {
				report({
					message: `${object.reason ?? ''}: ${object.message ?? ''}`,
					kind: object.type === 'Warning' ? 'warning' : 'event',
					object: `${object.involvedObject.kind ?? ''}/${object.involvedObject.name ?? ''}`,
				});
			}
		}, () => {});
		return () => {
			controller.abort();
		};
	} catch {
		// Events are a help, not a requirement (RBAC may not allow them).
		return () => {};
	}
}
