import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {DuckDBInstance} from '@duckdb/node-api';
import pg from 'pg';
import {createSqliteDuckLake} from '../../../source/drill/catalogs/ducklake-catalogs.js';
import {writeDemoHistory} from '../../../source/drill/catalogs/ducklake-demo.js';
import {ducklakeSchema} from '../../../source/drill/catalogs/ducklake-schema.js';
import {DuckLakeWriter} from '../../../source/drill/catalogs/ducklake-writer.js';
import {parseConninfo} from '../../../source/formats/ducklake/connect.js';
import {DuckLakeFormat} from '../../../source/formats/ducklake/index.js';
import {formatEnvironment, type FormatEnvironment} from '../../../source/formats/index.js';
import {FileNotFoundError, type FileInfo, type FileStore} from '../../../source/storage/file-store.js';
import {makeLake, withCatalog, type Backend, type TestLake} from '../../formats/ducklake/lake.js';
import {postgresTargetNames, startPostgresTarget, type PostgresTarget} from '../../formats/ducklake/postgres.js';

const expectedOperations = ['CREATE TABLE', 'INSERT', 'INSERT', 'INSERT', 'DELETE', 'ALTER TABLE', 'INSERT', 'DELETE', 'DELETE', 'DELETE+INSERT', 'INSERT', 'DELETE'];

const backends: Array<{name: string; backend: Backend; postgres?: string}> = [
	{name: 'SQLite', backend: 'sqlite'},
	{name: 'a DuckDB file', backend: 'duckdb'},
	...postgresTargetNames().map(name => ({name: `PostgreSQL (${name})`, backend: 'postgres' as const, postgres: name})),
];

for (const {name, backend, postgres} of backends) {
	describe(`DuckLake catalog in ${name}`, () => {
		let server: PostgresTarget | undefined;
		let lake: TestLake;
		before(async () => {
			if (postgres) {
				server = await startPostgresTarget(postgres);
			}

			lake = await makeLake(backend, server);
		});
		after(async () => {
			await lake?.cleanup();
			await server?.stop();
		});

		test('has the 28 tables of the 1.0 schema and version 1.0', async () => {
			await withCatalog(lake, async sql => {
				for (const statement of ducklakeSchema) {
					const table = /CREATE TABLE (\w+)/.exec(statement)![1]!;
					// eslint-disable-next-line no-await-in-loop
					assert.ok((await sql.columns(table)).length > 0, `${table} exists`);
				}

				assert.equal(ducklakeSchema.length, 28);
				const [version] = await sql.query('SELECT "value" AS value FROM ducklake_metadata WHERE "key" = \'version\'');
				assert.equal(version!.value, '1.0');
			});
		});

		test('the writer made 12 snapshots of real Parquet files that the history reads back', async () => {
			assert.equal(lake.steps.length, 12);
			const history = await new DuckLakeFormat(formatEnvironment({env: {}})).history({ref: lake.ref, table: 'main.orders'});
			assert.deepEqual(history.entries.map(entry => entry.operation), expectedOperations);
			assert.deepEqual(history.entries.map(entry => entry.summary.rows), lake.steps.map(step => step.rows));
			assert.ok(history.entries.every(entry => entry.restorable && entry.reason === undefined), 'every file present, sizes as the catalog says');
			const instance = await DuckDBInstance.create(':memory:');
			const connection = await instance.connect();
			try {
				const deletes = await connection.runAndReadAll(`SELECT count(*) FROM read_parquet('${path.join(lake.dir, 'data/main/orders')}/*-delete.parquet', union_by_name = true) WHERE pos IS NOT NULL AND file_path LIKE '%.parquet'`);
				assert.ok(Number(deletes.getRows()[0]![0]) > 0, 'positional delete files hold file_path and pos');
				const fieldIds = await connection.runAndReadAll(`SELECT DISTINCT name, field_id FROM parquet_schema('${path.join(lake.dir, 'data/main/orders')}/ducklake-*.parquet') WHERE field_id IS NOT NULL AND file_name NOT LIKE '%-delete.parquet' ORDER BY field_id`);
				assert.deepEqual(fieldIds.getRows().map(row => [row[0], Number(row[1])]), [['id', 1], ['customer', 2], ['amount', 3], ['note', 4]]);
			} finally {
				connection.closeSync();
				instance.closeSync();
			}
		});

		if (backend === 'postgres') {
			test('is a real Postgres reachable over TCP with pg', async () => {
				const conninfo = lake.ref.slice('ducklake:postgres:'.length);
				const client = new pg.Client(parseConninfo(conninfo));
				await client.connect();
				try {
					const result = await client.query('SELECT count(*)::int AS n FROM ducklake_snapshot');
					assert.equal(result.rows[0].n, 13);
					const version = await client.query('SHOW server_version');
					assert.match(String(version.rows[0].server_version), /^\d+/);
				} finally {
					await client.end();
				}
			});
		}
	});
}

