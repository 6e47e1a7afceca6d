import {test} from 'node:test';
import assert from 'node:assert/strict';
import {layoutColumns, renderRow} from '../../../source/ui/presenters/columns.js';
import {fit, fitMiddle, formatAge, formatAgo, formatBytes} from '../../../source/ui/presenters/format.js';
import {bucketRow, snapshotRow, tableRow} from '../../../source/ui/presenters/rows.js';
import {timelineRows} from '../../../source/ui/presenters/timeline.js';
import {footerHints, helpLines, keyBindings, keysMarkdown} from '../../../source/ui/keys.js';
import {bucketFigures, fixedNow} from '../../helpers/console-fixture.js';

test('formatters', () => {
	assert.equal(formatAge(new Date(fixedNow - 90_000).toISOString(), fixedNow), '90s');
	assert.equal(formatAge(new Date(fixedNow - (3 * 3_600_000)).toISOString(), fixedNow), '3h');
	assert.equal(formatAge(new Date(fixedNow - (3 * 86_400_000)).toISOString(), fixedNow), '3d');
	assert.equal(formatAgo(fixedNow - 12_000, fixedNow), '12 s ago');
	assert.equal(formatBytes(1536), '1.5 KiB');
	assert.equal(fit('abcdef', 4), 'abc…');
	assert.equal(fit('ab', 4, 'right'), '  ab');
	assert.match(fitMiddle('ilum-objectstorage-hourly-20261122-0102', 24), /^ilum-obj.*….*20261122-0102$/);
});

test('rows from plain fixtures', () => {
	assert.deepEqual(snapshotRow({name: 's1', namespace: 'ilum', ofProvider: true, ready: false, error: 'x', createdAt: new Date(fixedNow - 7_200_000).toISOString(), restoreSize: '1Gi', className: 'c', deletionPolicy: 'Retain'}, fixedNow), ['s1', '2h', 'ERROR', '1Gi', 'Retain', 'c']);
	assert.deepEqual(bucketRow(bucketFigures('ilum-data', {missingInProvider: 3, done: false}), fixedNow), ['ilum-data', '120', '120', '0', '3', '0', 'counting…']);
	assert.deepEqual(tableRow({format: 'iceberg', ref: 'http://c', table: 'ns.t', name: 'ns.t', source: 'http://c', current: '8744736658442914487', versions: 5, oldestRestorable: '1', lastChange: new Date(fixedNow - 60_000).toISOString()}, fixedNow), ['ns.t', 'iceberg', '…2914487', '5', '1', '60s']);
});

test('columns: growing ones take the rest; a narrow pane drops the last columns', () => {
	const columns = [{header: 'A', width: 4, grow: true}, {header: 'B', width: 5}, {header: 'C', width: 5}];
	assert.deepEqual(layoutColumns(columns, 30), [18, 5, 5]);
	const narrow = layoutColumns(columns, 12);
	assert.equal(narrow[0], 4);
	assert.equal(renderRow(['name', 'bbbbb', 'ccccc'], columns, narrow).length <= 12, true);
});

test('timeline marks points and finds the freshest one before the moment', () => {
	const live: any = {
		volumes: {loading: false, value: {snapshots: [{ofProvider: true, ready: true, createdAt: new Date(fixedNow - (2 * 3_600_000)).toISOString()}]}},
		mirrors: {loading: false, value: {buckets: [], cron: {runs: [], lastSuccessfulTime: undefined}}},
		tables: {loading: false, value: {tables: [], errors: []}},
		hazards: [],
		version: 1,
	};
	const now = timelineRows(live, {now: fixedNow, span: 'day', momentStep: 0, width: 24});
	assert.equal(now.rows[0]!.marks.length, 24);
	assert.equal(now.rows[0]!.marks[22], '●');
	assert.equal(now.rows[0]!.marks.indexOf('●'), 22, 'one mark, in the cell of 2 h ago');
	assert.match(now.rows[0]!.freshest, /2h before/);
	assert.equal(now.rows[1]!.missing, true);
	const earlier = timelineRows(live, {now: fixedNow, span: 'day', momentStep: 3, width: 24});
	assert.equal(earlier.rows[0]!.missing, true, 'three hours ago the snapshot did not exist yet');
	const table = timelineRows(live, {now: fixedNow, span: 'day', momentStep: 0, width: 24, table: {name: 'sales', points: [new Date(fixedNow - 3_600_000).toISOString()]}});
	assert.equal(table.rows[2]!.label, 'sales');
	assert.match(table.rows[2]!.freshest, /60m before/);
});

test('footer, help and readme table come from the same key table', () => {
	const footer = footerHints('home', keyBindings, false);
	assert.match(footer, /Tab\/→\/l next pane/);
	const help = helpLines(keyBindings, false);
	for (const binding of keyBindings) {
		assert.ok(help.some(line => line.includes(binding.description)), binding.description);
	}

	assert.match(keysMarkdown(), /\| `q` \| home, detail, help \| Quit \|/);
});
