import type {V1CSIDriver, V1PersistentVolume, V1PersistentVolumeClaim, V1StatefulSet, V1StorageClass} from '@kubernetes/client-node';
import type {Cluster} from '../../cluster/cluster.js';
import {ClusterError} from '../../cluster/cluster-errors.js';
import type {VolumeSnapshot, VolumeSnapshotClass} from '../../cluster/cluster-types.js';

/** The label the chart puts on the provider's StatefulSet and claim. */
export const providerLabels = ['app.kubernetes.io/name=rustfs', 'app.kubernetes.io/name=minio'];

/** The PVC the object-storage provider keeps its data on. */
export type ProviderVolume = {
	readonly claim: string;
	readonly statefulSet?: string;
	readonly volume?: string;
	/** The CSI driver behind the claim (PV `spec.csi.driver`, else the StorageClass provisioner). */
	readonly driver?: string;
	readonly storageClass?: string;
	readonly capacity?: string;
	readonly phase?: string;
	/** How it was found, for the detail view. */
	readonly foundBy: string;
};

export type SnapshotItem = {
	readonly name: string;
	readonly namespace: string;
	readonly uid?: string;
	/** A snapshot of the provider's claim (others in the namespace are shown dimmed). */
	readonly ofProvider: boolean;
	readonly claim?: string;
	readonly ready: boolean;
	readonly restoreSize?: string;
	/** ISO time the snapshot was cut (`status.creationTime`, else the object's creation). */
	readonly createdAt?: string;
	readonly className?: string;
	readonly deletionPolicy?: string;
	readonly contentName?: string;
	readonly error?: string;
};

export type ReadinessCheck = {
	readonly id: 'provider-claim' | 'csi-volume' | 'csi-driver' | 'snapshot-class' | 'snapshot-api' | 'deletion-policy';
	readonly ok: boolean;
	/** What was checked, e.g. "VolumeSnapshotClass for rustfs.csi.example". */
	readonly title: string;
	/** What was found. */
	readonly detail: string;
	/** What to do when it failed. */
	readonly fix?: string;
	/** A failure that does not stop snapshots from working (shown, not a hazard). */
	readonly warning?: boolean;
};

export type VolumeInventory = {
	readonly namespace: string;
	readonly provider?: ProviderVolume;
	/** Newest first; the provider's snapshots first. */
	readonly snapshots: readonly SnapshotItem[];
	readonly checks: readonly ReadinessCheck[];
	/** One line per read that failed (e.g. RBAC); the rest is still filled. */
	readonly errors: readonly string[];
};

/** Everything `buildVolumeInventory` needs, read from the cluster (or given by a test). */
export type VolumeFacts = {
	readonly namespace: string;
	readonly claims: readonly V1PersistentVolumeClaim[];
	readonly statefulSets: readonly V1StatefulSet[];
	readonly volumes: readonly V1PersistentVolume[];
	/** Undefined when the snapshot API could not be read (see `snapshotApiError`). */
	readonly snapshots?: readonly VolumeSnapshot[];
	readonly classes?: readonly VolumeSnapshotClass[];
	readonly drivers?: readonly V1CSIDriver[];
	readonly storageClasses?: readonly V1StorageClass[];
	readonly snapshotApiError?: string;
	readonly errors?: readonly string[];
};

const isProviderObject = (labels: Record<string, string> | undefined) => providerLabels.some(selector => {
	const [key, value] = selector.split('=');
	return labels?.[key!] === value;
});

/** The provider's claim: labelled `app.kubernetes.io/name=rustfs` (or minio), else the StatefulSet's claim for ordinal 0. */
export function findProviderClaim(facts: Pick<VolumeFacts, 'claims' | 'statefulSets'>): {claim?: V1PersistentVolumeClaim; statefulSet?: V1StatefulSet; foundBy: string} {
	const statefulSet = facts.statefulSets.find(set => isProviderObject(set.metadata?.labels) || isProviderObject(set.spec?.template?.metadata?.labels));
	const labelled = facts.claims.find(claim => isProviderObject(claim.metadata?.labels));
	if (labelled) {
		const selector = providerLabels.find(candidate => labelled.metadata?.labels?.[candidate.split('=')[0]!] === candidate.split('=')[1]);
		return {claim: labelled, statefulSet, foundBy: `label ${selector}`};
	}

	if (statefulSet) {
		for (const template of statefulSet.spec?.volumeClaimTemplates ?? []) {
			const name = `${template.metadata?.name}-${statefulSet.metadata?.name}-0`;
			const claim = facts.claims.find(candidate => candidate.metadata?.name === name);
			if (claim) {
				return {claim, statefulSet, foundBy: `StatefulSet ${statefulSet.metadata?.name} claim template ${template.metadata?.name}`};
			}
		}

		return {statefulSet, foundBy: `StatefulSet ${statefulSet.metadata?.name} (its claim does not exist)`};
	}

	return {foundBy: 'nothing labelled app.kubernetes.io/name=rustfs or minio'};
}

