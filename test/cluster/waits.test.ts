import {after, before, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {CoreV1Api, type V1PersistentVolumeClaim} from '@kubernetes/client-node';
import {KubeVolumeRestoreCluster} from '../../source/cluster/mutations.js';
import {waitFor} from '../../source/cluster/waits.js';
import {loadKubeConfig} from '../../source/config/kube.js';
import {startKubeApi, writeKubeconfig, type KubeApi} from '../../source/drill/kube-api/server.js';
import {ObjectStore} from '../../source/drill/kube-api/store.js';
import type {StepProgress} from '../../source/restore/plan.js';

/* The restore's waits against the simulated API server: watches, not sleeps. */

let store: ObjectStore;
let api: KubeApi;
let directory: string;
let cluster: KubeVolumeRestoreCluster;

before(async () => {
	store = new ObjectStore();
	store.create('namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'ilum'}});
	api = await startKubeApi({store, host: '127.0.0.1', port: 0});
	directory = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-waits-'));
	const file = writeKubeconfig(path.join(directory, 'kubeconfig'), {server: api.url, namespace: 'ilum'});
	cluster = new KubeVolumeRestoreCluster(loadKubeConfig({kubeconfig: file}));
});

after(async () => {
	await api.close();
	fs.rmSync(directory, {recursive: true, force: true});
});

const claim = (name: string): any => ({apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {name, namespace: 'ilum'}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '1Gi'}}}, status: {phase: 'Pending'}});

async function consume<T>(generator: AsyncGenerator<StepProgress, T>, onProgress?: (progress: StepProgress) => void): Promise<{value: T; progress: StepProgress[]}> {
	const progress: StepProgress[] = [];
	for (;;) {
		// eslint-disable-next-line no-await-in-loop
		const next = await generator.next();
		if (next.done) {
			return {value: next.value, progress};
		}

		progress.push(next.value);
		onProgress?.(next.value);
	}
}

test('a claim wait ends when the watch shows it Bound, and reports the events of the claim meanwhile', async () => {
	store.create('persistentvolumeclaims', claim('c1'), {keepStatus: true});
	const signal = new AbortController().signal;
	const {value, progress} = await consume(cluster.waitForClaimBound('ilum', 'c1', {timeoutMs: 60_000, signal}), item => {
		if (item.message === 'phase Pending') {
			store.create('events', {apiVersion: 'v1', kind: 'Event', metadata: {name: 'c1.1', namespace: 'ilum'}, involvedObject: {kind: 'PersistentVolumeClaim', name: 'c1', namespace: 'ilum'}, reason: 'ProvisioningSucceeded', message: 'provisioned', type: 'Normal'} as any);
			setTimeout(() => {
				store.mutate('persistentvolumeclaims', 'ilum', 'c1', object => {
					(object as any).status = {phase: 'Bound'};
				}, {subresource: 'status'});
			}, 300);
		}
	});
	assert.equal((value as V1PersistentVolumeClaim).status?.phase, 'Bound');
	assert.equal(progress[0]?.message, 'phase Pending');
	assert.ok(progress.some(item => item.kind === 'event' && item.message === 'ProvisioningSucceeded: provisioned' && item.object === 'PersistentVolumeClaim/c1'), JSON.stringify(progress));
});

test('a wait that sees nothing move says so, then times out with what it last saw', async () => {
	store.create('persistentvolumeclaims', claim('c2'), {keepStatus: true});
	const config = loadKubeConfig({kubeconfig: path.join(directory, 'kubeconfig')});
	const core = config.makeApiClient(CoreV1Api);
	const progress: StepProgress[] = [];
	await assert.rejects(consume(waitFor<V1PersistentVolumeClaim>({
		config,
		path: '/api/v1/namespaces/ilum/persistentvolumeclaims',
		fieldSelector: 'metadata.name=c2',
		list: async () => {
			const list = await core.listNamespacedPersistentVolumeClaim({namespace: 'ilum', fieldSelector: 'metadata.name=c2'});
			return {items: list.items, resourceVersion: list.metadata?.resourceVersion};
		},
		satisfied: items => items[0]?.status?.phase === 'Bound',
		describe: items => `phase ${items[0]?.status?.phase ?? '?'}`,
		what: 'c2 to be Bound',
		timeoutMs: 2500,
		quietAfterMs: 600,
		signal: new AbortController().signal,
	}), item => progress.push(item)), /timed out after 3 s waiting for c2 to be Bound \(last seen: phase Pending\)/);
	assert.ok(progress.some(item => item.kind === 'warning' && /nothing moved for \d+ s/.test(item.message)), JSON.stringify(progress));
});

test('pods gone: the wait ends when the last pod is deleted; a stop request ends a wait at once', async () => {
	store.create('pods', {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'p-0', namespace: 'ilum', labels: {app: 'p'}}, spec: {containers: [{name: 'c', image: 'i'}]}} as any);
	const signal = new AbortController().signal;
	const done = consume(cluster.waitForPodsGone('ilum', 'app=p', {timeoutMs: 60_000, signal, names: ['p-0']}), item => {
		if (/1 pod\(s\) left/.test(item.message)) {
			setTimeout(() => store.delete('pods', 'ilum', 'p-0', {gracePeriodSeconds: 0} as any), 200);
		}
	});
	const {progress} = await done;
	assert.match(progress[0]!.message, /1 pod\(s\) left: p-0/);

	const controller = new AbortController();
	store.create('persistentvolumeclaims', claim('c3'), {keepStatus: true});
	const stopped = consume(cluster.waitForClaimBound('ilum', 'c3', {timeoutMs: 60_000, signal: controller.signal}), () => {
		controller.abort();
	});
	await assert.rejects(stopped, /stopped while waiting for PersistentVolumeClaim ilum\/c3 to be Bound/);
});

