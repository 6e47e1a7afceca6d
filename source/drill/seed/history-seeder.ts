import type {KubeObject} from '../kube-api/store.js';
import {formatQuantity} from '../controllers/snapshot.js';
import {parseQuantity} from '../controllers/runtime.js';
import {EventRecorder} from '../controllers/events.js';
import type {VolumeData} from '../s3/volume-data.js';
import {createFinishedJob} from './cluster.js';
import {backupJobTemplate, ilum} from './ilum.js';
import type {SeedContext, Seeder} from './context.js';

/**
The world's past: a VolumeSnapshot of the provider's claim every hour for a day (ready, each
holding the data as it was at that hour), and the backup CronJob's runs (three kept Jobs, the
last one leaving the backup target equal to the provider at that time).
*/
export const historySeeder: Seeder = {
	name: 'history',
	seed(context) {
		const {timeline} = context;
		// Events live an hour on a real cluster: only the newest snapshot and mirror run have theirs.
		const events = new EventRecorder(context.store, context.clock);
		for (const time of timeline.snapshots) {
			context.at(time, async () => {
				await takeSnapshot(context, time, time === timeline.snapshots.at(-1) ? events : undefined);
			});
		}

		for (const time of timeline.mirrorRuns) {
			context.at(time, () => {
				runBackup(context, time, time === timeline.lastMirror, time === timeline.lastMirror ? events : undefined);
			});
		}
	},
};

function stamp(time: number): string {
	const iso = new Date(time).toISOString();
	return `${iso.slice(0, 10).replaceAll('-', '')}-${iso.slice(11, 16).replace(':', '')}`;
}

async function takeSnapshot(context: SeedContext, time: number, events?: EventRecorder): Promise<void> {
	const {store, data, namespace} = context;
	const claim = store.get('persistentvolumeclaims', namespace, ilum.claim)!;
	const pv = store.get('persistentvolumes', undefined, claim.spec.volumeName)!;
	const handle = data.newHandle('snap');
	const copy = await data.snapshot(pv.spec.csi.volumeHandle, handle);
	if (!copy) {
		throw new Error('the provider volume is missing from the data plane');
	}

	const name = `${ilum.statefulSet}-hourly-${stamp(time)}`;
	recordReadySnapshot(context, {name, schedule: 'hourly', time, handle});
	if (events) {
		const bound = store.get('volumesnapshots', namespace, name)!;
		events.record(bound, 'Normal', 'CreatingSnapshot', `Waiting for a snapshot ${namespace}/${name} to be created by the CSI driver.`, 'snapshot-controller');
		events.record(bound, 'Normal', 'SnapshotCreated', `Snapshot ${namespace}/${name} was successfully created by the CSI driver.`, 'snapshot-controller');
		events.record(bound, 'Normal', 'SnapshotReady', `Snapshot ${namespace}/${name} is ready to use.`, 'snapshot-controller');
	}
}

