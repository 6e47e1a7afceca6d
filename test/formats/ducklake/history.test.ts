import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {gunzipSync} from 'node:zlib';
import {DuckDBInstance} from '@duckdb/node-api';
import {readTableAt} from '../../../source/drill/catalogs/ducklake-writer.js';
import {catalogVersion} from '../../../source/formats/ducklake/catalog.js';
import {openCatalog, parseConninfo, parseDuckLakeRef, redact} from '../../../source/formats/ducklake/connect.js';
import {DuckLakeFormat, resolveTarget} from '../../../source/formats/ducklake/index.js';
import type {CatalogState} from '../../../source/formats/ducklake/catalog.js';
import {parseChanges} from '../../../source/formats/ducklake/history.js';
import {formatEnvironment} from '../../../source/formats/index.js';
import {projectRoot, runCli} from '../../helpers/run-cli.js';

const fixtures = path.resolve(projectRoot, '../shared/fixtures/tables/ducklake');
const format = () => new DuckLakeFormat(formatEnvironment({env: {}}));

describe('DuckLake history of delete_ignore_extra_columns (DuckDB 1.4, catalog 0.3)', () => {
	let dir: string;
	let ref: string;
	before(async () => {
		// A copy: opening a DuckDB file may touch its WAL, and the fixtures are read-only.
		dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-ducklake-fixture-'));
		await fs.cp(path.join(fixtures, 'delete_ignore_extra_columns'), dir, {recursive: true});
		ref = `ducklake:${path.join(dir, 'delete_ignore_extra_columns.db')}`;
	});
	after(async () => {
		await fs.rm(dir, {recursive: true, force: true});
	});

	test('lists the three catalog snapshots without --table', async () => {
		const history = await format().history({ref});
		assert.equal(history.format, 'ducklake');
		assert.equal(history.current, '2');
		assert.deepEqual(history.entries.map(entry => [entry.id, entry.operation, entry.current, entry.restorable]), [
			['0', 'CREATE SCHEMA', false, true],
			['1', 'CREATE TABLE+INSERT', false, true],
			['2', 'DELETE', true, true],
		]);
		assert.equal(history.entries[1]!.parent, '0');
		assert.equal(history.entries[2]!.timestamp, '2025-09-16T12:17:19.451Z');
		assert.equal(history.entries[2]!.summary.tables, 'main.test', 'the catalog-wide view names the tables a snapshot changed');
	});

	test('for main.test: the snapshots that changed it, with row counts; the rewritten delete file is a note, not missing', async () => {
		const history = await format().history({ref, table: 'main.test'});
		assert.deepEqual(history.entries.map(entry => entry.id), ['1', '2']);
		assert.deepEqual(history.entries.map(entry => entry.summary.rows), [100, 91]);
		const last = history.entries[1]!;
		assert.equal(last.restorable, true);
		assert.match(last.reason ?? '', /delete file main\/test\/ducklake-01995275-4693-7c2b-bde2-2a1abf7df260-delete\.parquet is 1111 bytes, the catalog says 903/);
	});

	test('count(*) = 91 at the last snapshot, 100 at the first, read from the Parquet data and delete files', async () => {
		const sql = await openCatalog(parseDuckLakeRef(ref), {readOnly: true});
		try {
			const last = await readTableAt(sql, {table: 'main.test', base: dir});
			assert.equal(last.length, 91);
			assert.deepEqual(last, Array.from({length: 91}, (_, index) => String(index)));
			assert.equal((await readTableAt(sql, {table: 'main.test', base: dir, snapshot: 1})).length, 100);
		} finally {
			await sql.close();
		}
	});

	test('the CLI prints an aligned table and JSON with decimal string ids', async () => {
		const text = await runCli(['history', ref, '--table', 'main.test']);
		assert.equal(text.code, 0, text.stderr);
		assert.match(text.stdout, /\* 2 +2025-09-16T12:17:19\.451Z +DELETE +yes/);
		const json = await runCli(['history', ref, '--json']);
		assert.equal(json.code, 0, json.stderr);
		const document = JSON.parse(json.stdout) as {current: string; entries: Array<{id: unknown}>};
		assert.equal(document.current, '2');
		assert.deepEqual(document.entries.map(entry => entry.id), ['0', '1', '2']);
	});

	test('a table that does not exist: one line naming the tables there are', async () => {
		const result = await runCli(['history', ref, '--table', 'main.nope']);
		assert.equal(result.code, 1);
		assert.equal(result.stderr.trim().split('\n').length, 1);
		assert.match(result.stderr, /no table main\.nope .*tables: main\.test/);
	});
});