test('mutations over the API: merge patches for suspend, scale (subresource), reclaim policy and claimRef; delete is idempotent', async () => {
	store.create('persistentvolumeclaims', claim('c4'), {keepStatus: true});
	await cluster.deletePersistentVolumeClaim('ilum', 'c4');
	await cluster.deletePersistentVolumeClaim('ilum', 'c4');
	assert.equal(await cluster.getPersistentVolumeClaim('ilum', 'c4'), undefined);
	const writes = api.requests().filter(request => request.verb === 'delete');
	assert.equal(writes.at(-1)?.code, 404, 'the second delete found nothing and that is fine');
	await assert.rejects(cluster.scaleStatefulSet('ilum', 'nope', 0), /patch statefulset ilum\/nope\/scale failed \(404\)/);

	store.create('cronjobs', {apiVersion: 'batch/v1', kind: 'CronJob', metadata: {name: 'backup', namespace: 'ilum'}, spec: {schedule: '0 * * * *', suspend: false, jobTemplate: {spec: {template: {spec: {containers: [{name: 'c', image: 'i'}], restartPolicy: 'Never'}}}}}} as any);
	await cluster.setCronJobSuspended('ilum', 'backup', true);
	assert.equal((store.get('cronjobs', 'ilum', 'backup') as any).spec.suspend, true);
	assert.equal((store.get('cronjobs', 'ilum', 'backup') as any).spec.schedule, '0 * * * *', 'a merge patch keeps the rest');
	store.create('statefulsets', {apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name: 's', namespace: 'ilum'}, spec: {replicas: 1, serviceName: 's', selector: {matchLabels: {app: 's'}}, template: {metadata: {labels: {app: 's'}}, spec: {containers: [{name: 'c', image: 'i'}]}}}} as any);
	await cluster.scaleStatefulSet('ilum', 's', 0);
	assert.equal((store.get('statefulsets', 'ilum', 's') as any).spec.replicas, 0);
	assert.ok(api.requests().some(request => request.verb === 'patch' && request.resource === 'statefulsets' && request.subresource === 'scale'), 'through the scale subresource');
	store.create('persistentvolumes', {apiVersion: 'v1', kind: 'PersistentVolume', metadata: {name: 'pv1'}, spec: {capacity: {storage: '1Gi'}, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Delete', claimRef: {name: 'x', namespace: 'ilum'}, csi: {driver: 'd', volumeHandle: 'h'}}} as any);
	await cluster.setReclaimPolicy('pv1', 'Retain');
	await cluster.clearClaimRef('pv1');
	const pv = store.get('persistentvolumes', undefined, 'pv1') as any;
	assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
	assert.equal(pv.spec.claimRef, undefined);
	assert.equal(pv.spec.csi.driver, 'd');
});

test('a wait rides out an API server blip (reads failing for a while) and still sees the change', async () => {
	store.create('persistentvolumeclaims', claim('c5'), {keepStatus: true});
	const config = loadKubeConfig({kubeconfig: path.join(directory, 'kubeconfig')});
	const core = config.makeApiClient(CoreV1Api);
	let failing = 3;
	const progress: StepProgress[] = [];
	const {value} = await consume(waitFor<V1PersistentVolumeClaim>({
		config,
		path: '/api/v1/namespaces/ilum/persistentvolumeclaims',
		fieldSelector: 'metadata.name=c5',
		async list() {
			if (failing > 0) {
				failing--;
				if (failing === 0) {
					store.mutate('persistentvolumeclaims', 'ilum', 'c5', object => {
						(object as any).status = {phase: 'Bound'};
					}, {subresource: 'status'});
				}

				throw Object.assign(new Error('connect ECONNREFUSED'), {status: 503});
			}

			const list = await core.listNamespacedPersistentVolumeClaim({namespace: 'ilum', fieldSelector: 'metadata.name=c5'});
			return {items: list.items, resourceVersion: list.metadata?.resourceVersion};
		},
		satisfied: items => items[0]?.status?.phase === 'Bound',
		describe: items => `phase ${items[0]?.status?.phase ?? '?'}`,
		what: 'c5 to be Bound',
		timeoutMs: 30_000,
		signal: new AbortController().signal,
	}), item => progress.push(item));
	assert.equal(value[0]?.status?.phase, 'Bound');
	assert.equal(progress.filter(item => item.kind === 'warning' && /cannot read .*ECONNREFUSED.*retrying/.test(item.message)).length, 3);
	await assert.rejects(consume(waitFor<V1PersistentVolumeClaim>({
		config, path: '/api/v1/namespaces/ilum/persistentvolumeclaims',
		async list() {
			throw Object.assign(new Error('forbidden'), {status: 403});
		},
		satisfied: () => false, describe: () => '', what: 'x', timeoutMs: 30_000, signal: new AbortController().signal,
	})), /forbidden/);
});
