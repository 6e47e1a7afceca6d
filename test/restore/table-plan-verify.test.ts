import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {FormatName, TableFormat, TableRestorePlan} from '../../source/formats/types.js';
import {executePlan, type EngineEvent, type RestoreReport} from '../../source/restore/index.js';
import {buildTableRestorePlan, tableRestoreFacts} from '../../source/restore/table-plan.js';

/*
The table restore's final check, per format. Delta and Iceberg restore by pointing at the target's
own files again, so after the commit nothing may return or leave. DuckLake restores returning files
as copies under new names, so its fresh plan pairs the target's files with their copies: equal in
number, files, rows and bytes. That allowance must not let a Delta or Iceberg table through whose
live set holds other files that merely add up to the same figures (an UPDATE that rewrote a file).
*/

const cleanups: Array<() => void> = [];
after(() => {
	for (const cleanup of cleanups) {
		cleanup();
	}
});

const side = {files: 3, rows: 30, bytes: 3000};

/** A format whose plan is `planned` until it executes, then `afterwards` (what a fresh plan finds). */
function scriptedFormat(name: FormatName, afterwards: Partial<TableRestorePlan>): TableFormat {
	let written = false;
	const planned: TableRestorePlan = {
		format: name, ref: 's3://bucket/sales', target: '2', from: '4', before: {files: 4, rows: 40, bytes: 4000}, after: side,
		filesReturning: ['part-a.parquet'], filesLeaving: ['part-x.parquet', 'part-y.parquet'], schemaChanges: [], commit: {}, checks: [], warnings: [],
	};
	return {
		name,
		async history() {
			throw new Error('not used');
		},
		async plan() {
			return written ? {...planned, from: '5', before: side, ...afterwards} : planned;
		},
		async execute(plan) {
			written = true;
			return {plan, newVersion: '5', verified: true, checks: []};
		},
	};
}

async function run(format: TableFormat): Promise<RestoreReport> {
	const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-table-verify-'));
	cleanups.push(() => fs.rmSync(stateDir, {recursive: true, force: true}));
	const plan = buildTableRestorePlan(tableRestoreFacts(await format.plan({ref: 's3://bucket/sales'}, '2')), format);
	const generator: AsyncGenerator<EngineEvent, RestoreReport> = executePlan({plan, stateDir, identity: 'op', confirm: async gate => gate.confirmText});
	for (;;) {
		// eslint-disable-next-line no-await-in-loop
		const next = await generator.next();
		if (next.done) {
			return next.value;
		}
	}
}

// After the commit a fresh plan still finds one file to bring back and one to drop, of equal figures.
const sameFiguresOtherFiles = {filesReturning: ['part-b.parquet'], filesLeaving: ['part-b-rewritten.parquet']};

test('Delta and Iceberg: a live set with other files of the same figures does not read as the target', async () => {
	for (const name of ['delta', 'iceberg'] as const) {
		// eslint-disable-next-line no-await-in-loop
		const report = await run(scriptedFormat(name, sameFiguresOtherFiles));
		assert.equal(report.outcome, 'failed', `${name}: ${JSON.stringify(report.verification)}`);
		assert.match(report.reasons.join(' '), /does not read as version 2: 1 files would still return, 1 leave/, name);
	}
});

test('Delta and Iceberg: nothing left to return or leave reads as the target', async () => {
	for (const name of ['delta', 'iceberg'] as const) {
		// eslint-disable-next-line no-await-in-loop
		const report = await run(scriptedFormat(name, {filesReturning: [], filesLeaving: []}));
		assert.equal(report.outcome, 'succeeded', `${name}: ${report.reasons.join(' ')}`);
	}
});

test('DuckLake: copies standing one for one for the target\'s files (same files, rows, bytes) read as the target; other figures do not', async () => {
	const copies = await run(scriptedFormat('ducklake', sameFiguresOtherFiles));
	assert.equal(copies.outcome, 'succeeded', copies.reasons.join(' '));
	const short = await run(scriptedFormat('ducklake', {...sameFiguresOtherFiles, before: {...side, rows: 29}}));
	assert.equal(short.outcome, 'failed');
});
