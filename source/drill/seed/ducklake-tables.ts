import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {startPgliteServer, type PostgresServer} from '../catalogs/ducklake-catalogs.js';
import {createDuckLakeCatalog, ducklakeSchema} from '../catalogs/ducklake-schema.js';
import {demoOperations, type DemoOperation} from '../catalogs/ducklake-demo.js';
import {DuckLakeWriter} from '../catalogs/ducklake-writer.js';
import {objectRecord} from '../s3/object-record.js';
import type {FileStore} from '../../storage/file-store.js';
import type {SqlCatalog} from '../../formats/ducklake/sql.js';
import {digest, packageVersion, readCache, sourceTexts, writeCache} from './seed-cache.js';
import type {ResumeContext, SeedContext, Seeder} from './context.js';

export const ducklakeBucket = 'ilum-ducklake';
export const ducklakePrefix = 'lake';
/** The ConfigMap naming the catalog: `ref` (as `history`/`restore table` take it), `dataPath`, `tables`. */
export const ducklakeConfigMap = 'ilum-ducklake-catalog';

const servers = new Set<PostgresServer>();

/** Where a world with a state dir keeps its DuckLake catalog (PostgreSQL's data directory, a tarball). */
export const catalogFile = (stateDir: string) => path.join(stateDir, 'ducklake-tables', 'catalog.tar');

/** Writes the catalog's cluster under the state dir: temporary file, fsync, rename. */
async function saveCatalog(stateDir: string, server: PostgresServer): Promise<void> {
	const file = catalogFile(stateDir);
	const dump = Buffer.from(await (await server.dump()).arrayBuffer());
	await fs.mkdir(path.dirname(file), {recursive: true});
	const handle = await fs.open(`${file}.tmp`, 'w');
	try {
		await handle.writeFile(dump);
		await handle.sync();
	} finally {
		await handle.close();
	}

	await fs.rename(`${file}.tmp`, file);
}

/**
Stops `server` when the world stops. With a state dir, its cluster is saved there as it changes
(clients' commits move PostgreSQL's WAL position: checked every second, saved once it held still
for a check, so not in the middle of a client's transaction) and when the world stops.
*/
function keep(context: ResumeContext, server: PostgresServer, options: {savedNow?: boolean} = {}): () => Promise<void> {
	servers.add(server);
	const {stateDir} = context;
	let timer: NodeJS.Timeout | undefined;
	let saving: Promise<void> | undefined;
	if (stateDir) {
		const position = async () => String((await server.local().query('SELECT pg_current_wal_lsn()::text AS lsn'))[0]?.lsn);
		let saved: string | undefined;
		let last: string | undefined;
		// A fresh world's catalog is saved at its first check; a resumed one is already on disk.
		const ready = options.savedNow ? position().then(lsn => {
			saved = lsn;
			last = lsn;
		}, () => undefined) : Promise.resolve();
		timer = setInterval(() => {
			if (!servers.has(server)) {
				clearInterval(timer);
				return;
			}

			if (saving) {
				return;
			}

			saving = (async () => {
				await ready;
				const now = await position();
				if (now !== saved && now === last) {
					await saveCatalog(stateDir, server);
					saved = now;
				}

				last = now;
			})().catch(error => {
				context.log(`ducklake catalog: saving to ${catalogFile(stateDir)} failed: ${error instanceof Error ? error.message : String(error)}`);
			}).finally(() => {
				saving = undefined;
			});
		}, 1000);
		timer.unref();
	}

	return async () => {
		clearInterval(timer);
		await saving;
		servers.delete(server);
		if (stateDir) {
			await saveCatalog(stateDir, server);
		}

		await server.stop();
	};
}

/** PGlite in a worker thread: about a second of CPU to start, beside the rest of the seeding. */
const startServer = async () => startPgliteServer({unref: true, thread: true});

/** Servers started by `warmUp` and not yet taken by a `seed`. */
const warm: Array<Promise<PostgresServer>> = [];

/** Stops the catalog servers the seeder started (the world calls this when it stops). */
export async function stopDuckLakeCatalogServers(): Promise<void> {
	const running = [...servers];
	servers.clear();
	await Promise.all(running.map(async server => server.stop()));
}

const kpis = (day: number) => `SELECT DATE '2026-01-01' + ${day} AS day, metric, value FROM (VALUES ('jobs', ${40 + day}.0), ('failed_jobs', ${day % 3}.0), ('cpu_hours', ${120 + (day * 7)}.5)) AS v(metric, value)`;
const events = (from: number, to: number) => `SELECT i AS event_id, TIMESTAMP '2026-01-01 00:00:00' + to_seconds(i * 37) AS at, ['submit', 'start', 'finish', 'fail'][1 + (i % 4)] AS kind FROM range(${from}, ${to + 1}) AS r(i)`;

