import {defaultBuckets} from './objects.js';

/**
The names and manifests of the Ilum installation the drill world models. Everything a later
scenario or test needs to refer to is exported from here.
*/
export const ilum = {
	namespace: 'ilum',
	statefulSet: 'ilum-objectstorage',
	service: 'ilum-objectstorage',
	headlessService: 'ilum-objectstorage-headless',
	claim: 'data-ilum-objectstorage-0',
	pod: 'ilum-objectstorage-0',
	providerLabel: {'app.kubernetes.io/name': 'rustfs'},
	selector: {'app.kubernetes.io/name': 'rustfs', 'app.kubernetes.io/instance': 'ilum'},
	credentialsSecret: 'ilum-objectstorage-credentials',
	backupSecret: 'ilum-backup-credentials',
	storageClass: 'gp3',
	csiDriver: 'ebs.csi.aws.com',
	snapshotClass: 'ilum-objectstorage-snapshots',
	backupCronJob: 'ilum-objectstorage-backup',
	bucketInitJob: 'ilum-objectstorage-create-buckets',
	volumeSize: '50Gi',
	providerImage: 'rustfs/rustfs:1.0.0-alpha.67',
	mcImage: 'minio/mc:RELEASE.2025-04-16T18-13-26Z',
	buckets: defaultBuckets,
} as const;

/** The runbook's backup loop: every default bucket mirrored to the external target. */
export const backupScript = `set -e
mc alias set src http://ilum-objectstorage:9000 "$SRC_ACCESS_KEY" "$SRC_SECRET_KEY"
mc alias set backup "$BACKUP_ENDPOINT" "$BACKUP_ACCESS_KEY" "$BACKUP_SECRET_KEY"
for bucket in ${ilum.buckets.join(' ')}; do
  mc mirror --preserve --remove "src/$bucket" "backup/$bucket"
done
`;

/** The chart's bucket-init Job script (mc mb --ignore-existing per default bucket). */
export const bucketInitScript = `set -e
mc alias set ilum http://ilum-objectstorage:9000 "$ACCESS_KEY" "$SECRET_KEY"
for bucket in ${ilum.buckets.join(' ')}; do
  mc mb --ignore-existing "ilum/$bucket"
done
`;

const secretEnv = (name: string, secret: string, key: string) => ({name, valueFrom: {secretKeyRef: {name: secret, key}}});

export function backupJobTemplate(): any {
	return {
		metadata: {labels: {'app.kubernetes.io/name': 'ilum-objectstorage-backup', 'app.kubernetes.io/part-of': 'ilum'}},
		spec: {
			backoffLimit: 2,
			template: {
				metadata: {labels: {'app.kubernetes.io/name': 'ilum-objectstorage-backup'}},
				spec: {
					restartPolicy: 'Never',
					containers: [{
						name: 'mc',
						image: ilum.mcImage,
						command: ['/bin/sh', '-c'],
						args: [backupScript],
						env: [
							secretEnv('SRC_ACCESS_KEY', ilum.credentialsSecret, 'access-key'),
							secretEnv('SRC_SECRET_KEY', ilum.credentialsSecret, 'secret-key'),
							secretEnv('BACKUP_ENDPOINT', ilum.backupSecret, 'endpoint'),
							secretEnv('BACKUP_ACCESS_KEY', ilum.backupSecret, 'access-key'),
							secretEnv('BACKUP_SECRET_KEY', ilum.backupSecret, 'secret-key'),
						],
						resources: {requests: {cpu: '100m', memory: '128Mi'}},
					}],
				},
			},
		},
	};
}

export function backupCronJob(): any {
	return {
		apiVersion: 'batch/v1',
		kind: 'CronJob',
		metadata: {name: ilum.backupCronJob, namespace: ilum.namespace, labels: {'app.kubernetes.io/name': 'ilum-objectstorage-backup', 'app.kubernetes.io/part-of': 'ilum'}},
		spec: {
			schedule: '0 * * * *',
			concurrencyPolicy: 'Forbid',
			suspend: false,
			successfulJobsHistoryLimit: 3,
			failedJobsHistoryLimit: 1,
			jobTemplate: backupJobTemplate(),
		},
	};
}

/** The bucket-init Job as the chart's hook creates it (a drill may run it again). */
export function bucketInitJob(name: string = ilum.bucketInitJob): any {
	return {
		apiVersion: 'batch/v1',
		kind: 'Job',
		metadata: {name, namespace: ilum.namespace, labels: {'app.kubernetes.io/name': 'ilum-objectstorage-init', 'app.kubernetes.io/part-of': 'ilum'}, annotations: {'helm.sh/hook': 'post-install,post-upgrade', 'helm.sh/hook-delete-policy': 'before-hook-creation'}},
		spec: {
			backoffLimit: 6,
			template: {
				metadata: {labels: {'app.kubernetes.io/name': 'ilum-objectstorage-init'}},
				spec: {
					restartPolicy: 'OnFailure',
					containers: [{
						name: 'create-buckets',
						image: ilum.mcImage,
						command: ['/bin/sh', '-c', bucketInitScript],
						env: [secretEnv('ACCESS_KEY', ilum.credentialsSecret, 'access-key'), secretEnv('SECRET_KEY', ilum.credentialsSecret, 'secret-key')],
					}],
				},
			},
		},
	};
}

export function providerStatefulSet(): any {
	return {
		apiVersion: 'apps/v1',
		kind: 'StatefulSet',
		metadata: {name: ilum.statefulSet, namespace: ilum.namespace, labels: {...ilum.selector, 'app.kubernetes.io/component': 'object-storage', 'app.kubernetes.io/part-of': 'ilum', 'helm.sh/chart': 'ilum-objectstorage-6.5.0'}},
		spec: {
			replicas: 1,
			serviceName: ilum.headlessService,
			selector: {matchLabels: ilum.selector},
			template: {
				metadata: {labels: {...ilum.selector, 'app.kubernetes.io/component': 'object-storage'}},
				spec: {
					containers: [{
						name: 'rustfs',
						image: ilum.providerImage,
						args: ['/data'],
						ports: [{name: 's3', containerPort: 9000, protocol: 'TCP'}, {name: 'console', containerPort: 9001, protocol: 'TCP'}],
						env: [
							secretEnv('RUSTFS_ACCESS_KEY', ilum.credentialsSecret, 'access-key'),
							secretEnv('RUSTFS_SECRET_KEY', ilum.credentialsSecret, 'secret-key'),
							{name: 'RUSTFS_ADDRESS', value: ':9000'},
							{name: 'RUSTFS_CONSOLE_ENABLE', value: 'true'},
						],
						readinessProbe: {httpGet: {path: '/health', port: 9000}, periodSeconds: 5},
						volumeMounts: [{name: 'data', mountPath: '/data'}],
						resources: {requests: {cpu: '250m', memory: '512Mi'}},
					}],
				},
			},
			volumeClaimTemplates: [{
				metadata: {name: 'data', labels: {...ilum.providerLabel}},
				spec: {accessModes: ['ReadWriteOnce'], storageClassName: ilum.storageClass, resources: {requests: {storage: ilum.volumeSize}}},
			}],
		},
	};
}
