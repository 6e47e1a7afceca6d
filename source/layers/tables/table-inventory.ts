import {ListObjectsV2Command, type S3Client} from '@aws-sdk/client-s3';
import {UserError} from '../../errors.js';
import type {FormatEnvironment} from '../../formats/index.js';
import type {FormatName, TableFormat, TableHistory, TableRef, TableRetention} from '../../formats/types.js';

/** Where tables are looked for: from flags (`--catalog`, `--tables-bucket`, `--ducklake`) or the drill world. */
export type TableSources = {
	/** Iceberg REST catalog base URLs (`http://host:port/...` serving `/v1/config`). */
	readonly icebergCatalogs: readonly string[];
	/** Buckets (or `s3://bucket/prefix`) holding path-based Delta and Iceberg tables. */
	readonly buckets: readonly string[];
	/** DuckLake catalogs as `ducklake:...` refs. */
	readonly ducklakeCatalogs: readonly string[];
	/** `s3://bucket/prefix` warehouses of the catalogs: their tables are listed through the catalog, not found again in the bucket. */
	readonly warehouses?: readonly string[];
};

/** A table found, before its history is read. */
export type FoundTable = {
	readonly format: FormatName;
	/** `ref` and `table` exactly as `history` and `restore table` accept them. */
	readonly ref: string;
	readonly table?: string;
	/** A short display name: `ns.table`, `bucket/prefix`, `schema.table`. */
	readonly name: string;
	/** Which catalog or bucket it was found in. */
	readonly source: string;
};

/** One row of the Tables pane and of `inventory --json`. */
export type TableItem = FoundTable & {
	/** Id of the current version. */
	readonly current?: string;
	/** Versions whose history is still kept. */
	readonly versions?: number;
	/** The oldest version every file of which still exists. */
	readonly oldestRestorable?: string;
	readonly oldestRestorableAt?: string;
	/** ISO time of the current version. */
	readonly lastChange?: string;
	/** Timestamps of restorable versions (for the timeline), oldest first. */
	readonly points?: readonly string[];
	/** What the table's settings will keep of its history. */
	readonly retention?: TableRetention;
	/** Why the history could not be read. */
	readonly error?: string;
};

export type TableInventory = {
	readonly tables: readonly TableItem[];
	/** One line per source that could not be searched. */
	readonly errors: readonly string[];
};

/** Summarizes a history the way the pane shows it. Pure. */
export function summarizeHistory(found: FoundTable, history: TableHistory): TableItem {
	const restorable = history.entries.filter(entry => entry.restorable);
	const current = history.entries.find(entry => entry.current) ?? history.entries.find(entry => entry.id === history.current);
	return {
		...found,
		current: history.current,
		versions: history.entries.length,
		oldestRestorable: restorable[0]?.id,
		oldestRestorableAt: restorable[0]?.timestamp,
		lastChange: current?.timestamp ?? history.entries.at(-1)?.timestamp,
		points: restorable.map(entry => entry.timestamp),
		...(history.retention ? {retention: history.retention} : {}),
	};
}

const message = (error: unknown) => error instanceof UserError ? error.line() : error instanceof Error ? error.message.split('\n')[0]! : String(error);

/**
How to read a table's history: normally `resolveFormat` from `source/formats/index.ts`; tests
pass a fake.
*/
export type HistoryReader = (ref: TableRef) => Promise<TableHistory>;

export function historyReader(environment: FormatEnvironment, resolve: (ref: TableRef, environment: FormatEnvironment) => Promise<TableFormat>): HistoryReader {
	return async ref => {
		const format = await resolve(ref, environment);
		return format.history(ref);
	};
}

