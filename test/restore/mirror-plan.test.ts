import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {V1CronJob, V1Job} from '@kubernetes/client-node';
import type {MirrorCluster} from '../../source/layers/mirrors/cluster-checks.js';
import type {ProgressEvent} from '../../source/layers/mirrors/copy.js';
import {executePlan, type Gate} from '../../source/restore/executor.js';
import {findUnfinished} from '../../source/restore/journal.js';
import {buildMirrorRestorePlan, isMirrorProgress, type MirrorCopyStrategy, type MirrorRestoreFacts} from '../../source/restore/mirror-plan.js';
import {pairsFromFacts, prepareMirrorRestore, readMirrorRestoreFacts} from '../../source/restore/mirror-session.js';
import type {RestoreReport} from '../../source/restore/report.js';
import {seedObjects, startTestS3, type TestS3} from '../helpers/s3-pair.js';

/** A cluster with the backup CronJob (active or not) and some Jobs; records the patches. */
function fakeCluster(options: {suspended: boolean; jobs?: V1Job[]}) {
	const cronJob: V1CronJob = {metadata: {name: 'ilum-objectstorage-backup', namespace: 'ilum'}, spec: {schedule: '0 * * * *', suspend: options.suspended, jobTemplate: {spec: {template: {spec: {containers: []}}}}}};
	const patches: boolean[] = [];
	const cluster: MirrorCluster = {
		listJobs: async () => options.jobs ?? [],
		getCronJob: async () => structuredClone(cronJob),
		async setCronJobSuspended(_namespace, _name, suspend) {
			patches.push(suspend);
			cronJob.spec!.suspend = suspend;
		},
	};
	return {cluster, patches, suspended: () => cronJob.spec!.suspend === true};
}

async function world() {
	const mirror = await startTestS3();
	const provider = await startTestS3();
	await mirror.createBucket('ilum-data');
	await seedObjects(mirror.client, 'ilum-data', {count: 40, size: 300, prefix: 'd/'});
	await provider.createBucket('ilum-data');
	await seedObjects(provider.client, 'ilum-data', {count: 10, size: 300, prefix: 'd/'});
	await provider.client.put('ilum-data', 'only/provider', Buffer.from('x'), 1);
	const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-plan-'));
	return {
		mirror,
		provider,
		stateDir,
		async stop() {
			await Promise.all([mirror.stop(), provider.stop()]);
			fs.rmSync(stateDir, {recursive: true, force: true});
		},
	};
}

const request = (mirror: TestS3, provider: TestS3, cluster: MirrorCluster | undefined, options: {remove?: boolean} = {}) => ({
	provider: provider.client,
	mirror: mirror.client,
	...(cluster ? {cluster} : {}),
	namespace: 'ilum',
	buckets: ['ilum-data'],
	mirrorLocation: (bucket: string) => ({bucket}),
	overwriteChanged: false,
	remove: Boolean(options.remove),
	verify: true,
});

async function run(options: {plan: ReturnType<typeof buildMirrorRestorePlan>; stateDir: string; confirm?: (gate: Gate) => Promise<string | undefined>}) {
	const gates: Gate[] = [];
	const events = [];
	let report: RestoreReport | undefined;
	for await (const event of executePlan({plan: options.plan, stateDir: options.stateDir, identity: 'test', confirm: options.confirm ?? (async gate => {
		gates.push(gate);
		return gate.confirmText;
	})})) {
		events.push(event);
		if (event.type === 'report') {
			report = event.report;
		}
	}

	return {gates, events, report: report!};
}

async function keys(client: TestS3['client'], bucket: string) {
	const found: string[] = [];
	for await (const object of client.list(bucket)) {
		found.push(object.key);
	}

	return found;
}

