import {test} from 'node:test';
import assert from 'node:assert/strict';
import {historyText} from '../../../source/commands/history.js';
import type {TableHistory} from '../../../source/formats/types.js';
import {historyLines} from '../../../source/ui/detail/details.js';

/* `history` and the console's table detail print one table, the same way (one presenter). */

const history: TableHistory = {
	format: 'delta',
	ref: 's3://ilum-tables/sales',
	current: '2',
	entries: [
		{id: '0', timestamp: '2026-11-20T10:00:00.000Z', operation: 'CREATE TABLE', current: false, restorable: false, reason: 'part-0000.parquet was vacuumed', summary: {}},
		{id: '1', timestamp: '2026-11-21T10:00:00.000Z', operation: 'WRITE', current: false, restorable: true, summary: {}},
		{id: '2', timestamp: '2026-11-22T08:00:00.000Z', operation: 'DELETE', current: true, restorable: true, summary: {}},
	],
	retention: {settings: {'delta.deletedFileRetentionDuration': 'interval 7 days'}, keepsMs: 7 * 24 * 3_600_000},
};

test('history prints the summary, the aligned versions and the retention; the console detail shows the same lines', () => {
	const text = historyText(history);
	assert.equal(text, [
		'delta table s3://ilum-tables/sales: current 2, 3 versions listed, 2 restorable',
		'',
		'  ID  TIME (UTC)                OPERATION     RESTORABLE  NOTE',
		'  0   2026-11-20T10:00:00.000Z  CREATE TABLE  no          part-0000.parquet was vacuumed',
		'  1   2026-11-21T10:00:00.000Z  WRITE         yes',
		'* 2   2026-11-22T08:00:00.000Z  DELETE        yes',
		'',
		'Retention: delta.deletedFileRetentionDuration = interval 7 days (versions stay restorable about 168 h)',
		'',
	].join('\n'));
	const lines = historyLines(history);
	assert.equal(`${lines.map(line => line.text).join('\n')}\n`, text);
	assert.deepEqual(lines.slice(3, 6).map(line => line.tone), ['dim', undefined, 'ok'], 'not restorable grey, current green');
});

test('the console names the table without the credentials a ref may carry', () => {
	const lines = historyLines({...history, ref: 'ducklake:postgres:host=db user=ilum password=sup3rs3cret dbname=lake', retention: undefined});
	assert.doesNotMatch(lines.map(line => line.text).join('\n'), /sup3rs3cret/);
	assert.equal(historyText({...history, retention: undefined}).split('\n').length, 7);
});
