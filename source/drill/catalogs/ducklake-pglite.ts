/**
PGlite (PostgreSQL compiled to WebAssembly) served on the Postgres wire protocol, and the session
the drill writes through, in this thread or in a worker thread.

Starting a PGlite costs about a second of CPU (unpacking a 40 MB cluster into its in-memory file
system, starting Postgres): `hostPglite` does it where it is called, `ducklake-pglite-worker.ts`
does it in a worker thread so the drill world's other seeding runs meanwhile on another core.
Either way the same `PgliteHost` comes out: queries, scripts, dumps and stop.
*/
import fs from 'node:fs/promises';
import {openAsBlob} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {PGlite} from '@electric-sql/pglite';
import {PGLiteSocketServer} from '@electric-sql/pglite-socket';
import {packageVersion} from '../seed/seed-cache.js';


/** Where the initialized empty cluster is cached between processes (under the OS temp dir, per PGlite version). */
export async function clusterCacheFile(): Promise<string> {
	return path.join(os.tmpdir(), `ilum-drill-pglite-${await packageVersion('@electric-sql/pglite')}-${process.getuid?.() ?? 'user'}.tar`);
}

let template: Promise<Blob> | undefined;

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

export type HostOptions = {
	port?: number;
	host?: string;
	/** A directory for the cluster (NODEFS); in memory when absent. */
	dataDir?: string;
	/** A tarball from `dump()`: start from that cluster. */
	loadDataDir?: Blob;
	/** Let the process exit while it listens (the drill world). */
	unref?: boolean;
	/** Type OIDs whose values come back as PostgreSQL's text (the caller parses them). */
	textTypes?: readonly number[];
};

export type QueryResult = {rows: Array<Record<string, unknown>>; fields: Array<{name: string; dataTypeID: number}>; affectedRows?: number};

/** A served PGlite: its port, its one session, its dump. */
export type PgliteHost = {
	readonly port: number;
	query(sql: string, params: readonly unknown[]): Promise<QueryResult>;
	exec(script: string): Promise<void>;
	dump(): Promise<Blob>;
	stop(): Promise<void>;
};

/** Starts PGlite and its socket server in this thread. */
export async function hostPglite(options: HostOptions): Promise<PgliteHost> {
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

	const parsers = Object.fromEntries((options.textTypes ?? []).map(oid => [oid, (text: string) => text]));
	let stopped = false;
	return {
		port: Number(server.getServerConn().split(':').at(-1)),
		async query(sql, params) {
			const result = await db.query<Record<string, unknown>>(sql, params as unknown[], {parsers});
			return {rows: result.rows, fields: result.fields.map(field => ({name: field.name, dataTypeID: field.dataTypeID})), affectedRows: result.affectedRows};
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
