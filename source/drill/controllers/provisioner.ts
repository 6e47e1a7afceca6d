import type {KubeObject} from '../kube-api/store.js';
import {startController, keyOf, splitKey, parseQuantity, type Controller, type ControllerContext} from './runtime.js';

const component = 'persistentvolume-controller';

/**
The PV controller and the CSI external-provisioner together:
- a claim of a storage class whose provisioner is a registered CSI driver gets a new PV
  (`pvc-<claim uid>`) and a new disk; with `dataSource` a VolumeSnapshot, the disk is a copy of
  that snapshot's data (refused while the snapshot is not ready, or when the claim asks for less
  than its restoreSize);
- `WaitForFirstConsumer` classes wait until a pod uses the claim;
- a claim with `spec.volumeName` binds to that PV when it is Available (or already reserved for
  it through `claimRef`); a PV whose `claimRef` was cleared becomes Available;
- when a claim is deleted, its PV is Released (Retain: the disk stays) or deleted with its disk
  (Delete). Claims carry `kubernetes.io/pvc-protection`: they go only once no pod uses them.
*/
export function startProvisioner(context: ControllerContext): Controller {
	const {store, clock, data, events, timing} = context;
	const waitedForConsumer = new Set<string>();
	const provisioningSince = new Map<string, number>();

	const controller = startController(context, {
		name: 'provisioner',
		keysFor(resource, event) {
			if (resource === 'persistentvolumeclaims') {
				// The claim's volume too: a claim deleted and created again at once must still release it.
				const volume = event.object.spec?.volumeName;
				return [`pvc:${keyOf(event.object)}`, ...(volume ? [`pv:${volume}`] : [])];
			}

			if (resource === 'persistentvolumes') {
				const claim = event.object.spec?.claimRef;
				return [`pv:${event.object.metadata.name}`, ...(claim ? [`pvc:${claim.namespace}/${claim.name}`] : [])];
			}

			if (resource === 'pods') {
				return claimsOf(event.object).map(name => `pvc:${event.object.metadata.namespace}/${name}`);
			}

			if (resource === 'volumesnapshots' || resource === 'storageclasses') {
				return store.list('persistentvolumeclaims').items.filter(claim => claim.status?.phase === 'Pending').map(claim => `pvc:${keyOf(claim)}`);
			}

			return [];
		},
		initial: () => [
			...store.list('persistentvolumeclaims').items.map(claim => `pvc:${keyOf(claim)}`),
			...store.list('persistentvolumes').items.map(pv => `pv:${pv.metadata.name}`),
		],
		async reconcile(key) {
			if (key.startsWith('pv:')) {
				await reconcileVolume(key.slice(3));
			} else {
				await reconcileClaim(key.slice(4));
			}
		},
	});

	function consumers(namespace: string, claim: string): KubeObject[] {
		return store.list('pods', namespace).items.filter(pod => claimsOf(pod).includes(claim) && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed');
	}

	async function reconcileClaim(key: string): Promise<void> {
		const [namespace, name] = splitKey(key);
		const claim = store.get('persistentvolumeclaims', namespace, name);
		if (!claim) {
			// Deleted: release or delete the volume that was bound to it.
			for (const pv of store.list('persistentvolumes').items) {
				const reference = pv.spec?.claimRef;
				if (reference?.namespace === namespace && reference?.name === name && pv.status?.phase === 'Bound') {
					// eslint-disable-next-line no-await-in-loop
					await releaseVolume(pv);
				}
			}

			return;
		}

		if (claim.metadata.deletionTimestamp) {
			if (consumers(namespace!, name).length === 0) {
				store.mutate('persistentvolumeclaims', namespace, name, object => {
					object.metadata.finalizers = (object.metadata.finalizers ?? []).filter(finalizer => finalizer !== 'kubernetes.io/pvc-protection');
				}, {subresource: 'any'});
			}

			return;
		}

		if (claim.status?.phase === 'Bound') {
			const pv = claim.spec?.volumeName ? store.get('persistentvolumes', undefined, claim.spec.volumeName) : undefined;
			if (!pv) {
				store.mutate('persistentvolumeclaims', namespace, name, object => {
					object.status = {...object.status, phase: 'Lost'};
				}, {subresource: 'status'});
				events.record(claim, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!', component);
			}

			return;
		}

		if (claim.spec?.volumeName) {
			bindToExisting(claim);
			return;
		}

		const className = claim.spec?.storageClassName ?? defaultClass()?.metadata.name;
		const storageClass = className ? store.get('storageclasses', undefined, className) : undefined;
		if (!storageClass) {
			// Static binding: an Available PV of no class that fits.
			events.record(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set', component);
			return;
		}

		const driver = String(storageClass['provisioner'] ?? '');
		if (!store.get('csidrivers', undefined, driver)) {
			events.record(claim, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${driver}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`, component);
			return;
		}

		if (storageClass['volumeBindingMode'] === 'WaitForFirstConsumer' && consumers(namespace!, name).length === 0) {
			if (!waitedForConsumer.has(claim.metadata.uid)) {
				waitedForConsumer.add(claim.metadata.uid);
				events.record(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding', component);
			}

			return;
		}

		const source = claim.spec?.dataSourceRef ?? claim.spec?.dataSource;
		let sourceData;
		if (source) {
			if (source.kind !== 'VolumeSnapshot' || source.apiGroup !== 'snapshot.storage.k8s.io') {
				events.record(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${storageClass.metadata.name}": error getting handle for DataSource Type ${source.kind} by Name ${source.name}: unsupported data source`, `${driver}_csi-provisioner`);
				return;
			}

			const snapshot = store.get('volumesnapshots', source.namespace ?? namespace, source.name);
			const content = snapshot?.status?.boundVolumeSnapshotContentName ? store.get('volumesnapshotcontents', undefined, snapshot.status.boundVolumeSnapshotContentName) : undefined;
			if (!snapshot || !content || snapshot.status?.readyToUse !== true || content.status?.readyToUse !== true) {
				const why = snapshot ? `snapshot ${source.name} is not Ready` : `error getting snapshot ${source.name} from api server: volumesnapshots.snapshot.storage.k8s.io "${source.name}" not found`;
				events.record(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${storageClass.metadata.name}": error getting handle for DataSource Type VolumeSnapshot by Name ${source.name}: ${why}`, `${driver}_csi-provisioner`);
				controller.after(5000, `pvc:${key}`);
				return;
			}

			const requested = parseQuantity(claim.spec?.resources?.requests?.storage);
			const needed = Number(content.status?.restoreSize ?? 0);
			if (requested < needed) {
				events.record(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${storageClass.metadata.name}": error getting handle for DataSource Type VolumeSnapshot by Name ${source.name}: requested volume size ${requested} is less than the size ${needed} for the source snapshot ${source.name}`, `${driver}_csi-provisioner`);
				return;
			}

			sourceData = data.snapshots.get(String(content.status?.snapshotHandle ?? ''));
			if (!sourceData) {
				events.record(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${storageClass.metadata.name}": rpc error: code = NotFound desc = snapshot ${String(content.status?.snapshotHandle)} not found`, `${driver}_csi-provisioner`);
				return;
			}
		}

		// Provisioning takes a little while on the clock.
		const started = provisioningSince.get(claim.metadata.uid);
		const delay = source ? timing.provisionFromSnapshot : timing.provision;
		if (started === undefined) {
			provisioningSince.set(claim.metadata.uid, clock.now());
			events.record(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${namespace}/${name}"`, `${driver}_csi-provisioner`);
			controller.after(delay, `pvc:${key}`);
			return;
		}

		if (clock.now() - started < delay) {
			controller.after(delay - (clock.now() - started), `pvc:${key}`);
			return;
		}

		provisioningSince.delete(claim.metadata.uid);
		const handle = data.newHandle('vol');
		await data.createVolume(handle, sourceData);
		const pvName = `pvc-${claim.metadata.uid}`;
		const size = claim.spec?.resources?.requests?.storage;
		const pv = store.create('persistentvolumes', {
			apiVersion: 'v1',
			kind: 'PersistentVolume',
			metadata: {
				name: pvName,
				annotations: {'pv.kubernetes.io/provisioned-by': driver, 'volume.kubernetes.io/provisioner-deletion-secret-name': '', 'volume.kubernetes.io/provisioner-deletion-secret-namespace': ''},
				finalizers: ['external-provisioner.volume.kubernetes.io/finalizer', 'kubernetes.io/pv-protection'],
			},
			spec: {
				accessModes: claim.spec?.accessModes,
				capacity: {storage: size},
				claimRef: {apiVersion: 'v1', kind: 'PersistentVolumeClaim', name, namespace, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion},
				csi: {driver, fsType: 'ext4', volumeHandle: handle, volumeAttributes: {'storage.kubernetes.io/csiProvisionerIdentity': `${driver}-drill`}},
				persistentVolumeReclaimPolicy: storageClass['reclaimPolicy'] ?? 'Delete',
				storageClassName: storageClass.metadata.name,
				volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
				...(storageClass['volumeBindingMode'] === 'WaitForFirstConsumer' ? {nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: 'topology.kubernetes.io/zone', operator: 'In', values: ['drill-zone-a']}]}]}}} : {}),
			},
		});
		store.mutate('persistentvolumes', undefined, pvName, object => {
			object.status = {phase: 'Bound', lastPhaseTransitionTime: clock.iso()};
		}, {subresource: 'status'});
		events.record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pv.metadata.name}`, `${driver}_csi-provisioner`);
		bindClaim(claim, pvName, size, driver);
	}

	function bindClaim(claim: KubeObject, pvName: string, size: string, driver?: string): void {
		store.mutate('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name, object => {
			object.spec.volumeName = pvName;
			object.metadata.annotations = {
				...object.metadata.annotations,
				'pv.kubernetes.io/bind-completed': 'yes',
				'pv.kubernetes.io/bound-by-controller': 'yes',
				...(driver ? {'volume.beta.kubernetes.io/storage-provisioner': driver, 'volume.kubernetes.io/storage-provisioner': driver} : {}),
			};
			object.metadata.finalizers = [...new Set([...(object.metadata.finalizers ?? []), 'kubernetes.io/pvc-protection'])];
			object.status = {phase: 'Bound', accessModes: object.spec.accessModes, capacity: {storage: size}};
		}, {subresource: 'any'});
	}

	function bindToExisting(claim: KubeObject): void {
		const pv = store.get('persistentvolumes', undefined, claim.spec.volumeName);
		if (!pv) {
			events.record(claim, 'Warning', 'FailedBinding', `volume "${claim.spec.volumeName}" not found`, component);
			return;
		}

		const reference = pv.spec?.claimRef;
		const reserved = reference && reference.namespace === claim.metadata.namespace && reference.name === claim.metadata.name && (!reference.uid || reference.uid === claim.metadata.uid);
		if (reference && !reserved) {
			events.record(claim, 'Warning', 'FailedBinding', `volume "${pv.metadata.name}" already bound to a different claim.`, component);
			return;
		}

		if (parseQuantity(pv.spec?.capacity?.storage) < parseQuantity(claim.spec?.resources?.requests?.storage)) {
			events.record(claim, 'Warning', 'FailedBinding', `requested PV is too small`, component);
			return;
		}

		store.mutate('persistentvolumes', undefined, pv.metadata.name, object => {
			object.spec.claimRef = {apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: claim.metadata.name, namespace: claim.metadata.namespace, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion};
			object.status = {phase: 'Bound', lastPhaseTransitionTime: clock.iso()};
		}, {subresource: 'any'});
		bindClaim(claim, pv.metadata.name, pv.spec?.capacity?.storage);
	}

	async function releaseVolume(pv: KubeObject): Promise<void> {
		if (pv.spec?.persistentVolumeReclaimPolicy === 'Delete') {
			const handle = pv.spec?.csi?.volumeHandle;
			store.mutate('persistentvolumes', undefined, pv.metadata.name, object => {
				object.metadata.finalizers = [];
				object.status = {phase: 'Released', lastPhaseTransitionTime: clock.iso()};
			}, {subresource: 'any'});
			if (store.get('persistentvolumes', undefined, pv.metadata.name)) {
				store.delete('persistentvolumes', undefined, pv.metadata.name);
			}

			if (handle) {
				await data.deleteVolume(handle);
			}

			return;
		}

		store.mutate('persistentvolumes', undefined, pv.metadata.name, object => {
			object.status = {phase: 'Released', lastPhaseTransitionTime: clock.iso()};
		}, {subresource: 'status'});
		events.record(pv, 'Normal', 'VolumeReleased', `Volume is released: reclaim policy ${pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain'} keeps the data`, component);
	}

	async function reconcileVolume(name: string): Promise<void> {
		const pv = store.get('persistentvolumes', undefined, name);
		if (!pv) {
			return;
		}

		if (pv.metadata.deletionTimestamp) {
			// pv-protection: a Bound volume stays until its claim is gone.
			if (pv.status?.phase !== 'Bound') {
				const handle = pv.spec?.csi?.volumeHandle;
				store.mutate('persistentvolumes', undefined, name, object => {
					object.metadata.finalizers = [];
				}, {subresource: 'any'});
				if (handle && pv.spec?.persistentVolumeReclaimPolicy === 'Delete') {
					await data.deleteVolume(handle);
				}
			}

			return;
		}

		const phase = pv.status?.phase;
		const reference = pv.spec?.claimRef;
		if (!reference && phase !== 'Available') {
			store.mutate('persistentvolumes', undefined, name, object => {
				object.status = {phase: 'Available', lastPhaseTransitionTime: clock.iso()};
			}, {subresource: 'status'});
			return;
		}

		if (reference && phase === 'Bound') {
			const claim = store.get('persistentvolumeclaims', reference.namespace, reference.name);
			if (!claim || (reference.uid && claim.metadata.uid !== reference.uid)) {
				await releaseVolume(pv);
			}

			return;
		}

		if (reference && (phase === 'Available' || phase === 'Pending' || phase === undefined)) {
			// Pre-bound to a claim: bind when that claim asks for it or has no volume yet.
			const claim = store.get('persistentvolumeclaims', reference.namespace, reference.name);
			if (claim && claim.status?.phase === 'Pending' && (!claim.spec?.volumeName || claim.spec.volumeName === name) && (!reference.uid || reference.uid === claim.metadata.uid)) {
				if (!claim.spec?.volumeName) {
					store.mutate('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name, object => {
						object.spec.volumeName = name;
					}, {subresource: 'any'});
				}

				bindToExisting(store.get('persistentvolumeclaims', reference.namespace, reference.name)!);
			} else if (phase !== 'Available') {
				store.mutate('persistentvolumes', undefined, name, object => {
					object.status = {phase: 'Available', lastPhaseTransitionTime: clock.iso()};
				}, {subresource: 'status'});
			}
		}
	}

	function defaultClass(): KubeObject | undefined {
		return store.list('storageclasses').items.find(item => item.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
	}

	return controller;
}

export function claimsOf(pod: KubeObject): string[] {
	return ((pod.spec?.volumes ?? []) as any[]).map(volume => volume?.persistentVolumeClaim?.claimName).filter((name): name is string => typeof name === 'string');
}
