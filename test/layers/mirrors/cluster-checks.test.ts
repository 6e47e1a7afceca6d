import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {V1CronJob, V1Job} from '@kubernetes/client-node';
import {checkNoInitJobRunning, holdBackupCronJob, initJobsInTheWay, type MirrorCluster} from '../../../source/layers/mirrors/cluster-checks.js';
import {UserError} from '../../../source/errors.js';

const job = (name: string, status: V1Job['status'], extra: Partial<V1Job> = {}): V1Job => ({metadata: {name}, spec: {template: {spec: {containers: [{name: 'c', command: ['/bin/sh', '-c', 'echo hi']}]}}}, status, ...extra});
const complete = {succeeded: 1, conditions: [{type: 'Complete', status: 'True'}]};

test('only unfinished bucket-init Jobs stand in the way', () => {
	const jobs = [
		job('ilum-objectstorage-create-buckets', complete),
		job('ilum-objectstorage-create-buckets-2', {active: 1}),
		job('spark-etl', {active: 1}),
		job('hook', {}, {spec: {template: {spec: {containers: [{name: 'mc', command: ['/bin/sh', '-c', 'mc mb --ignore-existing ilum/ilum-data']}]}}}}),
		job('ilum-objectstorage-backup-123', {active: 1}, {metadata: {name: 'ilum-objectstorage-backup-123', ownerReferences: [{kind: 'CronJob', name: 'ilum-objectstorage-backup', apiVersion: 'batch/v1', uid: 'x'}]}}),
	];
	assert.deepEqual(initJobsInTheWay(jobs).map(item => item.metadata?.name), ['ilum-objectstorage-create-buckets-2', 'hook']);
});

function fakeCluster(cronJob: V1CronJob | undefined, jobs: V1Job[] = []) {
	const patches: boolean[] = [];
	const cluster: MirrorCluster = {
		listJobs: async () => jobs,
		getCronJob: async () => cronJob,
		async setCronJobSuspended(_namespace, _name, suspend) {
			patches.push(suspend);
		},
	};
	return {cluster, patches};
}

test('an active backup CronJob is suspended and resumed once; a suspended one is left alone', async () => {
	const active = fakeCluster({metadata: {name: 'ilum-objectstorage-backup'}, spec: {schedule: '0 * * * *', suspend: false, jobTemplate: {}}});
	const hold = await holdBackupCronJob(active.cluster, 'ilum');
	assert.equal(hold.suspendedByUs, true);
	await hold.release();
	await hold.release();
	assert.deepEqual(active.patches, [true, false]);

	const suspended = fakeCluster({metadata: {name: 'ilum-objectstorage-backup'}, spec: {schedule: '0 * * * *', suspend: true, jobTemplate: {}}});
	const untouched = await holdBackupCronJob(suspended.cluster, 'ilum');
	await untouched.release();
	assert.equal(untouched.suspendedByUs, false);
	assert.deepEqual(suspended.patches, []);

	const none = await holdBackupCronJob(fakeCluster(undefined).cluster, 'ilum');
	assert.equal(none.found, false);
});

test('checkNoInitJobRunning refuses with exit 3 and names the Job', async () => {
	const {cluster} = fakeCluster(undefined, [job('ilum-objectstorage-create-buckets', {active: 1})]);
	await assert.rejects(checkNoInitJobRunning(cluster, 'ilum'), (error: unknown) => error instanceof UserError && error.exitCode === 3 && /ilum\/ilum-objectstorage-create-buckets/.test(error.message));
	await checkNoInitJobRunning(fakeCluster(undefined, [job('ilum-objectstorage-create-buckets', complete)]).cluster, 'ilum');
});
