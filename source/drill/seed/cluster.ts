import type {KubeObject} from '../kube-api/store.js';
import {nodeName} from '../controllers/kubelet.js';
import {backupCronJob, bucketInitJob, ilum, providerStatefulSet} from './ilum.js';
import type {SeedContext, Seeder} from './context.js';

const base64 = (text: string) => Buffer.from(text).toString('base64');

/**
The Kubernetes side of the installation as it stands after `helm install`: namespace, storage
(StorageClass, CSIDriver, VolumeSnapshotClass), credentials, Services, the RustFS StatefulSet
with its running pod, bound claim and volume, the backup CronJob and the completed bucket-init Job.
*/
export const clusterSeeder: Seeder = {
	name: 'cluster',
	seed(context) {
		const {store, clock, namespace, provider, backup} = context;
		const now = () => clock.iso();
		store.create('namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'default'}});
		store.create('namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'kube-system'}});
		store.create('namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: namespace, labels: {'kubernetes.io/metadata.name': namespace}}});
		store.create('storageclasses', {
			apiVersion: 'storage.k8s.io/v1',
			kind: 'StorageClass',
			metadata: {name: ilum.storageClass, annotations: {'storageclass.kubernetes.io/is-default-class': 'true'}},
			provisioner: ilum.csiDriver,
			parameters: {type: 'gp3', 'csi.storage.k8s.io/fstype': 'ext4'},
			reclaimPolicy: 'Delete',
			volumeBindingMode: 'WaitForFirstConsumer',
			allowVolumeExpansion: true,
		});
		store.create('csidrivers', {
			apiVersion: 'storage.k8s.io/v1',
			kind: 'CSIDriver',
			metadata: {name: ilum.csiDriver, labels: {'app.kubernetes.io/name': 'aws-ebs-csi-driver'}},
			spec: {attachRequired: true, podInfoOnMount: false, fsGroupPolicy: 'File', volumeLifecycleModes: ['Persistent']},
		});
		store.create('volumesnapshotclasses', {
			apiVersion: 'snapshot.storage.k8s.io/v1',
			kind: 'VolumeSnapshotClass',
			metadata: {name: ilum.snapshotClass, annotations: {'snapshot.storage.kubernetes.io/is-default-class': 'true'}},
			driver: ilum.csiDriver,
			deletionPolicy: 'Retain',
		});
		store.create('secrets', {
			apiVersion: 'v1',
			kind: 'Secret',
			metadata: {name: ilum.credentialsSecret, namespace, labels: {'app.kubernetes.io/part-of': 'ilum'}},
			type: 'Opaque',
			data: {'access-key': base64(provider.accessKeyId), 'secret-key': base64(provider.secretAccessKey)},
		});
		store.create('secrets', {
			apiVersion: 'v1',
			kind: 'Secret',
			metadata: {name: ilum.backupSecret, namespace, labels: {'app.kubernetes.io/part-of': 'ilum'}},
			type: 'Opaque',
			data: {endpoint: base64(backup.url), 'access-key': base64(backup.accessKeyId), 'secret-key': base64(backup.secretAccessKey), region: base64('us-east-1')},
		});
		store.create('services', {
			apiVersion: 'v1',
			kind: 'Service',
			metadata: {name: ilum.service, namespace, labels: {...ilum.selector}, annotations: {'ilum.cloud/object-storage-active-provider': 'rustfs'}},
			spec: {type: 'ClusterIP', selector: {...ilum.selector}, ports: [{name: 's3', port: 9000, targetPort: 9000, protocol: 'TCP'}, {name: 'console', port: 9001, targetPort: 9001, protocol: 'TCP'}]},
		});
		store.create('services', {
			apiVersion: 'v1',
			kind: 'Service',
			metadata: {name: ilum.headlessService, namespace, labels: {...ilum.selector}},
			spec: {clusterIP: 'None', selector: {...ilum.selector}, ports: [{name: 's3', port: 9000, targetPort: 9000, protocol: 'TCP'}]},
		});

		// The provider: StatefulSet, its claim bound to a provisioned volume, its pod Ready.
		const handle = [...context.data.volumes].find(([, volume]) => volume === provider.volume)?.[0];
		if (!handle) {
			throw new Error('the provider volume is not registered in the data plane');
		}

		const sts = store.create('statefulsets', providerStatefulSet());
		const template = sts.spec.volumeClaimTemplates[0];
		const claim = store.create('persistentvolumeclaims', {
			apiVersion: 'v1',
			kind: 'PersistentVolumeClaim',
			metadata: {
				name: ilum.claim,
				namespace,
				labels: {...template.metadata.labels, ...ilum.selector},
				annotations: {'volume.beta.kubernetes.io/storage-provisioner': ilum.csiDriver, 'volume.kubernetes.io/storage-provisioner': ilum.csiDriver, 'volume.kubernetes.io/selected-node': nodeName},
				finalizers: ['kubernetes.io/pvc-protection'],
			},
			spec: structuredClone(template.spec),
		});
		const pvName = `pvc-${claim.metadata.uid}`;
		store.create('persistentvolumes', {
			apiVersion: 'v1',
			kind: 'PersistentVolume',
			metadata: {name: pvName, annotations: {'pv.kubernetes.io/provisioned-by': ilum.csiDriver}, finalizers: ['external-provisioner.volume.kubernetes.io/finalizer', 'kubernetes.io/pv-protection']},
			spec: {
				accessModes: ['ReadWriteOnce'],
				capacity: {storage: ilum.volumeSize},
				claimRef: {apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: ilum.claim, namespace, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion},
				csi: {driver: ilum.csiDriver, fsType: 'ext4', volumeHandle: handle, volumeAttributes: {'storage.kubernetes.io/csiProvisionerIdentity': `${ilum.csiDriver}-drill`}},
				persistentVolumeReclaimPolicy: 'Delete',
				storageClassName: ilum.storageClass,
				volumeMode: 'Filesystem',
				nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: 'topology.kubernetes.io/zone', operator: 'In', values: ['drill-zone-a']}]}]}},
			},
			status: {phase: 'Bound', lastPhaseTransitionTime: now()},
		}, {keepStatus: true});
		store.mutate('persistentvolumeclaims', namespace, ilum.claim, object => {
			object.spec.volumeName = pvName;
			object.metadata.annotations = {...object.metadata.annotations, 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes'};
			object.status = {phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: {storage: ilum.volumeSize}};
		}, {subresource: 'any'});

		const revision = `${ilum.statefulSet}-${sts.metadata.uid.slice(0, 10).replaceAll('-', '')}`;
		const podTemplate = structuredClone(sts.spec.template);
		const pod = store.create('pods', {
			apiVersion: 'v1',
			kind: 'Pod',
			metadata: {
				name: ilum.pod,
				namespace,
				labels: {...podTemplate.metadata.labels, 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': ilum.pod},
				ownerReferences: [owner(sts)],
			},
			spec: {...podTemplate.spec, nodeName, hostname: ilum.pod, subdomain: ilum.headlessService, volumes: [{name: 'data', persistentVolumeClaim: {claimName: ilum.claim}}]},
		});
		store.update('pods', {...pod, status: runningStatus(pod, now(), true)}, {subresource: 'status'});
		store.mutate('statefulsets', namespace, ilum.statefulSet, object => {
			object.status = {observedGeneration: 1, replicas: 1, readyReplicas: 1, currentReplicas: 1, updatedReplicas: 1, availableReplicas: 1, currentRevision: revision, updateRevision: revision, collisionCount: 0};
		}, {subresource: 'status'});

		store.create('cronjobs', backupCronJob());
		createFinishedJob(context, bucketInitJob(), now(), 0, {logs: ['Added `ilum` successfully.', ...ilum.buckets.map(bucket => `Bucket created successfully \`ilum/${bucket}\`.`)]});
	},
};