/** An S3-like store in memory: what the writer puts, the format lists. */
class MemoryStore implements FileStore {
	readonly root: string;
	readonly files: Map<string, Uint8Array>;
	lists = 0;
	constructor(root: string, files: Map<string, Uint8Array>) {
		this.root = root;
		this.files = files;
	}

	async list(prefix: string): Promise<FileInfo[]> {
		this.lists++;
		return [...this.files].filter(([key]) => key.startsWith(prefix)).map(([key, body]) => ({path: key, size: body.byteLength})).sort((a, b) => a.path.localeCompare(b.path));
	}

	async read(file: string): Promise<Uint8Array> {
		const body = this.files.get(file);
		if (!body) {
			throw new FileNotFoundError(`${this.root}/${file}`);
		}

		return body;
	}

	async exists(file: string) {
		return this.files.has(file);
	}

	async putIfAbsent(file: string, body: Uint8Array) {
		this.files.set(file, body);
	}

	async put(file: string, body: Uint8Array) {
		this.files.set(file, body);
	}
}

describe('DuckLake with data in S3 (s3://ilum-ducklake/lake/)', () => {
	let dir: string;
	before(async () => {
		dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-ducklake-s3-'));
	});
	after(async () => {
		await fs.rm(dir, {recursive: true, force: true});
	});

	test('the writer puts files under data_path; history lists them once and restores read footers from S3', async () => {
		const files = new Map<string, Uint8Array>();
		const store = new MemoryStore('s3://ilum-ducklake/lake', files);
		const file = path.join(dir, 'catalog.sqlite');
		const sql = await createSqliteDuckLake(file, 's3://ilum-ducklake/lake/');
		const writer = await DuckLakeWriter.open(sql, {base: dir, store, staging: path.join(dir, 'staging')});
		const steps = await writeDemoHistory(writer);
		await writer.close();
		await sql.close();
		assert.ok([...files.keys()].every(key => key.startsWith('main/orders/ducklake-')), [...files.keys()].join(', '));

		const environment: FormatEnvironment = {
			...formatEnvironment({env: {}}),
			s3() {
				throw new Error('this store is in memory: no S3 client (copies go through the store)');
			},
			openStore(location) {
				assert.equal(location.replace(/\/$/, ''), 's3://ilum-ducklake/lake');
				return store;
			},
		};
		const ref = `ducklake:sqlite:${file}`;
		const history = await new DuckLakeFormat(environment).history({ref, table: 'main.orders'});
		assert.equal(history.entries.length, 12);
		assert.ok(history.entries.every(entry => entry.restorable));
		assert.equal(store.lists, 1, 'one listing of the data path for the whole history');

		const target = steps.find(step => step.what === 'delete every tenth id')!;
		const format = new DuckLakeFormat(environment);
		const result = await format.execute(await format.plan({ref, table: 'main.orders'}, String(target.snapshot)));
		assert.equal(result.verified, true, JSON.stringify(result.checks));
		assert.match(result.checks.find(check => check.name === 'row count (Parquet footers)')!.detail, /^180 rows/);

		files.delete([...files.keys()].find(key => !key.endsWith('-delete.parquet'))!);
		const after = await new DuckLakeFormat(environment).history({ref, table: 'main.orders'});
		assert.ok(after.entries.some(entry => !entry.restorable && /missing: main\/orders\/ducklake-/.test(entry.reason ?? '')));
	});
});
