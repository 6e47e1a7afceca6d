import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {V1CronJob, V1PersistentVolume, V1PersistentVolumeClaim, V1StatefulSet} from '@kubernetes/client-node';
import type {VolumeRestoreCluster, VolumeSnapshotObject} from '../../../source/cluster/mutations.js';
import {buildVolumeRestorePlan, claimSize, quantityBytes, readVolumeRestoreFacts} from '../../../source/layers/volumes/restore-plan.js';
import {bucketSummaryAnnotation, type BucketSummary, type ProviderProbe} from '../../../source/restore/bucket-summary.js';
import {describePlan, executePlan, findUnfinished, type EngineEvent, type RestoreReport} from '../../../source/restore/index.js';

type Buckets = Record<string, {objects: number; bytes: number}>;

/** An in-memory cluster whose controllers act at once: enough to walk the claim swap. */
class FakeCluster implements VolumeRestoreCluster {
	readonly identity = 'tester@fake';
	calls: Record<string, number> = {};
	snapshots = new Map<string, VolumeSnapshotObject & {data: Buckets}>();
	claims = new Map<string, V1PersistentVolumeClaim>();
	volumes = new Map<string, V1PersistentVolume & {data: Buckets}>();
	sts: V1StatefulSet = {metadata: {name: 'ilum-objectstorage', namespace: 'ilum', generation: 1}, spec: {replicas: 1, serviceName: 'x', selector: {matchLabels: {app: 'os'}}, template: {}, volumeClaimTemplates: [{metadata: {name: 'data'}}]}, status: {replicas: 1, readyReplicas: 1, observedGeneration: 1}};
	cron: V1CronJob = {metadata: {name: 'ilum-objectstorage-backup'}, spec: {schedule: '*/5 * * * *', suspend: false, jobTemplate: {}}, status: {}};
	uid = 0;

	constructor() {
		const data = {'ilum-data': {objects: 10, bytes: 1000}, 'ilum-files': {objects: 3, bytes: 30}};
		this.volumes.set('pv-old', {metadata: {name: 'pv-old', uid: 'pv-old'}, spec: {persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'fast', capacity: {storage: '1Gi'}, csi: {driver: 'csi.fake', volumeHandle: 'h'}, claimRef: {name: 'data-ilum-objectstorage-0', namespace: 'ilum', uid: 'claim-old'}}, status: {phase: 'Bound'}, data});
		this.claims.set('data-ilum-objectstorage-0', {metadata: {name: 'data-ilum-objectstorage-0', namespace: 'ilum', uid: 'claim-old', labels: {app: 'os'}}, spec: {accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: {requests: {storage: '1Gi'}}, volumeName: 'pv-old'}, status: {phase: 'Bound'}});
		this.snapshots.set('snap-good', {metadata: {name: 'snap-good', namespace: 'ilum'}, spec: {source: {persistentVolumeClaimName: 'data-ilum-objectstorage-0'}, volumeSnapshotClassName: 'csi-snap'}, status: {readyToUse: true, restoreSize: '2Gi'}, data: {'ilum-data': {objects: 7, bytes: 700}, 'ilum-files': {objects: 3, bytes: 30}}});
	}

	private count(name: string) {
		this.calls[name] = (this.calls[name] ?? 0) + 1;
	}

	private claimData(): Buckets | undefined {
		const claim = this.claims.get('data-ilum-objectstorage-0');
		return claim?.spec?.volumeName ? this.volumes.get(claim.spec.volumeName)?.data : undefined;
	}

	/** The provider: serves the data of the volume bound to its claim, when running. */
	probe: ProviderProbe = {
		endpoint: 'http://fake-s3',
		summarize: async () => {
			const data = (this.sts.status?.readyReplicas ?? 0) > 0 ? this.claimData() : undefined;
			if (!data) {
				throw new Error('connection refused');
			}

			return {takenAt: new Date().toISOString(), buckets: structuredClone(data)};
		},
	};

	async getVolumeSnapshot(_ns: string, name: string) {
		return this.snapshots.get(name);
	}

	async listVolumeSnapshots() {
		return [...this.snapshots.values()];
	}

	async getVolumeSnapshotClass(name: string) {
		return name === 'csi-snap' ? {metadata: {name}, driver: 'csi.fake', deletionPolicy: 'Retain'} : undefined;
	}

	async listVolumeSnapshotClasses() {
		return [{metadata: {name: 'csi-snap'}, driver: 'csi.fake', deletionPolicy: 'Retain'}];
	}

