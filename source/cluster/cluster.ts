import {
	AppsV1Api, AuthorizationV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, StorageV1Api,
	type CoreV1Event, type KubeConfig, type V1ConfigMap, type V1CronJob, type V1CSIDriver, type V1Job, type V1PersistentVolume,
	type V1PersistentVolumeClaim, type V1Pod, type V1Secret, type V1Service, type V1StatefulSet, type V1StorageClass,
} from '@kubernetes/client-node';
import {toClusterError, type RequestInfo} from './cluster-errors.js';
import {snapshotGroup, type VolumeSnapshot, type VolumeSnapshotClass, type VolumeSnapshotContent} from './cluster-types.js';
import {kubeWatchSource, type WatchSource} from './watch-store.js';

export type ListOptions = {readonly labelSelector?: string; readonly fieldSelector?: string};

/** An object that events can be asked about. */
export type ObjectRef = {readonly kind: string; readonly name: string; readonly namespace: string; readonly uid?: string};

/** A Secret's data, decoded. Only for code that needs credentials: never show, log or serialize it. */
export type SecretData = Readonly<Record<string, string>>;

/**
The reads the console, `inventory` and the layers need, over one kube context. Every method
throws `ClusterError` (one line, with what to do). Built once from `loadKubeConfig`; tests pass
fakes of this interface.
*/
export interface Cluster {
	/** The context's name and API server URL, for the status bar (no credentials). */
	readonly contextName: string;
	readonly server: string;
	listVolumeSnapshots(namespace: string): Promise<VolumeSnapshot[]>;
	listVolumeSnapshotClasses(): Promise<VolumeSnapshotClass[]>;
	listVolumeSnapshotContents(): Promise<VolumeSnapshotContent[]>;
	listPersistentVolumeClaims(namespace: string, options?: ListOptions): Promise<V1PersistentVolumeClaim[]>;
	getPersistentVolume(name: string): Promise<V1PersistentVolume | undefined>;
	listStatefulSets(namespace: string, options?: ListOptions): Promise<V1StatefulSet[]>;
	listPods(namespace: string, options?: ListOptions): Promise<V1Pod[]>;
	listServices(namespace: string, options?: ListOptions): Promise<V1Service[]>;
	listCronJobs(namespace: string): Promise<V1CronJob[]>;
	listJobs(namespace: string, options?: ListOptions): Promise<V1Job[]>;
	listConfigMaps(namespace: string, options?: ListOptions): Promise<V1ConfigMap[]>;
	/** Decoded data of a Secret, or undefined when it does not exist. Never shown or logged. */
	readSecret(namespace: string, name: string): Promise<SecretData | undefined>;
	/** Events about one object, oldest first. */
	listEvents(object: ObjectRef): Promise<CoreV1Event[]>;
	listCsiDrivers(): Promise<V1CSIDriver[]>;
	listStorageClasses(): Promise<V1StorageClass[]>;
	/** SelfSubjectAccessReview: may the current identity do `verb` on `resource` (in `group`, `namespace`)? */
	can(verb: string, resource: string, group: string, namespace?: string): Promise<boolean>;
	/** A live list kept current by a watch (list, then watch from its resourceVersion, relist on 410). */
	watch<T extends {metadata?: {name?: string; namespace?: string; uid?: string}}>(kind: WatchKind, namespace?: string, options?: ListOptions): WatchSource<T>;
}

/** What `Cluster.watch` can follow: the resources the console keeps live. */
export type WatchKind = 'volumesnapshots' | 'persistentvolumeclaims' | 'cronjobs' | 'jobs' | 'statefulsets' | 'events';

const watchPaths: Record<WatchKind, {group: string; version: string; plural: string; resource: string}> = {
	volumesnapshots: {group: snapshotGroup, version: 'v1', plural: 'volumesnapshots', resource: 'volumesnapshots.snapshot.storage.k8s.io'},
	persistentvolumeclaims: {group: '', version: 'v1', plural: 'persistentvolumeclaims', resource: 'persistentvolumeclaims'},
	cronjobs: {group: 'batch', version: 'v1', plural: 'cronjobs', resource: 'cronjobs.batch'},
	jobs: {group: 'batch', version: 'v1', plural: 'jobs', resource: 'jobs.batch'},
	statefulsets: {group: 'apps', version: 'v1', plural: 'statefulsets', resource: 'statefulsets.apps'},
	events: {group: '', version: 'v1', plural: 'events', resource: 'events'},
};

function collectionPath(kind: WatchKind, namespace?: string): string {
	const {group, version, plural} = watchPaths[kind];
	const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
	return namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;
}

