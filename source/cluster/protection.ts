import {
	BatchV1Api, CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api,
	type KubeConfig, type V1CronJob, type V1Job, type V1Role, type V1RoleBinding, type V1ServiceAccount,
} from '@kubernetes/client-node';
import type {StepProgress} from '../restore/plan.js';
import {MutationError, snapshotGroup, type WaitLimits} from './mutations.js';
import {waitFor} from './waits.js';

/**
The writes that set protection up (the posture's fix actions): a VolumeSnapshotClass, the mirror
CronJob and its Secret, a snapshot schedule with its least-privilege ServiceAccount, Role and
RoleBinding, a Job run from a CronJob. Each `ensure*` creates or replaces, so running a fix again
is harmless. Restore-specific writes are in `mutations.ts`.
*/
export interface ProtectionWrites {
	createVolumeSnapshotClass(object: {name: string; driver: string; deletionPolicy: 'Retain' | 'Delete'; labels?: Record<string, string>}): Promise<void>;
	getCronJob(namespace: string, name: string): Promise<V1CronJob | undefined>;
	ensureCronJob(namespace: string, cronJob: V1CronJob): Promise<void>;
	/** Creates or replaces an Opaque Secret from string data. The values are never logged. */
	ensureSecret(namespace: string, name: string, data: Readonly<Record<string, string>>, labels?: Record<string, string>): Promise<void>;
	ensureServiceAccount(namespace: string, account: V1ServiceAccount): Promise<void>;
	ensureRole(namespace: string, role: V1Role): Promise<void>;
	ensureRoleBinding(namespace: string, binding: V1RoleBinding): Promise<void>;
	getJob(namespace: string, name: string): Promise<V1Job | undefined>;
	/** `kubectl create job --from=cronjob/<cronJob> <name>`. */
	createJobFromCronJob(namespace: string, cronJob: string, name: string): Promise<V1Job>;
	/** Waits until the Job is Complete or Failed; returns which. */
	waitForJob(namespace: string, name: string, limits: WaitLimits): AsyncGenerator<StepProgress, 'Complete' | 'Failed'>;
}

const statusOf = (error: unknown) => typeof (error as {code?: unknown})?.code === 'number' ? (error as {code: number}).code : undefined;

function fail(action: string, error: unknown): never {
	const status = statusOf(error);
	let body = (error as {body?: unknown})?.body;
	if (typeof body === 'string') {
		try {
			body = JSON.parse(body);
		} catch {}
	}

	const message = (body as {message?: string})?.message ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
	throw new MutationError(`${action}: ${message}`, {status, reason: (body as {reason?: string})?.reason, cause: error});
}

export class KubeProtectionWrites implements ProtectionWrites {
	private readonly config: KubeConfig;
	private readonly core: CoreV1Api;
	private readonly batch: BatchV1Api;
	private readonly custom: CustomObjectsApi;
	private readonly rbac: RbacAuthorizationV1Api;

	constructor(config: KubeConfig) {
		this.config = config;
		this.core = config.makeApiClient(CoreV1Api);
		this.batch = config.makeApiClient(BatchV1Api);
		this.custom = config.makeApiClient(CustomObjectsApi);
		this.rbac = config.makeApiClient(RbacAuthorizationV1Api);
	}

	async createVolumeSnapshotClass(object: {name: string; driver: string; deletionPolicy: 'Retain' | 'Delete'; labels?: Record<string, string>}) {
		const body = {apiVersion: `${snapshotGroup}/v1`, kind: 'VolumeSnapshotClass', metadata: {name: object.name, ...(object.labels ? {labels: object.labels} : {})}, driver: object.driver, deletionPolicy: object.deletionPolicy};
		try {
			await this.custom.createClusterCustomObject({group: snapshotGroup, version: 'v1', plural: 'volumesnapshotclasses', body});
		} catch (error) {
			if (statusOf(error) !== 409) {
				fail(`create volumesnapshotclass ${object.name}`, error);
			}
		}
	}

	async getCronJob(namespace: string, name: string) {
		return this.optional(async () => this.batch.readNamespacedCronJob({namespace, name}), `get cronjob ${namespace}/${name}`);
	}

	async ensureCronJob(namespace: string, cronJob: V1CronJob) {
		const name = cronJob.metadata!.name!;
		await this.ensure(`cronjob ${namespace}/${name}`, async () => this.batch.readNamespacedCronJob({namespace, name}), async () => this.batch.createNamespacedCronJob({namespace, body: cronJob}), async current => this.batch.replaceNamespacedCronJob({namespace, name, body: {...cronJob, metadata: {...cronJob.metadata, resourceVersion: current.metadata?.resourceVersion}}}));
	}