/** Three DuckLake tables with 10+ snapshots each, in the order they are written. */
function operations(): Array<{table: string; operation: DemoOperation}> {
	const orders = demoOperations('main.orders').map(operation => ({table: 'main.orders', operation}));
	const daily: DemoOperation[] = [
		{what: 'create schema analytics', rows: 0, run: async writer => writer.createSchema('analytics')},
		{what: 'create table', rows: 0, run: async writer => writer.createTable('analytics.daily_kpis', [{name: 'day', type: 'date'}, {name: 'metric', type: 'varchar'}, {name: 'value', type: 'float64'}])},
		...Array.from({length: 6}, (_, day): DemoOperation => ({what: `insert day ${day + 1}`, rows: (day + 1) * 3, run: async writer => writer.insert('analytics.daily_kpis', kpis(day))})),
		{what: 'delete failed_jobs', rows: 12, run: async writer => writer.delete('analytics.daily_kpis', 'metric = \'failed_jobs\'')},
		{what: 'add column source', rows: 12, run: async writer => writer.addColumn('analytics.daily_kpis', {name: 'source', type: 'varchar'})},
		{what: 'overwrite with recomputed kpis', rows: 9, run: async writer => writer.overwrite('analytics.daily_kpis', `SELECT *, 'recomputed' AS source FROM (${kpis(6)} UNION ALL ${kpis(7)} UNION ALL ${kpis(8)})`)},
	];
	const stream: DemoOperation[] = [
		{what: 'create table', rows: 0, run: async writer => writer.createTable('main.job_events', [{name: 'event_id', type: 'int64'}, {name: 'at', type: 'timestamp'}, {name: 'kind', type: 'varchar'}])},
		...Array.from({length: 9}, (_, batch): DemoOperation => ({what: `append batch ${batch + 1}`, rows: (batch + 1) * 500, run: async writer => writer.insert('main.job_events', events((batch * 500) + 1, (batch + 1) * 500))})),
		{what: 'delete failures', rows: 3375, run: async writer => writer.delete('main.job_events', 'kind = \'fail\'')},
	];
	// Interleave the three tables the way concurrent jobs would, keeping each table's order.
	const queues = [orders, daily.map(operation => ({table: 'analytics.daily_kpis', operation})), stream.map(operation => ({table: 'main.job_events', operation}))];
	const mixed: Array<{table: string; operation: DemoOperation}> = [];
	while (queues.some(queue => queue.length > 0)) {
		for (const queue of queues) {
			const next = queue.shift();
			if (next) {
				mixed.push(next);
			}
		}
	}

	return mixed;
}

/** What the seeder produces apart from times: the catalog's rows and each operation's files. */
type DuckLakeSeed = {
	/** Catalog table -> its rows as PostgreSQL's `json_agg` writes them (bigints stay exact). */
	tables: Record<string, string>;
	/** Per operation, in order: the snapshot it committed, and the files it wrote (key under `lake/`, base64). */
	operations: Array<{snapshot?: number; files: Array<[string, string]>}>;
};

/** The sources whose code decides the catalog rows and file bytes (a change to any makes a new cache key). */
const keySources = [
	'./ducklake-tables.js',
	'../catalogs/ducklake-writer.js',
	'../catalogs/ducklake-demo.js',
	'../catalogs/ducklake-schema.js',
	'../catalogs/ducklake-catalogs.js',
	'../../formats/ducklake/catalog.js',
	'../../formats/ducklake/storage.js',
	'../../formats/ducklake/sql.js',
	'../../formats/ducklake/backends.js',
	'./rng.js',
];

async function cacheKey(context: SeedContext): Promise<string> {
	return digest([
		'ducklake-tables/1',
		// The seeder's generator, fingerprinted without drawing from it.
		context.rng.fork('cache-key').hex(32),
		await packageVersion('@duckdb/node-api'),
		await packageVersion('@electric-sql/pglite'),
		...await sourceTexts(import.meta.url, keySources),
	]);
}

const tableNames = ducklakeSchema.map(statement => /^CREATE TABLE (\w+)/.exec(statement)![1]!);

