import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {CreateBucketCommand} from '@aws-sdk/client-s3';
import {startPgliteServer, type PostgresServer} from '../catalogs/ducklake-catalogs.js';
import {createDuckLakeCatalog} from '../catalogs/ducklake-schema.js';
import {demoOperations, type DemoOperation} from '../catalogs/ducklake-demo.js';
import {DuckLakeWriter} from '../catalogs/ducklake-writer.js';
import {S3FileStore} from '../../storage/s3-file-store.js';
import type {ResumeContext, SeedContext, Seeder} from './context.js';

export const ducklakeBucket = 'ilum-ducklake';
export const ducklakePrefix = 'lake';
/** The ConfigMap naming the catalog: `ref` (as `history`/`restore table` take it), `dataPath`, `tables`. */
export const ducklakeConfigMap = 'ilum-ducklake-catalog';

const servers = new Set<PostgresServer>();

/** Where a world with a state dir keeps its DuckLake catalog (PostgreSQL's data directory, a tarball). */
export const catalogFile = (stateDir: string) => path.join(stateDir, 'ducklake-tables', 'catalog.tar');

/** Stops `server` when the world stops, first saving its cluster under the state dir (when there is one). */
function keep(context: ResumeContext, server: PostgresServer) {
	servers.add(server);
	context.onStop(async () => {
		servers.delete(server);
		if (context.stateDir) {
			const file = catalogFile(context.stateDir);
			const dump = Buffer.from(await (await server.dump()).arrayBuffer());
			await fs.mkdir(path.dirname(file), {recursive: true});
			await fs.writeFile(`${file}.tmp`, dump);
			await fs.rename(`${file}.tmp`, file);
		}

		await server.stop();
	});
}

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

/**
A DuckLake catalog as Ilum runs it: PostgreSQL (PGlite, served on loopback for as long as the world
runs) holding the catalog, Parquet data in the provider's `ilum-ducklake` bucket under `lake/`.
Three tables (main.orders, analytics.daily_kpis, main.job_events) get their snapshots spread over
the day, so the hourly volume snapshots and the backup mirror hold different versions.
*/
export const ducklakeTablesSeeder: Seeder = {
	name: 'ducklake-tables',
	async seed(context: SeedContext) {
		const server = await startPgliteServer({unref: true});
		keep(context, server);
		const ref = `ducklake:postgres:${server.conninfo}`;
		const dataPath = `s3://${ducklakeBucket}/${ducklakePrefix}/`;
		context.store.create('configmaps', {
			apiVersion: 'v1',
			kind: 'ConfigMap',
			metadata: {name: ducklakeConfigMap, namespace: context.namespace, labels: {'app.kubernetes.io/part-of': 'ilum', 'ilum.cloud/table-format': 'ducklake'}},
			data: {ref, dataPath, tables: 'main.orders,analytics.daily_kpis,main.job_events'},
		});
		context.log(`ducklake catalog: ${ref} (data in ${dataPath})`);

		const list = operations();
		const start = context.timeline.dataFrom + (20 * 60_000);
		const end = context.timeline.now - (10 * 60_000);
		const gap = Math.max(1, Math.floor((end - start) / list.length));
		let writer: DuckLakeWriter | undefined;
		let staging: string | undefined;
		const open = async (time: number) => {
			if (writer) {
				return writer;
			}

			await context.provider.client.send(new CreateBucketCommand({Bucket: ducklakeBucket})).catch(() => undefined);
			const uuid = () => context.rng.uuid();
			// Written in-process (no TCP round trip per statement); clients use the server.
			const sql = server.local();
			await createDuckLakeCatalog(sql, {dataPath, time: new Date(time), uuid});
			staging = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-drill-ducklake-'));
			writer = await DuckLakeWriter.open(sql, {
				base: staging,
				store: new S3FileStore(context.provider.client, ducklakeBucket, ducklakePrefix),
				staging,
				author: 'ilum-job',
				now: () => new Date(context.clock.now()),
				uuid,
			});
			return writer;
		};

		for (const [index, {table, operation}] of list.entries()) {
			const last = index === list.length - 1;
			context.at(start + (index * gap), async time => {
				const current = await open(time);
				const snapshot = await operation.run(current);
				if (snapshot === undefined) {
					context.log(`ducklake ${table}: ${operation.what} changed nothing`);
				}

				if (last) {
					await current.close();
					await current.sql.close();
					if (staging) {
						await fs.rm(staging, {recursive: true, force: true});
					}
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
		const start = async (at: number) => startPgliteServer({port: at, loadDataDir: new Blob([new Uint8Array(saved)]), unref: true});
		const server = await start(port).catch(async () => start(0));
		keep(context, server);
		const now = `ducklake:postgres:${server.conninfo}`;
		if (now !== ref) {
			context.store.update('configmaps', {...configMap, data: {...configMap.data, ref: now}});
		}

		context.log(`ducklake catalog: ${now} (resumed)`);
	},
};
