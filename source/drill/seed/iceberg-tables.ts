import {CreateBucketCommand} from '@aws-sdk/client-s3';
import {S3FileStore} from '../../storage/s3-file-store.js';
import {RestCatalogClient} from '../../formats/iceberg/rest-client.js';
import {IcebergRestCatalogServer} from '../catalogs/iceberg-rest.js';
import {IcebergTableWriter, restTarget, schemaJson, type WriterColumn} from '../catalogs/iceberg-writer.js';
import type {ResumeContext, SeedContext, Seeder} from './context.js';
import {VolumeFileStore} from './delta-tables.js';

export const icebergBucket = 'ilum-tables';
export const icebergWarehousePrefix = 'warehouse';
/** The ConfigMap naming the catalog: `ref` (the REST catalog URL, as `history`/`restore table` take it), `warehouse`, `tables`. */
export const icebergConfigMap = 'ilum-iceberg-catalog';

const servers = new Set<IcebergRestCatalogServer>();

/** Stops the REST catalog servers the seeder started (for the world to call when it stops). */
export async function stopIcebergCatalogServers(): Promise<void> {
	const running = [...servers];
	servers.clear();
	await Promise.all(running.map(async server => server.stop()));
}

/** Stops `server` when its world stops (only that world's: other worlds in the process keep theirs). */
function keep(context: ResumeContext, server: IcebergRestCatalogServer) {
	servers.add(server);
	context.onStop(async () => {
		servers.delete(server);
		await server.stop();
	});
}

type Operation = {readonly table: string; readonly what: string; readonly run: (writer: IcebergTableWriter) => Promise<unknown>};

const ordersColumns: WriterColumn[] = [
	{id: 1, name: 'order_id', type: 'long', required: true},
	{id: 2, name: 'customer', type: 'string', expr: '\'customer-\' || (i % 97)'},
	{id: 3, name: 'amount', type: 'double', expr: 'round(10 + (i % 500) * 1.37, 2)'},
	{id: 4, name: 'ordered_on', type: 'date'},
];
const runsColumns: WriterColumn[] = [
	{id: 1, name: 'run_id', type: 'long', required: true},
	{id: 2, name: 'job', type: 'string', expr: '[\'etl-daily\', \'ml-train\', \'report\', \'compaction\'][1 + (i % 4)]'},
	{id: 3, name: 'succeeded', type: 'boolean', expr: 'i % 7 <> 0'},
	{id: 4, name: 'duration_s', type: 'double', expr: '30 + (i % 120) * 2.5'},
];

/** Two tables, 12 snapshots each: appends, an overwrite, a delete, a schema change each. */
function operations(): Operation[] {
	const orders: Operation[] = [
		...Array.from({length: 6}, (_, index): Operation => ({table: 'sales.orders', what: `append batch ${index + 1}`, run: async writer => writer.append(200 + (index * 50))})),
		{table: 'sales.orders', what: 'overwrite the first batch (corrected amounts)', run: async writer => writer.overwrite(file => file.records === 200, 180)},
		{table: 'sales.orders', what: 'delete batch 3 (test orders)', run: async writer => writer.deleteFiles(file => file.records === 300)},
		{table: 'sales.orders', what: 'add column channel', run: async writer => writer.addColumn({name: 'channel', type: 'string', expr: '[\'web\', \'store\', \'phone\'][1 + (i % 3)]'})},
		...Array.from({length: 4}, (_, index): Operation => ({table: 'sales.orders', what: `append batch ${index + 7}`, run: async writer => writer.append(150 + (index * 25))})),
	];
	const runs: Operation[] = [
		...Array.from({length: 8}, (_, index): Operation => ({table: 'analytics.job_runs', what: `append hour ${index + 1}`, run: async writer => writer.append(60 + (index * 10))})),
		{table: 'analytics.job_runs', what: 'overwrite hour 2 (late arrivals merged)', run: async writer => writer.overwrite(file => file.records === 70, 95)},
		{table: 'analytics.job_runs', what: 'add column cluster', run: async writer => writer.addColumn({name: 'cluster', type: 'string', expr: '\'ilum-\' || (i % 3)'})},
		...Array.from({length: 2}, (_, index): Operation => ({table: 'analytics.job_runs', what: `append hour ${index + 9}`, run: async writer => writer.append(140 + (index * 10))})),
		{table: 'analytics.job_runs', what: 'delete hour 1 (retention)', run: async writer => writer.deleteFiles(file => file.records === 60)},
	];
	const mixed: Operation[] = [];
	while (orders.length > 0 || runs.length > 0) {
		for (const queue of [orders, runs]) {
			const next = queue.shift();
			if (next) {
				mixed.push(next);
			}
		}
	}

	return mixed;
}