/** The `Cluster` over a real (or simulated: it cannot tell) API server. */
export class KubeCluster implements Cluster {
	readonly contextName: string;
	readonly server: string;
	private readonly config: KubeConfig;
	private readonly core: CoreV1Api;
	private readonly apps: AppsV1Api;
	private readonly batch: BatchV1Api;
	private readonly storage: StorageV1Api;
	private readonly custom: CustomObjectsApi;
	private readonly authorization: AuthorizationV1Api;

	constructor(config: KubeConfig) {
		this.config = config;
		this.contextName = config.getCurrentContext();
		this.server = config.getCurrentCluster()?.server ?? '';
		this.core = config.makeApiClient(CoreV1Api);
		this.apps = config.makeApiClient(AppsV1Api);
		this.batch = config.makeApiClient(BatchV1Api);
		this.storage = config.makeApiClient(StorageV1Api);
		this.custom = config.makeApiClient(CustomObjectsApi);
		this.authorization = config.makeApiClient(AuthorizationV1Api);
	}

	async listVolumeSnapshots(namespace: string): Promise<VolumeSnapshot[]> {
		const list = await this.call({verb: 'list', resource: 'volumesnapshots.snapshot.storage.k8s.io', namespace}, async () => this.custom.listNamespacedCustomObject({group: snapshotGroup, version: 'v1', namespace, plural: 'volumesnapshots'}));
		return (list?.items ?? []) as VolumeSnapshot[];
	}

	async listVolumeSnapshotClasses(): Promise<VolumeSnapshotClass[]> {
		const list = await this.call({verb: 'list', resource: 'volumesnapshotclasses.snapshot.storage.k8s.io'}, async () => this.custom.listClusterCustomObject({group: snapshotGroup, version: 'v1', plural: 'volumesnapshotclasses'}));
		return (list?.items ?? []) as VolumeSnapshotClass[];
	}

	async listVolumeSnapshotContents(): Promise<VolumeSnapshotContent[]> {
		const list = await this.call({verb: 'list', resource: 'volumesnapshotcontents.snapshot.storage.k8s.io'}, async () => this.custom.listClusterCustomObject({group: snapshotGroup, version: 'v1', plural: 'volumesnapshotcontents'}));
		return (list?.items ?? []) as VolumeSnapshotContent[];
	}

	async listPersistentVolumeClaims(namespace: string, options: ListOptions = {}): Promise<V1PersistentVolumeClaim[]> {
		const list = await this.call({verb: 'list', resource: 'persistentvolumeclaims', namespace}, async () => this.core.listNamespacedPersistentVolumeClaim({namespace, ...options}));
		return list.items;
	}

	async getPersistentVolume(name: string): Promise<V1PersistentVolume | undefined> {
		return this.optional({verb: 'get', resource: 'persistentvolumes'}, async () => this.core.readPersistentVolume({name}));
	}

	async listStatefulSets(namespace: string, options: ListOptions = {}): Promise<V1StatefulSet[]> {
		const list = await this.call({verb: 'list', resource: 'statefulsets.apps', namespace}, async () => this.apps.listNamespacedStatefulSet({namespace, ...options}));
		return list.items;
	}

	async listPods(namespace: string, options: ListOptions = {}): Promise<V1Pod[]> {
		const list = await this.call({verb: 'list', resource: 'pods', namespace}, async () => this.core.listNamespacedPod({namespace, ...options}));
		return list.items;
	}

	async listServices(namespace: string, options: ListOptions = {}): Promise<V1Service[]> {
		const list = await this.call({verb: 'list', resource: 'services', namespace}, async () => this.core.listNamespacedService({namespace, ...options}));
		return list.items;
	}

	async listCronJobs(namespace: string): Promise<V1CronJob[]> {
		const list = await this.call({verb: 'list', resource: 'cronjobs.batch', namespace}, async () => this.batch.listNamespacedCronJob({namespace}));
		return list.items;
	}

	async listJobs(namespace: string, options: ListOptions = {}): Promise<V1Job[]> {
		const list = await this.call({verb: 'list', resource: 'jobs.batch', namespace}, async () => this.batch.listNamespacedJob({namespace, ...options}));
		return list.items;
	}

	async listConfigMaps(namespace: string, options: ListOptions = {}): Promise<V1ConfigMap[]> {
		const list = await this.call({verb: 'list', resource: 'configmaps', namespace}, async () => this.core.listNamespacedConfigMap({namespace, ...options}));
		return list.items;
	}

