import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	AuditLog, abandonUnfinished, executePlan, findUnfinished, readJournal, type AccessChecker, type EngineEvent, type RestorePlan, type RestoreReport, type Step,
} from '../../source/restore/index.js';

/** A tiny world the fake steps change: a service with replicas, a claim, a counter of mutations. */
type World = {replicas: number; claim: 'old' | 'none' | 'new'; calls: Record<string, number>; failOnce?: string};

function fakePlan(world: World, options: {ready?: boolean} = {}): RestorePlan {
	const count = (id: string) => {
		world.calls[id] = (world.calls[id] ?? 0) + 1;
		if (world.failOnce === id) {
			world.failOnce = undefined;
			throw new Error(`${id} broke`);
		}
	};

	const steps: Step[] = [
		{id: 'snapshot-ready', kind: 'precondition', title: 'Snapshot is ready', async evaluate() {
			return options.ready === false ? {ok: false, detail: 'snapshot s1 is not ready to use', hint: 'wait for it or pick another'} : {ok: true, detail: 'snapshot s1 is ready'};
		}},
		{id: 'scale-down', kind: 'mutation', title: 'Scale svc to 0', changes: 'svc replicas 1 -> 0', undo: 'scale svc to 1',
			async check() {
				return world.replicas === 0;
			},
			async * run() {
				count('scale-down');
				world.replicas = 0;
				yield {message: 'scaled'};
				return {detail: 'replicas 0'};
			}},
		{id: 'delete-claim', kind: 'mutation', title: 'Delete claim data-0', changes: 'claim data-0 deleted', undo: 'rebind old PV', dangerous: {confirmText: 'data-0', reason: 'deletes the claim'},
			async check() {
				return world.claim !== 'old';
			},
			async * run() {
				count('delete-claim');
				world.claim = 'none';
				yield {message: 'deleted'};
			}},
		{id: 'create-claim', kind: 'mutation', title: 'Create claim data-0 from s1', changes: 'claim data-0 created', undo: 'delete it',
			async check() {
				return world.claim === 'new';
			},
			async * run(context) {
				count('create-claim');
				world.claim = 'new';
				yield {message: 'created', current: 1, total: 1, unit: 'claims'};
				return {seen: context.results.get('scale-down')};
			}},
		{id: 'scale-up', kind: 'mutation', title: 'Scale svc to 1', changes: 'svc replicas 0 -> 1', undo: 'scale to 0',
			async check() {
				return world.replicas === 1;
			},
			async * run() {
				count('scale-up');
				world.replicas = 1;
				yield {message: 'scaled'};
			}},
		{id: 'verify', kind: 'verify', title: 'Verify', async * run() {
			yield {message: 'checking'};
			return {claim: world.claim, replicas: world.replicas};
		}},
	];
	return {
		kind: 'fake', target: 'fake/ns/data-0', summary: 'restore data-0 from s1', facts: {snapshot: 's1'},
		blastRadius: ['svc offline'], warnings: [], access: [{verb: 'delete', group: '', resource: 'persistentvolumeclaims', namespace: 'ns'}],
		steps, undo: ['rebind the old PV'],
	};
}

const created: string[] = [];
const tempState = () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-engine-'));
	created.push(dir);
	return dir;
};

