import {randomUUID} from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {DuckDBInstance, type DuckDBConnection} from '@duckdb/node-api';
import {sqlTimestamp} from '../../formats/ducklake/backends.js';
import {findTable, liveFiles, loadCatalog, loadInlined} from '../../formats/ducklake/catalog.js';
import {int, type SqlCatalog, type SqlValue} from '../../formats/ducklake/sql.js';
import {DataStorage, resolveLocation} from '../../formats/ducklake/storage.js';
import type {FileStore} from '../../storage/file-store.js';
import {LocalFileStore} from '../../storage/local-file-store.js';

/** A column as DuckLake types it: int64, int32, varchar, float64, boolean, date, timestamp... */
export type ColumnSpec = {readonly name: string; readonly type: string; readonly default?: string};

const duckTypes: Record<string, string> = {
	int8: 'TINYINT', int16: 'SMALLINT', int32: 'INTEGER', int64: 'BIGINT', uint32: 'UINTEGER', uint64: 'UBIGINT',
	float32: 'FLOAT', float64: 'DOUBLE', varchar: 'VARCHAR', boolean: 'BOOLEAN', date: 'DATE', timestamp: 'TIMESTAMP',
	timestamptz: 'TIMESTAMPTZ', blob: 'BLOB', uuid: 'UUID',
};
const numericTypes = new Set(['int8', 'int16', 'int32', 'int64', 'uint32', 'uint64', 'float32', 'float64']);

const sqlString = (text: string) => `'${text.replaceAll('\'', '\'\'')}'`;
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

type TableInfo = {id: number; schemaName: string; name: string; key: string; columns: Array<{id: number; name: string; type: string; order: number}>};

type CommitContext = {
	readonly tx: SqlCatalog;
	readonly snapshot: number;
	nextFileId(): number;
	nextCatalogId(): number;
	bumpSchema(tableId: number): void;
};

/**
A small DuckLake writer for tests and the drill world: real Parquet files written by DuckDB's
`COPY ... TO (FORMAT parquet, FIELD_IDS ...)`, and catalog rows as the specification's "Queries"
page writes them. Every call is one snapshot. Files go to the catalog's `data_path`; when that is
remote (s3://), they are written to a local staging folder and put to `store`.
*/
export class DuckLakeWriter {
	readonly sql: SqlCatalog;
	private readonly duck: DuckDBConnection;
	private readonly instance: DuckDBInstance;
	/** Local folder mirroring data_path (data_path itself when local). */
	readonly localRoot: string;
	private readonly store?: FileStore;
	private readonly base: string;
	private readonly author: string;
	private readonly now: () => Date;
	/** UUIDs for file names, schemas and tables (a seeded generator makes them the same every run). */
	private readonly uuid: () => string;

	private constructor(options: {sql: SqlCatalog; instance: DuckDBInstance; duck: DuckDBConnection; localRoot: string; store?: FileStore; base: string; author: string; now?: () => Date; uuid?: () => string}) {
		this.sql = options.sql;
		this.instance = options.instance;
		this.duck = options.duck;
		this.localRoot = options.localRoot;
		this.store = options.store;
		this.base = options.base;
		this.author = options.author;
		this.now = options.now ?? (() => new Date());
		this.uuid = options.uuid ?? randomUUID;
	}

	/**
	`base`: the folder a relative data_path is relative to (the catalog file's). `store`: where
	files go when data_path is remote (opened on data_path); `staging`: the local mirror for it.
	*/
	static async open(sql: SqlCatalog, options: {base: string; store?: FileStore; staging?: string; author?: string; now?: () => Date; uuid?: () => string}): Promise<DuckLakeWriter> {
		const state = await loadCatalog(sql);
		const root = resolveLocation(options.base, state.dataPath);
		const remote = /^[a-z][a-z\d+.-]*:\/\//i.test(root);
		if (remote && !options.store) {
			throw new Error(`data_path ${root} is remote: give the writer a store for it`);
		}

		const localRoot = remote ? (options.staging ?? await fs.mkdtemp(path.join(os.tmpdir(), 'ducklake-staging-'))) : root;
		const instance = await DuckDBInstance.create(':memory:');
		const duck = await instance.connect();
		return new DuckLakeWriter({sql, instance, duck, localRoot: localRoot.endsWith('/') ? localRoot : localRoot + '/', store: remote ? options.store : undefined, base: options.base, author: options.author ?? 'ilum-restore drill writer', now: options.now, uuid: options.uuid});
	}