test('--remove: two gates (restore, delete N); declining the second changes nothing; both confirmed: copied, extra deleted, verified, CronJob held and resumed', async () => {
	const {mirror, provider, stateDir, stop} = await world();
	try {
		const fake = fakeCluster({suspended: false});
		const facts = await readMirrorRestoreFacts(request(mirror, provider, fake.cluster, {remove: true}));
		const plan = buildMirrorRestorePlan(facts, {pairs: pairsFromFacts(facts, {provider: provider.client, mirror: mirror.client}), cluster: fake.cluster});
		assert.deepEqual(plan.steps.map(step => step.id), ['no-bucket-init', 'mirror-not-empty', 'suspend-backup', 'copy', 'delete-extra', 'verify', 'resume-backup']);
		assert.deepEqual(plan.steps.flatMap(step => step.kind === 'mutation' && step.dangerous ? [step.dangerous.confirmText] : []), ['restore', 'delete 1']);
		assert.ok(plan.preview?.some(line => /ilum-data\s+30 \(8\.8 KiB\)\s+0 kept\s+1 \(1 B\)/.test(line)), plan.preview?.join('\n'));

		const declined = await run({plan, stateDir: path.join(stateDir, 'a'), confirm: async gate => gate.confirmText === 'restore' ? 'restore' : 'no'});
		assert.equal(declined.report.outcome, 'refused');
		assert.match(declined.report.reasons[0]!, /did not match: typed 'no', expected 'delete 1'/);
		assert.equal((await keys(provider.client, 'ilum-data')).length, 11, 'nothing copied');
		assert.deepEqual(fake.patches, [], 'the CronJob untouched');

		const done = await run({plan, stateDir: path.join(stateDir, 'b')});
		assert.equal(done.report.outcome, 'succeeded', done.report.reasons.join('\n'));
		assert.deepEqual(done.gates.map(gate => gate.confirmText), ['restore', 'delete 1']);
		assert.deepEqual(await keys(provider.client, 'ilum-data'), await keys(mirror.client, 'ilum-data'));
		assert.deepEqual(fake.patches, [true, false]);
		const verify = (done.report.verification as {verify: {ok: boolean; buckets: Array<{bucket: string; ok: boolean}>}}).verify;
		assert.deepEqual(verify.buckets.map(bucket => [bucket.bucket, bucket.ok]), [['ilum-data', true]]);
		// The copy's figures reach the front ends as step progress data, ending with the bucket's result.
		const last = done.events.filter(event => event.type === 'step-progress' && event.step === 'copy' && isMirrorProgress(event.progress.data)).at(-1);
		assert.ok(last?.type === 'step-progress' && isMirrorProgress(last.progress.data));
		assert.equal(last.progress.data.done, true);
		assert.equal(last.progress.data.result?.copied, 30);
	} finally {
		await stop();
	}
});

test('a resumed plan remembers the CronJob was active: it finds it suspended (by the first attempt) and still resumes it; one suspended by the operator stays suspended', async () => {
	const {mirror, provider, stateDir, stop} = await world();
	try {
		// Planned while the CronJob was active, executed after a crash left it suspended.
		const fake = fakeCluster({suspended: false});
		const facts: MirrorRestoreFacts = await readMirrorRestoreFacts(request(mirror, provider, fake.cluster));
		await fake.cluster.setCronJobSuspended('ilum', 'ilum-objectstorage-backup', true);
		const resumed = await run({plan: buildMirrorRestorePlan(facts, {pairs: pairsFromFacts(facts, {provider: provider.client, mirror: mirror.client}), cluster: fake.cluster}), stateDir});
		assert.equal(resumed.report.outcome, 'succeeded');
		assert.equal(resumed.report.steps.find(step => step.id === 'suspend-backup')?.outcome, 'already');
		assert.equal(fake.suspended(), false, 'resumed at the end');

		const operator = fakeCluster({suspended: true});
		const held = await readMirrorRestoreFacts(request(mirror, provider, operator.cluster));
		const plan = buildMirrorRestorePlan(held, {pairs: pairsFromFacts(held, {provider: provider.client, mirror: mirror.client}), cluster: operator.cluster});
		assert.ok(!plan.steps.some(step => step.id === 'suspend-backup' || step.id === 'resume-backup'));
		assert.ok(plan.warnings.some(line => /is suspended now and stays suspended/.test(line)));
		await run({plan, stateDir: path.join(stateDir, 'op')});
		assert.deepEqual(operator.patches, []);
		assert.equal(operator.suspended(), true);
	} finally {
		await stop();
	}
});

