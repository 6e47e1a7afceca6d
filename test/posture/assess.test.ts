import {test} from 'node:test';
import assert from 'node:assert/strict';
import type {V1CronJob} from '@kubernetes/client-node';
import {assessPosture, isSnapshotSchedule, parseDuration, type PostureFacts} from '../../source/posture/assess.js';
import type {VolumeInventory} from '../../source/layers/volumes/volume-inventory.js';
import type {BackupCron} from '../../source/layers/mirrors/cron.js';

const now = Date.parse('2026-11-22T12:00:00Z');
const hoursAgo = (hours: number) => new Date(now - hours * 3_600_000).toISOString();
const objective = {rpoMs: 24 * 3_600_000, keepMs: 7 * 86_400_000};

const volumes = (overrides: Partial<VolumeInventory> = {}): VolumeInventory => ({
	namespace: 'ilum',
	provider: {claim: 'data-ilum-objectstorage-0', statefulSet: 'ilum-objectstorage', driver: 'hostpath.csi.k8s.io', foundBy: 'label', capacity: '10Gi'},
	snapshots: [
		{name: 'hourly-1', namespace: 'ilum', ofProvider: true, ready: true, createdAt: hoursAgo(1), restoreSize: '10Gi'},
		{name: 'hourly-2', namespace: 'ilum', ofProvider: true, ready: true, createdAt: hoursAgo(2), restoreSize: '10Gi'},
	],
	checks: [{id: 'snapshot-class', ok: true, title: 'VolumeSnapshotClass for hostpath.csi.k8s.io', detail: 'ilum-objectstorage-snapshots'}],
	errors: [],
	...overrides,
});

const cron = (overrides: Partial<BackupCron> = {}): BackupCron => ({
	name: 'ilum-objectstorage-backup',
	namespace: 'ilum',
	schedule: '0 * * * *',
	suspended: false,
	lastScheduleTime: hoursAgo(0.5),
	lastSuccessfulTime: hoursAgo(0.5),
	remove: true,
	tool: 'mc',
	command: 'mc mirror --preserve --remove',
	buckets: ['ilum-files', 'ilum-data'],
	destination: {endpoint: 'http://backup:9000', secretName: 'ilum-backup-credentials', secretKeys: ['access-key']},
	runs: [],
	...overrides,
});

const schedule: V1CronJob = {metadata: {name: 'snapshots', labels: {'ilum.cloud/snapshot-schedule': 'ilum-objectstorage'}}, spec: {schedule: '0 * * * *', jobTemplate: {spec: {template: {spec: {containers: []}}}}}};

const facts = (overrides: Partial<PostureFacts> = {}): PostureFacts => ({
	namespace: 'ilum',
	now,
	volumes: volumes(),
	mirrors: {cron: cron(), buckets: []},
	tables: {tables: [], errors: []},
	cronJobs: [schedule],
	providerBuckets: ['ilum-data', 'ilum-files'],
	bucketSettings: [],
	secrets: [{name: 'ilum-objectstorage-credentials', exists: true}],
	...overrides,
});

test('a protected installation has no gap, and says what is not covered by any layer', () => {
	const posture = assessPosture(facts(), objective);
	assert.deepEqual(posture.gaps, []);
	assert.equal(posture.ok, true);
	const uncovered = posture.layers.find(layer => layer.layer === 'uncovered')!;
	assert.match(uncovered.uncovered!.map(item => item.item).join('\n'), /ilum-objectstorage-credentials/);
	assert.equal(posture.layers.find(layer => layer.layer === 'volumes')!.rpoMs, 3_600_000);
});

test('an unprotected installation lists exactly its gaps, each with a command', () => {
	const posture = assessPosture(facts({
		volumes: volumes({snapshots: [], checks: [{id: 'snapshot-class', ok: false, title: 'VolumeSnapshotClass for hostpath.csi.k8s.io', detail: 'none of 0 classes uses driver hostpath.csi.k8s.io'}]}),
		mirrors: {cronProblem: 'no backup CronJob in namespace ilum', buckets: []},
		cronJobs: [],
		tables: {tables: [{format: 'delta', ref: 's3://ilum-tables/events', name: 'events', source: 'ilum-tables', versions: 12, points: [hoursAgo(2)], oldestRestorableAt: hoursAgo(2)}], errors: []},
	}), objective);
	assert.deepEqual(posture.gaps.map(gap => gap.id), ['no-snapshot-class', 'no-snapshot-schedule', 'snapshot-stale', 'no-mirror', 'table-short-history:s3://ilum-tables/events']);
	assert.ok(posture.gaps.every(gap => gap.fix.length > 0));
	assert.match(posture.gaps[0]!.fix, /ilum-restore snapshot class create/);
});