	async close(): Promise<void> {
		this.duck.closeSync();
		this.instance.closeSync();
	}

	private async commit(changes: string[], message: string, work: (context: CommitContext) => Promise<void>): Promise<number> {
		return this.sql.transaction(async tx => {
			const [last] = await tx.query('SELECT snapshot_id, schema_version, next_catalog_id, next_file_id FROM ducklake_snapshot ORDER BY snapshot_id DESC LIMIT 1');
			const snapshot = int(last!.snapshot_id) + 1;
			let schemaVersion = int(last!.schema_version);
			let nextCatalogId = int(last!.next_catalog_id);
			let nextFileId = int(last!.next_file_id);
			const bumped = new Set<number>();
			await work({
				tx,
				snapshot,
				nextFileId: () => nextFileId++,
				nextCatalogId: () => nextCatalogId++,
				bumpSchema(tableId) {
					bumped.add(tableId);
				},
			});
			if (bumped.size > 0) {
				schemaVersion++;
				for (const tableId of bumped) {
					// eslint-disable-next-line no-await-in-loop
					await tx.run('INSERT INTO ducklake_schema_versions (begin_snapshot, schema_version, table_id) VALUES (?, ?, ?)', [snapshot, schemaVersion, tableId]);
				}
			}

			await tx.run('INSERT INTO ducklake_snapshot (snapshot_id, snapshot_time, schema_version, next_catalog_id, next_file_id) VALUES (?, ?, ?, ?, ?)', [snapshot, sqlTimestamp(this.now()), schemaVersion, nextCatalogId, nextFileId]);
			await tx.run('INSERT INTO ducklake_snapshot_changes (snapshot_id, changes_made, author, commit_message, commit_extra_info) VALUES (?, ?, ?, ?, NULL)', [snapshot, changes.join(','), this.author, message]);
			return snapshot;
		});
	}

	private async table(name: string): Promise<TableInfo> {
		const state = await loadCatalog(this.sql);
		const latest = state.snapshots.at(-1)!.id;
		const found = findTable(state, name, latest);
		if (!found) {
			throw new Error(`no table ${name}`);
		}

		const columns = (await this.sql.query('SELECT column_id, column_name, column_type, column_order FROM ducklake_column WHERE table_id = ? AND end_snapshot IS NULL AND parent_column IS NULL ORDER BY column_order', [found.table.id]))
			.map(row => ({id: int(row.column_id), name: String(row.column_name), type: String(row.column_type), order: int(row.column_order)}));
		const key = `${found.schema.path ?? ''}${found.table.path ?? ''}`;
		return {id: found.table.id, schemaName: found.schema.name, name: found.table.name, key, columns};
	}

	/** CREATE SCHEMA name: one snapshot. */
	async createSchema(name: string): Promise<number> {
		return this.commit([`created_schema:${quoteName(name)}`], `create schema ${name}`, async context => {
			await context.tx.run('INSERT INTO ducklake_schema (schema_id, schema_uuid, begin_snapshot, end_snapshot, schema_name, path, path_is_relative) VALUES (?, ?, ?, NULL, ?, ?, ?)', [context.nextCatalogId(), this.uuid(), context.snapshot, name, `${name}/`, true]);
		});
	}

