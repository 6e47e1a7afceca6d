import type {V1ObjectMeta} from '@kubernetes/client-node';

/** `snapshot.storage.k8s.io/v1` VolumeSnapshot: only the fields we read. */
export type VolumeSnapshot = {
	apiVersion?: string;
	kind?: string;
	metadata: V1ObjectMeta;
	spec: {
		source: {persistentVolumeClaimName?: string; volumeSnapshotContentName?: string};
		volumeSnapshotClassName?: string;
	};
	status?: {
		readyToUse?: boolean;
		restoreSize?: string;
		creationTime?: string;
		boundVolumeSnapshotContentName?: string;
		error?: {message?: string; time?: string};
	};
};

/** `snapshot.storage.k8s.io/v1` VolumeSnapshotClass (cluster-scoped). */
export type VolumeSnapshotClass = {
	apiVersion?: string;
	kind?: string;
	metadata: V1ObjectMeta;
	driver: string;
	deletionPolicy: 'Retain' | 'Delete' | string;
	parameters?: Record<string, string>;
};

/** `snapshot.storage.k8s.io/v1` VolumeSnapshotContent (cluster-scoped). */
export type VolumeSnapshotContent = {
	apiVersion?: string;
	kind?: string;
	metadata: V1ObjectMeta;
	spec: {
		driver: string;
		deletionPolicy: string;
		volumeSnapshotClassName?: string;
		volumeSnapshotRef?: {name?: string; namespace?: string};
		source?: {volumeHandle?: string; snapshotHandle?: string};
	};
	status?: {readyToUse?: boolean; restoreSize?: number; snapshotHandle?: string; creationTime?: number};
};

export const snapshotGroup = 'snapshot.storage.k8s.io';
