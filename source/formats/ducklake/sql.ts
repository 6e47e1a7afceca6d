/**
The one small SQL interface the DuckLake catalog is read and written through, with three
backends: SQLite (`node:sqlite`), a DuckDB file (`@duckdb/node-api`, the catalog tables read as
plain tables: no ducklake extension needed) and PostgreSQL (`pg`).

SQL is written once with `?` placeholders; each backend rewrites them for its driver. Values come
back normalized: integers as numbers (bigint only beyond 2^53), booleans as booleans, timestamps
as `Date`, everything else as the driver gives it.
*/
export type SqlValue = string | number | bigint | boolean | null | Date | Uint8Array;
export type SqlRow = Record<string, SqlValue>;
export type Dialect = 'sqlite' | 'duckdb' | 'postgres';

export interface SqlCatalog {
	readonly dialect: Dialect;
	/** For messages: the file or the server, never a password. */
	readonly description: string;
	query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
	/** Runs a statement; returns the number of rows it changed when the driver says. */
	run(sql: string, params?: readonly SqlValue[]): Promise<number | undefined>;
	/** Runs `work` in one transaction: committed when it returns, rolled back when it throws. */
	transaction<T>(work: (sql: SqlCatalog) => Promise<T>): Promise<T>;
	/** Column names of a table (lower case), empty when the table does not exist. */
	columns(table: string): Promise<string[]>;
	close(): Promise<void>;
}

/** `?` -> `$1, $2, ...` outside quoted strings. */
export function numberedPlaceholders(sql: string): string {
	let index = 0;
	let quote: string | undefined;
	let out = '';
	for (const char of sql) {
		if (quote) {
			if (char === quote) {
				quote = undefined;
			}
		} else if (char === '\'' || char === '"') {
			quote = char;
		} else if (char === '?') {
			out += `$${++index}`;
			continue;
		}

		out += char;
	}

	return out;
}

export function normalizeValue(value: unknown): SqlValue {
	if (value === undefined || value === null) {
		return null;
	}

	if (typeof value === 'bigint') {
		return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
	}

	if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value instanceof Date || value instanceof Uint8Array) {
		return value;
	}

	return String(value);
}

/** An integer column value as a number (ids, counts, sizes). */
export function int(value: SqlValue | undefined): number {
	if (value === null || value === undefined) {
		return 0;
	}

	if (typeof value === 'number') {
		return value;
	}

	if (typeof value === 'bigint') {
		return Number(value);
	}

	if (typeof value === 'boolean') {
		return value ? 1 : 0;
	}

	return Number(value);
}

export function intOrNull(value: SqlValue | undefined): number | undefined {
	return value === null || value === undefined ? undefined : int(value);
}

/** SQLite keeps booleans as 0/1, sometimes as text. */
export function bool(value: SqlValue | undefined): boolean {
	if (typeof value === 'boolean') {
		return value;
	}

	if (typeof value === 'number' || typeof value === 'bigint') {
		return Number(value) !== 0;
	}

	if (typeof value === 'string') {
		return value === '1' || value.toLowerCase() === 'true' || value.toLowerCase() === 't';
	}

	return false;
}

/** A timestamp column as an ISO 8601 UTC string (SQLite keeps text, DuckDB and pg give values). */
export function isoTime(value: SqlValue | undefined): string {
	if (value === null || value === undefined) {
		return '';
	}

	if (value instanceof Date) {
		return value.toISOString();
	}

	let text = String(value).trim();
	// '2025-09-16 12:17:17.028104+00' and the like.
	text = text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00');
	if (!/[zZ]|[+-]\d\d:?\d\d$/.test(text)) {
		text += 'Z';
	}

	const date = new Date(text);
	return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}

/**
Runs `work` in one transaction; a transaction asked for inside another joins it. A failed
rollback never hides the error that caused it.
*/
export async function inTransaction<T>(state: {open: boolean}, begin: string, exec: (statement: string) => unknown, work: () => Promise<T>): Promise<T> {
	if (state.open) {
		return work();
	}

	await exec(begin);
	state.open = true;
	try {
		const result = await work();
		await exec('COMMIT');
		return result;
	} catch (error) {
		try {
			await exec('ROLLBACK');
		} catch {}

		throw error;
	} finally {
		state.open = false;
	}
}