/** The catalog's rows, or undefined when it holds tables beyond the DuckLake schema (not cached then). */
async function exportCatalog(sql: SqlCatalog): Promise<Record<string, string> | undefined> {
	const present = (await sql.query('SELECT tablename FROM pg_tables WHERE schemaname = current_schema()')).map(row => String(row.tablename));
	if (present.some(name => !tableNames.includes(name))) {
		return undefined;
	}

	const tables: Record<string, string> = {};
	for (const name of tableNames) {
		// eslint-disable-next-line no-await-in-loop
		const [row] = await sql.query(`SELECT coalesce(json_agg(t), '[]'::json)::text AS rows FROM ${name} t`);
		tables[name] = String(row!.rows);
	}

	return tables;
}

/** Fills an empty PostgreSQL with the cached catalog: the schema in one script, one INSERT per table, then the snapshot times. */
async function importCatalog(server: PostgresServer, tables: Record<string, string>, times: Array<{id: number; t: string}>): Promise<void> {
	await server.exec(`BEGIN;\n${ducklakeSchema.join(';\n')};\nCOMMIT;`);
	const sql = server.local();
	await sql.transaction(async tx => {
		for (const name of tableNames) {
			const rows = tables[name] ?? '[]';
			if (rows !== '[]') {
				// eslint-disable-next-line no-await-in-loop
				await tx.run(`INSERT INTO ${name} SELECT * FROM json_populate_recordset(NULL::${name}, CAST(? AS json))`, [rows]);
			}
		}

		await tx.run('UPDATE ducklake_snapshot s SET snapshot_time = m.t FROM json_to_recordset(CAST(? AS json)) AS m(id bigint, t timestamptz) WHERE s.snapshot_id = m.id', [JSON.stringify(times)]);
	});
}

