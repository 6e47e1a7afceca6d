import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
	StoppedError, describeUnfinished, executePlan, findUnfinished, readJournal, type EngineEvent, type RestorePlan, type RestoreReport,
} from '../../source/restore/index.js';

/*
A mutation cut short by the operator's stop (a mirror copy: Esc+y in the wizard, Ctrl-C on the CLI)
ends the run as `stopped`, resumable, distinct from a failure; a real failure while a stop is
pending stays a failure.
*/

const created: string[] = [];
after(() => {
	for (const dir of created) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

const tempState = () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-stop-'));
	created.push(dir);
	return dir;
};

type Copy = {copied: number; calls: number};

/** Copy 10 items one by one; stops (as the mirror copy does) when its signal aborts, or throws `breaks` after item 3. */
function copyPlan(world: Copy, signal: AbortSignal, breaks?: string): RestorePlan {
	return {
		kind: 'fake', target: 'fake/copy', summary: 'copy ten things', facts: {}, blastRadius: [], warnings: [], access: [], undo: ['delete the copies'],
		steps: [
			{id: 'hold', kind: 'mutation', title: 'Hold the backups', changes: 'held', undo: 'release them', async check() {
				return false;
			}, async * run() {
				yield {message: 'held'};
			}},
			{id: 'copy', kind: 'mutation', title: 'Copy the things', changes: 'copies', undo: 'delete the copies', dangerous: {confirmText: 'copy', reason: 'writes'}, async check() {
				return world.copied === 10;
			}, async * run() {
				world.calls++;
				while (world.copied < 10) {
					if (signal.aborted) {
						throw new StoppedError(`stopped on request in the middle of the copy (${world.copied} of 10 copied)`, {cause: signal.reason});
					}

					if (breaks && world.copied === 3) {
						throw new Error(breaks);
					}

					world.copied++;
					yield {message: 'copied', current: world.copied, total: 10};
					// eslint-disable-next-line no-await-in-loop
					await new Promise(resolve => setImmediate(resolve));
				}
			}},
			{id: 'release', kind: 'mutation', title: 'Release the backups', changes: 'released', undo: 'hold them', async check() {
				return false;
			}, async * run() {
				yield {message: 'released'};
			}},
		],
	};
}

async function walk(plan: RestorePlan, stateDir: string, signal: AbortSignal, stopWhen?: (event: EngineEvent) => boolean, stop?: () => void) {
	const events: EngineEvent[] = [];
	const run = executePlan({plan, stateDir, identity: 'op', confirm: async gate => gate.confirmText, signal});
	for (;;) {
		// eslint-disable-next-line no-await-in-loop
		const next = await run.next();
		if (next.done) {
			return {events, report: next.value as RestoreReport};
		}

		events.push(next.value);
		if (stopWhen?.(next.value)) {
			stop?.();
		}
	}
}

test('a copy stopped on request ends the run as stopped (resumable, with what to do), not failed; the resume finishes it', async () => {
	const stateDir = tempState();
	const world: Copy = {copied: 0, calls: 0};
	const controller = new AbortController();
	const first = await walk(copyPlan(world, controller.signal), stateDir, controller.signal, event => event.type === 'step-progress' && event.step === 'copy' && event.progress.current === 4, () => {
		controller.abort();
	});
	assert.equal(first.report.outcome, 'stopped');
	assert.ok(world.copied < 10, 'the copy stopped part-way');
	assert.equal(first.report.steps.find(step => step.id === 'copy')?.outcome, 'stopped');
	assert.equal(first.report.steps.find(step => step.id === 'release')?.outcome, 'not-run');
	assert.match(first.report.reasons.join('\n'), /stopped on request during 'copy'.*--resume/s);
	assert.doesNotMatch(first.report.reasons.join('\n'), /failed/);
	assert.ok(first.events.some(event => event.type === 'step-end' && event.step === 'copy' && event.outcome === 'stopped'));
	assert.ok(first.events.some(event => event.type === 'stopped' && event.next === 'copy'));
	assert.match(first.report.undo[0]!, /Copy the things: partly done/);
	assert.match(fs.readFileSync(first.report.files!.markdown, 'utf8'), /Outcome: \*\*stopped\*\*/);

	const records = readJournal(path.join(stateDir, 'journals', 'fake__copy.jsonl'));
	assert.deepEqual(records.at(-1), {...records.at(-1), type: 'stopped', step: 'copy'});
	assert.ok(!records.some(record => record.type === 'failed'), 'no failure journaled');
	const unfinished = findUnfinished(stateDir, 'fake/copy')!;
	assert.deepEqual(unfinished.interrupted, [], 'a stop is not a crash in the middle of the step');
	assert.equal(unfinished.lastFailure, undefined);
	assert.match(describeUnfinished(unfinished), /stopped on request during step 'copy'/);

	const rerun = await walk(copyPlan(world, new AbortController().signal), stateDir, new AbortController().signal);
	assert.equal(rerun.report.outcome, 'refused', 'a plain rerun is refused while the stopped run is unfinished');
	assert.match(rerun.report.reasons[0]!, /stopped on request during step 'copy'.*--resume/);
	const done = await (async () => {
		const run = executePlan({plan: copyPlan(world, new AbortController().signal), stateDir, identity: 'op', confirm: async gate => gate.confirmText, resume: findUnfinished(stateDir, 'fake/copy')});
		let next = await run.next();
		while (!next.done) {
			// eslint-disable-next-line no-await-in-loop
			next = await run.next();
		}

		return next.value;
	})();
	assert.equal(done.outcome, 'succeeded', done.reasons.join('; '));
	assert.equal(world.copied, 10);
	assert.equal(done.steps.find(step => step.id === 'hold')?.outcome, 'skipped-done', 'the steps done before the stop are not run again');
});

test('a mutation that fails for its own reason while a stop is pending is still a failure', async () => {
	const stateDir = tempState();
	const world: Copy = {copied: 0, calls: 0};
	const controller = new AbortController();
	const plan = copyPlan(world, new AbortController().signal, 'disk full');
	const result = await walk(plan, stateDir, controller.signal, event => event.type === 'step-start' && event.step === 'copy', () => {
		controller.abort();
	});
	assert.equal(result.report.outcome, 'failed');
	assert.match(result.report.reasons[0]!, /step 'copy' failed: disk full/);
});
