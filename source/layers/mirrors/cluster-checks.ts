import type {KubeConfig, V1CronJob, V1Job} from '@kubernetes/client-node';
import {refusal} from '../../errors.js';
import type {AccessChecker} from '../../restore/executor.js';

/**
The cluster side of a mirror restore: what must not run while objects are copied back.

- The chart's bucket-init Jobs create the default buckets (`mc mb`, and on some versions policies
  or seed objects). One that has not finished would run over (or race) the restore: refuse.
- The backup CronJob (`ilum-objectstorage-backup`) mirrors the provider to the mirror; with
  `--remove` a run during the restore deletes from the backup what the provider still lacks.
  It is suspended for the duration and resumed at the end if it was active.

The cluster is reached through `MirrorCluster` (the command builds it over engineer G's `Cluster`
reads and engineer H's `VolumeRestoreCluster` mutations; tests pass a fake).
*/
export const backupCronJobName = 'ilum-objectstorage-backup';

export interface MirrorCluster {
	listJobs(namespace: string): Promise<V1Job[]>;
	getCronJob(namespace: string, name: string): Promise<V1CronJob | undefined>;
	setCronJobSuspended(namespace: string, name: string, suspend: boolean): Promise<void>;
}

/** A kube context's `MirrorCluster`, with what a mirror restore also asks of it: who it is, what it may do, its Secrets. */
export type KubeMirrorCluster = MirrorCluster & {
	readonly identity: string;
	readonly checkAccess: AccessChecker;
	readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
};

/** `MirrorCluster` over a kube context: `Cluster`'s reads, `VolumeRestoreCluster`'s mutations (the Kubernetes client is loaded here, when a cluster is used). */
export async function kubeMirrorCluster(config: KubeConfig): Promise<KubeMirrorCluster> {
	const [{createCluster}, {KubeVolumeRestoreCluster}] = await Promise.all([import('../../cluster/cluster.js'), import('../../cluster/mutations.js')]);
	const reads = createCluster(config);
	const writes = new KubeVolumeRestoreCluster(config);
	return {
		identity: writes.identity,
		checkAccess: async items => writes.reviewAccess(items),
		listJobs: async namespace => reads.listJobs(namespace),
		getCronJob: async (namespace, name) => writes.getCronJob(namespace, name),
		setCronJobSuspended: async (namespace, name, suspend) => writes.setCronJobSuspended(namespace, name, suspend),
		readSecret: async (namespace, name) => reads.readSecret(namespace, name).then(secret => secret ? {...secret} : undefined),
	};
}

const initPattern = /bucket|make-?buckets?|\bmb\b|provisioning|objectstorage-init|minio-(post-)?(job|init)|rustfs-init/i;

/** Whether a Job is one of the chart's bucket-init Jobs (by name, or by running `mc mb` / create-bucket). */
export function isBucketInitJob(job: V1Job): boolean {
	if (job.metadata?.ownerReferences?.some(owner => owner.kind === 'CronJob')) {
		return false;
	}

	const name = job.metadata?.name ?? '';
	const containers = job.spec?.template?.spec?.containers ?? [];
	const lines = containers.map(container => [...(container.command ?? []), ...(container.args ?? [])].join(' '));
	return initPattern.test(name) || lines.some(line => /\bmc\b.*\bmb\b|create-bucket|createBucket|make_bucket/.test(line));
}

/** A Job has not reached Complete or Failed. */
export function isUnfinished(job: V1Job): boolean {
	const conditions = job.status?.conditions ?? [];
	const done = conditions.some(condition => (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True');
	return !done && !(job.status?.succeeded && job.status.succeeded >= (job.spec?.completions ?? 1));
}

/** Bucket-init Jobs that would run over a restore (unfinished ones). */
export function initJobsInTheWay(jobs: readonly V1Job[]): V1Job[] {
	return jobs.filter(job => isBucketInitJob(job) && isUnfinished(job));
}

/** Refuses (exit 3) when a bucket-init Job has not finished. */
export async function checkNoInitJobRunning(cluster: MirrorCluster, namespace: string): Promise<void> {
	const blocking = initJobsInTheWay(await cluster.listJobs(namespace));
	if (blocking.length > 0) {
		const names = blocking.map(job => `${namespace}/${job.metadata?.name ?? '?'}`).join(', ');
		throw refusal(`The bucket-init Job ${names} has not finished and would run over the restore`, `wait for it to complete (kubectl -n ${namespace} wait --for=condition=complete job/${blocking[0]!.metadata?.name ?? ''}), then run the restore again`);
	}
}

export type CronJobHold = {
	/** The CronJob was active and is now suspended by us. */
	readonly suspendedByUs: boolean;
	/** The CronJob exists. */
	readonly found: boolean;
	/** Resumes it if we suspended it (idempotent). */
	release(): Promise<void>;
};

/** Suspends the backup CronJob if it is active (merge patch on `spec.suspend`); `release()` resumes it. */
export async function holdBackupCronJob(cluster: MirrorCluster, namespace: string, name = backupCronJobName): Promise<CronJobHold> {
	const cronJob = await cluster.getCronJob(namespace, name);
	if (!cronJob) {
		return {suspendedByUs: false, found: false, async release() {}};
	}

	if (cronJob.spec?.suspend === true) {
		return {suspendedByUs: false, found: true, async release() {}};
	}

	await cluster.setCronJobSuspended(namespace, name, true);
	let released = false;
	return {
		suspendedByUs: true,
		found: true,
		async release() {
			if (!released) {
				released = true;
				await cluster.setCronJobSuspended(namespace, name, false);
			}
		},
	};
}