/** Delta and Iceberg tables under a bucket: a folder holding `_delta_log/` or `metadata/`, searched three levels deep. */
export async function findBucketTables(s3: S3Client, location: string, options: {maxDepth?: number; signal?: AbortSignal} = {}): Promise<FoundTable[]> {
	const rest = location.replace(/^s3:\/\//, '');
	const slash = rest.indexOf('/');
	const bucket = slash === -1 ? rest : rest.slice(0, slash);
	const root = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/*$/, '/').replace(/^\/$/, '');
	const found: FoundTable[] = [];
	const maxDepth = options.maxDepth ?? 3;
	const visit = async (prefix: string, depth: number): Promise<void> => {
		const children: string[] = [];
		let token: string | undefined;
		do {
			// eslint-disable-next-line no-await-in-loop
			const page = await s3.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token}), {abortSignal: options.signal});
			children.push(...(page.CommonPrefixes ?? []).map(entry => entry.Prefix!).filter(Boolean));
			token = page.IsTruncated ? page.NextContinuationToken : undefined;
		} while (token);
		const names = new Set(children.map(child => child.slice(prefix.length)));
		const ref = `s3://${bucket}/${prefix.replace(/\/$/, '')}`;
		const name = prefix.replace(/\/$/, '');
		if (names.has('_delta_log/')) {
			found.push({format: 'delta', ref, name, source: `s3://${bucket}`});
			return;
		}

		if (names.has('metadata/') && prefix !== '') {
			found.push({format: 'iceberg', ref, name, source: `s3://${bucket}`});
			return;
		}

		if (depth >= maxDepth) {
			return;
		}

		await Promise.all(children.filter(child => !/^[_.]/.test(child.slice(prefix.length))).map(async child => visit(child, depth + 1)));
	};

	await visit(root, 0);
	return found.sort((a, b) => a.ref.localeCompare(b.ref));
}


/** Every table of an Iceberg REST catalog: `GET /v1/config` for the prefix, then namespaces and their tables. */
export async function findIcebergRestTables(catalog: string, options: {fetch?: typeof fetch; signal?: AbortSignal} = {}): Promise<FoundTable[]> {
	const get = options.fetch ?? fetch;
	const base = catalog.replace(/\/+$/, '');
	const json = async (path: string) => {
		const response = await get(`${base}${path}`, {signal: options.signal, headers: {accept: 'application/json'}});
		if (!response.ok) {
			throw new Error(`${base}${path}: HTTP ${response.status}`);
		}

		return response.json() as Promise<any>;
	};

	const config = await json('/v1/config');
	const prefix = config?.overrides?.prefix ?? config?.defaults?.prefix;
	const root = prefix ? `/v1/${encodeURIComponent(prefix)}` : '/v1';
	const found: FoundTable[] = [];
	const walk = async (parent: string[] | undefined): Promise<void> => {
		const query = parent ? `?parent=${encodeURIComponent(parent.join('\u001F'))}` : '';
		const {namespaces = []} = await json(`${root}/namespaces${query}`) as {namespaces?: string[][]};
		for (const namespace of namespaces) {
			if (parent && namespace.length <= parent.length) {
				continue;
			}

			// eslint-disable-next-line no-await-in-loop
			const {identifiers = []} = await json(`${root}/namespaces/${encodeURIComponent(namespace.join('\u001F'))}/tables`) as {identifiers?: Array<{namespace: string[]; name: string}>};
			for (const identifier of identifiers) {
				const name = [...identifier.namespace, identifier.name].join('.');
				// As `history <catalog URL> --table <namespace>.<table>` takes it.
				found.push({format: 'iceberg', ref: base, table: name, name, source: base});
			}
		}
	};

	await walk(undefined);
	return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** Lists the live tables of a DuckLake catalog, given a function that runs SQL on it. */
export async function findDuckLakeTables(ref: string, query: (sql: string) => Promise<Array<Record<string, unknown>>>): Promise<FoundTable[]> {
	const rows = await query('SELECT s.schema_name AS schema_name, t.table_name AS table_name FROM ducklake_table t JOIN ducklake_schema s ON s.schema_id = t.schema_id WHERE t.end_snapshot IS NULL AND s.end_snapshot IS NULL ORDER BY 1, 2');
	return rows.map(row => {
		const table = `${String(row['schema_name'])}.${String(row['table_name'])}`;
		return {format: 'ducklake' as const, ref, table, name: table, source: ref};
	});
}

export type TableDiscovery = {
	readonly s3?: () => S3Client;
	readonly fetch?: typeof fetch;
	/** Runs SQL on a DuckLake catalog (`source/formats/ducklake`); absent: DuckLake catalogs are reported as not searchable. */
	readonly duckLakeQuery?: (ref: string) => Promise<(sql: string) => Promise<Array<Record<string, unknown>>>>;
	readonly history: HistoryReader;
	readonly signal?: AbortSignal;
	/** How many histories are read at once. */
	readonly concurrency?: number;
};

/** Finds every table in the sources and reads each one's history (a failure stays on its row). */
export async function tableInventory(sources: TableSources, discovery: TableDiscovery): Promise<TableInventory> {
	const errors: string[] = [];
	const found: FoundTable[] = [];
	const searches: Array<Promise<void>> = [];
	for (const catalog of sources.icebergCatalogs) {
		searches.push(findIcebergRestTables(catalog, {fetch: discovery.fetch, signal: discovery.signal}).then(tables => {
			found.push(...tables);
		}, (error: unknown) => {
			errors.push(`Iceberg catalog ${catalog}: ${message(error)}`);
		}));
	}

	for (const bucket of sources.buckets) {
		if (!discovery.s3) {
			errors.push(`${bucket}: no S3 endpoint for the provider: pass --s3-endpoint`);
			continue;
		}

		const warehouses = (sources.warehouses ?? []).map(warehouse => warehouse.replace(/\/*$/, '/'));
		searches.push(findBucketTables(discovery.s3(), bucket, {signal: discovery.signal}).then(tables => {
			found.push(...tables.filter(table => !warehouses.some(warehouse => `${table.ref}/`.startsWith(warehouse))));
		}, (error: unknown) => {
			errors.push(`${bucket}: ${message(error)}`);
		}));
	}

	for (const catalog of sources.ducklakeCatalogs) {
		if (!discovery.duckLakeQuery) {
			errors.push(`${catalog}: DuckLake catalogs cannot be searched yet`);
			continue;
		}

		searches.push(discovery.duckLakeQuery(catalog).then(async query => findDuckLakeTables(catalog, query)).then(tables => {
			found.push(...tables);
		}, (error: unknown) => {
			errors.push(`DuckLake catalog ${catalog}: ${message(error)}`);
		}));
	}

	await Promise.all(searches);
	const order = {iceberg: 0, delta: 1, ducklake: 2} as const;
	found.sort((a, b) => order[a.format] - order[b.format] || a.name.localeCompare(b.name));
	const tables: TableItem[] = Array.from({length: found.length});
	let next = 0;
	const worker = async () => {
		while (next < found.length) {
			const index = next++;
			const table = found[index]!;
			try {
				// eslint-disable-next-line no-await-in-loop
				tables[index] = summarizeHistory(table, await discovery.history({ref: table.ref, table: table.table}));
			} catch (error) {
				tables[index] = {...table, error: message(error)};
			}
		}
	};

	await Promise.all(Array.from({length: Math.min(discovery.concurrency ?? 4, found.length)}, async () => worker()));
	return {tables, errors};
}
