import {Worker} from 'node:worker_threads';
import {DuckDbCatalog, pgValue, PostgresCatalog, postgresParsers, SqliteCatalog} from '../../formats/ducklake/backends.js';
import {parseConninfo} from '../../formats/ducklake/connect.js';
import {inTransaction, normalizeValue, numberedPlaceholders, type Dialect, type SqlCatalog, type SqlRow, type SqlValue} from '../../formats/ducklake/sql.js';
import {createDuckLakeCatalog} from './ducklake-schema.js';
import {hostPglite, type HostOptions, type PgliteHost} from './ducklake-pglite.js';
import {moduleFile} from '../seed/seed-cache.js';

/** A new DuckLake catalog in a SQLite file (ref `ducklake:sqlite:<file>`). */
export async function createSqliteDuckLake(file: string, dataPath: string): Promise<SqlCatalog> {
	const sql = new SqliteCatalog(file);
	await createDuckLakeCatalog(sql, {dataPath});
	return sql;
}

/** A new DuckLake catalog in a DuckDB database file (ref `ducklake:<file>`). */
export async function createDuckDbDuckLake(file: string, dataPath: string): Promise<SqlCatalog> {
	const sql = await DuckDbCatalog.open(file);
	await createDuckLakeCatalog(sql, {dataPath});
	return sql;
}

/** A new DuckLake catalog in a PostgreSQL database named by a libpq conninfo or URI (ref `ducklake:postgres:<conninfo>`). */
export async function createPostgresDuckLake(conninfo: string, dataPath: string, options: {time?: Date; uuid?: () => string} = {}): Promise<SqlCatalog> {
	const sql = await PostgresCatalog.open(parseConninfo(conninfo), `postgres:${conninfo}`);
	await createDuckLakeCatalog(sql, {dataPath, time: options.time, uuid: options.uuid});
	return sql;
}

let template: Promise<Blob> | undefined;

export {clusterCacheFile} from './ducklake-pglite.js';

export type PostgresServer = {
	/** libpq conninfo: `host=127.0.0.1 port=... dbname=postgres user=postgres`. */
	readonly conninfo: string;
	readonly port: number;
	/**
	The same database without the network (the seeder writes through it: no TCP round trip per
	statement). Do not use it while a client of the server is in a transaction.
	*/
	local(): SqlCatalog;
	/** Runs a script of statements without parameters in one round (schema creation). */
	exec(script: string): Promise<void>;
	/** The cluster's data directory as a tarball (`loadDataDir` starts a server from it again). */
	dump(): Promise<Blob>;
	stop(): Promise<void>;
};

type Reply = {id?: number; type?: string; ok?: boolean; message?: string; port?: number; rows?: Array<Record<string, unknown>>; fields?: Array<{name: string; dataTypeID: number}>; affectedRows?: number; bytes?: ArrayBuffer};

/** PGlite hosted in a worker thread (ducklake-pglite-worker.ts): the same `PgliteHost`, over messages. */
async function hostInWorker(options: HostOptions): Promise<PgliteHost> {
	const loadDataDir = options.loadDataDir ? new Uint8Array(await options.loadDataDir.arrayBuffer()) : undefined;
	const script = await moduleFile(new URL('ducklake-pglite-worker.js', import.meta.url));
	if (!script) {
		throw new Error(`ducklake-pglite-worker not found next to ${import.meta.url}`);
	}

	const worker = new Worker(script, {
		workerData: {port: options.port, host: options.host, dataDir: options.dataDir, textTypes: options.textTypes, loadDataDir},
		transferList: loadDataDir ? [loadDataDir.buffer as ArrayBuffer] : [],
	});
	const pending = new Map<number, {resolve(reply: Reply): void; reject(error: Error): void}>();
	let nextId = 1;
	let failure: Error | undefined;
	const ready = new Promise<number>((resolve, reject) => {
		const fail = (error: Error) => {
			failure ??= error;
			reject(error);
			for (const waiter of pending.values()) {
				waiter.reject(error);
			}

			pending.clear();
		};

		worker.on('message', (reply: Reply) => {
			if (reply.type === 'ready') {
				resolve(reply.port!);
			} else if (reply.type === 'failed') {
				fail(new Error(reply.message));
			} else if (reply.id !== undefined) {
				const waiter = pending.get(reply.id);
				pending.delete(reply.id);
				if (pending.size === 0 && options.unref) {
					worker.unref();
				}

				if (reply.ok) {
					waiter?.resolve(reply);
				} else {
					waiter?.reject(new Error(reply.message));
				}
			}
		});
		worker.on('error', fail);
		worker.on('exit', code => {
			fail(new Error(`the PGlite worker exited (${code})`));
		});
	});
	const request = async (message: Record<string, unknown>): Promise<Reply> => {
		if (failure) {
			throw failure;
		}

		const id = nextId++;
		// The worker keeps the process alive only while an answer is awaited.
		worker.ref();
		return new Promise<Reply>((resolve, reject) => {
			pending.set(id, {resolve, reject});
			worker.postMessage({...message, id});
		});
	};

	let port: number;
	try {
		port = await ready;
	} catch (error) {
		await worker.terminate();
		throw error;
	}

	if (options.unref) {
		worker.unref();
	}

	let stopped = false;
	return {
		port,
		async query(sql, params) {
			const reply = await request({type: 'query', sql, params});
			return {rows: reply.rows ?? [], fields: reply.fields ?? [], affectedRows: reply.affectedRows};
		},
		async exec(script) {
			await request({type: 'exec', script});
		},
		async dump() {
			const reply = await request({type: 'dump'});
			return new Blob([reply.bytes!]);
		},
		async stop() {
			if (stopped) {
				return;
			}

			stopped = true;
			await request({type: 'stop'}).catch(() => undefined);
			await worker.terminate();
		},
	};
}

