import {
	AppsV1Api, AuthorizationV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, PatchStrategy, StorageV1Api, setHeaderOptions,
	type KubeConfig, type V1CronJob, type V1PersistentVolume, type V1PersistentVolumeClaim, type V1Pod, type V1Service, type V1StatefulSet, type V1StorageClass,
} from '@kubernetes/client-node';
import type {AccessRequirement, StepProgress} from '../restore/plan.js';
import type {AccessVerdict} from '../restore/executor.js';
import {waitFor} from './waits.js';

/**
What a restore does to a cluster, and the few reads its checks need, over one kube context.
Engineer G's `cluster.ts` holds the console's reads and watches; these are the restore's
writes (and the exact-object reads that make each step's `check` possible).

Every method throws `MutationError`: one line naming the request, with the API server's reason.
*/

export const snapshotGroup = 'snapshot.storage.k8s.io';

export type VolumeSnapshotObject = {
	apiVersion?: string;
	kind?: string;
	metadata: {name?: string; namespace?: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string>; labels?: Record<string, string>; creationTimestamp?: string | Date};
	spec: {source: {persistentVolumeClaimName?: string; volumeSnapshotContentName?: string}; volumeSnapshotClassName?: string};
	status?: {readyToUse?: boolean; restoreSize?: string; creationTime?: string; boundVolumeSnapshotContentName?: string; error?: {message?: string; time?: string}};
};

export type VolumeSnapshotClassObject = {metadata: {name?: string; annotations?: Record<string, string>}; driver: string; deletionPolicy: string};

export class MutationError extends Error {
	readonly status?: number;
	readonly reason?: string;

	constructor(message: string, options: {status?: number; reason?: string; cause?: unknown} = {}) {
		super(message, {cause: options.cause});
		this.name = 'MutationError';
		this.status = options.status;
		this.reason = options.reason;
	}
}

function serverMessage(error: any): {status?: number; message?: string; reason?: string} {
	const status = typeof error?.code === 'number' ? error.code as number : undefined;
	let body = error?.body;
	if (typeof body === 'string') {
		try {
			body = JSON.parse(body);
		} catch {
			body = {message: body};
		}
	}

	return {status, message: typeof body?.message === 'string' ? body.message : (error instanceof Error ? error.message.split('\n')[0] : undefined), reason: body?.reason};
}

export interface VolumeRestoreCluster {
	/** The kube context's user and context name, for the audit log. */
	readonly identity: string;
	getVolumeSnapshot(namespace: string, name: string): Promise<VolumeSnapshotObject | undefined>;
	listVolumeSnapshots(namespace: string): Promise<VolumeSnapshotObject[]>;
	getVolumeSnapshotClass(name: string): Promise<VolumeSnapshotClassObject | undefined>;
	listVolumeSnapshotClasses(): Promise<VolumeSnapshotClassObject[]>;
	getPersistentVolumeClaim(namespace: string, name: string): Promise<V1PersistentVolumeClaim | undefined>;
	getPersistentVolume(name: string): Promise<V1PersistentVolume | undefined>;
	getStatefulSet(namespace: string, name: string): Promise<V1StatefulSet | undefined>;
	listStatefulSets(namespace: string): Promise<V1StatefulSet[]>;
	getCronJob(namespace: string, name: string): Promise<V1CronJob | undefined>;
	getStorageClass(name: string): Promise<V1StorageClass | undefined>;
	getService(namespace: string, name: string): Promise<V1Service | undefined>;
	listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
	/** Decoded Secret data; never logged or shown. */
	readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
	/** SelfSubjectAccessReview per requirement. */
	reviewAccess(items: readonly AccessRequirement[]): Promise<AccessVerdict[]>;