	async readSecret(namespace: string, name: string): Promise<SecretData | undefined> {
		const secret: V1Secret | undefined = await this.optional({verb: 'get', resource: 'secrets', namespace}, async () => this.core.readNamespacedSecret({name, namespace}));
		if (!secret) {
			return undefined;
		}

		const data: Record<string, string> = {...secret.stringData};
		for (const [key, value] of Object.entries(secret.data ?? {})) {
			data[key] = Buffer.from(value, 'base64').toString('utf8');
		}

		return data;
	}

	async listEvents(object: ObjectRef): Promise<CoreV1Event[]> {
		const terms = [`involvedObject.name=${object.name}`, `involvedObject.namespace=${object.namespace}`, `involvedObject.kind=${object.kind}`];
		if (object.uid) {
			terms.push(`involvedObject.uid=${object.uid}`);
		}

		const list = await this.call({verb: 'list', resource: 'events', namespace: object.namespace}, async () => this.core.listNamespacedEvent({namespace: object.namespace, fieldSelector: terms.join(',')}));
		return list.items
			.filter(event => event.involvedObject?.name === object.name && event.involvedObject?.kind === object.kind)
			.sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
	}

	async listCsiDrivers(): Promise<V1CSIDriver[]> {
		const list = await this.call({verb: 'list', resource: 'csidrivers.storage.k8s.io'}, async () => this.storage.listCSIDriver());
		return list.items;
	}

	async listStorageClasses(): Promise<V1StorageClass[]> {
		const list = await this.call({verb: 'list', resource: 'storageclasses.storage.k8s.io'}, async () => this.storage.listStorageClass());
		return list.items;
	}

	async can(verb: string, resource: string, group: string, namespace?: string): Promise<boolean> {
		const review = await this.call({verb: 'create', resource: 'selfsubjectaccessreviews.authorization.k8s.io'}, async () => this.authorization.createSelfSubjectAccessReview({
			body: {apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {resourceAttributes: {verb, resource, group, namespace}}},
		}));
		return review.status?.allowed === true;
	}

	watch<T extends {metadata?: {name?: string; namespace?: string; uid?: string}}>(kind: WatchKind, namespace?: string, options: ListOptions = {}): WatchSource<T> {
		const info = watchPaths[kind];
		const request: RequestInfo = {verb: 'watch', resource: info.resource, namespace, server: this.server};
		return kubeWatchSource<T>(this.config, collectionPath(kind, namespace), request, async () => this.listFor(kind, namespace, options) as any, options);
	}

	private async listFor(kind: WatchKind, namespace: string | undefined, options: ListOptions): Promise<{metadata?: {resourceVersion?: string}; items: unknown[]}> {
		const ns = namespace ?? '';
		const request = {verb: 'list', resource: watchPaths[kind].resource, namespace, server: this.server};
		switch (kind) {
			case 'volumesnapshots': {
				return this.call(request, async () => this.custom.listNamespacedCustomObject({group: snapshotGroup, version: 'v1', namespace: ns, plural: 'volumesnapshots', ...options}));
			}

			case 'persistentvolumeclaims': {
				return this.call(request, async () => this.core.listNamespacedPersistentVolumeClaim({namespace: ns, ...options}));
			}

			case 'cronjobs': {
				return this.call(request, async () => this.batch.listNamespacedCronJob({namespace: ns, ...options}));
			}

			case 'jobs': {
				return this.call(request, async () => this.batch.listNamespacedJob({namespace: ns, ...options}));
			}

			case 'statefulsets': {
				return this.call(request, async () => this.apps.listNamespacedStatefulSet({namespace: ns, ...options}));
			}

			case 'events': {
				return this.call(request, async () => this.core.listNamespacedEvent({namespace: ns, ...options}));
			}
		}
	}

	private async call<T>(request: RequestInfo, run: () => Promise<T>): Promise<T> {
		try {
			return await run();
		} catch (error) {
			throw toClusterError(error, {...request, server: this.server});
		}
	}

	private async optional<T>(request: RequestInfo, run: () => Promise<T>): Promise<T | undefined> {
		try {
			return await run();
		} catch (error) {
			if ((error as any)?.code === 404) {
				return undefined;
			}

			throw toClusterError(error, {...request, server: this.server});
		}
	}
}

export function eventTime(event: CoreV1Event): string {
	const time = event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp;
	return time ? new Date(time as any).toISOString() : '';
}

/** The `Cluster` for a kubeconfig loaded with `loadKubeConfig`. */
export const createCluster = (config: KubeConfig): Cluster => new KubeCluster(config);