	async ensureSecret(namespace: string, name: string, data: Readonly<Record<string, string>>, labels?: Record<string, string>) {
		const body = {apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: {name, namespace, ...(labels ? {labels} : {})}, data: Object.fromEntries(Object.entries(data).map(([key, value]) => [key, Buffer.from(value).toString('base64')]))};
		await this.ensure(`secret ${namespace}/${name}`, async () => this.core.readNamespacedSecret({namespace, name}), async () => this.core.createNamespacedSecret({namespace, body}), async current => this.core.replaceNamespacedSecret({namespace, name, body: {...body, metadata: {...body.metadata, resourceVersion: current.metadata?.resourceVersion}}}));
	}

	async ensureServiceAccount(namespace: string, account: V1ServiceAccount) {
		const name = account.metadata!.name!;
		await this.ensure(`serviceaccount ${namespace}/${name}`, async () => this.core.readNamespacedServiceAccount({namespace, name}), async () => this.core.createNamespacedServiceAccount({namespace, body: account}), async () => undefined);
	}

	async ensureRole(namespace: string, role: V1Role) {
		const name = role.metadata!.name!;
		await this.ensure(`role ${namespace}/${name}`, async () => this.rbac.readNamespacedRole({namespace, name}), async () => this.rbac.createNamespacedRole({namespace, body: role}), async current => this.rbac.replaceNamespacedRole({namespace, name, body: {...role, metadata: {...role.metadata, resourceVersion: current.metadata?.resourceVersion}}}));
	}

	async ensureRoleBinding(namespace: string, binding: V1RoleBinding) {
		const name = binding.metadata!.name!;
		await this.ensure(`rolebinding ${namespace}/${name}`, async () => this.rbac.readNamespacedRoleBinding({namespace, name}), async () => this.rbac.createNamespacedRoleBinding({namespace, body: binding}), async current => this.rbac.replaceNamespacedRoleBinding({namespace, name, body: {...binding, metadata: {...binding.metadata, resourceVersion: current.metadata?.resourceVersion}}}));
	}

	async getJob(namespace: string, name: string) {
		return this.optional(async () => this.batch.readNamespacedJob({namespace, name}), `get job ${namespace}/${name}`);
	}

	async createJobFromCronJob(namespace: string, cronJob: string, name: string): Promise<V1Job> {
		const source = await this.getCronJob(namespace, cronJob);
		if (!source) {
			throw new MutationError(`cronjobs.batch "${cronJob}" not found in namespace ${namespace}`, {status: 404});
		}

		const template = source.spec!.jobTemplate;
		const body: V1Job = {
			apiVersion: 'batch/v1',
			kind: 'Job',
			metadata: {
				name,
				namespace,
				labels: template.metadata?.labels,
				annotations: {...template.metadata?.annotations, 'cronjob.kubernetes.io/instantiate': 'manual'},
				ownerReferences: [{apiVersion: 'batch/v1', kind: 'CronJob', name: cronJob, uid: source.metadata!.uid!, controller: true}],
			},
			spec: template.spec,
		};
		try {
			return await this.batch.createNamespacedJob({namespace, body});
		} catch (error) {
			fail(`create job ${namespace}/${name}`, error);
		}
	}

	async * waitForJob(namespace: string, name: string, limits: WaitLimits): AsyncGenerator<StepProgress, 'Complete' | 'Failed'> {
		const condition = (job: V1Job | undefined) => job?.status?.conditions?.find(item => (item.type === 'Complete' || item.type === 'Failed') && item.status === 'True')?.type as 'Complete' | 'Failed' | undefined;
		const items = yield * waitFor<V1Job>({
			config: this.config,
			path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
			fieldSelector: `metadata.name=${name}`,
			list: async () => {
				const list = await this.batch.listNamespacedJob({namespace, fieldSelector: `metadata.name=${name}`});
				return {items: list.items, resourceVersion: list.metadata?.resourceVersion};
			},
			satisfied: jobs => condition(jobs[0]) !== undefined,
			describe: jobs => jobs[0] ? `active ${jobs[0].status?.active ?? 0}, succeeded ${jobs[0].status?.succeeded ?? 0}, failed ${jobs[0].status?.failed ?? 0}` : 'not created yet',
			what: `Job ${namespace}/${name} to finish`,
			object: `Job/${name}`,
			timeoutMs: limits.timeoutMs,
			signal: limits.signal,
		});
		return condition(items[0])!;
	}

	private async optional<T>(call: () => Promise<T>, action: string): Promise<T | undefined> {
		try {
			return await call();
		} catch (error) {
			if (statusOf(error) === 404) {
				return undefined;
			}

			fail(action, error);
		}
	}

	private async ensure<T extends {metadata?: {resourceVersion?: string}}>(what: string, read: () => Promise<T>, create: () => Promise<unknown>, replace: (current: T) => Promise<unknown>): Promise<void> {
		const current = await this.optional(read, `get ${what}`);
		try {
			await (current ? replace(current) : create());
		} catch (error) {
			fail(`${current ? 'replace' : 'create'} ${what}`, error);
		}
	}
}
