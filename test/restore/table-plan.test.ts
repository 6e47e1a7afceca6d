import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {formatEnvironment, resolveFormat} from '../../source/formats/index.js';
import type {TableFormat} from '../../source/formats/types.js';
import {executePlan, findUnfinished, type EngineEvent, type RestoreReport} from '../../source/restore/index.js';
import {buildTableRestorePlan, tableRestoreFacts} from '../../source/restore/table-plan.js';
import {copyFixture} from '../formats/delta/fixtures.js';

/* A Delta table restore (a copy of a fixture written by Spark) walked by the restore engine. */

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
	for (const cleanup of cleanups) {
		// eslint-disable-next-line no-await-in-loop
		await cleanup();
	}
});

async function setup() {
	const copied = await copyFixture('simple_table');
	cleanups.push(copied.remove);
	const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-table-'));
	cleanups.push(() => fs.rmSync(stateDir, {recursive: true, force: true}));
	const format = await resolveFormat({ref: copied.dir}, formatEnvironment());
	return {dir: copied.dir, stateDir, format};
}

async function drain(generator: AsyncGenerator<EngineEvent, RestoreReport>, stopAfter?: string): Promise<RestoreReport | undefined> {
	for (;;) {
		const next = await generator.next();
		if (next.done) {
			return next.value;
		}

		if (stopAfter && next.value.type === 'step-end' && next.value.step === stopAfter) {
			await generator.return(undefined as never);
			return undefined;
		}
	}
}

const commits = (dir: string) => fs.readdirSync(path.join(dir, '_delta_log')).filter(name => name.endsWith('.json')).length;

test('a Delta restore as an engine plan: preview, gate on the table name, one commit, verified, undo given', async () => {
	const {dir, stateDir, format} = await setup();
	const facts = tableRestoreFacts(await format.plan({ref: dir}, '2'));
	const plan = buildTableRestorePlan(facts, format);
	assert.match(plan.blastRadius[0]!, /live set \d+ files, \d+ rows, \d+ B -> \d+ files/);
	const gates: string[] = [];
	const report = await drain(executePlan({plan, stateDir, identity: 'op', confirm: async gate => {
		gates.push(gate.confirmText);
		return gate.confirmText;
	}}));
	assert.equal(report?.outcome, 'succeeded', JSON.stringify(report?.reasons));
	assert.deepEqual(gates, ['simple_table']);
	assert.equal(commits(dir), 6, 'one restore commit was written');
	assert.match((report!.verification as any)['verify-table'].detail, /reads as version 2 \(new version 5/);
	assert.deepEqual(report!.undo, [`ilum-restore restore table ${dir} --to 4 --yes`]);
	const again = await format.plan({ref: dir}, '2');
	assert.equal(again.filesReturning.length + again.filesLeaving.length, 0, 'the live set is version 2\'s');
});

test('killed after the commit but before the journal knew: the resume finds it written and writes no second commit', async () => {
	const {dir, stateDir, format} = await setup();
	const facts = tableRestoreFacts(await format.plan({ref: dir}, '1'));
	// The commit is written, then the run stops before 'write-restore' is journaled as done.
	const generator = executePlan({plan: buildTableRestorePlan(facts, format), stateDir, identity: 'op', confirm: async gate => gate.confirmText});
	for (;;) {
		const next = await generator.next();
		if (next.done || (next.value.type === 'step-progress' && /version \d+ written/.test(next.value.progress.message))) {
			break;
		}
	}

	await generator.return(undefined as never);
	assert.equal(commits(dir), 6);
	const unfinished = findUnfinished(stateDir, `table/${dir}`);
	assert.deepEqual(unfinished?.interrupted, ['write-restore']);
	const report = await drain(executePlan({plan: buildTableRestorePlan(unfinished!.begin.facts as any, format), stateDir, identity: 'op', confirm: async gate => gate.confirmText, resume: unfinished}));
	assert.equal(report?.outcome, 'succeeded', JSON.stringify(report?.reasons));
	assert.equal(report!.steps.find(step => step.id === 'write-restore')!.outcome, 'already');
	assert.equal(commits(dir), 6, 'no second restore commit');
});

test('a table that moved since the plan is refused before anything is written', async () => {
	const {dir, stateDir, format} = await setup();
	const stale = {...tableRestoreFacts(await format.plan({ref: dir}, '2')), from: '3'};
	const report = await drain(executePlan({plan: buildTableRestorePlan(stale, format), stateDir, identity: 'op', confirm: async gate => gate.confirmText}));
	assert.equal(report?.outcome, 'refused');
	assert.match(report!.reasons[0]!, /moved since the plan was made \(now at version 4, was 3\)/);
	assert.equal(commits(dir), 5);
});

test('a wrong table name at the gate writes nothing', async () => {
	const {dir, stateDir, format} = await setup();
	const plan = buildTableRestorePlan(tableRestoreFacts(await format.plan({ref: dir}, '2')), format as TableFormat);
	const report = await drain(executePlan({plan, stateDir, identity: 'op', confirm: async () => 'other_table'}));
	assert.equal(report?.outcome, 'refused');
	assert.equal(commits(dir), 5);
});

test('prepareTableRestore gives the wizard a session; an unfinished run of the table is resumed', async () => {
	const {prepareTableRestore} = await import('../../source/restore/table-plan.js');
	const {dir, stateDir, format} = await setup();
	const session = await prepareTableRestore({format, ref: dir, to: '2', stateDir, identity: 'op'});
	assert.equal(session.resume, undefined);
	const generator = session.execute({confirm: async gate => gate.confirmText});
	for (;;) {
		const next = await generator.next();
		if (next.done || (next.value.type === 'step-end' && next.value.step === 'table-unchanged')) {
			break;
		}
	}

	await generator.return(undefined as never);
	const resumed = await prepareTableRestore({format, ref: dir, to: '2', stateDir, identity: 'op'});
	assert.ok(resumed.resumeNote?.includes('unfinished restore of table/'));
	await assert.rejects(prepareTableRestore({format, ref: dir, to: '1', stateDir, identity: 'op'}), /to version 2: finish or abandon it first/);
	assert.equal((await drain(resumed.execute({confirm: async gate => gate.confirmText})))?.outcome, 'succeeded');
	assert.equal(commits(dir), 6);
});