	/** CREATE TABLE schema.name (columns): one snapshot. Returns its id. */
	async createTable(qualified: string, columns: readonly ColumnSpec[]): Promise<number> {
		const [schemaName, tableName] = qualified.includes('.') ? qualified.split('.', 2) as [string, string] : ['main', qualified];
		const [schema] = await this.sql.query('SELECT schema_id FROM ducklake_schema WHERE schema_name = ? AND end_snapshot IS NULL', [schemaName]);
		if (!schema) {
			throw new Error(`no schema ${schemaName}`);
		}

		return this.commit([`created_table:${quoteName(schemaName)}.${quoteName(tableName)}`], `create table ${qualified}`, async context => {
			const tableId = context.nextCatalogId();
			await context.tx.run('INSERT INTO ducklake_table (table_id, table_uuid, begin_snapshot, end_snapshot, schema_id, table_name, path, path_is_relative) VALUES (?, ?, ?, NULL, ?, ?, ?, ?)', [tableId, this.uuid(), context.snapshot, int(schema.schema_id), tableName, `${tableName}/`, true]);
			for (const [index, column] of columns.entries()) {
				// eslint-disable-next-line no-await-in-loop
				await context.tx.run('INSERT INTO ducklake_column (column_id, begin_snapshot, end_snapshot, table_id, column_order, column_name, column_type, initial_default, default_value, nulls_allowed, parent_column) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, NULL)', [index + 1, context.snapshot, tableId, index + 1, column.name, column.type, column.default ?? null, column.default ?? null, true]);
			}

			await context.tx.run('INSERT INTO ducklake_table_stats (table_id, record_count, next_row_id, file_size_bytes) VALUES (?, 0, 0, 0)', [tableId]);
			context.bumpSchema(tableId);
		});
	}

	/** INSERT INTO table SELECT ...: `select` is DuckDB SQL yielding every column by name. One new data file. */
	async insert(qualified: string, select: string, message?: string): Promise<number> {
		const table = await this.table(qualified);
		return this.commit([`inserted_into_table:${table.id}`], message ?? `insert into ${qualified}`, async context => {
			await this.writeDataFile(context, table, select);
		});
	}

	/** DELETE FROM table WHERE ...: a positional delete file per data file it touches (merged with the file's earlier deletes). */
	async delete(qualified: string, where: string, message?: string): Promise<number | undefined> {
		const table = await this.table(qualified);
		const state = await loadCatalog(this.sql);
		const storage = new DataStorage(state, {base: this.base, open: where => new LocalFileStore(where)});
		const files = liveFiles(state, table.id, state.snapshots.at(-1)!.id);
		const work: Array<{dataFileId: number; location: string; local: string; positions: number[]; previous?: number}> = [];
		for (const file of files) {
			const location = storage.locate(file.data);
			const local = this.localPath(storage.display(location));
			// eslint-disable-next-line no-await-in-loop
			const matched = (await this.duck.runAndReadAll(`SELECT file_row_number FROM read_parquet(${sqlString(local)}, file_row_number = true) WHERE ${where}`)).getRows().map(row => Number(row[0]));
			const earlier = file.deletes
				// eslint-disable-next-line no-await-in-loop
				? (await this.duck.runAndReadAll(`SELECT pos FROM read_parquet(${sqlString(this.localPath(storage.display(storage.locate(file.deletes))))})`)).getRows().map(row => Number(row[0]))
				: [];
			const fresh = matched.filter(position => !earlier.includes(position));
			if (fresh.length > 0) {
				work.push({dataFileId: file.data.id, location, local, positions: [...new Set([...earlier, ...fresh])].sort((a, b) => a - b), previous: file.deletes?.id});
			}
		}

		if (work.length === 0) {
			return undefined;
		}

		return this.commit([`deleted_from_table:${table.id}`], message ?? `delete from ${qualified} where ${where}`, async context => {
			for (const item of work) {
				if (item.previous !== undefined) {
					// eslint-disable-next-line no-await-in-loop
					await context.tx.run('UPDATE ducklake_delete_file SET end_snapshot = ? WHERE delete_file_id = ?', [context.snapshot, item.previous]);
				}

				const name = `ducklake-${this.uuid()}-delete.parquet`;
				const key = table.key + name;
				const local = this.localPath(key);
				await fs.mkdir(path.dirname(local), {recursive: true});
				const values = item.positions.map(position => `(${position})`).join(', ');
				// eslint-disable-next-line no-await-in-loop
				await this.duck.run(`COPY (SELECT ${sqlString(item.location)} AS file_path, CAST(pos AS BIGINT) AS pos FROM (VALUES ${values}) AS v(pos) ORDER BY pos) TO ${sqlString(local)} (FORMAT parquet, FIELD_IDS {file_path: 2147483546, pos: 2147483545})`);
				// eslint-disable-next-line no-await-in-loop
				const meta = await this.fileMetadata(local);
				// eslint-disable-next-line no-await-in-loop
				await this.upload(key, local);
				// eslint-disable-next-line no-await-in-loop
				await context.tx.run('INSERT INTO ducklake_delete_file (delete_file_id, table_id, begin_snapshot, end_snapshot, data_file_id, path, path_is_relative, format, delete_count, file_size_bytes, footer_size, encryption_key, partial_max) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)', [context.nextFileId(), table.id, context.snapshot, item.dataFileId, name, true, 'parquet', item.positions.length, meta.size, meta.footer]);
			}
		});
	}