	createVolumeSnapshot(namespace: string, options: {name: string; claim: string; className?: string; annotations?: Record<string, string>; labels?: Record<string, string>}): Promise<VolumeSnapshotObject>;
	setCronJobSuspended(namespace: string, name: string, suspend: boolean): Promise<void>;
	scaleStatefulSet(namespace: string, name: string, replicas: number): Promise<void>;
	setReclaimPolicy(volume: string, policy: string): Promise<void>;
	deletePersistentVolumeClaim(namespace: string, name: string): Promise<void>;
	createPersistentVolumeClaim(namespace: string, claim: V1PersistentVolumeClaim): Promise<V1PersistentVolumeClaim>;
	/** Makes a Released PV bindable again by a new claim (clears `spec.claimRef`). */
	clearClaimRef(volume: string): Promise<void>;

	waitForSnapshotReady(namespace: string, name: string, options: WaitLimits): AsyncGenerator<StepProgress, VolumeSnapshotObject>;
	waitForPodsGone(namespace: string, labelSelector: string, options: WaitLimits & {names?: readonly string[]}): AsyncGenerator<StepProgress, void>;
	waitForStatefulSetReady(namespace: string, name: string, replicas: number, options: WaitLimits): AsyncGenerator<StepProgress, void>;
	waitForClaimGone(namespace: string, name: string, options: WaitLimits): AsyncGenerator<StepProgress, void>;
	waitForClaimBound(namespace: string, name: string, options: WaitLimits): AsyncGenerator<StepProgress, V1PersistentVolumeClaim>;
}

export type WaitLimits = {readonly timeoutMs: number; readonly signal: AbortSignal};

const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The restore's cluster operations over @kubernetes/client-node. */
export class KubeVolumeRestoreCluster implements VolumeRestoreCluster {
	readonly identity: string;
	private readonly config: KubeConfig;
	private readonly core: CoreV1Api;
	private readonly apps: AppsV1Api;
	private readonly batch: BatchV1Api;
	private readonly storage: StorageV1Api;
	private readonly custom: CustomObjectsApi;
	private readonly authorization: AuthorizationV1Api;

	constructor(config: KubeConfig) {
		this.config = config;
		const user = config.getCurrentUser()?.name ?? 'unknown-user';
		this.identity = `${user}@${config.getCurrentContext()}`;
		this.core = config.makeApiClient(CoreV1Api);
		this.apps = config.makeApiClient(AppsV1Api);
		this.batch = config.makeApiClient(BatchV1Api);
		this.storage = config.makeApiClient(StorageV1Api);
		this.custom = config.makeApiClient(CustomObjectsApi);
		this.authorization = config.makeApiClient(AuthorizationV1Api);
	}

	async getVolumeSnapshot(namespace: string, name: string) {
		return this.optional(`get volumesnapshot ${namespace}/${name}`, async () => this.custom.getNamespacedCustomObject({group: snapshotGroup, version: 'v1', namespace, plural: 'volumesnapshots', name}) as Promise<VolumeSnapshotObject>);
	}

	async listVolumeSnapshots(namespace: string) {
		const list = await this.call(`list volumesnapshots in ${namespace}`, async () => this.custom.listNamespacedCustomObject({group: snapshotGroup, version: 'v1', namespace, plural: 'volumesnapshots'}));
		return (list?.items ?? []) as VolumeSnapshotObject[];
	}

	async getVolumeSnapshotClass(name: string) {
		return this.optional(`get volumesnapshotclass ${name}`, async () => this.custom.getClusterCustomObject({group: snapshotGroup, version: 'v1', plural: 'volumesnapshotclasses', name}) as Promise<VolumeSnapshotClassObject>);
	}

	async listVolumeSnapshotClasses() {
		const list = await this.call('list volumesnapshotclasses', async () => this.custom.listClusterCustomObject({group: snapshotGroup, version: 'v1', plural: 'volumesnapshotclasses'}));
		return (list?.items ?? []) as VolumeSnapshotClassObject[];
	}

	async getPersistentVolumeClaim(namespace: string, name: string) {
		return this.optional(`get persistentvolumeclaim ${namespace}/${name}`, async () => this.core.readNamespacedPersistentVolumeClaim({namespace, name}));
	}

