import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import {formatEnvironment, resolveFormat} from '../../source/formats/index.js';
import {prepareTableRestore} from '../../source/restore/table-plan.js';
import {App} from '../../source/ui/app.js';
import {itemActions} from '../../source/ui/actions.js';
import {consoleFixture, fixedNow} from '../helpers/console-fixture.js';
import {waitForFrame} from '../helpers/frames.js';
import {keys, renderSized} from '../helpers/render-sized.js';
import {copyFixture} from '../formats/delta/fixtures.js';

/*
The Tables pane's history detail: ↑/↓ choose a version (the non-restorable ones are skipped), R
opens the restore wizard for that table and version. The table is a real Delta table (a copy of
a Spark-written fixture) behind the fake console's `sales`.
*/

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
	for (const cleanup of cleanups) {
		// eslint-disable-next-line no-await-in-loop
		await cleanup();
	}
});

const size = {columns: 160, rows: 60};
const commits = (dir: string) => fs.readdirSync(path.join(dir, '_delta_log')).filter(name => name.endsWith('.json')).length;

async function setup(options: {readOnly?: boolean} = {}) {
	const copied = await copyFixture('simple_table');
	cleanups.push(copied.remove);
	const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-console-table-'));
	cleanups.push(() => fs.rmSync(stateDir, {recursive: true, force: true}));
	const format = await resolveFormat({ref: copied.dir}, formatEnvironment());
	const asked: string[] = [];
	const fixture = consoleFixture({history: async () => format.history({ref: copied.dir})});
	// What connectLayers offers (absent under --read-only), pointed at the copy.
	Object.assign(fixture.sources, options.readOnly ? {} : {
		async prepareTableRestore({to}: {to: string}) {
			asked.push(to);
			return prepareTableRestore({format, ref: copied.dir, to, stateDir, identity: 'op@drill'});
		},
	});
	fixture.live.start();
	const ui = renderSized(<App live={fixture.live} now={() => fixedNow} size={size} readOnly={options.readOnly} actions={itemActions}/>, size);
	cleanups.push(async () => {
		ui.unmount();
		await fixture.live.stop();
	});
	await waitForFrame(ui.lastFrame, frame => frame.includes('Tables (1)') && frame.includes('sales'));
	ui.stdin.write(keys.shiftTab);
	await waitForFrame(ui.lastFrame, /│sales +[·●│]+│? /);
	ui.stdin.write(keys.enter);
	await waitForFrame(ui.lastFrame, /version 4 selected \(current\)/);
	return {...ui, dir: copied.dir, format, stateDir, asked};
}

/** The history's line of a version (the chosen one is shown inverted; the title names it). */
const versionLine = (frame: string, id: string) => frame.split('\n').find(line => new RegExp(`[ *] ${id} +20\\d\\d-`).test(line));

test('history detail: ↑/↓ choose a version, R on the current one says why not, R on an earlier one opens the wizard and restores it', async () => {
	const {lastFrame, stdin, dir, format, asked} = await setup();
	let frame = lastFrame() ?? '';
	assert.ok(versionLine(frame, '4')?.includes('* 4'), 'the history shows version 4 as current');
	stdin.write('R');
	await waitForFrame(lastFrame, /R: version 4 is already current: choose an earlier one/);
	stdin.write(keys.up);
	stdin.write(keys.up);
	await waitForFrame(lastFrame, /version 2 selected · ↑\/↓ choose/);
	stdin.write(keys.down);
	await waitForFrame(lastFrame, /version 3 selected/);
	stdin.write(keys.up);
	await waitForFrame(lastFrame, /version 2 selected/);

	stdin.write('R');
	// The plan screen: the table preview, the gate on the table's name, the undo.
	frame = await waitForFrame(lastFrame, /Plan \(3 steps\)[\s\S]*\[type simple_table\][\s\S]*Preview[\s\S]*version 4 \(current\) -> 2[\s\S]*before: \d+ files, \d+ rows[\s\S]*after: +\d+ files, \d+ rows[\s\S]*files returning to the live set[\s\S]*files leaving the live set[\s\S]*schema and properties[\s\S]*commit it will write: _delta_log\/0+5\.json \(1 commitInfo, 1 metaData, 2 add, 1 remove/);
	assert.deepEqual(asked, ['2']);
	stdin.write(keys.enter);
	await waitForFrame(lastFrame, /Preflight/);
	await waitForFrame(lastFrame, /All checks passed/);
	stdin.write(keys.enter);
	// A wrong name at the gate is refused and nothing is written.
	await waitForFrame(lastFrame, /Type simple_table to confirm/);
	stdin.write('simple_tablx');
	await waitForFrame(lastFrame, /> simple_tablx/);
	stdin.write(keys.enter);
	await waitForFrame(lastFrame, /REFUSED[\s\S]*did not match: typed 'simple_tablx'/);
	assert.equal(commits(dir), 5, 'nothing written on a wrong name');
	assert.equal((await format.history({ref: dir})).current, '4');
});

test('history detail: the wizard writes one commit to the chosen version and the history shows it after', async () => {
	const {lastFrame, stdin, dir, format} = await setup();
	stdin.write(keys.up);
	stdin.write(keys.up);
	stdin.write(keys.up);
	await waitForFrame(lastFrame, /version 1 selected/);
	stdin.write('R');
	await waitForFrame(lastFrame, /Plan \(3 steps\)[\s\S]*version 4 \(current\) -> 1/);
	stdin.write(keys.enter);
	await waitForFrame(lastFrame, /Preflight/);
	await waitForFrame(lastFrame, /All checks passed/);
	stdin.write(keys.enter);
	await waitForFrame(lastFrame, /Type simple_table to confirm/);
	stdin.write('simple_table');
	await waitForFrame(lastFrame, /> simple_table/);

	stdin.write(keys.enter);
	await waitForFrame(lastFrame, /SUCCEEDED[\s\S]*reads as version 1/, {timeout: 30_000});
	assert.equal(commits(dir), 6, 'one restore commit');
	const history = await format.history({ref: dir});
	assert.equal(history.current, '5');
	stdin.write(keys.enter);
	// Back in the history, read again: the new version is current.
	await waitForFrame(lastFrame, /version 5 selected \(current\)[\s\S]*\* 5 +\S+ +RESTORE/);
});

test('history detail under --read-only: R is not offered', async () => {
	const {lastFrame, stdin} = await setup({readOnly: true});
	stdin.write(keys.up);
	await waitForFrame(lastFrame, /version 3 selected/);
	stdin.write('R');
	stdin.write('?');
	const frame = await waitForFrame(lastFrame, 'Keys');
	assert.doesNotMatch(frame, /Restore the table/);
});
