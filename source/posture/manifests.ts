/**
The manifests the posture's fixes install, as the recovery runbook gives them, parameterised.
Pure: tested as data, applied by `fixes.ts`.
*/
import type {V1CronJob, V1Role, V1RoleBinding, V1ServiceAccount} from '@kubernetes/client-node';
import {snapshotScheduleLabel} from './assess.js';

export const defaultMirrorImage = 'minio/mc:RELEASE.2025-04-16T18-13-26Z';
export const defaultKubectlImage = 'bitnami/kubectl:1.33';
export const managedBy = {'app.kubernetes.io/managed-by': 'ilum-restore'};

export type MirrorCronOptions = {
	readonly namespace: string;
	readonly name: string;
	readonly schedule: string;
	readonly buckets: readonly string[];
	/** `mc mirror --remove`: the backup follows deletions (a deletion reaches it at the next run). */
	readonly remove: boolean;
	/** The provider's in-cluster S3 address. */
	readonly source: string;
	readonly credentialsSecret: string;
	readonly backupSecret: string;
	readonly image?: string;
};

/** The runbook's mirror loop: every bucket to the external target, with `--preserve`. */
export function mirrorScript(options: Pick<MirrorCronOptions, 'buckets' | 'remove' | 'source'>): string {
	return `set -e
mc alias set src ${options.source} "$SRC_ACCESS_KEY" "$SRC_SECRET_KEY"
mc alias set backup "$BACKUP_ENDPOINT" "$BACKUP_ACCESS_KEY" "$BACKUP_SECRET_KEY"
for bucket in ${options.buckets.join(' ')}; do
  mc mirror --preserve${options.remove ? ' --remove' : ''} "src/$bucket" "backup/$bucket"
done
`;
}

const secretEnv = (name: string, secret: string, key: string) => ({name, valueFrom: {secretKeyRef: {name: secret, key}}});

export function mirrorCronJob(options: MirrorCronOptions): V1CronJob {
	const labels = {'app.kubernetes.io/name': options.name, 'app.kubernetes.io/part-of': 'ilum', ...managedBy};
	return {
		apiVersion: 'batch/v1',
		kind: 'CronJob',
		metadata: {name: options.name, namespace: options.namespace, labels},
		spec: {
			schedule: options.schedule,
			concurrencyPolicy: 'Forbid',
			suspend: false,
			successfulJobsHistoryLimit: 3,
			failedJobsHistoryLimit: 3,
			jobTemplate: {
				metadata: {labels},
				spec: {
					backoffLimit: 2,
					template: {
						metadata: {labels: {'app.kubernetes.io/name': options.name}},
						spec: {
							restartPolicy: 'Never',
							containers: [{
								name: 'mc',
								image: options.image ?? defaultMirrorImage,
								command: ['/bin/sh', '-c'],
								args: [mirrorScript(options)],
								env: [
									secretEnv('SRC_ACCESS_KEY', options.credentialsSecret, 'access-key'),
									secretEnv('SRC_SECRET_KEY', options.credentialsSecret, 'secret-key'),
									secretEnv('BACKUP_ENDPOINT', options.backupSecret, 'endpoint'),
									secretEnv('BACKUP_ACCESS_KEY', options.backupSecret, 'access-key'),
									secretEnv('BACKUP_SECRET_KEY', options.backupSecret, 'secret-key'),
								],
								resources: {requests: {cpu: '100m', memory: '128Mi'}},
							}],
						},
					},
				},
			},
		},
	};
}

export type SnapshotScheduleOptions = {
	readonly namespace: string;
	readonly name: string;
	readonly schedule: string;
	readonly claim: string;
	readonly snapshotClass: string;
	/** How many of the schedule's snapshots to keep (older ones are deleted). */
	readonly retain: number;
	readonly image?: string;
};

/** The shell the schedule's Job runs: take a snapshot, then delete the oldest beyond `retain`. */
export function snapshotScript(options: SnapshotScheduleOptions): string {
	return `set -e
name="${options.claim}-$(date -u +%Y%m%d%H%M%S)"
cat <<EOF | kubectl -n ${options.namespace} create -f -
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: $name
  labels:
    ${snapshotScheduleLabel}: ${options.name}
spec:
  volumeSnapshotClassName: ${options.snapshotClass}
  source:
    persistentVolumeClaimName: ${options.claim}
EOF
kubectl -n ${options.namespace} get volumesnapshot -l ${snapshotScheduleLabel}=${options.name} \\
  --sort-by=.metadata.creationTimestamp -o name | head -n -${options.retain} | xargs -r kubectl -n ${options.namespace} delete
`;
}

/** The schedule and its least-privilege identity: it may only create, list and delete VolumeSnapshots. */
export function snapshotSchedule(options: SnapshotScheduleOptions): {account: V1ServiceAccount; role: V1Role; binding: V1RoleBinding; cronJob: V1CronJob} {
	const labels = {[snapshotScheduleLabel]: options.name, ...managedBy};
	const metadata = {name: options.name, namespace: options.namespace, labels};
	return {
		account: {apiVersion: 'v1', kind: 'ServiceAccount', metadata},
		role: {
			apiVersion: 'rbac.authorization.k8s.io/v1',
			kind: 'Role',
			metadata,
			rules: [{apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: ['create', 'get', 'list', 'delete']}],
		},
		binding: {
			apiVersion: 'rbac.authorization.k8s.io/v1',
			kind: 'RoleBinding',
			metadata,
			roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: options.name},
			subjects: [{kind: 'ServiceAccount', name: options.name, namespace: options.namespace}],
		},
		cronJob: {
			apiVersion: 'batch/v1',
			kind: 'CronJob',
			metadata,
			spec: {
				schedule: options.schedule,
				concurrencyPolicy: 'Forbid',
				successfulJobsHistoryLimit: 3,
				failedJobsHistoryLimit: 3,
				jobTemplate: {
					metadata: {labels},
					spec: {
						backoffLimit: 1,
						template: {
							metadata: {labels},
							spec: {
								serviceAccountName: options.name,
								restartPolicy: 'Never',
								containers: [{name: 'snapshot', image: options.image ?? defaultKubectlImage, command: ['/bin/sh', '-c'], args: [snapshotScript(options)]}],
							},
						},
					},
				},
			},
		},
	};
}

/** `1h` -> `0 * * * *`; whole minutes dividing an hour, whole hours dividing a day, or a day. */
export function cronFor(everyMs: number): string | undefined {
	const minutes = everyMs / 60_000;
	if (Number.isInteger(minutes) && minutes >= 1 && minutes < 60 && 60 % minutes === 0) {
		return `*/${minutes} * * * *`;
	}

	const hours = everyMs / 3_600_000;
	if (hours === 1) {
		return '0 * * * *';
	}

	if (Number.isInteger(hours) && hours > 1 && hours < 24 && 24 % hours === 0) {
		return `0 */${hours} * * *`;
	}

	return hours === 24 ? '0 0 * * *' : undefined;
}
