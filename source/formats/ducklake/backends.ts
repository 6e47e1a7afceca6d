import {DatabaseSync, type SQLInputValue} from 'node:sqlite';
import {DuckDBBlobValue, DuckDBInstance, type DuckDBConnection} from '@duckdb/node-api';
import pg from 'pg';
import {inTransaction, normalizeValue, numberedPlaceholders, type Dialect, type SqlCatalog, type SqlRow, type SqlValue} from './sql.js';

/** SQLite through `node:sqlite` (synchronous underneath; one connection). */
export class SqliteCatalog implements SqlCatalog {
	readonly dialect: Dialect = 'sqlite';
	readonly description: string;
	private readonly db: DatabaseSync;
	private readonly transactionState = {open: false};

	constructor(file: string, options: {readOnly?: boolean} = {}) {
		this.description = `sqlite:${file}`;
		this.db = new DatabaseSync(file, {readOnly: options.readOnly ?? false, timeout: 10_000});
	}

	async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
		const statement = this.db.prepare(sql);
		statement.setReadBigInts(true);
		return statement.all(...params.map(value => sqliteValue(value))).map(row => normalizeRow(row as Record<string, unknown>));
	}

	async run(sql: string, params: readonly SqlValue[] = []): Promise<number | undefined> {
		if (params.length === 0 && !sql.includes('?')) {
			this.db.exec(sql);
			return undefined;
		}

		const result = this.db.prepare(sql).run(...params.map(value => sqliteValue(value)));
		return Number(result.changes);
	}

	async transaction<T>(work: (sql: SqlCatalog) => Promise<T>): Promise<T> {
		return inTransaction(this.transactionState, 'BEGIN IMMEDIATE', async statement => this.db.exec(statement), async () => work(this));
	}

	async columns(table: string): Promise<string[]> {
		const rows = await this.query(`SELECT name FROM pragma_table_info('${table.replaceAll('\'', '\'\'')}')`);
		return rows.map(row => String(row.name).toLowerCase());
	}

	async close(): Promise<void> {
		if (this.db.isOpen) {
			this.db.close();
		}
	}
}

function sqliteValue(value: SqlValue): SQLInputValue {
	if (typeof value === 'boolean') {
		return value ? 1 : 0;
	}

	if (value instanceof Date) {
		return sqlTimestamp(value);
	}

	return value;
}

/** A DuckDB database file, opened directly: the catalog tables are plain tables in it. */
export class DuckDbCatalog implements SqlCatalog {
	readonly dialect: Dialect = 'duckdb';
	readonly description: string;
	private readonly instance: DuckDBInstance;
	private readonly connection: DuckDBConnection;
	private readonly transactionState = {open: false};

	private constructor(file: string, instance: DuckDBInstance, connection: DuckDBConnection) {
		this.description = file;
		this.instance = instance;
		this.connection = connection;
	}

	static async open(file: string, options: {readOnly?: boolean} = {}): Promise<DuckDbCatalog> {
		const instance = await DuckDBInstance.create(file, options.readOnly ? {access_mode: 'READ_ONLY'} : {});
		const connection = await instance.connect();
		return new DuckDbCatalog(file, instance, connection);
	}

	async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
		const reader = await this.connection.runAndReadAll(numberedPlaceholders(sql), params.map(value => duckValue(value)) as any);
		return reader.getRowObjects().map(row => normalizeRow(row as Record<string, unknown>));
	}

	async run(sql: string, params: readonly SqlValue[] = []): Promise<number | undefined> {
		const result = await this.connection.run(numberedPlaceholders(sql), params.length > 0 ? params.map(value => duckValue(value)) as any : undefined);
		return result.rowsChanged;
	}

	async transaction<T>(work: (sql: SqlCatalog) => Promise<T>): Promise<T> {
		return inTransaction(this.transactionState, 'BEGIN TRANSACTION', async statement => this.connection.run(statement), async () => work(this));
	}

	async columns(table: string): Promise<string[]> {
		const rows = await this.query('SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = current_schema() AND table_name = ? ORDER BY column_index', [table]);
		return rows.map(row => String(row.column_name).toLowerCase());
	}

	async close(): Promise<void> {
		this.connection.closeSync();
		this.instance.closeSync();
	}
}