	async getPersistentVolumeClaim(_ns: string, name: string) {
		return this.claims.get(name);
	}

	async getPersistentVolume(name: string) {
		return this.volumes.get(name);
	}

	async getStatefulSet() {
		return this.sts;
	}

	async listStatefulSets() {
		return [this.sts];
	}

	async getCronJob() {
		return this.cron;
	}

	async getStorageClass(name: string) {
		return name === 'fast' ? {metadata: {name}, provisioner: 'csi.fake', volumeBindingMode: 'Immediate'} : undefined;
	}

	async getService() {
		return undefined;
	}

	async listPods() {
		return (this.sts.status?.replicas ?? 0) > 0 ? [{metadata: {name: 'ilum-objectstorage-0'}}] : [];
	}

	async readSecret() {
		return {'access-key': 'a', 'secret-key': 'b'};
	}

	denied = new Set<string>();
	async reviewAccess(items: any[]) {
		return items.map(item => ({item, allowed: !this.denied.has(`${item.verb} ${item.resource}`)}));
	}

	async createVolumeSnapshot(namespace: string, options: {name: string; claim: string; className?: string; annotations?: Record<string, string>}) {
		this.count('create-snapshot');
		const snapshot = {metadata: {name: options.name, namespace, annotations: options.annotations}, spec: {source: {persistentVolumeClaimName: options.claim}, volumeSnapshotClassName: options.className}, status: {readyToUse: true, restoreSize: '1Gi'}, data: structuredClone(this.claimData()!)};
		this.snapshots.set(options.name, snapshot);
		return snapshot;
	}

	async setCronJobSuspended(_ns: string, _name: string, suspend: boolean) {
		this.count(`cron-suspend-${suspend}`);
		this.cron.spec!.suspend = suspend;
	}

	async scaleStatefulSet(_ns: string, _name: string, replicas: number) {
		this.count(`scale-${replicas}`);
		this.sts.spec!.replicas = replicas;
		this.sts.metadata!.generation!++;
		const bound = this.claims.get('data-ilum-objectstorage-0')?.status?.phase === 'Bound';
		this.sts.status = {replicas, readyReplicas: replicas > 0 && bound ? replicas : 0, observedGeneration: this.sts.metadata!.generation};
	}

	async setReclaimPolicy(volume: string, policy: string) {
		this.count('reclaim');
		this.volumes.get(volume)!.spec!.persistentVolumeReclaimPolicy = policy;
	}

	async deletePersistentVolumeClaim(_ns: string, name: string) {
		this.count('delete-claim');
		const claim = this.claims.get(name);
		this.claims.delete(name);
		const volume = claim?.spec?.volumeName ? this.volumes.get(claim.spec.volumeName) : undefined;
		if (volume?.spec?.persistentVolumeReclaimPolicy === 'Delete') {
			this.volumes.delete(volume.metadata!.name!);
		} else if (volume) {
			volume.status = {phase: 'Released'};
		}
	}

	async createPersistentVolumeClaim(_ns: string, claim: V1PersistentVolumeClaim) {
		this.count('create-claim');
		if (claim.spec?.volumeName) {
			const volume = this.volumes.get(claim.spec.volumeName)!;
			assert.equal(volume.spec?.claimRef, undefined, 'the volume was made bindable first');
			const uid = `claim-${++this.uid}`;
			volume.spec!.claimRef = {name: claim.metadata!.name!, namespace: 'ilum', uid};
			volume.status = {phase: 'Bound'};
			const bound = {...claim, metadata: {...claim.metadata, uid}, status: {phase: 'Bound'}};
			this.claims.set(claim.metadata!.name!, bound);
			return bound;
		}

		const source = this.snapshots.get(claim.spec!.dataSource!.name)!;
		assert.ok(quantityBytes(claim.spec!.resources!.requests!['storage']) >= quantityBytes(source.status!.restoreSize), 'size >= restoreSize');
		const pv = `pv-${++this.uid}`;
		this.volumes.set(pv, {metadata: {name: pv}, spec: {persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'fast', csi: {driver: 'csi.fake', volumeHandle: pv}}, status: {phase: 'Bound'}, data: structuredClone(source.data)});
		const created = {...claim, metadata: {...claim.metadata, uid: `claim-${this.uid}`}, spec: {...claim.spec, volumeName: pv}, status: {phase: 'Bound'}};
		this.claims.set(claim.metadata!.name!, created);
		return created;
	}

