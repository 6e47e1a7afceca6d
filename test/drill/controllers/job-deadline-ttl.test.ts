import {test} from 'node:test';
import assert from 'node:assert/strict';
import {coreSeeders, startDrillWorld, waitFor} from '../../helpers/drill-world.js';

/** The drill's Job controller honours activeDeadlineSeconds (DeadlineExceeded) and ttlSecondsAfterFinished (the Job and its pods go). */
test('Jobs: activeDeadlineSeconds fails a Job that runs too long, ttlSecondsAfterFinished deletes a finished one', {timeout: 180_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const {store} = drill.world;
	const job = (name: string, spec: Record<string, unknown>, container: Record<string, unknown>) => ({
		apiVersion: 'batch/v1',
		kind: 'Job',
		metadata: {name, namespace: 'ilum'},
		spec: {backoffLimit: 0, ...spec, template: {metadata: {labels: {test: name}}, spec: {restartPolicy: 'Never', containers: [{name: 'main', ...container}]}}},
	});
	try {
		// A pod that cannot start (its Secret is missing) keeps the Job active until its deadline.
		store.create('jobs', job('stuck', {activeDeadlineSeconds: 2}, {image: 'busybox:1.36', env: [{name: 'X', valueFrom: {secretKeyRef: {name: 'does-not-exist', key: 'k'}}}]}));
		const failed = await waitFor(() => (store.get('jobs', 'ilum', 'stuck')?.status?.conditions ?? []).find((condition: any) => condition.type === 'Failed' && condition.status === 'True'), 'the deadline', 60_000);
		assert.equal(failed.reason, 'DeadlineExceeded');
		await waitFor(() => store.list('pods', 'ilum').items.every(pod => pod.metadata.labels?.['test'] !== 'stuck'), 'its pod to be stopped', 30_000);

		store.create('jobs', job('short-lived', {ttlSecondsAfterFinished: 1}, {image: 'busybox:1.36'}));
		await waitFor(() => (store.get('jobs', 'ilum', 'short-lived')?.status?.conditions ?? []).some((condition: any) => condition.type === 'Complete'), 'the Job to complete', 60_000);
		await waitFor(() => !store.get('jobs', 'ilum', 'short-lived'), 'the Job to be deleted after its TTL', 30_000);
		await waitFor(() => store.list('pods', 'ilum').items.every(pod => pod.metadata.labels?.['test'] !== 'short-lived'), 'its pods to be collected', 30_000);
	} finally {
		await drill.stop();
	}
});
