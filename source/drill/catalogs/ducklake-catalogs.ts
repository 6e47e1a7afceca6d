import fs from 'node:fs/promises';
import {openAsBlob} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {PGlite} from '@electric-sql/pglite';
import {PGLiteSocketServer} from '@electric-sql/pglite-socket';
import {DuckDbCatalog, pgValue, PostgresCatalog, postgresParsers, SqliteCatalog} from '../../formats/ducklake/backends.js';
import {parseConninfo} from '../../formats/ducklake/connect.js';
import {inTransaction, normalizeValue, numberedPlaceholders, type Dialect, type SqlCatalog, type SqlRow, type SqlValue} from '../../formats/ducklake/sql.js';
import {createDuckLakeCatalog} from './ducklake-schema.js';

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

/** The installed PGlite's version (the cached cluster is only valid for it). */
async function pgliteVersion(): Promise<string> {
	let directory = path.dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite')));
	for (;;) {
		try {
			// eslint-disable-next-line no-await-in-loop
			const manifest = JSON.parse(await fs.readFile(path.join(directory, 'package.json'), 'utf8')) as {name?: string; version?: string};
			if (manifest.name === '@electric-sql/pglite') {
				return manifest.version ?? 'unknown';
			}
		} catch {}

		const parent = path.dirname(directory);
		if (parent === directory) {
			return 'unknown';
		}

		directory = parent;
	}
}

/** Where the initialized empty cluster is cached between processes (under the OS temp dir, per PGlite version). */
export async function clusterCacheFile(): Promise<string> {
	return path.join(os.tmpdir(), `ilum-drill-pglite-${await pgliteVersion()}-${process.getuid?.() ?? 'user'}.tar`);
}

/**
An initialized empty cluster, made once per process and cached on disk: starting from it skips
initdb (seconds on a busy machine; loading the tarball takes a fraction of that).
*/
async function emptyCluster(): Promise<Blob> {
	template ??= (async () => {
		const file = await clusterCacheFile();
		try {
			return await openAsBlob(file);
		} catch {}

		const db = await PGlite.create();
		const dump = await db.dumpDataDir('none');
		await db.close();
		const temporary = `${file}.${process.pid}`;
		try {
			await fs.writeFile(temporary, Buffer.from(await dump.arrayBuffer()));
			await fs.rename(temporary, file);
		} catch {
			await fs.rm(temporary, {force: true});
		}

		return dump;
	})();
	return template;
}

/** A new PGlite from the cached empty cluster (initdb again when the cache is unusable). */
async function fromTemplate(): Promise<PGlite> {
	try {
		return await PGlite.create({loadDataDir: await emptyCluster()});
	} catch {
		template = undefined;
		await fs.rm(await clusterCacheFile(), {force: true});
		return PGlite.create({loadDataDir: await emptyCluster()});
	}
}

export type PostgresServer = {
	/** libpq conninfo: `host=127.0.0.1 port=... dbname=postgres user=postgres`. */
	readonly conninfo: string;
	readonly port: number;
	/**
	The same database in this process, without the network (the seeder writes through it: no TCP
	round trip per statement). Do not use it while a client of the server is in a transaction.
	*/
	local(): SqlCatalog;
	/** Runs a script of statements without parameters in one round (schema creation). */
	exec(script: string): Promise<void>;
	/** The cluster's data directory as a tarball (`loadDataDir` starts a server from it again). */
	dump(): Promise<Blob>;
	stop(): Promise<void>;
};

/**
A real PostgreSQL (PGlite, Postgres compiled to WebAssembly) served on the Postgres wire protocol
on loopback, so `pg` (and psql, and DuckDB's postgres extension) talk to it over TCP. In memory
unless `dataDir` is given. Connections are multiplexed onto the one PGlite session; a transaction
keeps the session until it ends.
*/
export async function startPgliteServer(options: {port?: number; host?: string; dataDir?: string; /** A tarball from `dump()`: start from that cluster. */ loadDataDir?: Blob; /** Let the process exit while it listens (the drill world). */ unref?: boolean} = {}): Promise<PostgresServer> {
	const db = options.dataDir ? await PGlite.create(options.dataDir) : options.loadDataDir ? await PGlite.create({loadDataDir: options.loadDataDir}) : await fromTemplate();
	const server = new PGLiteSocketServer({db, host: options.host ?? '127.0.0.1', port: options.port ?? 0, maxConnections: 16});
	try {
		await server.start();
	} catch (error) {
		await db.close();
		throw error;
	}

	if (options.unref) {
		(server as unknown as {server?: {unref(): void}}).server?.unref();
	}

	const port = Number(server.getServerConn().split(':').at(-1));
	let stopped = false;
	return {
		conninfo: `host=${options.host ?? '127.0.0.1'} port=${port} dbname=postgres user=postgres`,
		port,
		local() {
			return new PgliteCatalog(db, `postgres:host=${options.host ?? '127.0.0.1'} port=${port} dbname=postgres user=postgres`);
		},
		async exec(script) {
			await db.exec(script);
		},
		async dump() {
			return db.dumpDataDir('none');
		},
		async stop() {
			if (stopped) {
				return;
			}

			stopped = true;
			await server.stop();
			await db.close();
		},
	};
}

/** Values read as the `pg` backend reads them. */
const parsers = postgresParsers;

/** A DuckLake catalog in a PGlite database of this process (the same SQL as the `pg` backend). */
class PgliteCatalog implements SqlCatalog {
	readonly dialect: Dialect = 'postgres';
	readonly description: string;
	private readonly db: PGlite;
	private readonly transactionState = {open: false};

	constructor(db: PGlite, description: string) {
		this.db = db;
		this.description = description;
	}

	async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
		const result = await this.db.query<Record<string, unknown>>(numberedPlaceholders(sql), params.map(value => pgValue(value)), {parsers});
		return result.rows.map(row => Object.fromEntries(Object.entries(row).map(([key, value]) => [key.toLowerCase(), normalizeValue(value)])));
	}

	async run(sql: string, params: readonly SqlValue[] = []): Promise<number | undefined> {
		const result = await this.db.query(numberedPlaceholders(sql), params.map(value => pgValue(value)), {parsers});
		return result.affectedRows;
	}

	async transaction<T>(work: (sql: SqlCatalog) => Promise<T>): Promise<T> {
		return inTransaction(this.transactionState, 'BEGIN', async statement => this.db.exec(statement), async () => work(this));
	}

	async columns(table: string): Promise<string[]> {
		// pg_attribute, not information_schema.columns: the view costs ~15 ms a call in PGlite, and
		// reading a catalog asks for columns several times per snapshot written.
		const rows = await this.query('SELECT attname AS column_name FROM pg_attribute WHERE attrelid = to_regclass(quote_ident(current_schema()) || \'.\' || quote_ident(?)) AND attnum > 0 AND NOT attisdropped ORDER BY attnum', [table]);
		return rows.map(row => String(row.column_name).toLowerCase());
	}

	async close(): Promise<void> {}
}