	async clearClaimRef(volume: string) {
		this.count('release-volume');
		delete this.volumes.get(volume)!.spec!.claimRef;
		this.volumes.get(volume)!.status = {phase: 'Available'};
	}

	async * waitForSnapshotReady(_ns: string, name: string) {
		yield {message: 'ready'};
		return this.snapshots.get(name)!;
	}

	async * waitForPodsGone() {
		assert.equal((await this.listPods()).length, 0);
	}

	async * waitForStatefulSetReady() {
		assert.ok((this.sts.status?.readyReplicas ?? 0) > 0);
	}

	async * waitForClaimGone() {}

	async * waitForClaimBound(_ns: string, name: string) {
		return this.claims.get(name)!;
	}
}

const dirs: string[] = [];
const tempState = () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-volume-'));
	dirs.push(dir);
	return dir;
};

after(() => {
	for (const dir of dirs) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

async function planFor(cluster: FakeCluster, options: {safety?: boolean; now?: Date} = {}) {
	const facts = await readVolumeRestoreFacts(cluster, {namespace: 'ilum', snapshot: 'snap-good', safetySnapshot: options.safety ?? true, s3Endpoint: 'http://fake-s3', now: options.now});
	return {facts, plan: buildVolumeRestorePlan(facts, {cluster, probe: cluster.probe})};
}

async function run(cluster: FakeCluster, stateDir: string, options: {stopAfter?: string; resume?: boolean; facts?: unknown} = {}): Promise<RestoreReport | undefined> {
	const resume = options.resume ? findUnfinished(stateDir, 'volume/ilum/data-ilum-objectstorage-0') : undefined;
	const plan = resume ? buildVolumeRestorePlan(resume.begin.facts as any, {cluster, probe: cluster.probe}) : (await planFor(cluster)).plan;
	const generator = executePlan({plan, stateDir, identity: cluster.identity, confirm: async gate => gate.confirmText, checkAccess: async items => cluster.reviewAccess([...items]), resume});
	for (;;) {
		const next = await generator.next();
		if (next.done) {
			return next.value;
		}

		const event: EngineEvent = next.value;
		if (options.stopAfter && event.type === 'step-end' && event.step === options.stopAfter) {
			await generator.return(undefined as never);
			return undefined;
		}
	}
}

test('the plan: preconditions, then the claim swap in order, one gate typing the claim name', async () => {
	const cluster = new FakeCluster();
	const {plan, facts} = await planFor(cluster, {now: new Date('2026-11-22T01:02:03Z')});
	assert.deepEqual(plan.steps.map(step => step.id), [
		'snapshot-ready', 'snapshot-class', 'storage-class', 'provider-claim', 'no-backup-running',
		'suspend-backup', 'baseline', 'safety-snapshot', 'safety-snapshot-ready', 'scale-down', 'pods-gone', 'retain-old-volume',
		'delete-claim', 'claim-gone', 'create-claim', 'claim-bound', 'scale-up', 'provider-ready', 'verify-data', 'resume-backup',
	]);
	const description = describePlan(plan);
	assert.deepEqual(description.steps.filter(step => step.dangerous).map(step => step.dangerous!.confirmText), ['data-ilum-objectstorage-0']);
	assert.equal(facts.safety.name, 'data-ilum-objectstorage-0-pre-restore-20261122-010203');
	assert.equal(claimSize(facts), '2Gi', 'the claim grows to the restoreSize');
	assert.deepEqual(cluster.calls, {}, 'planning changes nothing');
	assert.ok(JSON.parse(JSON.stringify(description)), 'the description is plain data');
});

test('a full restore: the provider serves the snapshot\'s data, the old volume is retained, the CronJob is active again', async () => {
	const cluster = new FakeCluster();
	const stateDir = tempState();
	const report = await run(cluster, stateDir);
	assert.equal(report?.outcome, 'succeeded', JSON.stringify(report?.reasons));
	assert.deepEqual((await cluster.probe.summarize()).buckets, {'ilum-data': {objects: 7, bytes: 700}, 'ilum-files': {objects: 3, bytes: 30}});
	assert.equal(cluster.volumes.get('pv-old')?.spec?.persistentVolumeReclaimPolicy, 'Retain');
	assert.equal(cluster.volumes.get('pv-old')?.data['ilum-data']!.objects, 10);
	assert.equal(cluster.cron.spec?.suspend, false);
	assert.deepEqual(cluster.calls, {'cron-suspend-true': 1, 'create-snapshot': 1, 'scale-0': 1, reclaim: 1, 'delete-claim': 1, 'create-claim': 1, 'scale-1': 1, 'cron-suspend-false': 1});
	const safety = [...cluster.snapshots.values()].find(snapshot => snapshot.metadata.name!.includes('pre-restore'))!;
	const recorded = JSON.parse(safety.metadata.annotations![bucketSummaryAnnotation]!) as BucketSummary;
	assert.deepEqual(recorded.buckets, {'ilum-data': {objects: 10, bytes: 1000}, 'ilum-files': {objects: 3, bytes: 30}}, 'the safety snapshot records what it holds');
	const verification = (report!.verification as any)['verify-data'];
	assert.equal(verification.reference, 'baseline-only');
	assert.deepEqual(verification.changes, [{bucket: 'ilum-data', before: {objects: 10, bytes: 1000}, after: {objects: 7, bytes: 700}}]);
	assert.match(report!.undo.join('\n'), /restore volume data-ilum-objectstorage-0-pre-restore-.* --yes[\s\S]*pv-old/);
});

test('restoring the safety snapshot (the undo) is verified exactly against the summary recorded on it', async () => {
	const cluster = new FakeCluster();
	await run(cluster, tempState());
	const safety = [...cluster.snapshots.keys()].find(name => name.includes('pre-restore'))!;
	const facts = await readVolumeRestoreFacts(cluster, {namespace: 'ilum', snapshot: safety, safetySnapshot: false, s3Endpoint: 'http://fake-s3'});
	assert.ok(facts.snapshot.summary);
	const generator = executePlan({plan: buildVolumeRestorePlan(facts, {cluster, probe: cluster.probe}), stateDir: tempState(), identity: 'x', confirm: async gate => gate.confirmText});
	let report: RestoreReport | undefined;
	for await (const event of generator) {
		if (event.type === 'report') {
			report = event.report;
		}
	}

	assert.equal(report?.outcome, 'succeeded', JSON.stringify(report?.reasons));
	assert.equal((report!.verification as any)['verify-data'].reference, 'snapshot-summary');
	assert.equal((await cluster.probe.summarize()).buckets['ilum-data']!.objects, 10);
});

test('a snapshot whose recorded summary does not match what the provider serves fails verification', async () => {
	const cluster = new FakeCluster();
	cluster.snapshots.get('snap-good')!.metadata.annotations = {[bucketSummaryAnnotation]: JSON.stringify({takenAt: 'x', buckets: {'ilum-data': {objects: 8, bytes: 800}, 'ilum-files': {objects: 3, bytes: 30}}})};
	const report = await run(cluster, tempState());
	assert.equal(report?.outcome, 'failed');
	assert.match(report!.reasons[0]!, /does not hold what snap-good held: ilum-data: expected 8 objects\/800 B, found 7 objects\/700 B/);
});

for (const boundary of ['suspend-backup', 'baseline', 'safety-snapshot', 'scale-down', 'retain-old-volume', 'delete-claim', 'claim-gone', 'create-claim', 'scale-up', 'verify-data']) {
	test(`stopped after ${boundary} and resumed from the journal: same end state, no mutation repeated`, async () => {
		const cluster = new FakeCluster();
		const stateDir = tempState();
		assert.equal(await run(cluster, stateDir, {stopAfter: boundary}), undefined);
		const report = await run(cluster, stateDir, {resume: true});
		assert.equal(report?.outcome, 'succeeded', JSON.stringify(report?.reasons));
		assert.deepEqual(cluster.calls, {'cron-suspend-true': 1, 'create-snapshot': 1, 'scale-0': 1, reclaim: 1, 'delete-claim': 1, 'create-claim': 1, 'scale-1': 1, 'cron-suspend-false': 1});
		assert.equal(cluster.cron.spec?.suspend, false, 'the CronJob is resumed: the plan kept "it was active" from the journal');
		assert.equal((await cluster.probe.summarize()).buckets['ilum-data']!.objects, 7);
	});
}

test('a running backup Job, a missing class or denied RBAC refuse with every reason before anything changes', async () => {
	const cluster = new FakeCluster();
	cluster.cron.status = {active: [{name: 'ilum-objectstorage-backup-123'}]};
	cluster.snapshots.get('snap-good')!.spec.volumeSnapshotClassName = 'gone';
	cluster.denied.add('delete persistentvolumeclaims');
	const report = await run(cluster, tempState());
	assert.equal(report?.outcome, 'refused');
	const reasons = report!.reasons.join('\n');
	assert.match(reasons, /RBAC does not allow: delete persistentvolumeclaims 'data-ilum-objectstorage-0' in namespace ilum/);
	assert.match(reasons, /VolumeSnapshotClass gone does not exist/);
	assert.match(reasons, /backup Job ilum-objectstorage-backup-123 is running now/);
	assert.deepEqual(cluster.calls, {});
});

test('without a safety snapshot and with the CronJob already suspended, those steps are not in the plan', async () => {
	const cluster = new FakeCluster();
	cluster.cron.spec!.suspend = true;
	const {plan} = await planFor(cluster, {safety: false});
	const ids = plan.steps.map(step => step.id);
	assert.ok(!ids.includes('safety-snapshot') && !ids.includes('suspend-backup') && !ids.includes('resume-backup'));
	assert.match(plan.warnings.join('\n'), /no-safety-snapshot[\s\S]*stays suspended/);
});

test('quantities', () => {
	assert.equal(quantityBytes('1Gi'), 1024 ** 3);
	assert.equal(quantityBytes('1.5G'), 1.5e9);
	assert.equal(quantityBytes('512'), 512);
	assert.ok(Number.isNaN(quantityBytes('lots')));
});

test('the undo by rebinding: --from-volume binds the retained old volume to the claim again', async () => {
	const cluster = new FakeCluster();
	await run(cluster, tempState());
	assert.equal(cluster.volumes.get('pv-old')?.status?.phase, 'Released');
	const facts = await readVolumeRestoreFacts(cluster, {namespace: 'ilum', snapshot: 'pv-old', fromVolume: true, safetySnapshot: true, s3Endpoint: 'http://fake-s3'});
	const plan = buildVolumeRestorePlan(facts, {cluster, probe: cluster.probe});
	const ids = plan.steps.map(step => step.id);
	assert.ok(ids.includes('source-volume') && ids.includes('release-volume') && !ids.includes('snapshot-ready'), ids.join(','));
	assert.ok(ids.indexOf('release-volume') < ids.indexOf('create-claim'));
	assert.equal(facts.safety.className, 'csi-snap', 'the safety snapshot uses the class of the volume\'s driver');
	cluster.calls = {};
	let report: RestoreReport | undefined;
	for await (const event of executePlan({plan, stateDir: tempState(), identity: 'x', confirm: async gate => gate.confirmText})) {
		if (event.type === 'report') {
			report = event.report;
		}
	}

	assert.equal(report?.outcome, 'succeeded', JSON.stringify(report?.reasons));
	assert.equal(cluster.claims.get('data-ilum-objectstorage-0')?.spec?.volumeName, 'pv-old');
	assert.equal((await cluster.probe.summarize()).buckets['ilum-data']!.objects, 10, 'the pre-restore data is served again');
	assert.equal(cluster.calls['release-volume'], 1);
	assert.equal(cluster.calls['create-claim'], 1);
	assert.match(report!.summary, /from PersistentVolume pv-old/);

	const busy = await readVolumeRestoreFacts(cluster, {namespace: 'ilum', snapshot: 'pv-old', fromVolume: true, safetySnapshot: false});
	let refused: RestoreReport | undefined;
	for await (const event of executePlan({plan: buildVolumeRestorePlan(busy, {cluster}), stateDir: tempState(), identity: 'x', confirm: async gate => gate.confirmText})) {
		if (event.type === 'report') {
			refused = event.report;
		}
	}

	assert.equal(refused?.outcome, 'refused');
	assert.match(refused!.reasons.join(), /PersistentVolume pv-old is the one claim data-ilum-objectstorage-0 uses now/);
});

test('a resumed plan takes the endpoint given now, but never gains a baseline step it did not have', async () => {
	const {withEndpoint} = await import('../../../source/layers/volumes/restore-plan.js');
	const cluster = new FakeCluster();
	const {facts} = await planFor(cluster);
	assert.equal(withEndpoint(facts, 'http://moved:9000').s3Endpoint, 'http://moved:9000');
	assert.equal(withEndpoint(facts, undefined).s3Endpoint, 'http://fake-s3');
	const without = await readVolumeRestoreFacts(cluster, {namespace: 'ilum', snapshot: 'snap-good', safetySnapshot: true});
	assert.equal(withEndpoint(without, 'http://moved:9000').s3Endpoint, undefined);
});