test('a copy strategy that fails a key fails the copy step: the CronJob stays suspended, the journal keeps the place, the undo says how to resume the CronJob', async () => {
	const {mirror, provider, stateDir, stop} = await world();
	try {
		const fake = fakeCluster({suspended: false});
		const facts = await readMirrorRestoreFacts(request(mirror, provider, fake.cluster));
		const failing: MirrorCopyStrategy = {
			name: 'test',
			title: 'Copy by a test strategy',
			async * copy(copyRequest) {
				const base = {objectsTotal: 1, bytesTotal: 1, objectsDone: 0, bytesDone: 0, listingDone: true, deleted: 0, skipped: 0, changedKept: 0, onlyTargetKept: 0, retries: 2, failed: 1, unverified: 0, rate: 0, concurrency: 1, elapsedMs: 5};
				const bucket = copyRequest.buckets[0]!.name;
				yield {type: 'failed', bucket, key: 'd/000011', error: '500 InternalError'} satisfies ProgressEvent;
				yield {type: 'bucket-done', bucket, failedKeys: ['d/000011'], ...base} satisfies ProgressEvent;
			},
		};
		const plan = buildMirrorRestorePlan(facts, {pairs: pairsFromFacts(facts, {provider: provider.client, mirror: mirror.client}), cluster: fake.cluster, copy: failing});
		assert.equal(plan.steps.find(step => step.id === 'copy')?.title, 'Copy by a test strategy');
		const failed = await run({plan, stateDir});
		assert.equal(failed.report.outcome, 'failed');
		assert.match(failed.report.reasons[0]!, /step 'copy' failed: 1 objects failed in ilum-data \(first: d\/000011\)/);
		assert.equal(fake.suspended(), true, 'kept suspended until the run is resumed or abandoned');
		assert.ok(failed.report.undo.some(line => /patch cronjob ilum-objectstorage-backup .*"suspend":false/.test(line)), failed.report.undo.join('\n'));
		const unfinished = findUnfinished(stateDir, plan.target);
		assert.ok(unfinished, 'the journal keeps the place');
		assert.equal(unfinished.lastFailure?.step, 'copy');
	} finally {
		await stop();
	}
});

test('not counted beforehand (restore mirror --yes): no diff before the copy; the gates and the deletion still there; the result is the same', async () => {
	const {mirror, provider, stateDir, stop} = await world();
	try {
		const facts = await readMirrorRestoreFacts({...request(mirror, provider, undefined, {remove: true}), count: false});
		assert.equal(facts.buckets[0]!.counted, false);
		const plan = buildMirrorRestorePlan(facts, {pairs: pairsFromFacts(facts, {provider: provider.client, mirror: mirror.client})});
		assert.match(plan.summary, /from the mirror \(what is missing, deleting what the mirror lacks\)/);
		assert.ok(plan.preview?.some(line => /ilum-data\s+not counted/.test(line)), plan.preview?.join('\n'));
		assert.deepEqual(plan.steps.flatMap(step => step.kind === 'mutation' && step.dangerous ? [step.dangerous.confirmText] : []), ['restore', 'delete']);
		const done = await run({plan, stateDir});
		assert.equal(done.report.outcome, 'succeeded', done.report.reasons.join('\n'));
		assert.deepEqual(await keys(provider.client, 'ilum-data'), await keys(mirror.client, 'ilum-data'));
	} finally {
		await stop();
	}
});

test('checks made while reading the facts stand for 10 s (a --yes run starts at once); later a bucket-init Job that appeared refuses the run', async () => {
	const {mirror, provider, stateDir, stop} = await world();
	try {
		const jobs: V1Job[] = [];
		const fake = fakeCluster({suspended: true, jobs});
		const facts = await readMirrorRestoreFacts(request(mirror, provider, fake.cluster));
		jobs.push({metadata: {name: 'ilum-objectstorage-create-buckets', namespace: 'ilum'}, spec: {template: {spec: {containers: []}}}, status: {}});
		const pairs = pairsFromFacts(facts, {provider: provider.client, mirror: mirror.client});
		const planFresh = buildMirrorRestorePlan(facts, {pairs, cluster: fake.cluster, checkedAt: Date.now()});
		const stale = buildMirrorRestorePlan(facts, {pairs, cluster: fake.cluster, checkedAt: Date.now() - 11_000});
		const refused = await run({plan: stale, stateDir: path.join(stateDir, 'stale')});
		assert.equal(refused.report.outcome, 'refused');
		assert.match(refused.report.reasons.join('\n'), /bucket-init Job ilum\/ilum-objectstorage-create-buckets has not finished/);
		const done = await run({plan: planFresh, stateDir: path.join(stateDir, 'fresh')});
		assert.equal(done.report.outcome, 'succeeded', done.report.reasons.join('\n'));
		assert.ok(done.events.some(event => event.type === 'preflight' && /checked while planning/.test(event.detail)));
	} finally {
		await stop();
	}
});