after(() => {
	for (const dir of created) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

async function drain(generator: AsyncGenerator<EngineEvent, RestoreReport>, stopAt?: (event: EngineEvent) => boolean): Promise<{events: EngineEvent[]; report?: RestoreReport}> {
	const events: EngineEvent[] = [];
	for (;;) {
		const next = await generator.next();
		if (next.done) {
			return {events, report: next.value};
		}

		events.push(next.value);
		if (stopAt?.(next.value)) {
			await generator.return(undefined as never);
			return {events};
		}
	}
}

const allow: AccessChecker = async items => items.map(item => ({item, allowed: true}));
const confirmRight = async (gate: {confirmText: string}) => gate.confirmText;

test('a full run walks every step once, journals, audits and saves the report', async () => {
	const stateDir = tempState();
	const world: World = {replicas: 1, claim: 'old', calls: {}};
	const gates: string[] = [];
	const {events, report} = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'alice@ctx', checkAccess: allow, confirm: async gate => {
		gates.push(gate.confirmText);
		return gate.confirmText;
	}}));
	assert.equal(report?.outcome, 'succeeded');
	assert.deepEqual(gates, ['data-0']);
	assert.deepEqual(world, {replicas: 1, claim: 'new', calls: {'scale-down': 1, 'delete-claim': 1, 'create-claim': 1, 'scale-up': 1}});
	assert.deepEqual(report!.verification, {verify: {claim: 'new', replicas: 1}});
	assert.deepEqual((report!.steps.find(step => step.id === 'create-claim')!.result as any), {seen: {detail: 'replicas 0'}});
	assert.deepEqual(report!.undo, ['rebind the old PV']);
	assert.ok(fs.existsSync(report!.files!.json) && fs.existsSync(report!.files!.markdown));
	assert.match(fs.readFileSync(report!.files!.markdown, 'utf8'), /Outcome: \*\*succeeded\*\*[\s\S]*How to undo[\s\S]*rebind the old PV/);
	assert.equal(findUnfinished(stateDir, 'fake/ns/data-0'), undefined, 'the journal of a finished run is moved aside');
	const finished = fs.readdirSync(path.join(stateDir, 'journals', 'finished'));
	assert.equal(finished.length, 1);
	const records = readJournal(path.join(stateDir, 'journals', 'finished', finished[0]!));
	assert.deepEqual(records.map(record => record.type + ('step' in record ? ':' + record.step : '')), [
		'begin', 'confirm:delete-claim',
		'start:snapshot-ready', 'done:snapshot-ready', 'start:scale-down', 'done:scale-down', 'start:delete-claim', 'done:delete-claim',
		'start:create-claim', 'done:create-claim', 'start:scale-up', 'done:scale-up', 'start:verify', 'done:verify', 'end',
	]);
	const audit = new AuditLog(stateDir).read();
	assert.deepEqual(audit.map(entry => `${entry.action} ${entry.outcome}`), [
		'restore.fake started', 'step.scale-down started', 'step.scale-down succeeded', 'step.delete-claim started', 'step.delete-claim succeeded',
		'step.create-claim started', 'step.create-claim succeeded', 'step.scale-up started', 'step.scale-up succeeded', 'restore.fake succeeded',
	]);
	assert.ok(audit.every(entry => entry.identity === 'alice@ctx' && entry.target === 'fake/ns/data-0' && entry.time));
	assert.ok(events.some(event => event.type === 'step-progress' && event.progress.total === 1));
});

test('a wrong confirmation refuses before anything changes', async () => {
	const stateDir = tempState();
	const world: World = {replicas: 1, claim: 'old', calls: {}};
	const {report} = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'bob', checkAccess: allow, confirm: async () => 'data-1'}));
	assert.equal(report?.outcome, 'refused');
	assert.match(report!.reasons.join(), /typed 'data-1', expected 'data-0'/);
	assert.deepEqual(world.calls, {});
	assert.equal(findUnfinished(stateDir, 'fake/ns/data-0'), undefined);
	assert.deepEqual(new AuditLog(stateDir).read().map(entry => entry.outcome), ['refused']);
});

test('preflight reports every failure (RBAC and preconditions) and changes nothing', async () => {
	const stateDir = tempState();
	const world: World = {replicas: 1, claim: 'old', calls: {}};
	let asked = false;
	const deny: AccessChecker = async items => items.map(item => ({item, allowed: false, reason: 'no RBAC rule'}));
	const {report} = await drain(executePlan({plan: fakePlan(world, {ready: false}), stateDir, identity: 'eve', checkAccess: deny, confirm: async () => {
		asked = true;
		return 'data-0';
	}}));
	assert.equal(report?.outcome, 'refused');
	assert.equal(report!.reasons.length, 2);
	assert.match(report!.reasons[0]!, /RBAC does not allow: delete persistentvolumeclaims in namespace ns \(no RBAC rule\)/);
	assert.match(report!.reasons[1]!, /snapshot s1 is not ready to use: wait for it/);
	assert.equal(asked, false, 'no gate is asked when preflight refuses');
	assert.deepEqual(world.calls, {});
});

test('read-only refuses without asking the cluster anything', async () => {
	const stateDir = tempState();
	const world: World = {replicas: 1, claim: 'old', calls: {}};
	let accessAsked = false;
	const {report} = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'x', readOnly: true, confirm: confirmRight, checkAccess: async items => {
		accessAsked = true;
		return items.map(item => ({item, allowed: true}));
	}}));
	assert.equal(report?.outcome, 'refused');
	assert.match(report!.reasons[0]!, /read-only/);
	assert.equal(accessAsked, false);
	assert.deepEqual(world.calls, {});
});

for (const boundary of ['snapshot-ready', 'scale-down', 'delete-claim', 'create-claim', 'scale-up', 'verify']) {
	test(`interrupted after step ${boundary}, a resume finishes with no mutation repeated`, async () => {
		const stateDir = tempState();
		const world: World = {replicas: 1, claim: 'old', calls: {}};
		const first = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight}), event => event.type === 'step-end' && event.step === boundary);
		assert.equal(first.report, undefined);
		const unfinished = findUnfinished(stateDir, 'fake/ns/data-0');
		assert.ok(unfinished, 'the journal is left unfinished');
		assert.ok(unfinished.completed.has(boundary));
		// A new run of the same target is refused and points to --resume.
		const again = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight}));
		assert.equal(again.report?.outcome, 'refused');
		assert.match(again.report!.reasons[0]!, /unfinished restore of fake\/ns\/data-0.*--resume/);
		const resumed = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight, resume: unfinished}));
		assert.equal(resumed.report?.outcome, 'succeeded');
		assert.equal(resumed.report!.resumed, true);
		assert.deepEqual(world.calls, {'scale-down': 1, 'delete-claim': 1, 'create-claim': 1, 'scale-up': 1});
		assert.deepEqual({replicas: world.replicas, claim: world.claim}, {replicas: 1, claim: 'new'});
		assert.equal(resumed.report!.steps.find(step => step.id === boundary)!.outcome, 'skipped-done');
	});
}