	/** INSERT OVERWRITE: every live data and delete file leaves, one new data file holds `select`. */
	async overwrite(qualified: string, select: string, message?: string): Promise<number> {
		const table = await this.table(qualified);
		return this.commit([`deleted_from_table:${table.id}`, `inserted_into_table:${table.id}`], message ?? `overwrite ${qualified}`, async context => {
			await context.tx.run('UPDATE ducklake_delete_file SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL', [context.snapshot, table.id]);
			await context.tx.run('UPDATE ducklake_data_file SET end_snapshot = ? WHERE table_id = ? AND end_snapshot IS NULL', [context.snapshot, table.id]);
			await context.tx.run('UPDATE ducklake_table_stats SET record_count = 0, file_size_bytes = 0 WHERE table_id = ?', [table.id]);
			await this.writeDataFile(context, table, select);
		});
	}

	/** ALTER TABLE ADD COLUMN: a new column id; older files lack it and read as its initial default. */
	async addColumn(qualified: string, column: ColumnSpec): Promise<number> {
		const table = await this.table(qualified);
		const [max] = await this.sql.query('SELECT max(column_id) AS id, max(column_order) AS ord FROM ducklake_column WHERE table_id = ?', [table.id]);
		return this.commit([`altered_table:${table.id}`], `alter table ${qualified} add column ${column.name}`, async context => {
			await context.tx.run('INSERT INTO ducklake_column (column_id, begin_snapshot, end_snapshot, table_id, column_order, column_name, column_type, initial_default, default_value, nulls_allowed, parent_column) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, NULL)', [int(max!.id) + 1, context.snapshot, table.id, int(max!.ord) + 1, column.name, column.type, column.default ?? null, column.default ?? null, true]);
			context.bumpSchema(table.id);
		});
	}