function owner(object: KubeObject): Record<string, unknown> {
	return {apiVersion: object.apiVersion, kind: object.kind, name: object.metadata.name, uid: object.metadata.uid, controller: true, blockOwnerDeletion: true};
}

export function runningStatus(pod: KubeObject, now: string, ready: boolean): any {
	const container = pod.spec.containers[0];
	const condition = (type: string, status: boolean) => ({type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now});
	return {
		phase: 'Running',
		hostIP: '10.0.0.10',
		podIP: '10.244.0.17',
		startTime: now,
		qosClass: 'Burstable',
		conditions: [condition('PodScheduled', true), condition('Initialized', true), condition('ContainersReady', ready), condition('Ready', ready)],
		containerStatuses: [{name: container.name, image: container.image, imageID: `docker.io/${container.image}@sha256:${'0'.repeat(64)}`, containerID: `containerd://${pod.metadata.uid.replaceAll('-', '')}`, ready, restartCount: 0, started: true, state: {running: {startedAt: now}}, lastState: {}}],
	};
}

/**
A Job that already ran (with its Succeeded or Failed pod), as the job controller would have left
it: used for the install-time bucket init and the past backup runs.
*/
export function createFinishedJob(context: Pick<SeedContext, 'store' | 'clock' | 'rng' | 'data'>, manifest: any, startedAt: string, exitCode: number, options: {durationMs?: number; logs?: string[]; owner?: KubeObject} = {}): KubeObject {
	const {store, clock, rng} = context;
	const finishedAt = clock.iso(Date.parse(startedAt) + (options.durationMs ?? 8000));
	if (options.owner) {
		manifest.metadata.ownerReferences = [owner(options.owner)];
	}

	const job = store.create('jobs', manifest);
	const podName = `${job.metadata.name}-${rng.hex(5).replaceAll(/[aeiou0-3]/g, 'x')}`;
	const template = structuredClone(job.spec.template);
	const pod = store.create('pods', {
		apiVersion: 'v1',
		kind: 'Pod',
		metadata: {name: podName, namespace: job.metadata.namespace, labels: template.metadata?.labels, ownerReferences: [owner(job)]},
		spec: {...template.spec, nodeName},
	});
	const container = pod.spec.containers[0];
	const terminated = {exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt, containerID: `containerd://${pod.metadata.uid.replaceAll('-', '')}`};
	store.update('pods', {
		...pod,
		status: {
			phase: exitCode === 0 ? 'Succeeded' : 'Failed',
			hostIP: '10.0.0.10',
			startTime: startedAt,
			qosClass: 'BestEffort',
			conditions: [
				{type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: startedAt},
				{type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: startedAt},
				{type: 'ContainersReady', status: 'False', reason: 'PodCompleted', lastProbeTime: null, lastTransitionTime: finishedAt},
				{type: 'Ready', status: 'False', reason: 'PodCompleted', lastProbeTime: null, lastTransitionTime: finishedAt},
			],
			containerStatuses: [{name: container.name, image: container.image, imageID: '', ready: false, restartCount: 0, started: false, state: {terminated}, lastState: {}}],
		},
	}, {subresource: 'status'});
	if (options.logs) {
		context.data.podLogs.set(`${pod.metadata.namespace}/${pod.metadata.name}`, [...options.logs]);
	}

	const condition = (type: string, reason: string, message: string) => ({type, status: 'True', reason, message, lastProbeTime: finishedAt, lastTransitionTime: finishedAt});
	store.mutate('jobs', job.metadata.namespace, job.metadata.name, object => {
		object.status = exitCode === 0
			? {startTime: startedAt, completionTime: finishedAt, succeeded: 1, active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {}, conditions: [condition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods'), condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods')]}
			: {startTime: startedAt, failed: 1, active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {}, conditions: [condition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'), condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit')]};
	}, {subresource: 'status'});
	return store.get('jobs', job.metadata.namespace, job.metadata.name)!;
}
