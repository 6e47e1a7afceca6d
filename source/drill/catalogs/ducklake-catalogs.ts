import {PGlite} from '@electric-sql/pglite';
import {PGLiteSocketServer} from '@electric-sql/pglite-socket';
import {DuckDbCatalog, PostgresCatalog, SqliteCatalog} from '../../formats/ducklake/backends.js';
import {parseConninfo} from '../../formats/ducklake/connect.js';
import type {SqlCatalog} from '../../formats/ducklake/sql.js';
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
export async function createPostgresDuckLake(conninfo: string, dataPath: string, options: {time?: Date} = {}): Promise<SqlCatalog> {
	const sql = await PostgresCatalog.open(parseConninfo(conninfo), `postgres:${conninfo}`);
	await createDuckLakeCatalog(sql, {dataPath, time: options.time});
	return sql;
}

let template: Promise<Blob> | undefined;

/** An initialized empty cluster, made once per process: starting from it skips initdb (seconds on a busy machine). */
async function emptyCluster(): Promise<Blob> {
	template ??= (async () => {
		const db = await PGlite.create();
		const dump = await db.dumpDataDir('none');
		await db.close();
		return dump;
	})();
	return template;
}

export type PostgresServer = {
	/** libpq conninfo: `host=127.0.0.1 port=... dbname=postgres user=postgres`. */
	readonly conninfo: string;
	readonly port: number;
	stop(): Promise<void>;
};

/**
A real PostgreSQL (PGlite, Postgres compiled to WebAssembly) served on the Postgres wire protocol
on loopback, so `pg` (and psql, and DuckDB's postgres extension) talk to it over TCP. In memory
unless `dataDir` is given. Connections are multiplexed onto the one PGlite session; a transaction
keeps the session until it ends.
*/
export async function startPgliteServer(options: {port?: number; host?: string; dataDir?: string; /** Let the process exit while it listens (the drill world). */ unref?: boolean} = {}): Promise<PostgresServer> {
	const db = options.dataDir ? await PGlite.create(options.dataDir) : await PGlite.create({loadDataDir: await emptyCluster()});
	const server = new PGLiteSocketServer({db, host: options.host ?? '127.0.0.1', port: options.port ?? 0, maxConnections: 16});
	await server.start();
	if (options.unref) {
		(server as unknown as {server?: {unref(): void}}).server?.unref();
	}

	const port = Number(server.getServerConn().split(':').at(-1));
	let stopped = false;
	return {
		conninfo: `host=${options.host ?? '127.0.0.1'} port=${port} dbname=postgres user=postgres`,
		port,
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