function duckValue(value: SqlValue): unknown {
	if (value instanceof Uint8Array) {
		return new DuckDBBlobValue(value);
	}

	if (typeof value === 'number' && Number.isInteger(value)) {
		return BigInt(value);
	}

	if (value instanceof Date) {
		return sqlTimestamp(value);
	}

	return value;
}

/** PostgreSQL through `pg` (the conninfo already parsed into a client config). */
export class PostgresCatalog implements SqlCatalog {
	readonly dialect: Dialect = 'postgres';
	readonly description: string;
	private readonly client: pg.Client;
	private readonly transactionState = {open: false};

	private constructor(description: string, client: pg.Client) {
		this.description = description;
		this.client = client;
	}

	static async open(config: pg.ClientConfig, description: string): Promise<PostgresCatalog> {
		const client = new pg.Client({
			...config,
			types: {
				getTypeParser: ((oid: number, format?: 'text' | 'binary') => postgresParsers[oid] ?? pg.types.getTypeParser(oid, format as any)) as any,
			},
		});
		// A refused connection errors the client too; the connect() rejection carries it.
		client.on('error', () => undefined);
		await client.connect();
		return new PostgresCatalog(description, client);
	}

	async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
		const result = await this.client.query(numberedPlaceholders(sql), params.map(value => pgValue(value)));
		return result.rows.map(row => normalizeRow(row as Record<string, unknown>));
	}

	async run(sql: string, params: readonly SqlValue[] = []): Promise<number | undefined> {
		const result = await this.client.query(numberedPlaceholders(sql), params.map(value => pgValue(value)));
		return result.rowCount ?? undefined;
	}

	async transaction<T>(work: (sql: SqlCatalog) => Promise<T>): Promise<T> {
		return inTransaction(this.transactionState, 'BEGIN', async statement => this.client.query(statement), async () => work(this));
	}

	async columns(table: string): Promise<string[]> {
		const rows = await this.query('SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position', [table]);
		return rows.map(row => String(row.column_name).toLowerCase());
	}

	async close(): Promise<void> {
		await this.client.end().catch(() => undefined);
	}
}

/**
How every PostgreSQL catalog (through `pg`, or PGlite in the drill) reads values: int8 as bigint;
date, timestamp, timestamptz as text (microseconds kept when rows are copied).
*/
export const postgresParsers: Readonly<Record<number, (text: string) => unknown>> = {20: text => BigInt(text), 1082: text => text, 1114: text => text, 1184: text => text};

/** A parameter as every PostgreSQL catalog sends it: bigint as decimal text, bytes as a Buffer. */
export function pgValue(value: SqlValue): unknown {
	if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
		return Buffer.from(value);
	}

	if (typeof value === 'bigint') {
		return value.toString();
	}

	return value;
}

function normalizeRow(row: Record<string, unknown>): SqlRow {
	const out: SqlRow = {};
	for (const [key, value] of Object.entries(row)) {
		out[key.toLowerCase()] = normalizeDriverValue(value);
	}

	return out;
}

function normalizeDriverValue(value: unknown): SqlValue {
	if (value instanceof DuckDBBlobValue) {
		return value.bytes;
	}

	if (value && typeof value === 'object' && !(value instanceof Date) && !(value instanceof Uint8Array)) {
		// DuckDB dates, times, timestamps (as text: full precision), decimals, UUIDs...
		return String(value);
	}

	return normalizeValue(value);
}

/** '2026-01-02 03:04:05.678000+00': what DuckLake writes in every backend. */
export function sqlTimestamp(date: Date): string {
	return date.toISOString().replace('T', ' ').replace('Z', '000+00');
}