describe('DuckLake catalog versions (catalogs-gz)', () => {
	let dir: string;
	before(async () => {
		dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-ducklake-versions-'));
		for (const name of await fs.readdir(path.join(fixtures, 'catalogs-gz'))) {
			// eslint-disable-next-line no-await-in-loop
			await fs.writeFile(path.join(dir, name.replace(/\.gz$/, '')), gunzipSync(await fs.readFile(path.join(fixtures, 'catalogs-gz', name))));
		}
	});
	after(async () => {
		await fs.rm(dir, {recursive: true, force: true});
	});

	for (const [file, version] of [['v03.db', '0.3'], ['v03-dev1.db', '0.3-dev1'], ['v03_types.db', '0.3'], ['v04-dev1.db', '0.4-dev1'], ['v04-dev1_types.db', '0.4-dev1'], ['v04.db', '0.4'], ['compacted_files.db', '0.3'], ['per_table_schema.db', '0.3']] as const) {
		test(`${file} (version ${version}) is read`, async () => {
			const history = await format().history({ref: `ducklake:${path.join(dir, file)}`});
			assert.ok(history.entries.length >= 2);
			assert.equal(history.entries[0]!.operation, 'CREATE SCHEMA');
			assert.equal(history.current, history.entries.at(-1)!.id);
			const sql = await openCatalog(parseDuckLakeRef(`ducklake:${path.join(dir, file)}`), {readOnly: true});
			try {
				assert.equal(await catalogVersion(sql), version);
			} finally {
				await sql.close();
			}
		});
	}

	test('v01.db (version 0.1) is refused with one line saying to migrate it', async () => {
		const result = await runCli(['history', `ducklake:${path.join(dir, 'v01.db')}`]);
		assert.equal(result.code, 1);
		assert.equal(result.stdout, '');
		assert.equal(result.stderr.trim().split('\n').length, 1);
		assert.match(result.stderr, /version 0\.1 is older than 0\.3.*migrate it first.*ducklake extension/);
	});

	test('v01_partitioned.db (version 0.1) is refused the same way', async () => {
		await assert.rejects(format().history({ref: `ducklake:${path.join(dir, 'v01_partitioned.db')}`}), /v01_partitioned\.db: DuckLake catalog version 0\.1 is older than 0\.3/);
	});

	test('an unknown version: one line, non-zero, for history and restore, and nothing written', async () => {
		const file = path.join(dir, 'future.db');
		await fs.copyFile(path.join(dir, 'v04.db'), file);
		const instance = await DuckDBInstance.create(file);
		const connection = await instance.connect();
		await connection.run('UPDATE ducklake_metadata SET "value" = \'7.3\' WHERE "key" = \'version\'');
		await connection.run('CHECKPOINT');
		connection.closeSync();
		instance.closeSync();
		const digest = async () => createHash('sha256').update(await fs.readFile(file)).digest('hex');
		const before = await digest();
		for (const args of [['history', `ducklake:${file}`], ['restore', 'table', `ducklake:${file}`, '--table', 'main.test', '--to', '1', '--yes']]) {
			// eslint-disable-next-line no-await-in-loop
			const result = await runCli(args);
			assert.notEqual(result.code, 0);
			assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
			assert.match(result.stderr, /unknown DuckLake catalog version '7\.3'/);
			assert.ok(result.stderr.includes(file));
		}

		assert.equal(await digest(), before, 'the catalog file is byte for byte unchanged');
	});
});

describe('DuckLake refs and connection strings', () => {
	test('refs name the backend as DuckDB\'s ATTACH does', () => {
		assert.deepEqual(parseDuckLakeRef('ducklake:/x/lake.ducklake'), {kind: 'duckdb', file: '/x/lake.ducklake'});
		assert.deepEqual(parseDuckLakeRef('ducklake:sqlite:/x/lake.sqlite'), {kind: 'sqlite', file: '/x/lake.sqlite'});
		const postgres = parseDuckLakeRef('ducklake:postgres:dbname=lake host=db.example port=6543 user=ilum');
		assert.equal(postgres.kind, 'postgres');
		assert.deepEqual(postgres.kind === 'postgres' && postgres.config, {database: 'lake', host: 'db.example', port: 6543, user: 'ilum', connectionTimeoutMillis: 15_000});
	});

	test('libpq conninfo: quoted values with escapes; URIs with percent-encoding and query parameters', () => {
		assert.deepEqual(parseConninfo(`host=localhost password='it\\'s a secret' dbname = lake`), {host: 'localhost', password: 'it\'s a secret', database: 'lake', connectionTimeoutMillis: 15_000});
		assert.deepEqual(parseConninfo('postgresql://ilum:p%40ss@10.0.0.5:5433/cat?application_name=x&connect_timeout=3'), {host: '10.0.0.5', port: 5433, user: 'ilum', password: 'p@ss', database: 'cat', application_name: 'x', connectionTimeoutMillis: 3000});
		assert.throws(() => parseConninfo('host=a port=notaport'), /not a port number/);
		assert.throws(() => parseConninfo('hostonly'), /missing '='/);
	});

	test('passwords never reach messages', () => {
		assert.equal(redact('host=a password=secret user=b'), 'host=a password=*** user=b');
		assert.equal(redact('postgres://u:secret@h/db'), 'postgres://u:***@h/db');
	});

	test('changes_made: commas inside quoted names do not split', () => {
		assert.deepEqual(parseChanges('created_table:"main"."a,b",inserted_into_table:3'), [
			{kind: 'created_table', target: '"main"."a,b"'},
			{kind: 'inserted_into_table', target: '3'},
		]);
	});

	test('--to: a snapshot id, or an ISO time meaning the newest snapshot at or before it', () => {
		const snapshot = (id: number, time: string) => ({id, time, schemaVersion: 0, nextCatalogId: 1, nextFileId: 0, changes: ''});
		const state = {snapshots: [snapshot(0, '2026-01-01T00:00:00.000Z'), snapshot(1, '2026-01-01T01:00:00.000Z'), snapshot(2, '2026-01-01T02:00:00.000Z')]} as unknown as CatalogState;
		assert.equal(resolveTarget(state, '1').id, 1);
		assert.equal(resolveTarget(state, '2026-01-01T01:59:59Z').id, 1);
		assert.equal(resolveTarget(state, '2026-01-01T02:00:00Z').id, 2);
		assert.throws(() => resolveTarget(state, '7'), /no snapshot 7/);
		assert.throws(() => resolveTarget(state, '2025-12-31T00:00:00Z'), /no snapshot at or before/);
		assert.throws(() => resolveTarget(state, 'yesterday'), /neither a snapshot id nor an ISO 8601 timestamp/);
	});
});