	async getPersistentVolume(name: string) {
		return this.optional(`get persistentvolume ${name}`, async () => this.core.readPersistentVolume({name}));
	}

	async getStatefulSet(namespace: string, name: string) {
		return this.optional(`get statefulset ${namespace}/${name}`, async () => this.apps.readNamespacedStatefulSet({namespace, name}));
	}

	async listStatefulSets(namespace: string) {
		return (await this.call(`list statefulsets in ${namespace}`, async () => this.apps.listNamespacedStatefulSet({namespace}))).items;
	}

	async getCronJob(namespace: string, name: string) {
		return this.optional(`get cronjob ${namespace}/${name}`, async () => this.batch.readNamespacedCronJob({namespace, name}));
	}

	async getStorageClass(name: string) {
		return this.optional(`get storageclass ${name}`, async () => this.storage.readStorageClass({name}));
	}

	async getService(namespace: string, name: string) {
		return this.optional(`get service ${namespace}/${name}`, async () => this.core.readNamespacedService({namespace, name}));
	}

	async listPods(namespace: string, labelSelector: string) {
		return (await this.call(`list pods in ${namespace}`, async () => this.core.listNamespacedPod({namespace, labelSelector}))).items;
	}

	async readSecret(namespace: string, name: string) {
		const secret = await this.optional(`get secret ${namespace}/${name}`, async () => this.core.readNamespacedSecret({namespace, name}));
		if (!secret) {
			return undefined;
		}

		const data: Record<string, string> = {};
		for (const [key, value] of Object.entries(secret.data ?? {})) {
			data[key] = Buffer.from(value, 'base64').toString('utf8');
		}

		for (const [key, value] of Object.entries(secret.stringData ?? {})) {
			data[key] = value;
		}

		return data;
	}

	async reviewAccess(items: readonly AccessRequirement[]): Promise<AccessVerdict[]> {
		// One review per requirement, asked together (the answers keep the order of the questions).
		return Promise.all(items.map(async (item): Promise<AccessVerdict> => {
			const review = await this.call(`create selfsubjectaccessreview (${item.verb} ${item.resource})`, async () => this.authorization.createSelfSubjectAccessReview({body: {
				apiVersion: 'authorization.k8s.io/v1',
				kind: 'SelfSubjectAccessReview',
				spec: {resourceAttributes: {
					verb: item.verb, group: item.group, resource: item.resource,
					...(item.subresource ? {subresource: item.subresource} : {}),
					...(item.namespace ? {namespace: item.namespace} : {}),
					...(item.name ? {name: item.name} : {}),
				}},
			}}));
			const status = review.status;
			return {item, allowed: Boolean(status?.allowed) && !status?.denied, ...(status?.reason ? {reason: status.reason} : {})};
		}));
	}

	async createVolumeSnapshot(namespace: string, options: {name: string; claim: string; className?: string; annotations?: Record<string, string>; labels?: Record<string, string>}) {
		const body: VolumeSnapshotObject = {
			apiVersion: `${snapshotGroup}/v1`,
			kind: 'VolumeSnapshot',
			metadata: {name: options.name, namespace, ...(options.annotations ? {annotations: options.annotations} : {}), ...(options.labels ? {labels: options.labels} : {})},
			spec: {source: {persistentVolumeClaimName: options.claim}, ...(options.className ? {volumeSnapshotClassName: options.className} : {})},
		};
		return this.call(`create volumesnapshot ${namespace}/${options.name}`, async () => this.custom.createNamespacedCustomObject({group: snapshotGroup, version: 'v1', namespace, plural: 'volumesnapshots', body}) as Promise<VolumeSnapshotObject>);
	}

	async setCronJobSuspended(namespace: string, name: string, suspend: boolean) {
		await this.call(`patch cronjob ${namespace}/${name}`, async () => this.batch.patchNamespacedCronJob({namespace, name, body: {spec: {suspend}}}, mergePatch()));
	}