test('the console\'s session continues an unfinished run of the same buckets: the journal\'s facts, the CronJob it suspended resumed at the end', async () => {
	const {mirror, provider, stateDir, stop} = await world();
	try {
		const fake = fakeCluster({suspended: false});
		const facts = await readMirrorRestoreFacts(request(mirror, provider, fake.cluster));
		const broken: MirrorCopyStrategy = {
			name: 'broken',
			title: 'Copy (breaks)',
			async * copy() {
				yield * [];
				throw new Error('connection reset');
			},
		};
		const first = await run({plan: buildMirrorRestorePlan(facts, {pairs: pairsFromFacts(facts, {provider: provider.client, mirror: mirror.client}), cluster: fake.cluster, copy: broken}), stateDir});
		assert.equal(first.report.outcome, 'failed');
		assert.equal(fake.suspended(), true);

		const session = await prepareMirrorRestore({...request(mirror, provider, fake.cluster), stateDir, identity: 'op@console'});
		assert.match(session.resumeNote ?? '', /unfinished restore of mirror\/ilum-data .* failed at step 'copy' \(connection reset\)/);
		assert.deepEqual(session.facts, facts, 'the journal\'s facts, not a new plan');
		let report: RestoreReport | undefined;
		for await (const event of session.execute({confirm: async gate => gate.confirmText})) {
			if (event.type === 'report') {
				report = event.report;
			}
		}

		assert.equal(report?.outcome, 'succeeded', report?.reasons.join('\n'));
		assert.equal(report?.resumed, true);
		assert.deepEqual(await keys(provider.client, 'ilum-data'), [...await keys(mirror.client, 'ilum-data'), 'only/provider'].sort());
		assert.equal(fake.suspended(), false, 'the CronJob the first attempt suspended runs again');
		// Other options than the unfinished run's: not silently continued.
		const other = await readMirrorRestoreFacts(request(mirror, provider, fake.cluster));
		await run({plan: buildMirrorRestorePlan(other, {pairs: pairsFromFacts(other, {provider: provider.client, mirror: mirror.client}), cluster: fake.cluster, copy: broken}), stateDir});
		await assert.rejects(prepareMirrorRestore({...request(mirror, provider, fake.cluster, {remove: true}), stateDir, identity: 'op@console'}), /started with other options \(--remove was not given\)/);
	} finally {
		await stop();
	}
});

test('a strategy that does not verify (mc in a Job) is verified by the copy step: what it left missing fails the copy, and the resumed run copies it', async () => {
	const {mirror, provider, stateDir, stop} = await world();
	try {
		const facts = await readMirrorRestoreFacts(request(mirror, provider, undefined));
		const lazy: MirrorCopyStrategy = {
			name: 'lazy',
			title: 'Copy (claims success)',
			async * copy(copyRequest) {
				const bucket = copyRequest.buckets[0]!.name;
				yield {type: 'bucket-done', bucket, failedKeys: [], objectsTotal: 30, bytesTotal: 9000, objectsDone: 30, bytesDone: 9000, listingDone: true, deleted: 0, skipped: 0, changedKept: 0, onlyTargetKept: 0, retries: 0, failed: 0, unverified: 0, rate: 0, concurrency: 1, elapsedMs: 1} satisfies ProgressEvent;
			},
		};
		const pairs = pairsFromFacts(facts, {provider: provider.client, mirror: mirror.client});
		const first = await run({plan: buildMirrorRestorePlan(facts, {pairs, copy: lazy}), stateDir});
		assert.equal(first.report.outcome, 'failed');
		assert.match(first.report.reasons[0]!, /step 'copy' failed: drift left after copying: ilum-data \(30 missing, 0 differ; first: d\/000010\)/);
		const resume = findUnfinished(stateDir, buildMirrorRestorePlan(facts, {pairs}).target)!;
		let report: RestoreReport | undefined;
		for await (const event of executePlan({plan: buildMirrorRestorePlan(facts, {pairs}), stateDir, identity: 'test', confirm: async gate => gate.confirmText, resume})) {
			if (event.type === 'report') {
				report = event.report;
			}
		}

		assert.equal(report?.outcome, 'succeeded', report?.reasons.join('\n'));
		assert.equal((await keys(provider.client, 'ilum-data')).length, 41);
	} finally {
		await stop();
	}
});
