import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {test} from 'node:test';
import {runCli} from '../../helpers/run-cli.js';
import {copyFixture, fixtures} from './helpers.js';

test('ilum-restore history --json on the Hive Iceberg fixture: exact 64-bit ids as strings', async () => {
	const result = await runCli(['history', path.join(fixtures, 'hive-v2-position-deletes'), '--json']);
	assert.equal(result.code, 0, result.stderr);
	const history = JSON.parse(result.stdout);
	assert.equal(history.format, 'iceberg');
	assert.equal(history.current, '1497619269847778439');
	assert.deepEqual(history.entries.map((entry: any) => entry.id), ['4363979609026842966', '5762682948883272650', '7508485421322116327', '7490459762454857930', '752781918366351945', '1497619269847778439']);
	assert.equal(history.entries[1].parent, '4363979609026842966');
});

test('ilum-restore history on a SQL catalog file with --table', async () => {
	const result = await runCli(['history', path.join(fixtures, 'pyiceberg-v1-sqlcatalog-v3-upgrade', 'catalog.db'), '--table', 'repro.merch_v1', '--json']);
	assert.equal(result.code, 0, result.stderr);
	assert.equal(JSON.parse(result.stdout).current, '5191822260710938731');
});

test('ilum-restore restore table on a copy: non-ancestor refused with exit 3, rollback with --yes', async t => {
	const copy = await copyFixture('hive-v2-position-deletes');
	t.after(copy.remove);
	const back = await runCli(['restore', 'table', copy.dir, '--to', '5762682948883272650', '--yes', '--json']);
	assert.equal(back.code, 0, back.stderr);
	assert.equal((await fs.readFile(path.join(copy.dir, 'metadata/version-hint.txt'), 'utf8')).trim(), '8');
	const forward = await runCli(['restore', 'table', copy.dir, '--to', '1497619269847778439', '--yes']);
	assert.equal(forward.code, 3);
	assert.match(forward.stderr, /not an ancestor of main \(5762682948883272650\).*--force/);
	assert.ok(!(await fs.readdir(path.join(copy.dir, 'metadata'))).includes('v9.metadata.json'));
	const bad = await runCli(['history', path.join(copy.dir, 'metadata', 'snap-4363979609026842966-1-db6f17fe-6fb6-4120-839d-4d6ca5244a1c.avro')]);
	assert.notEqual(bad.code, 0);
	assert.equal(bad.stderr.trim().split('\n').length, 1);
});