/** Types the PGlite session returns as text, parsed here as the `pg` backend parses them. */
const textTypes = Object.keys(postgresParsers).map(Number);

/**
A real PostgreSQL (PGlite, Postgres compiled to WebAssembly) served on the Postgres wire protocol
on loopback, so `pg` (and psql, and DuckDB's postgres extension) talk to it over TCP. In memory
unless `dataDir` is given. Connections are multiplexed onto the one PGlite session; a transaction
keeps the session until it ends. `thread: true` runs it in a worker thread (its start, about a
second of CPU, then overlaps the caller's work); it falls back to this thread if the worker fails.
*/
export async function startPgliteServer(options: Omit<HostOptions, 'textTypes'> & {thread?: boolean} = {}): Promise<PostgresServer> {
	const hostOptions = {...options, textTypes};
	const host = options.thread ? await hostInWorker(hostOptions).catch(async () => hostPglite(hostOptions)) : await hostPglite(hostOptions);
	const conninfo = `host=${options.host ?? '127.0.0.1'} port=${host.port} dbname=postgres user=postgres`;
	return {
		conninfo,
		port: host.port,
		local() {
			return new PgliteCatalog(host, `postgres:${conninfo}`);
		},
		async exec(script) {
			await host.exec(script);
		},
		async dump() {
			return host.dump();
		},
		async stop() {
			await host.stop();
		},
	};
}

/** A DuckLake catalog in the PGlite this process hosts (the same SQL and values as the `pg` backend). */
class PgliteCatalog implements SqlCatalog {
	readonly dialect: Dialect = 'postgres';
	readonly description: string;
	private readonly host: PgliteHost;
	private readonly transactionState = {open: false};

	constructor(host: PgliteHost, description: string) {
		this.host = host;
		this.description = description;
	}

	async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
		const result = await this.host.query(numberedPlaceholders(sql), params.map(value => pgValue(value)));
		const parse = new Map(result.fields.flatMap(field => postgresParsers[field.dataTypeID] ? [[field.name, postgresParsers[field.dataTypeID]!] as const] : []));
		return result.rows.map(row => Object.fromEntries(Object.entries(row).map(([key, value]) => {
			const parser = parse.get(key);
			return [key.toLowerCase(), normalizeValue(parser && typeof value === 'string' ? parser(value) : value)];
		})));
	}

	async run(sql: string, params: readonly SqlValue[] = []): Promise<number | undefined> {
		const result = await this.host.query(numberedPlaceholders(sql), params.map(value => pgValue(value)));
		return result.affectedRows;
	}

	async transaction<T>(work: (sql: SqlCatalog) => Promise<T>): Promise<T> {
		return inTransaction(this.transactionState, 'BEGIN', async statement => this.host.exec(statement), async () => work(this));
	}

	async columns(table: string): Promise<string[]> {
		// pg_attribute, not information_schema.columns: the view costs ~15 ms a call in PGlite, and
		// reading a catalog asks for columns several times per snapshot written.
		const rows = await this.query('SELECT attname AS column_name FROM pg_attribute WHERE attrelid = to_regclass(quote_ident(current_schema()) || \'.\' || quote_ident(?)) AND attnum > 0 AND NOT attisdropped ORDER BY attnum', [table]);
		return rows.map(row => String(row.column_name).toLowerCase());
	}

	async close(): Promise<void> {}
}