/**
A ready VolumeSnapshot `name` of the provider's claim (label `ilum.cloud/snapshot-schedule:
<schedule>`) with its bound VolumeSnapshotContent over the data copy `handle`, as the snapshot
controller leaves them at `time`. The seeders' (and the benchmark's) way to make the past.
*/
export function recordReadySnapshot(context: SeedContext, options: {name: string; schedule: string; time: number; handle: string}): void {
	const {store, clock, namespace} = context;
	const {name, time, handle} = options;
	const claim = store.get('persistentvolumeclaims', namespace, ilum.claim)!;
	const pv = store.get('persistentvolumes', undefined, claim.spec.volumeName)!;
	const snapshot = store.create('volumesnapshots', {
		apiVersion: 'snapshot.storage.k8s.io/v1',
		kind: 'VolumeSnapshot',
		metadata: {name, namespace, labels: {...ilum.providerLabel, 'ilum.cloud/snapshot-schedule': options.schedule}},
		spec: {volumeSnapshotClassName: ilum.snapshotClass, source: {persistentVolumeClaimName: ilum.claim}},
	});
	const restoreSize = parseQuantity(pv.spec.capacity.storage);
	const contentName = `snapcontent-${snapshot.metadata.uid}`;
	store.create('volumesnapshotcontents', {
		apiVersion: 'snapshot.storage.k8s.io/v1',
		kind: 'VolumeSnapshotContent',
		metadata: {name: contentName, finalizers: ['snapshot.storage.kubernetes.io/volumesnapshotcontent-bound-protection']},
		spec: {
			deletionPolicy: 'Retain',
			driver: ilum.csiDriver,
			source: {volumeHandle: pv.spec.csi.volumeHandle},
			sourceVolumeMode: 'Filesystem',
			volumeSnapshotClassName: ilum.snapshotClass,
			volumeSnapshotRef: {apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', name, namespace, uid: snapshot.metadata.uid, resourceVersion: snapshot.metadata.resourceVersion},
		},
		status: {creationTime: time * 1_000_000, readyToUse: true, restoreSize, snapshotHandle: handle},
	}, {keepStatus: true});
	store.mutate('volumesnapshots', namespace, name, object => {
		object.metadata.finalizers = ['snapshot.storage.kubernetes.io/volumesnapshot-as-source-protection', 'snapshot.storage.kubernetes.io/volumesnapshot-bound-protection'];
		object.status = {boundVolumeSnapshotContentName: contentName, creationTime: clock.iso(time), readyToUse: true, restoreSize: formatQuantity(restoreSize)};
	}, {subresource: 'any'});
}

function runBackup(context: SeedContext, time: number, copyData: boolean, events?: EventRecorder): void {
	const {store, clock, namespace, provider, backup} = context;
	const cronJob = store.get('cronjobs', namespace, ilum.backupCronJob)!;
	const logs: string[] = [];
	let copied = 0;
	let removed = 0;
	if (copyData) {
		({copied, removed} = mirrorVolume(provider.volume, backup.volume, ilum.buckets, time + 20_000));
	}

	logs.push('Added `src` successfully.', 'Added `backup` successfully.', `Total: mirrored ${ilum.buckets.length} buckets (copied ${copied}, removed ${removed})`);
	const template = backupJobTemplate();
	const job = createFinishedJob(context, {
		apiVersion: 'batch/v1',
		kind: 'Job',
		metadata: {
			name: `${ilum.backupCronJob}-${Math.floor(time / 60_000)}`,
			namespace,
			labels: template.metadata.labels,
			annotations: {'batch.kubernetes.io/cronjob-scheduled-timestamp': clock.iso(time)},
		},
		spec: template.spec,
	}, clock.iso(time + 1000), 0, {durationMs: 38_000, logs, owner: cronJob});
	store.mutate('cronjobs', namespace, ilum.backupCronJob, object => {
		object.status = {lastScheduleTime: clock.iso(time), lastSuccessfulTime: job.status.completionTime};
	}, {subresource: 'status'});
	if (events) {
		const pod = store.list('pods', namespace).items.find(item => item.metadata.ownerReferences?.some(reference => reference?.uid === job.metadata.uid));
		events.record(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${job.metadata.name}`, 'cronjob-controller');
		events.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod?.metadata.name ?? job.metadata.name}`, 'job-controller');
		events.record(job, 'Normal', 'Completed', 'Job completed', 'job-controller');
		events.record(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, status: Complete`, 'cronjob-controller');
	}
}

/** What `mc mirror --preserve --remove` leaves on the target, done directly on the disks. */
export function mirrorVolume(source: VolumeData, target: VolumeData, buckets: readonly string[], time: number): {copied: number; removed: number} {
	let copied = 0;
	let removed = 0;
	for (const bucket of buckets) {
		target.ensureBucket(bucket, new Date(time));
		const from = source.objects(bucket);
		const to = target.objects(bucket);
		for (const [key, object] of from) {
			const existing = to.get(key);
			if (!existing || existing.etag !== object.etag || existing.contentLength !== object.contentLength) {
				target.put(bucket, {...object, metadata: {...object.metadata}, lastModified: new Date(time)});
				copied++;
			}
		}

		for (const key of [...to.keys()]) {
			if (!from.has(key)) {
				target.delete(bucket, key);
				removed++;
			}
		}
	}

	return {copied, removed};
}

export type {KubeObject};
