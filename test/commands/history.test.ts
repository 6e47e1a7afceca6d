import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {after, describe, test} from 'node:test';
import {runCli} from '../helpers/run-cli.js';
import {commitName, copyFixture, fixture} from '../formats/delta/fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
	await Promise.all(cleanups.map(async cleanup => cleanup()));
});

describe('ilum-restore history', () => {
	test('--json: one document, entries oldest first, every field present', async () => {
		const result = await runCli(['history', fixture('simple_table'), '--json']);
		assert.equal(result.code, 0, result.stderr);
		const document = JSON.parse(result.stdout) as {format: string; ref: string; current: string; entries: Array<Record<string, unknown>>};
		assert.equal(document.format, 'delta');
		assert.equal(document.ref, fixture('simple_table'));
		assert.equal(document.current, '4');
		assert.deepEqual(Object.keys(document.entries[0]!), ['id', 'timestamp', 'operation', 'parent', 'current', 'restorable', 'reason', 'summary']);
		assert.deepEqual(document.entries[0], {
			id: '0',
			timestamp: '2020-04-27T06:23:06.154Z',
			operation: 'WRITE',
			parent: null,
			current: false,
			restorable: true,
			reason: null,
			summary: {liveFiles: 6, liveBytes: 2407},
		});
		assert.equal(document.entries[4]!['current'], true);
	});

	test('without --json: an aligned table marking the current version', async () => {
		const result = await runCli(['history', fixture('snapshot-vacuumed')]);
		assert.equal(result.code, 0, result.stderr);
		const lines = result.stdout.trimEnd().split('\n');
		assert.match(lines[0]!, /delta table .*snapshot-vacuumed: current 5, 6 versions listed, 1 restorable/);
		const header = lines[2]!;
		const timeColumn = header.indexOf('TIME');
		const restorableColumn = header.indexOf('RESTORABLE');
		const rows = lines.slice(3, 9);
		assert.equal(lines[9], '');
		assert.match(lines[10]!, /^Retention: delta\.logRetentionDuration = .*delta\.deletedFileRetentionDuration = /);
		for (const row of rows) {
			assert.match(row.slice(timeColumn), /^2020-10-26T/);
			assert.match(row.slice(restorableColumn), /^(yes|no)\b/);
		}

		assert.match(rows[5]!, /^\* 5 .*WRITE\s+yes$/);
		assert.match(rows[0]!, /no\s+2 files missing/);
	});

	test('a path that does not exist: one line, exit 1', async () => {
		const result = await runCli(['history', '/nonexistent/warehouse/events']);
		assert.equal(result.code, 1);
		assert.equal(result.stdout, '');
		assert.equal(result.stderr.trimEnd().split('\n').length, 1);
		assert.match(result.stderr, /\/nonexistent\/warehouse\/events: no such folder: check the path/);
	});

	test('a folder that is neither Delta nor Iceberg: one line naming it, exit 1', async () => {
		const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-empty-'));
		cleanups.push(async () => fs.rm(dir, {recursive: true, force: true}));
		await fs.writeFile(path.join(dir, 'part-0.parquet'), 'x');
		const result = await runCli(['history', dir]);
		assert.equal(result.code, 1);
		assert.equal(result.stderr.trimEnd().split('\n').length, 1);
		assert.match(result.stderr, /not a Delta table \(no _delta_log\/\) nor an Iceberg table \(no metadata\/\)/);
	});

	test('truncated JSON in a commit: one line naming the file and line, exit 1, nothing written', async () => {
		const {dir, remove} = await copyFixture('simple_table');
		cleanups.push(remove);
		const file = path.join(dir, '_delta_log', commitName(3));
		const text = await fs.readFile(file, 'utf8');
		await fs.writeFile(file, text.slice(0, text.indexOf('\n') + 40));
		const before = await fs.readdir(path.join(dir, '_delta_log'));
		const history = await runCli(['history', dir]);
		assert.equal(history.code, 1);
		assert.equal(history.stderr.trimEnd().split('\n').length, 1);
		assert.match(history.stderr, /00000000000000000003\.json: line 2 is not valid JSON/);
		const restore = await runCli(['restore', 'table', dir, '--to', '1', '--yes']);
		assert.equal(restore.code, 1);
		assert.match(restore.stderr, /00000000000000000003\.json: line 2 is not valid JSON/);
		assert.deepEqual(await fs.readdir(path.join(dir, '_delta_log')), before);
	});

	test('no ref: usage error, exit 2', async () => {
		const result = await runCli(['history']);
		assert.equal(result.code, 2);
		assert.match(result.stderr, /history needs a table ref/);
	});
});
