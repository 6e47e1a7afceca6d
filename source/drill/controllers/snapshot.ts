import type {KubeObject} from '../kube-api/store.js';
import {startController, keyOf, splitKey, parseQuantity, type Controller, type ControllerContext} from './runtime.js';

const component = 'snapshot-controller';
const boundProtection = 'snapshot.storage.kubernetes.io/volumesnapshot-bound-protection';
const sourceProtection = 'snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection';

/**
The external snapshot controller plus the CSI snapshotter sidecar:
- a VolumeSnapshot of a bound claim gets a VolumeSnapshotContent (`snapcontent-<snapshot uid>`)
  and the disk is copied at that instant (crash-consistent); `readyToUse` turns true after
  `timing.snapshotReady`; `restoreSize` is the source volume's capacity; `creationTime` the
  instant of the copy;
- a missing class, a missing or unbound claim: `status.error` and a Warning event, retried when
  claims or classes change;
- a VolumeSnapshot naming an existing content (`spec.source.volumeSnapshotContentName`, pre-
  provisioned) binds to it when the content points back at it;
- deleting a VolumeSnapshot: its content (and the snapshot's data) is deleted when the content's
  deletionPolicy is Delete, kept when Retain.
*/
export function startSnapshotController(context: ControllerContext): Controller {
	const {store, clock, data, events, timing} = context;

	const controller = startController(context, {
		name: 'snapshot',
		keysFor(resource, event) {
			if (resource === 'volumesnapshots') {
				return [`vs:${keyOf(event.object)}`];
			}

			if (resource === 'volumesnapshotcontents') {
				const reference = event.object.spec?.volumeSnapshotRef;
				return [`vsc:${event.object.metadata.name}`, ...(reference ? [`vs:${reference.namespace}/${reference.name}`] : [])];
			}

			if (resource === 'persistentvolumeclaims' || resource === 'volumesnapshotclasses' || resource === 'persistentvolumes') {
				return store.list('volumesnapshots').items.filter(snapshot => !snapshot.status?.boundVolumeSnapshotContentName).map(snapshot => `vs:${keyOf(snapshot)}`);
			}

			return [];
		},
		initial: () => [
			...store.list('volumesnapshots').items.map(snapshot => `vs:${keyOf(snapshot)}`),
			...store.list('volumesnapshotcontents').items.map(content => `vsc:${content.metadata.name}`),
		],
		async reconcile(key) {
			if (key.startsWith('vsc:')) {
				await reconcileContent(key.slice(4));
			} else {
				await reconcileSnapshot(key.slice(3));
			}
		},
	});

	function fail(snapshot: KubeObject, reason: string, message: string): void {
		if (snapshot.status?.error?.message === message) {
			return;
		}

		store.mutate('volumesnapshots', snapshot.metadata.namespace, snapshot.metadata.name, object => {
			object.status = {...object.status, readyToUse: false, error: {message, time: clock.iso()}};
		}, {subresource: 'status'});
		events.record(snapshot, 'Warning', reason, message, component);
	}

	function snapshotClass(snapshot: KubeObject, driver?: string): KubeObject | string {
		const name = snapshot.spec?.volumeSnapshotClassName;
		if (name) {
			return store.get('volumesnapshotclasses', undefined, name) ?? `Failed to get snapshot class with error volumesnapshotclass.snapshot.storage.k8s.io "${name}" not found`;
		}

		const defaults = store.list('volumesnapshotclasses').items.filter(item => item.metadata.annotations?.['snapshot.storage.kubernetes.io/is-default-class'] === 'true' && (!driver || item['driver'] === driver));
		if (defaults.length === 1) {
			return defaults[0]!;
		}

		return defaults.length === 0 ? `cannot find default snapshot class` : `default snapshot class: found ${defaults.length} default classes`;
	}

	async function reconcileSnapshot(key: string): Promise<void> {
		const [namespace, name] = splitKey(key);
		const snapshot = store.get('volumesnapshots', namespace, name);
		if (!snapshot) {
			return;
		}

		if (snapshot.metadata.deletionTimestamp) {
			await deleteSnapshot(snapshot);
			return;
		}

		const contentName = snapshot.status?.boundVolumeSnapshotContentName;
		if (contentName) {
			const content = store.get('volumesnapshotcontents', undefined, contentName);
			if (content?.status?.readyToUse === true && snapshot.status?.readyToUse !== true) {
				store.mutate('volumesnapshots', namespace, name, object => {
					object.status = {...object.status, readyToUse: true};
					delete object.status.error;
				}, {subresource: 'status'});
				events.record(snapshot, 'Normal', 'SnapshotReady', `Snapshot ${namespace}/${name} is ready to use.`, component);
			}

			return;
		}

		const preProvisioned = snapshot.spec?.source?.volumeSnapshotContentName;
		if (preProvisioned) {
			const content = store.get('volumesnapshotcontents', undefined, preProvisioned);
			const reference = content?.spec?.volumeSnapshotRef;
			if (!content || reference?.name !== name || reference?.namespace !== namespace) {
				fail(snapshot, 'SnapshotContentMismatch', content ? `VolumeSnapshotContent ${preProvisioned} is bound to a different snapshot` : `VolumeSnapshotContent is missing`);
				return;
			}

			if (reference.uid && reference.uid !== snapshot.metadata.uid) {
				store.mutate('volumesnapshotcontents', undefined, preProvisioned, object => {
					object.spec.volumeSnapshotRef = {...object.spec.volumeSnapshotRef, uid: snapshot.metadata.uid, resourceVersion: snapshot.metadata.resourceVersion};
				});
			}

			bindSnapshot(snapshot, content);
			return;
		}

		const claimName = snapshot.spec?.source?.persistentVolumeClaimName;
		const claim = claimName ? store.get('persistentvolumeclaims', namespace, claimName) : undefined;
		const pv = claim?.spec?.volumeName ? store.get('persistentvolumes', undefined, claim.spec.volumeName) : undefined;
		const klass = snapshotClass(snapshot, pv?.spec?.csi?.driver);
		if (typeof klass === 'string') {
			fail(snapshot, 'GetSnapshotClassFailed', klass);
			return;
		}

		if (!claim) {
			fail(snapshot, 'SnapshotContentCreationFailed', `Failed to create snapshot content with error snapshot controller failed to update ${namespace}/${name} on API server: cannot get claim from snapshot: persistentvolumeclaim "${claimName}" not found`);
			return;
		}

		if (claim.status?.phase !== 'Bound' || !pv) {
			fail(snapshot, 'SnapshotContentCreationFailed', `Failed to create snapshot content with error the PVC ${claimName} is not yet bound to a PV, will not attempt to take a snapshot`);
			return;
		}

		if (pv.spec?.csi?.driver !== klass['driver']) {
			fail(snapshot, 'SnapshotContentCreationFailed', `Failed to create snapshot content with error the PV ${pv.metadata.name} is not provisioned by the driver ${String(klass['driver'])} of VolumeSnapshotClass ${klass.metadata.name}`);
			return;
		}

		const handle = data.newHandle('snap');
		const copy = await data.snapshot(pv.spec.csi.volumeHandle, handle);
		if (!copy) {
			fail(snapshot, 'SnapshotCreationFailed', `Failed to check and update snapshot content: failed to take snapshot of the volume ${pv.spec.csi.volumeHandle}: "rpc error: code = NotFound desc = volume not found"`);
			return;
		}

		events.record(snapshot, 'Normal', 'CreatingSnapshot', `Waiting for a snapshot ${namespace}/${name} to be created by the CSI driver.`, component);
		const taken = clock.now();
		const restoreSize = parseQuantity(pv.spec?.capacity?.storage) || copy.usedBytes();
		const contentName2 = `snapcontent-${snapshot.metadata.uid}`;
		const content = store.create('volumesnapshotcontents', {
			apiVersion: 'snapshot.storage.k8s.io/v1',
			kind: 'VolumeSnapshotContent',
			metadata: {name: contentName2, finalizers: ['snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection']},
			spec: {
				deletionPolicy: klass['deletionPolicy'],
				driver: klass['driver'],
				source: {volumeHandle: pv.spec.csi.volumeHandle},
				sourceVolumeMode: pv.spec?.volumeMode ?? 'Filesystem',
				volumeSnapshotClassName: klass.metadata.name,
				volumeSnapshotRef: {apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', name, namespace, uid: snapshot.metadata.uid, resourceVersion: snapshot.metadata.resourceVersion},
			},
		});
		store.mutate('volumesnapshotcontents', undefined, content.metadata.name, object => {
			object.status = {creationTime: taken * 1_000_000, readyToUse: false, restoreSize, snapshotHandle: handle};
		}, {subresource: 'status'});
		bindSnapshot(snapshot, store.get('volumesnapshotcontents', undefined, content.metadata.name)!);
		events.record(snapshot, 'Normal', 'SnapshotCreated', `Snapshot ${namespace}/${name} was successfully created by the CSI driver.`, component);
		controller.after(timing.snapshotReady, `vsc:${content.metadata.name}`);
	}

	function bindSnapshot(snapshot: KubeObject, content: KubeObject): void {
		const created = Number(content.status?.creationTime ?? clock.now() * 1_000_000) / 1_000_000;
		const size = Number(content.status?.restoreSize ?? 0);
		store.mutate('volumesnapshots', snapshot.metadata.namespace, snapshot.metadata.name, object => {
			object.metadata.finalizers = [...new Set([...(object.metadata.finalizers ?? []), sourceProtection, boundProtection])];
			object.status = {
				boundVolumeSnapshotContentName: content.metadata.name,
				creationTime: clock.iso(created),
				readyToUse: content.status?.readyToUse === true,
				restoreSize: formatQuantity(size),
			};
		}, {subresource: 'any'});
	}

	async function reconcileContent(name: string): Promise<void> {
		const content = store.get('volumesnapshotcontents', undefined, name);
		if (!content) {
			return;
		}

		if (content.metadata.deletionTimestamp) {
			const reference = content.spec?.volumeSnapshotRef;
			const snapshot = reference ? store.get('volumesnapshots', reference.namespace, reference.name) : undefined;
			if (!snapshot || snapshot.metadata.uid !== reference.uid) {
				if (content.spec?.deletionPolicy === 'Delete') {
					data.snapshots.delete(String(content.status?.snapshotHandle ?? ''));
				}

				store.mutate('volumesnapshotcontents', undefined, name, object => {
					object.metadata.finalizers = [];
				}, {subresource: 'any'});
			}

			return;
		}

		const created = Number(content.status?.creationTime ?? 0) / 1_000_000;
		if (content.status?.snapshotHandle && content.status.readyToUse !== true) {
			const due = created + timing.snapshotReady;
			if (clock.now() < due) {
				controller.after(due - clock.now(), `vsc:${name}`);
				return;
			}

			store.mutate('volumesnapshotcontents', undefined, name, object => {
				object.status = {...object.status, readyToUse: true};
			}, {subresource: 'status'});
		}
	}

	async function deleteSnapshot(snapshot: KubeObject): Promise<void> {
		const contentName = snapshot.status?.boundVolumeSnapshotContentName;
		const content = contentName ? store.get('volumesnapshotcontents', undefined, contentName) : undefined;
		if (content && content.spec?.deletionPolicy === 'Delete') {
			data.snapshots.delete(String(content.status?.snapshotHandle ?? ''));
			store.mutate('volumesnapshotcontents', undefined, content.metadata.name, object => {
				object.metadata.finalizers = [];
			}, {subresource: 'any'});
			if (store.get('volumesnapshotcontents', undefined, content.metadata.name)) {
				store.delete('volumesnapshotcontents', undefined, content.metadata.name);
			}
		} else if (content) {
			// Retain: the content stays, released from the bound-protection finalizer.
			store.mutate('volumesnapshotcontents', undefined, content.metadata.name, object => {
				object.metadata.finalizers = [];
			}, {subresource: 'any'});
		}

		store.mutate('volumesnapshots', snapshot.metadata.namespace, snapshot.metadata.name, object => {
			object.metadata.finalizers = (object.metadata.finalizers ?? []).filter(finalizer => finalizer !== sourceProtection && finalizer !== boundProtection);
		}, {subresource: 'any'});
	}

	return controller;
}

/** Bytes as the snapshotter reports a restoreSize (`10Gi`, `1234Mi`, or plain bytes). */
export function formatQuantity(bytes: number): string {
	for (const [unit, size] of [['Ti', 1024 ** 4], ['Gi', 1024 ** 3], ['Mi', 1024 ** 2], ['Ki', 1024]] as const) {
		if (bytes >= size && bytes % size === 0) {
			return `${bytes / size}${unit}`;
		}
	}

	return String(bytes);
}