test('a young table with every version restorable is not a gap', () => {
	const posture = assessPosture(facts({tables: {tables: [{format: 'iceberg', ref: 'r', name: 'new', source: 'c', versions: 2, points: [hoursAgo(3), hoursAgo(1)], oldestRestorableAt: hoursAgo(3)}], errors: []}}), objective);
	assert.deepEqual(posture.gaps, []);
});

test('a stale, suspended mirror that misses buckets is three gaps', () => {
	const posture = assessPosture(facts({mirrors: {cron: cron({suspended: true, lastSuccessfulTime: hoursAgo(50), buckets: ['ilum-data']}), buckets: []}}), objective);
	assert.deepEqual(posture.gaps.map(gap => gap.id), ['mirror-suspended', 'mirror-stale', 'mirror-uncovered-buckets']);
	assert.match(posture.gaps[2]!.title, /ilum-files/);
});

test('an hourly mirror one hour late is within an objective of one hour (twice its interval)', () => {
	const posture = assessPosture(facts({mirrors: {cron: cron({lastSuccessfulTime: hoursAgo(1.5)}), buckets: []}}), {...objective, rpoMs: 3_600_000});
	assert.equal(posture.gaps.some(gap => gap.id === 'mirror-stale'), false);
});

test('a provider that does not implement bucket settings is reported as such', () => {
	const posture = assessPosture(facts({bucketSettings: [{bucket: 'ilum-data', setting: 'policy', state: 'unsupported', detail: 'NotImplemented'}]}), objective);
	assert.match(posture.layers.find(layer => layer.layer === 'uncovered')!.findings.join('\n'), /does not implement: policy/);
});

test('snapshot schedules are recognised by label or by their command', () => {
	assert.equal(isSnapshotSchedule(schedule), true);
	assert.equal(isSnapshotSchedule({spec: {schedule: '@hourly', jobTemplate: {spec: {template: {spec: {containers: [{name: 'k', command: ['sh', '-c', 'kubectl create -f volumesnapshot.yaml']}]}}}}}}), true);
	assert.equal(isSnapshotSchedule({spec: {schedule: '@hourly', jobTemplate: {spec: {template: {spec: {containers: [{name: 'mc', command: ['mc', 'mirror']}]}}}}}}), false);
});

test('durations read as operators write them', () => {
	assert.equal(parseDuration('90m'), 5_400_000);
	assert.equal(parseDuration('7d'), 604_800_000);
	assert.equal(parseDuration('soon'), undefined);
});

test('a table whose settings keep less history than the objective is a gap, with the setting to change', () => {
	const table = {format: 'iceberg' as const, ref: 'http://catalog', table: 'sales.orders', name: 'sales.orders', source: 'c', versions: 3, points: [hoursAgo(3), hoursAgo(2), hoursAgo(1)], oldestRestorableAt: hoursAgo(3)};
	const short = assessPosture(facts({tables: {tables: [{...table, retention: {keepsMs: 5 * 86_400_000, settings: {'history.expire.max-snapshot-age-ms': '432000000 (default, 5 days)'}}}], errors: []}}), objective);
	assert.deepEqual(short.gaps.map(gap => gap.id), ['table-retention:http://catalog#sales.orders']);
	assert.match(short.gaps[0]!.fix, /history\.expire\.max-snapshot-age-ms'='604800000'/);
	const long = assessPosture(facts({tables: {tables: [{...table, retention: {keepsMs: 30 * 86_400_000, settings: {}}}], errors: []}}), objective);
	assert.deepEqual(long.gaps, []);
});

test('the RTO estimate uses the throughput the last mirror restore measured', async () => {
	const fs = await import('node:fs');
	const os = await import('node:os');
	const path = await import('node:path');
	const {measuredThroughput} = await import('../../source/posture/gather.js');
	const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rto-'));
	try {
		fs.mkdirSync(path.join(stateDir, 'reports'));
		fs.writeFileSync(path.join(stateDir, 'reports', 'mirror-20261122T010000Z.json'), JSON.stringify({kind: 'mirror', outcome: 'succeeded', startedAt: '2026-11-22T01:00:00Z', endedAt: '2026-11-22T01:00:10Z', bytes: 100 * 1024 * 1024}));
		const throughput = measuredThroughput(stateDir);
		assert.equal(throughput?.mirror?.bytesPerSecond, 10 * 1024 * 1024);
		const figures = {objects: 1, bytes: 1024 * 1024 * 1024};
		const posture = assessPosture(facts({throughput, mirrors: {cron: cron(), buckets: [{bucket: 'ilum-data', provider: figures, mirror: figures, missingOnMirror: 0, missingInProvider: 0, changed: 0, done: true, at: now}]}}), objective);
		const mirror = posture.layers.find(layer => layer.layer === 'mirror')!;
		assert.equal(mirror.rtoMs, 102_400);
		assert.match(mirror.rtoBasis!, /1\.0 GiB at 10\.0 MiB\/s measured by the mirror restore/);
	} finally {
		fs.rmSync(stateDir, {recursive: true, force: true});
	}
});