	async scaleStatefulSet(namespace: string, name: string, replicas: number) {
		await this.call(`patch statefulset ${namespace}/${name}/scale`, async () => this.apps.patchNamespacedStatefulSetScale({namespace, name, body: {spec: {replicas}}}, mergePatch()));
	}

	async setReclaimPolicy(volume: string, policy: string) {
		await this.call(`patch persistentvolume ${volume}`, async () => this.core.patchPersistentVolume({name: volume, body: {spec: {persistentVolumeReclaimPolicy: policy}}}, mergePatch()));
	}

	async deletePersistentVolumeClaim(namespace: string, name: string) {
		try {
			await this.core.deleteNamespacedPersistentVolumeClaim({namespace, name});
		} catch (error) {
			if (serverMessage(error).status === 404) {
				return;
			}

			throw this.wrap(`delete persistentvolumeclaim ${namespace}/${name}`, error);
		}
	}

	async createPersistentVolumeClaim(namespace: string, claim: V1PersistentVolumeClaim) {
		return this.call(`create persistentvolumeclaim ${namespace}/${claim.metadata?.name ?? ''}`, async () => this.core.createNamespacedPersistentVolumeClaim({namespace, body: claim}));
	}

	async clearClaimRef(volume: string) {
		await this.call(`patch persistentvolume ${volume}`, async () => this.core.patchPersistentVolume({name: volume, body: {spec: {claimRef: null}}}, mergePatch()));
	}

	async * waitForSnapshotReady(namespace: string, name: string, limits: WaitLimits) {
		const items = yield * waitFor<VolumeSnapshotObject>({
			config: this.config,
			path: `/apis/${snapshotGroup}/v1/namespaces/${namespace}/volumesnapshots`,
			fieldSelector: `metadata.name=${name}`,
			list: async () => {
				const list = await this.call(`list volumesnapshots in ${namespace}`, async () => this.custom.listNamespacedCustomObject({group: snapshotGroup, version: 'v1', namespace, plural: 'volumesnapshots', fieldSelector: `metadata.name=${name}`}));
				return {items: (list?.items ?? []) as VolumeSnapshotObject[], resourceVersion: list?.metadata?.resourceVersion};
			},
			satisfied: items => {
				const error = items[0]?.status?.error?.message;
				if (error) {
					throw new MutationError(`VolumeSnapshot ${namespace}/${name} failed: ${error}`);
				}

				return items[0]?.status?.readyToUse === true;
			},
			describe: items => items[0] ? `readyToUse: ${items[0].status?.readyToUse ?? false}` : 'not created yet',
			what: `VolumeSnapshot ${namespace}/${name} to be ready`,
			events: {namespace, names: [name]},
			object: `VolumeSnapshot/${name}`,
			...limits,
		});
		return items[0]!;
	}

	async * waitForPodsGone(namespace: string, labelSelector: string, limits: WaitLimits & {names?: readonly string[]}) {
		yield * waitFor<V1Pod>({
			config: this.config,
			path: `/api/v1/namespaces/${namespace}/pods`,
			labelSelector,
			list: async () => {
				const list = await this.call(`list pods in ${namespace}`, async () => this.core.listNamespacedPod({namespace, labelSelector}));
				return {items: list.items, resourceVersion: list.metadata?.resourceVersion};
			},
			satisfied: items => items.length === 0,
			describe: items => `${items.length} pod(s) left: ${items.map(pod => `${pod.metadata?.name} ${pod.metadata?.deletionTimestamp ? 'Terminating' : pod.status?.phase ?? ''}`).join(', ')}`,
			what: `the pods (${labelSelector}) to be gone`,
			events: {namespace, names: limits.names ?? []},
			object: `Pods/${labelSelector}`,
			...limits,
		});
	}

