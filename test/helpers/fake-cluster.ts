import type {CoreV1Event, V1ConfigMap, V1CronJob, V1CSIDriver, V1Job, V1PersistentVolume, V1PersistentVolumeClaim, V1StatefulSet, V1StorageClass} from '@kubernetes/client-node';
import type {Cluster, ObjectRef, WatchKind} from '../../source/cluster/cluster.js';
import type {ClusterError} from '../../source/cluster/cluster-errors.js';
import type {VolumeSnapshot, VolumeSnapshotClass} from '../../source/cluster/cluster-types.js';
import {MemoryWatchSource, type WatchSource} from '../../source/cluster/watch-store.js';

export type FakeWorld = {
	claims: V1PersistentVolumeClaim[];
	volumes: V1PersistentVolume[];
	statefulSets: V1StatefulSet[];
	snapshots: VolumeSnapshot[];
	classes: VolumeSnapshotClass[];
	drivers: V1CSIDriver[];
	storageClasses: V1StorageClass[];
	cronJobs: V1CronJob[];
	jobs: V1Job[];
	secrets: Record<string, Record<string, string>>;
	events: CoreV1Event[];
	/** Per method name: the error it throws. */
	failures: Partial<Record<string, ClusterError>>;
	configMaps?: V1ConfigMap[];
};

const hour = 3_600_000;
const iso = (now: number, hoursAgo: number) => new Date(now - (hoursAgo * hour)).toISOString();

/** A small healthy Ilum namespace: provider claim on a CSI volume, three snapshots, a backup CronJob with --remove. */
export function healthyWorld(now: number): FakeWorld {
	const snapshot = (name: string, hoursAgo: number, ready = true, claim = 'data-ilum-objectstorage-0'): VolumeSnapshot => ({
		metadata: {name, namespace: 'ilum', uid: `uid-${name}`, creationTimestamp: iso(now, hoursAgo) as any},
		spec: {source: {persistentVolumeClaimName: claim}, volumeSnapshotClassName: 'csi-snapclass'},
		status: {readyToUse: ready, restoreSize: '10Gi', creationTime: iso(now, hoursAgo), boundVolumeSnapshotContentName: `snapcontent-${name}`, ...(ready ? {} : {error: {message: 'failed to take snapshot: driver busy'}})},
	});
	return {
		claims: [{metadata: {name: 'data-ilum-objectstorage-0', namespace: 'ilum', labels: {'app.kubernetes.io/name': 'rustfs'}}, spec: {volumeName: 'pv-data', storageClassName: 'csi-hostpath-sc'}, status: {phase: 'Bound', capacity: {storage: '10Gi'}}}],
		volumes: [{metadata: {name: 'pv-data'}, spec: {csi: {driver: 'hostpath.csi.k8s.io', volumeHandle: 'vol-1'}, storageClassName: 'csi-hostpath-sc'}}],
		statefulSets: [{metadata: {name: 'ilum-objectstorage', namespace: 'ilum', labels: {'app.kubernetes.io/name': 'rustfs'}}, spec: {selector: {}, serviceName: 'x', template: {}, volumeClaimTemplates: [{metadata: {name: 'data'}}]}}],
		snapshots: [snapshot('nightly-1', 2), snapshot('nightly-0', 26), snapshot('scratch', 1, true, 'other-claim')],
		classes: [{metadata: {name: 'csi-snapclass'}, driver: 'hostpath.csi.k8s.io', deletionPolicy: 'Retain'}],
		drivers: [{metadata: {name: 'hostpath.csi.k8s.io'}, spec: {}}],
		storageClasses: [{metadata: {name: 'csi-hostpath-sc'}, provisioner: 'hostpath.csi.k8s.io'}],
		cronJobs: [{
			metadata: {name: 'ilum-backup', namespace: 'ilum'},
			spec: {schedule: '0 * * * *', suspend: false, jobTemplate: {spec: {template: {spec: {containers: [{name: 'mc', image: 'minio/mc', command: ['mc', 'mirror', '--remove', '--overwrite', 'src/ilum-data', 'dst/ilum-backup/ilum-data'], envFrom: [{secretRef: {name: 'ilum-backup-credentials'}}]}]}}}}},
			status: {lastScheduleTime: iso(now, 0.5) as any, lastSuccessfulTime: iso(now, 0.45) as any},
		}],
		jobs: [{metadata: {name: 'ilum-backup-1', namespace: 'ilum', ownerReferences: [{kind: 'CronJob', name: 'ilum-backup', apiVersion: 'batch/v1', uid: 'c'}]}, status: {startTime: iso(now, 0.5) as any, completionTime: iso(now, 0.45) as any, succeeded: 1, conditions: [{type: 'Complete', status: 'True'}]}}],
		secrets: {'ilum-backup-credentials': {endpoint: 'https://backup.example:9000', 'access-key': 'AKIAFAKE', 'secret-key': 'sup3rs3cret'}},
		events: [{metadata: {name: 'e1'}, involvedObject: {kind: 'VolumeSnapshot', name: 'nightly-1', namespace: 'ilum'}, reason: 'SnapshotReady', message: 'Snapshot ilum/nightly-1 is ready to use.', type: 'Normal', lastTimestamp: iso(now, 2) as any}],
		failures: {},
	};
}

