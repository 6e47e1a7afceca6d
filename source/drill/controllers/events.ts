import type {ObjectStore, KubeObject} from '../kube-api/store.js';
import type {Clock} from '../clock.js';

/**
Records `v1` Events the way client-go's recorder does: named `<object>.<hex>`, in the object's
namespace (`default` for cluster-scoped objects), with `involvedObject` carrying the uid that
`kubectl describe` matches on; a repeat of the same reason and message bumps `count` and
`lastTimestamp` instead of adding an event.
*/
export class EventRecorder {
	readonly #store: ObjectStore;
	readonly #clock: Clock;
	readonly #recent = new Map<string, string>();
	#serial = 0;

	constructor(store: ObjectStore, clock: Clock) {
		this.#store = store;
		this.#clock = clock;
	}

	record(object: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
		const namespace = object.metadata.namespace ?? 'default';
		const now = this.#clock.iso();
		const dedupe = `${object.metadata.uid}|${reason}|${message}`;
		const existing = this.#recent.get(dedupe);
		try {
			if (existing && this.#store.get('events', namespace, existing)) {
				this.#store.mutate('events', namespace, existing, event => {
					event['count'] = Number(event['count'] ?? 1) + 1;
					event['lastTimestamp'] = now;
				});
				return;
			}

			const name = `${object.metadata.name}.${(this.#clock.now() * 1000 + this.#serial++).toString(16).slice(-16)}`;
			this.#store.create('events', {
				apiVersion: 'v1',
				kind: 'Event',
				metadata: {name, namespace},
				involvedObject: {
					apiVersion: object.apiVersion,
					kind: object.kind,
					name: object.metadata.name,
					namespace: object.metadata.namespace,
					uid: object.metadata.uid,
					resourceVersion: object.metadata.resourceVersion,
				},
				reason,
				message,
				type,
				source: {component},
				firstTimestamp: now,
				lastTimestamp: now,
				count: 1,
				reportingComponent: component,
				reportingInstance: '',
			});
			this.#recent.set(dedupe, name);
		} catch {
			// An event that cannot be written (namespace going away) is dropped, as client-go does.
		}
	}
}