	async * waitForStatefulSetReady(namespace: string, name: string, replicas: number, limits: WaitLimits) {
		yield * waitFor<V1StatefulSet>({
			config: this.config,
			path: `/apis/apps/v1/namespaces/${namespace}/statefulsets`,
			fieldSelector: `metadata.name=${name}`,
			list: async () => {
				const list = await this.call(`list statefulsets in ${namespace}`, async () => this.apps.listNamespacedStatefulSet({namespace, fieldSelector: `metadata.name=${name}`}));
				return {items: list.items, resourceVersion: list.metadata?.resourceVersion};
			},
			satisfied: items => {
				const set = items[0];
				return Boolean(set) && (set!.status?.readyReplicas ?? 0) >= replicas && (set!.status?.observedGeneration ?? 0) >= (set!.metadata?.generation ?? 0);
			},
			describe: items => `${items[0]?.status?.readyReplicas ?? 0}/${replicas} ready`,
			quantity: items => ({current: items[0]?.status?.readyReplicas ?? 0, total: replicas, unit: 'ready'}),
			what: `StatefulSet ${namespace}/${name} to have ${replicas} ready replica(s)`,
			events: {namespace, names: [name, ...Array.from({length: replicas}, (_, index) => `${name}-${index}`)]},
			object: `StatefulSet/${name}`,
			...limits,
		});
	}

	async * waitForClaimGone(namespace: string, name: string, limits: WaitLimits) {
		yield * this.waitForClaim(namespace, name, items => items.length === 0, items => items[0] ? `still there (${items[0].metadata?.deletionTimestamp ? 'Terminating' : items[0].status?.phase})` : 'gone', `PersistentVolumeClaim ${namespace}/${name} to be gone`, limits);
	}

	async * waitForClaimBound(namespace: string, name: string, limits: WaitLimits) {
		const items = yield * this.waitForClaim(namespace, name, items => items[0]?.status?.phase === 'Bound' && !items[0]?.metadata?.deletionTimestamp, items => items[0] ? `phase ${items[0].status?.phase ?? 'Pending'}` : 'not there', `PersistentVolumeClaim ${namespace}/${name} to be Bound`, limits);
		return items[0]!;
	}

	private async * waitForClaim(namespace: string, name: string, satisfied: (items: V1PersistentVolumeClaim[]) => boolean, describe: (items: V1PersistentVolumeClaim[]) => string, what: string, limits: WaitLimits) {
		return yield * waitFor<V1PersistentVolumeClaim>({
			config: this.config,
			path: `/api/v1/namespaces/${namespace}/persistentvolumeclaims`,
			fieldSelector: `metadata.name=${name}`,
			list: async () => {
				const list = await this.call(`list persistentvolumeclaims in ${namespace}`, async () => this.core.listNamespacedPersistentVolumeClaim({namespace, fieldSelector: `metadata.name=${name}`}));
				return {items: list.items, resourceVersion: list.metadata?.resourceVersion};
			},
			satisfied,
			describe,
			what,
			object: `PersistentVolumeClaim/${name}`,
			events: {namespace, names: [name]},
			...limits,
		});
	}

	private wrap(what: string, error: unknown): MutationError {
		if (error instanceof MutationError) {
			return error;
		}

		const {status, message, reason} = serverMessage(error);
		const prefix = status === 403 ? 'forbidden by RBAC: ' : '';
		return new MutationError(`${prefix}${what} failed${status ? ` (${status})` : ''}: ${message ?? 'no answer'}`, {status, reason, cause: error});
	}

	private async call<T>(what: string, request: () => Promise<T>): Promise<T> {
		try {
			return await request();
		} catch (error) {
			throw this.wrap(what, error);
		}
	}

	private async optional<T>(what: string, request: () => Promise<T>): Promise<T | undefined> {
		try {
			return await request();
		} catch (error) {
			if (serverMessage(error).status === 404) {
				return undefined;
			}

			throw this.wrap(what, error);
		}
	}
}