/** A `Cluster` over plain objects. Watches are memory sources the test can update with `push`. */
export class FakeCluster implements Cluster {
	readonly contextName = 'fake';
	readonly server = 'https://fake.invalid';
	world: FakeWorld;
	readonly watches = new Map<string, MemoryWatchSource<any>>();

	constructor(world: FakeWorld) {
		this.world = world;
	}

	/** Re-publishes the watched lists after the test changed `world`. */
	push(): void {
		for (const [kind, source] of this.watches) {
			source.set({items: this.itemsOf(kind as WatchKind), synced: true, error: this.world.failures['watch:' + kind]});
		}
	}

	async listVolumeSnapshots(_namespace: string) {
		return this.answer('listVolumeSnapshots', this.world.snapshots);
	}

	async listVolumeSnapshotClasses() {
		return this.answer('listVolumeSnapshotClasses', this.world.classes);
	}

	async listVolumeSnapshotContents() {
		return this.answer('listVolumeSnapshotContents', []);
	}

	async listPersistentVolumeClaims(_namespace: string) {
		return this.answer('listPersistentVolumeClaims', this.world.claims);
	}

	async getPersistentVolume(name: string) {
		return this.answer('getPersistentVolume', this.world.volumes.find(volume => volume.metadata?.name === name));
	}

	async listStatefulSets(_namespace: string) {
		return this.answer('listStatefulSets', this.world.statefulSets);
	}

	async listPods() {
		return this.answer('listPods', []);
	}

	async listServices() {
		return this.answer('listServices', []);
	}

	async listCronJobs(_namespace: string) {
		return this.answer('listCronJobs', this.world.cronJobs);
	}

	async listJobs(_namespace: string) {
		return this.answer('listJobs', this.world.jobs);
	}

	async listConfigMaps() {
		return this.answer('listConfigMaps', this.world.configMaps ?? []);
	}

	async readSecret(_namespace: string, name: string) {
		return this.answer('readSecret', this.world.secrets[name]);
	}

	async listEvents(object: ObjectRef) {
		return this.answer('listEvents', this.world.events.filter(event => event.involvedObject.name === object.name && event.involvedObject.kind === object.kind));
	}

	async listCsiDrivers() {
		return this.answer('listCsiDrivers', this.world.drivers);
	}

	async listStorageClasses() {
		return this.answer('listStorageClasses', this.world.storageClasses);
	}

	async can(..._arguments: unknown[]): Promise<boolean> {
		return this.answer('can', true);
	}

	watch<T>(kind: WatchKind): WatchSource<T> {
		const failure = this.world.failures['watch:' + kind];
		const source = new MemoryWatchSource<T>(failure ? undefined : this.itemsOf(kind) as T[], failure);
		this.watches.set(kind, source);
		return source;
	}

	private itemsOf(kind: WatchKind): unknown[] {
		switch (kind) {
			case 'volumesnapshots': {
				return this.world.snapshots;
			}

			case 'cronjobs': {
				return this.world.cronJobs;
			}

			case 'jobs': {
				return this.world.jobs;
			}

			case 'statefulsets': {
				return this.world.statefulSets;
			}

			case 'persistentvolumeclaims': {
				return this.world.claims;
			}

			case 'events': {
				return this.world.events;
			}
		}
	}

	private async answer<T>(method: string, value: T): Promise<T> {
		const failure = this.world.failures[method];
		if (failure) {
			throw failure;
		}

		return structuredClone(value);
	}
}