/**
Iceberg as Ilum runs it: a REST catalog (served on loopback for as long as the world runs; its
pointers in `ilum-tables/warehouse/.iceberg-rest/`) over the provider's `ilum-tables` bucket, with
two tables whose snapshots are spread over the day, so the hourly volume snapshots and the backup
mirror hold different versions of them.
*/
export const icebergTablesSeeder: Seeder = {
	name: 'iceberg-tables',
	async seed(context: SeedContext) {
		const warehouse = `s3://${icebergBucket}/${icebergWarehousePrefix}`;
		const client = context.provider.client;
		const server = new IcebergRestCatalogServer({
			store: new S3FileStore(client, icebergBucket, icebergWarehousePrefix),
			warehouse,
			prefix: 'ilum',
			now: () => context.clock.now(),
			tableConfig: {'s3.endpoint': context.provider.url, 's3.path-style-access': 'true', 'client.region': 'us-east-1'},
			unref: true,
		});
		await server.start();
		keep(context, server);
		context.store.create('configmaps', {
			apiVersion: 'v1',
			kind: 'ConfigMap',
			metadata: {name: icebergConfigMap, namespace: context.namespace, labels: {'app.kubernetes.io/part-of': 'ilum', 'ilum.cloud/table-format': 'iceberg'}},
			data: {ref: server.url, warehouse, tables: 'sales.orders,analytics.job_runs'},
		});
		context.log(`iceberg REST catalog: ${server.url} (warehouse ${warehouse})`);

		const catalog = new RestCatalogClient(server.url);
		const writers = new Map<string, IcebergTableWriter>();
		const open = async (table: string) => {
			let writer = writers.get(table);
			if (!writer) {
				const [namespace, name] = table.split('.') as [string, string];
				await client.send(new CreateBucketCommand({Bucket: icebergBucket})).catch(() => undefined);
				await server.createNamespace([namespace], {owner: 'ilum'});
				const created = await server.createTable([namespace], {name, schema: schemaJson(table === 'sales.orders' ? ordersColumns : runsColumns), properties: {'write.format.default': 'parquet'}});
				const location = String(created.metadata['location']);
				writer = await IcebergTableWriter.open({
					// Data files and manifests straight onto the provider's disk (as the S3 server would
					// store them; no HTTP round trip per file); commits go through the REST catalog.
					store: new VolumeFileStore(context.provider.volume, location.slice(`s3://${icebergBucket}/`.length).replace(/\/+$/, ''), () => context.clock.now()),
					target: restTarget(catalog, [namespace], name),
					columns: table === 'sales.orders' ? ordersColumns : runsColumns,
					now: () => context.clock.now(),
				});
				writers.set(table, writer);
			}

			return writer;
		};

		const list = operations();
		const start = context.timeline.dataFrom + (25 * 60_000);
		const end = context.timeline.now - (15 * 60_000);
		const gap = Math.max(1, Math.floor((end - start) / list.length));
		for (const [index, operation] of list.entries()) {
			const last = index === list.length - 1;
			context.at(start + (index * gap), async () => {
				const writer = await open(operation.table);
				await operation.run(writer);
				if (last) {
					for (const item of writers.values()) {
						// eslint-disable-next-line no-await-in-loop
						await item.close();
					}
				}
			});
		}
	},
	async resume(context: ResumeContext) {
		const configMap = context.store.get('configmaps', context.namespace, icebergConfigMap);
		if (!configMap) {
			return;
		}

		const saved = Number(/:(\d+)\/?$/.exec(String(configMap.data?.['ref'] ?? ''))?.[1] ?? 0);
		// The provider serves only once its pod is Ready again: the catalog reads its pointers on the first request.
		const start = async (port: number) => resumeIcebergCatalog(context.provider, {port, now: () => context.clock.now(), deferLoad: true});
		const server = await start(saved).catch(async () => start(0));
		keep(context, server);
		if (server.url !== configMap.data?.['ref']) {
			context.store.update('configmaps', {...configMap, data: {...configMap.data, ref: server.url}});
		}

		context.log(`iceberg REST catalog: ${server.url} (resumed)`);
	},
};

/**
Starts the world's Iceberg REST catalog again over the same bucket, for a world loaded from its
state dir (the seeders do not run then). The catalog's pointers live in the bucket, so nothing is
lost; pass the port from the saved ConfigMap's `ref` so the URL stays the same.
*/
export async function resumeIcebergCatalog(provider: {client: SeedContext['provider']['client']; url: string}, options: {port?: number; now?: () => number; deferLoad?: boolean} = {}): Promise<IcebergRestCatalogServer> {
	const server = new IcebergRestCatalogServer({
		store: new S3FileStore(provider.client, icebergBucket, icebergWarehousePrefix),
		warehouse: `s3://${icebergBucket}/${icebergWarehousePrefix}`,
		prefix: 'ilum',
		port: options.port,
		now: options.now,
		tableConfig: {'s3.endpoint': provider.url, 's3.path-style-access': 'true', 'client.region': 'us-east-1'},
		unref: true,
		deferLoad: options.deferLoad,
	});
	await server.start();
	servers.add(server);
	return server;
}