/**
A DuckLake catalog as Ilum runs it: PostgreSQL (PGlite, served on loopback for as long as the world
runs) holding the catalog, Parquet data in the provider's `ilum-ducklake` bucket under `lake/`.
Three tables (main.orders, analytics.daily_kpis, main.job_events) get their snapshots spread over
the day, so the hourly volume snapshots and the backup mirror hold different versions.

Everything but the times is the same for a given seed, so it is computed once (DuckDB writing
Parquet, a few hundred catalog statements: most of the world's start-up) and kept in the user's
cache (seed-cache.ts); a start with the entry loads the catalog in one script and puts each
operation's files at that operation's time, and the snapshot times come from this world's day.
*/
export const ducklakeTablesSeeder: Seeder = {
	name: 'ducklake-tables',
	warmUp() {
		const server = startServer();
		// Picked up by the next seed() (any world's: they are all alike until then).
		server.catch(() => undefined);
		warm.push(server);
	},
	async seed(context: SeedContext) {
		// PGlite starts in a worker thread while the other seeders' steps run. From the cache, the
		// steps only put each operation's files and the catalog goes in at the end; computing, the
		// first step waits for it. Nothing here touches the world outside steps (they keep the order).
		const ready = (warm.shift() ?? startServer()).then(server => ({server, stop: keep(context, server)}));
		// Awaited by a step; a failure before then is not an unhandled rejection.
		ready.catch(() => undefined);
		context.onStop(async () => {
			await (await ready.catch(() => undefined))?.stop();
		});
		const dataPath = `s3://${ducklakeBucket}/${ducklakePrefix}/`;
		const list = operations();
		const start = context.timeline.dataFrom + (20 * 60_000);
		const end = context.timeline.now - (10 * 60_000);
		const gap = Math.max(1, Math.floor((end - start) / list.length));
		const timeOf = (index: number) => start + (index * gap);
		const volume = context.provider.volume;
		const put = (key: string, body: Buffer, time: number) => {
			volume.ensureBucket(ducklakeBucket, new Date(time));
			volume.put(ducklakeBucket, objectRecord({key: `${ducklakePrefix}/${key}`, body, lastModified: new Date(time)}));
		};

		/** The ConfigMap naming the catalog (made once the server listens). */
		const publish = (server: PostgresServer, fromCache: boolean) => {
			const ref = `ducklake:postgres:${server.conninfo}`;
			context.store.create('configmaps', {
				apiVersion: 'v1',
				kind: 'ConfigMap',
				metadata: {name: ducklakeConfigMap, namespace: context.namespace, labels: {'app.kubernetes.io/part-of': 'ilum', 'ilum.cloud/table-format': 'ducklake'}},
				data: {ref, dataPath, tables: 'main.orders,analytics.daily_kpis,main.job_events'},
			});
			context.log(`ducklake catalog: ${ref} (data in ${dataPath}${fromCache ? '; from the cache' : ''})`);
		};

		const key = await cacheKey(context);
		const cached = await readCache<DuckLakeSeed>('ducklake-tables', key);
		if (cached?.operations.length === list.length) {
			for (const [index, operation] of cached.operations.entries()) {
				context.at(timeOf(index), time => {
					for (const [file, body] of operation.files) {
						put(file, Buffer.from(body, 'base64'), time);
					}
				});
			}

			// After the last operation's files: the catalog (snapshot 0, the catalog's creation, at the
			// first operation; each other at its operation's time), then the ConfigMap.
			context.at(timeOf(list.length - 1), async () => {
				const {server} = await ready;
				const times = [{id: 0, t: new Date(timeOf(0)).toISOString()}];
				for (const [index, operation] of cached.operations.entries()) {
					if (operation.snapshot !== undefined) {
						times.push({id: operation.snapshot, t: new Date(timeOf(index)).toISOString()});
					}
				}

				await importCatalog(server, cached.tables, times);
				publish(server, true);
			});
			return;
		}

		const open = async () => (await ready).server;

		let opened: ReturnType<typeof open> | undefined;
		let writer: DuckLakeWriter | undefined;
		let staging: string | undefined;
		let now = timeOf(0);
		const recorded: DuckLakeSeed['operations'] = [];
		let files: Array<[string, string]> = [];
		const store: FileStore = {
			root: dataPath,
			async put(key, body) {
				const bytes = Buffer.from(body);
				files.push([key, bytes.toString('base64')]);
				put(key, bytes, now);
			},
			async putIfAbsent() {
				throw new Error('the DuckLake seeder only puts');
			},
			async read() {
				throw new Error('the DuckLake seeder reads its staging folder, not S3');
			},
			async exists() {
				return false;
			},
			async list() {
				return [];
			},
		};
		const openWriter = async (server: PostgresServer, time: number) => {
			if (writer) {
				return writer;
			}

			const uuid = () => context.rng.uuid();
			// Written through the server's own session (no TCP round trip per statement); clients use the server.
			const sql = server.local();
			await createDuckLakeCatalog(sql, {dataPath, time: new Date(time), uuid});
			staging = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-drill-ducklake-'));
			writer = await DuckLakeWriter.open(sql, {
				base: staging,
				store,
				staging,
				author: 'ilum-job',
				// The operation's time exactly (not the clock, which runs on while it writes): a cached
				// seed gives the catalog the same times.
				now: () => new Date(now),
				uuid,
			});
			return writer;
		};

		for (const [index, {table, operation}] of list.entries()) {
			const last = index === list.length - 1;
			context.at(timeOf(index), async time => {
				opened ??= open();
				const server = await opened;
				now = time;
				files = [];
				const current = await openWriter(server, time);
				const snapshot = await operation.run(current);
				recorded.push({snapshot, files});
				if (snapshot === undefined) {
					context.log(`ducklake ${table}: ${operation.what} changed nothing`);
				}

				if (last) {
					await current.close();
					const tables = await exportCatalog(current.sql);
					await current.sql.close();
					if (staging) {
						await fs.rm(staging, {recursive: true, force: true});
					}

					if (tables) {
						await writeCache('ducklake-tables', key, {tables, operations: recorded} satisfies DuckLakeSeed);
					}

					// As from the cache: the ConfigMap after the last operation.
					publish(server, false);
				}
			});
		}
	},
	async resume(context: ResumeContext) {
		const configMap = context.store.get('configmaps', context.namespace, ducklakeConfigMap);
		if (!configMap || !context.stateDir) {
			return;
		}

		let saved: Buffer;
		try {
			saved = await fs.readFile(catalogFile(context.stateDir));
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
				throw error;
			}

			context.log(`ducklake catalog: ${catalogFile(context.stateDir)} is missing; ConfigMap ${ducklakeConfigMap} names no running catalog`);
			return;
		}

		const ref = String(configMap.data?.['ref'] ?? '');
		const port = Number(/\bport=(\d+)/.exec(ref)?.[1] ?? 0);
		const start = async (at: number) => startPgliteServer({port: at, loadDataDir: new Blob([new Uint8Array(saved)]), unref: true, thread: true});
		const server = await start(port).catch(async () => start(0));
		context.onStop(keep(context, server, {savedNow: true}));
		const now = `ducklake:postgres:${server.conninfo}`;
		if (now !== ref) {
			context.store.update('configmaps', {...configMap, data: {...configMap.data, ref: now}});
		}

		context.log(`ducklake catalog: ${now} (resumed)`);
	},
};