function snapshotItem(snapshot: VolumeSnapshot, providerClaim: string | undefined, classes: readonly VolumeSnapshotClass[] | undefined): SnapshotItem {
	const className = snapshot.spec?.volumeSnapshotClassName;
	const claim = snapshot.spec?.source?.persistentVolumeClaimName;
	return {
		name: snapshot.metadata.name ?? '',
		namespace: snapshot.metadata.namespace ?? '',
		uid: snapshot.metadata.uid,
		ofProvider: Boolean(providerClaim && claim === providerClaim),
		claim,
		ready: snapshot.status?.readyToUse === true,
		restoreSize: snapshot.status?.restoreSize,
		createdAt: isoTime(snapshot.status?.creationTime ?? snapshot.metadata.creationTimestamp),
		className,
		deletionPolicy: classes?.find(candidate => candidate.metadata.name === className)?.deletionPolicy,
		contentName: snapshot.status?.boundVolumeSnapshotContentName,
		error: snapshot.status?.error?.message,
	};
}

function isoTime(value: unknown): string | undefined {
	if (!value) {
		return undefined;
	}

	const date = new Date(value as string);
	return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** Newest first, the provider's before the others. */
export function sortSnapshots(items: readonly SnapshotItem[]): SnapshotItem[] {
	return [...items].sort((a, b) => Number(b.ofProvider) - Number(a.ofProvider) || (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || a.name.localeCompare(b.name));
}

/**
The inventory of the volume layer from facts already read: the provider's claim, its snapshots
(others in the namespace marked), and the readiness checks of the runbook, each failure with
what to do. Pure: tested with plain fixtures.
*/
export function buildVolumeInventory(facts: VolumeFacts): VolumeInventory {
	const {claim, statefulSet, foundBy} = findProviderClaim(facts);
	const checks: ReadinessCheck[] = [];
	let provider: ProviderVolume | undefined;
	if (claim) {
		const volumeName = claim.spec?.volumeName;
		const volume = facts.volumes.find(candidate => candidate.metadata?.name === volumeName);
		const storageClassName = claim.spec?.storageClassName ?? volume?.spec?.storageClassName;
		const storageClass = facts.storageClasses?.find(candidate => candidate.metadata?.name === storageClassName);
		const driver = volume?.spec?.csi?.driver ?? storageClass?.provisioner;
		provider = {
			claim: claim.metadata?.name ?? '',
			statefulSet: statefulSet?.metadata?.name,
			volume: volumeName,
			driver,
			storageClass: storageClassName,
			capacity: claim.status?.capacity?.['storage'] ?? claim.spec?.resources?.requests?.['storage'],
			phase: claim.status?.phase,
			foundBy,
		};
		checks.push({id: 'provider-claim', ok: true, title: 'Provider volume claim', detail: `${provider.claim} (${foundBy})`});
		if (volume?.spec?.csi?.driver) {
			checks.push({id: 'csi-volume', ok: true, title: 'Volume is CSI', detail: `${volumeName} by ${volume.spec.csi.driver}`});
		} else if (volume) {
			checks.push({id: 'csi-volume', ok: false, title: 'Volume is CSI', detail: `${volumeName} is not a CSI volume: it cannot be snapshotted`, fix: 'move the provider to a StorageClass whose provisioner is a CSI driver with snapshot support'});
		} else if (!driver) {
			checks.push({id: 'csi-volume', ok: false, title: 'Volume is CSI', detail: `claim ${provider.claim} is ${claim.status?.phase ?? 'not bound'} and its StorageClass is unknown`, fix: 'bind the claim to a CSI volume (check its StorageClass)'});
		}
	} else {
		checks.push({id: 'provider-claim', ok: false, title: 'Provider volume claim', detail: `none found in namespace ${facts.namespace} (${foundBy})`, fix: `check the namespace (-n), or label the provider's claim app.kubernetes.io/name=rustfs`});
	}

	if (facts.snapshotApiError) {
		checks.push({id: 'snapshot-api', ok: false, title: 'Snapshot API (snapshot.storage.k8s.io/v1)', detail: facts.snapshotApiError, fix: 'install the external-snapshotter CRDs and snapshot-controller, or grant list on volumesnapshots'});
	}

	const driver = provider?.driver;
	if (driver) {
		if (facts.drivers) {
			const found = facts.drivers.find(candidate => candidate.metadata?.name === driver);
			checks.push(found
				? {id: 'csi-driver', ok: true, title: `CSIDriver ${driver}`, detail: 'registered'}
				: {id: 'csi-driver', ok: false, title: `CSIDriver ${driver}`, detail: 'not registered in the cluster', fix: `install the CSI driver ${driver} (its node plugin and controller with the csi-snapshotter sidecar)`});
		}

		if (facts.classes) {
			const matching = facts.classes.filter(candidate => candidate.driver === driver);
			if (matching.length === 0) {
				checks.push({id: 'snapshot-class', ok: false, title: `VolumeSnapshotClass for ${driver}`, detail: `none of ${facts.classes.length} classes uses driver ${driver}`, fix: `create one: kind VolumeSnapshotClass, driver: ${driver}, deletionPolicy: Retain`});
			} else {
				const names = matching.map(candidate => `${candidate.metadata.name} (${candidate.deletionPolicy})`).join(', ');
				checks.push({id: 'snapshot-class', ok: true, title: `VolumeSnapshotClass for ${driver}`, detail: names});
				if (matching.every(candidate => candidate.deletionPolicy !== 'Retain')) {
					checks.push({id: 'deletion-policy', ok: false, warning: true, title: 'Snapshot content retained', detail: 'deletionPolicy Delete: deleting a VolumeSnapshot deletes its data', fix: `use a class with deletionPolicy: Retain for driver ${driver}`});
				}
			}
		}
	}

	const snapshots = sortSnapshots((facts.snapshots ?? []).map(snapshot => snapshotItem(snapshot, provider?.claim, facts.classes)));
	return {namespace: facts.namespace, provider, snapshots, checks, errors: facts.errors ?? []};
}

async function settle<T>(promise: Promise<T>, errors: string[], fallback: T): Promise<T> {
	try {
		return await promise;
	} catch (error) {
		errors.push(error instanceof ClusterError ? error.line() : error instanceof Error ? error.message : String(error));
		return fallback;
	}
}

/**
Reads the facts for the volume layer. Failures of single reads become lines in `errors`; only
an unreachable or unauthorized cluster throws (nothing can be read at all).
*/
export async function readVolumeFacts(cluster: Cluster, namespace: string, options: {snapshots?: readonly VolumeSnapshot[]} = {}): Promise<VolumeFacts> {
	const errors: string[] = [];
	let snapshotApiError: string | undefined;
	const snapshotsPromise = options.snapshots ? Promise.resolve([...options.snapshots]) : cluster.listVolumeSnapshots(namespace).catch((error: unknown) => {
		if (error instanceof ClusterError && (error.kind === 'unreachable' || error.kind === 'unauthorized')) {
			throw error;
		}

		snapshotApiError = error instanceof ClusterError ? error.line() : String(error);
		return undefined;
	});
	const [claims, statefulSets, snapshots, classes, drivers, storageClasses] = await Promise.all([
		cluster.listPersistentVolumeClaims(namespace).catch((error: unknown) => {
			if (error instanceof ClusterError && (error.kind === 'unreachable' || error.kind === 'unauthorized')) {
				throw error;
			}

			errors.push(error instanceof ClusterError ? error.line() : String(error));
			return [];
		}),
		settle(cluster.listStatefulSets(namespace), errors, []),
		snapshotsPromise,
		settle(cluster.listVolumeSnapshotClasses(), errors, undefined),
		settle(cluster.listCsiDrivers(), errors, undefined),
		settle(cluster.listStorageClasses(), errors, undefined),
	]);
	const {claim} = findProviderClaim({claims, statefulSets});
	const volumeName = claim?.spec?.volumeName;
	const volume = volumeName ? await settle(cluster.getPersistentVolume(volumeName), errors, undefined) : undefined;
	return {namespace, claims, statefulSets, volumes: volume ? [volume] : [], snapshots, classes, drivers, storageClasses, snapshotApiError, errors};
}

export async function volumeInventory(cluster: Cluster, namespace: string): Promise<VolumeInventory> {
	return buildVolumeInventory(await readVolumeFacts(cluster, namespace));
}