	/**
	INSERT of a few rows as DuckLake 1.0 inlines them: into `ducklake_inlined_data_<table>_<schema
	version>` in the catalog, no Parquet file.
	*/
	async insertInlined(qualified: string, select: string): Promise<number> {
		const table = await this.table(qualified);
		const rows = (await this.duck.runAndReadAll(`SELECT ${table.columns.map(column => `CAST(src.${ident(column.name)} AS ${duckTypes[column.type] ?? column.type.toUpperCase()}) AS ${ident(column.name)}`).join(', ')} FROM (${select}) AS src`)).getRows();
		return this.commit([`inserted_into_table:${table.id}`], `insert ${rows.length} inlined rows into ${qualified}`, async context => {
			const [version] = await context.tx.query('SELECT schema_version FROM ducklake_snapshot ORDER BY snapshot_id DESC LIMIT 1');
			const schemaVersion = int(version!.schema_version);
			const name = `ducklake_inlined_data_${table.id}_${schemaVersion}`;
			if ((await context.tx.columns(name)).length === 0) {
				const sqlTypes: Record<string, string> = {int64: 'BIGINT', int32: 'INTEGER', varchar: 'VARCHAR', float64: 'DOUBLE PRECISION', boolean: 'BOOLEAN', date: 'DATE', timestamp: 'TIMESTAMP'};
				await context.tx.run(`CREATE TABLE ${name} (row_id BIGINT, begin_snapshot BIGINT, end_snapshot BIGINT, ${table.columns.map(column => `${ident(column.name)} ${sqlTypes[column.type] ?? 'VARCHAR'}`).join(', ')})`);
				await context.tx.run('INSERT INTO ducklake_inlined_data_tables (table_id, table_name, schema_version) VALUES (?, ?, ?)', [table.id, name, schemaVersion]);
			}

			const [stats] = await context.tx.query('SELECT next_row_id FROM ducklake_table_stats WHERE table_id = ?', [table.id]);
			let rowId = int(stats?.next_row_id ?? 0);
			for (const row of rows) {
				const values = row.map(value => typeof value === 'bigint' ? Number(value) : (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' ? value : String(value)));
				// eslint-disable-next-line no-await-in-loop
				await context.tx.run(`INSERT INTO ${name} (row_id, begin_snapshot, end_snapshot, ${table.columns.map(column => ident(column.name)).join(', ')}) VALUES (?, ?, NULL, ${table.columns.map(() => '?').join(', ')})`, [rowId++, context.snapshot, ...values]);
			}

			await context.tx.run('UPDATE ducklake_table_stats SET record_count = record_count + ?, next_row_id = ? WHERE table_id = ?', [rows.length, rowId, table.id]);
		});
	}

	/**
	DELETE as DuckLake 1.0 inlines small ones: positions of Parquet rows into
	`ducklake_inlined_delete_<table>` (file_id, row_id, begin_snapshot), inlined rows ended in place.
	*/
	async deleteInlined(qualified: string, where: string): Promise<number> {
		const table = await this.table(qualified);
		const state = await loadCatalog(this.sql);
		const storage = new DataStorage(state, {base: this.base, open: location => new LocalFileStore(location)});
		const positions: Array<[number, number]> = [];
		for (const file of liveFiles(state, table.id, state.snapshots.at(-1)!.id)) {
			const local = this.localPath(storage.display(storage.locate(file.data)));
			// eslint-disable-next-line no-await-in-loop
			for (const [position] of (await this.duck.runAndReadAll(`SELECT file_row_number FROM read_parquet(${sqlString(local)}, file_row_number = true) WHERE ${where}`)).getRows()) {
				positions.push([file.data.id, Number(position)]);
			}
		}

		return this.commit([`deleted_from_table:${table.id}`], `delete (inlined) from ${qualified} where ${where}`, async context => {
			const name = `ducklake_inlined_delete_${table.id}`;
			if (positions.length > 0 && (await context.tx.columns(name)).length === 0) {
				await context.tx.run(`CREATE TABLE ${name} (file_id BIGINT, row_id BIGINT, begin_snapshot BIGINT)`);
			}

			for (const [fileId, position] of positions) {
				// eslint-disable-next-line no-await-in-loop
				await context.tx.run(`INSERT INTO ${name} (file_id, row_id, begin_snapshot) VALUES (?, ?, ?)`, [fileId, position, context.snapshot]);
			}

			for (const row of await context.tx.query('SELECT table_name FROM ducklake_inlined_data_tables WHERE table_id = ?', [table.id])) {
				// eslint-disable-next-line no-await-in-loop
				await context.tx.run(`UPDATE ${String(row.table_name)} SET end_snapshot = ? WHERE end_snapshot IS NULL AND (${where})`, [context.snapshot]);
			}
		});
	}

	/** DROP TABLE as the specification's Queries page writes it: every row of the table ends here. */
	async dropTable(qualified: string): Promise<number> {
		const table = await this.table(qualified);
		return this.commit([`dropped_table:${table.id}`], `drop table ${qualified}`, async context => {
			for (const [catalogTable, idColumn] of [['ducklake_table', 'table_id'], ['ducklake_partition_info', 'table_id'], ['ducklake_column', 'table_id'], ['ducklake_column_tag', 'table_id'], ['ducklake_data_file', 'table_id'], ['ducklake_delete_file', 'table_id'], ['ducklake_tag', 'object_id']] as const) {
				// eslint-disable-next-line no-await-in-loop
				await context.tx.run(`UPDATE ${catalogTable} SET end_snapshot = ? WHERE ${idColumn} = ? AND end_snapshot IS NULL`, [context.snapshot, table.id]);
			}
		});
	}

	private localPath(key: string): string {
		return this.localRoot + key;
	}

	private async upload(key: string, local: string) {
		if (this.store) {
			await this.store.put(key, await fs.readFile(local));
		}
	}

	private async fileMetadata(local: string): Promise<{rows: number; size: number; footer: number}> {
		const [row] = (await this.duck.runAndReadAll(`SELECT num_rows, file_size_bytes, footer_size FROM parquet_file_metadata(${sqlString(local)})`)).getRows();
		return {rows: Number(row![0]), size: Number(row![1]), footer: Number(row![2])};
	}

	private async writeDataFile(context: CommitContext, table: TableInfo, select: string): Promise<void> {
		const name = `ducklake-${this.uuid()}.parquet`;
		const key = table.key + name;
		const local = this.localPath(key);
		await fs.mkdir(path.dirname(local), {recursive: true});
		const projection = table.columns.map(column => `CAST(src.${ident(column.name)} AS ${duckTypes[column.type] ?? column.type.toUpperCase()}) AS ${ident(column.name)}`).join(', ');
		const fieldIds = table.columns.map(column => `${ident(column.name)}: ${column.id}`).join(', ');
		await this.duck.run(`COPY (SELECT ${projection} FROM (${select}) AS src) TO ${sqlString(local)} (FORMAT parquet, FIELD_IDS {${fieldIds}})`);
		const meta = await this.fileMetadata(local);
		const statsSql = table.columns.map(column => `CAST(min(${ident(column.name)}) AS VARCHAR), CAST(max(${ident(column.name)}) AS VARCHAR), count(*) - count(${ident(column.name)})`).join(', ');
		const [stats] = (await this.duck.runAndReadAll(`SELECT ${statsSql} FROM read_parquet(${sqlString(local)})`)).getRows();
		await this.upload(key, local);

		const [tableStats] = await context.tx.query('SELECT record_count, next_row_id, file_size_bytes FROM ducklake_table_stats WHERE table_id = ?', [table.id]);
		const rowIdStart = int(tableStats?.next_row_id ?? 0);
		const dataFileId = context.nextFileId();
		await context.tx.run('INSERT INTO ducklake_data_file (data_file_id, table_id, begin_snapshot, end_snapshot, file_order, path, path_is_relative, file_format, record_count, file_size_bytes, footer_size, row_id_start, partition_id, encryption_key, mapping_id, partial_max) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL)', [dataFileId, table.id, context.snapshot, dataFileId, name, true, 'parquet', meta.rows, meta.size, meta.footer, rowIdStart]);
		await context.tx.run('UPDATE ducklake_table_stats SET record_count = record_count + ?, next_row_id = next_row_id + ?, file_size_bytes = file_size_bytes + ? WHERE table_id = ?', [meta.rows, meta.rows, meta.size, table.id]);
		for (const [index, column] of table.columns.entries()) {
			const min = stats![index * 3] === null ? null : String(stats![index * 3]);
			const max = stats![(index * 3) + 1] === null ? null : String(stats![(index * 3) + 1]);
			const nulls = Number(stats![(index * 3) + 2]);
			// eslint-disable-next-line no-await-in-loop
			await context.tx.run('INSERT INTO ducklake_file_column_stats (data_file_id, table_id, column_id, column_size_bytes, value_count, null_count, min_value, max_value, contains_nan, extra_stats) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, NULL, NULL)', [dataFileId, table.id, column.id, meta.rows, nulls, min, max]);
			// eslint-disable-next-line no-await-in-loop
			const [existing] = await context.tx.query('SELECT min_value, max_value, contains_null FROM ducklake_table_column_stats WHERE table_id = ? AND column_id = ?', [table.id, column.id]);
			if (existing) {
				const pick = (a: SqlValue, b: string | null, want: 'min' | 'max') => {
					if (a === null || a === undefined) {
						return b;
					}

					if (b === null) {
						return String(a);
					}

					const less = numericTypes.has(column.type) ? Number(b) < Number(a) : b < String(a);
					return (want === 'min') === less ? b : String(a);
				};

				// eslint-disable-next-line no-await-in-loop
				await context.tx.run('UPDATE ducklake_table_column_stats SET min_value = ?, max_value = ?, contains_null = ? WHERE table_id = ? AND column_id = ?', [pick(existing.min_value!, min, 'min'), pick(existing.max_value!, max, 'max'), nulls > 0 || existing.contains_null === true || existing.contains_null === 1, table.id, column.id]);
			} else {
				// eslint-disable-next-line no-await-in-loop
				await context.tx.run('INSERT INTO ducklake_table_column_stats (table_id, column_id, contains_null, contains_nan, min_value, max_value, extra_stats) VALUES (?, ?, ?, NULL, ?, ?, NULL)', [table.id, column.id, nulls > 0, min, max]);
			}
		}
	}
}

/**
Reads a DuckLake table at a snapshot the way a reader does (time travel): every live data file
minus the positions in its live delete file, with DuckDB's Parquet reader. Local data only.
Returns the values of `expression` (default the `id` column), sorted.
*/
export async function readTableAt(sql: SqlCatalog, options: {table: string; snapshot?: number; base: string; expression?: string}): Promise<string[]> {
	const state = await loadCatalog(sql);
	const snapshot = options.snapshot ?? state.snapshots.at(-1)!.id;
	const found = findTable(state, options.table, snapshot);
	if (!found) {
		throw new Error(`no table ${options.table} at snapshot ${snapshot}`);
	}

	const storage = new DataStorage(state, {base: options.base, open: where => new LocalFileStore(where)});
	const instance = await DuckDBInstance.create(':memory:');
	const connection = await instance.connect();
	try {
		const values: string[] = [];
		const inlined = await loadInlined(sql, found.table.id);
		for (const file of liveFiles(state, found.table.id, snapshot)) {
			const data = storage.locate(file.data);
			const positions = [
				...inlined.deletes.filter(row => row.fileId === file.data.id && row.begin <= snapshot).map(row => `SELECT ${row.rowId} AS pos`),
				...(file.deletes ? [`SELECT pos FROM read_parquet(${sqlString(storage.locate(file.deletes))})`] : []),
			];
			const deleted = positions.length > 0 ? `WHERE file_row_number NOT IN (${positions.join(' UNION ALL ')})` : '';
			// eslint-disable-next-line no-await-in-loop
			const reader = await connection.runAndReadAll(`SELECT CAST(${options.expression ?? 'id'} AS VARCHAR) FROM read_parquet(${sqlString(data)}, file_row_number = true) ${deleted}`);
			values.push(...reader.getRows().map(row => String(row[0])));
		}

		for (const table of inlined.dataTables) {
			// eslint-disable-next-line no-await-in-loop
			const rows = await sql.query(`SELECT CAST(${options.expression ?? 'id'} AS VARCHAR) AS v FROM ${table.name} WHERE begin_snapshot <= ? AND (end_snapshot IS NULL OR end_snapshot > ?)`, [snapshot, snapshot]);
			values.push(...rows.map(row => String(row.v)));
		}

		return values.sort((a, b) => a.localeCompare(b, 'en', {numeric: true}));
	} finally {
		connection.closeSync();
		instance.closeSync();
	}
}