test('interrupted in the middle of a mutation, the resume sees its effect and does not run it again', async () => {
	const stateDir = tempState();
	const world: World = {replicas: 1, claim: 'old', calls: {}};
	await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight}), event => event.type === 'step-progress' && event.step === 'delete-claim');
	const unfinished = findUnfinished(stateDir, 'fake/ns/data-0')!;
	assert.deepEqual(unfinished.interrupted, ['delete-claim']);
	const resumed = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight, resume: unfinished}));
	assert.equal(resumed.report?.outcome, 'succeeded');
	assert.equal(resumed.report!.steps.find(step => step.id === 'delete-claim')!.outcome, 'already');
	assert.equal(world.calls['delete-claim'], 1);
});

test('a stop request ends after the current step; resume continues from there', async () => {
	const stateDir = tempState();
	const world: World = {replicas: 1, claim: 'old', calls: {}};
	const controller = new AbortController();
	const generator = executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight, signal: controller.signal});
	const events: EngineEvent[] = [];
	let report: RestoreReport | undefined;
	for (;;) {
		const next = await generator.next();
		if (next.done) {
			report = next.value;
			break;
		}

		events.push(next.value);
		if (next.value.type === 'step-start' && next.value.step === 'delete-claim') {
			controller.abort();
		}
	}

	assert.equal(report.outcome, 'stopped');
	assert.equal(world.claim, 'none', 'the step that was running finished');
	assert.equal(world.calls['create-claim'], undefined);
	assert.ok(events.some(event => event.type === 'stopped' && event.next === 'create-claim'));
	const resumed = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight, resume: findUnfinished(stateDir, 'fake/ns/data-0')}));
	assert.equal(resumed.report?.outcome, 'succeeded');
	assert.deepEqual(world.calls, {'scale-down': 1, 'delete-claim': 1, 'create-claim': 1, 'scale-up': 1});
});

test('a failed step keeps the journal; the resume retries that step only', async () => {
	const stateDir = tempState();
	const world: World = {replicas: 1, claim: 'old', calls: {}, failOnce: 'create-claim'};
	const first = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight}));
	assert.equal(first.report?.outcome, 'failed');
	assert.match(first.report!.reasons.join('\n'), /create-claim' failed: create-claim broke[\s\S]*--resume/);
	assert.deepEqual(first.report!.undo, ['Delete claim data-0: rebind old PV', 'Scale svc to 0: scale svc to 1']);
	const unfinished = findUnfinished(stateDir, 'fake/ns/data-0')!;
	assert.equal(unfinished.lastFailure?.step, 'create-claim');
	const resumed = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight, resume: unfinished}));
	assert.equal(resumed.report?.outcome, 'succeeded');
	assert.deepEqual(world.calls, {'scale-down': 1, 'delete-claim': 1, 'create-claim': 2, 'scale-up': 1});
});

test('an abandoned journal no longer blocks a new run and is audited', async () => {
	const stateDir = tempState();
	const world: World = {replicas: 1, claim: 'old', calls: {}};
	await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight}), event => event.type === 'step-end' && event.step === 'scale-down');
	abandonUnfinished(stateDir, findUnfinished(stateDir, 'fake/ns/data-0')!, 'a');
	assert.equal(findUnfinished(stateDir, 'fake/ns/data-0'), undefined);
	assert.match(new AuditLog(stateDir).read().at(-1)!.detail!, /abandoned/);
});

test('a second process cannot walk the same target while the first holds it; a dead holder\'s lock is taken over', async () => {
	const stateDir = tempState();
	const world: World = {replicas: 1, claim: 'old', calls: {}};
	const lockFile = path.join(stateDir, 'journals', 'fake__ns__data-0.jsonl.lock');
	fs.mkdirSync(path.dirname(lockFile), {recursive: true});
	fs.writeFileSync(lockFile, String(process.ppid));
	const held = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight}));
	assert.equal(held.report?.outcome, 'refused');
	assert.match(held.report!.reasons[0]!, new RegExp(`another ilum-restore process \\(pid ${process.ppid}\\) is running a restore of fake/ns/data-0`));
	assert.deepEqual(world.calls, {});
	fs.writeFileSync(lockFile, '999999999');
	const taken = await drain(executePlan({plan: fakePlan(world), stateDir, identity: 'a', checkAccess: allow, confirm: confirmRight}));
	assert.equal(taken.report?.outcome, 'succeeded');
	assert.equal(fs.existsSync(lockFile), false, 'released at the end');
});
