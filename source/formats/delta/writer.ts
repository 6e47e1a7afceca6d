import {randomUUID} from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {DuckDBConnection, DuckDBInstance} from '@duckdb/node-api';
import type {FileStore} from '../../storage/file-store.js';
import {LocalFileStore} from '../../storage/local-file-store.js';
import {commitFileName, type Action} from './log.js';

/**
A small Delta Lake writer for tests, benchmarks and the drill world: real Parquet data files
(DuckDB's `COPY ... (FORMAT parquet)`), one JSON commit per operation in Spark's shapes, classic
Parquet checkpoints, and VACUUM. Not a general engine: no partitioning, copy-on-write deletes.
*/

export type ColumnType = 'long' | 'integer' | 'string' | 'double' | 'boolean' | 'date' | 'timestamp';
export type Column = {readonly name: string; readonly type: ColumnType; readonly nullable?: boolean};
export type Row = Record<string, string | number | boolean | null>;

const duckTypes: Record<ColumnType, string> = {
	long: 'BIGINT',
	integer: 'INTEGER',
	string: 'VARCHAR',
	double: 'DOUBLE',
	boolean: 'BOOLEAN',
	date: 'DATE',
	timestamp: 'TIMESTAMP',
};

export type DeltaWriterOptions = {
	/** Commit times in ms; each commit gets at least the previous time + 1. Default: `Date.now`. */
	readonly clock?: () => number;
	/** Deletes a file (VACUUM). Default: a local store's own folder; required for other stores. */
	readonly removeFile?: (path: string) => Promise<void>;
	readonly engineInfo?: string;
	/** Random ids (file names, table id, txnId); default `crypto.randomUUID` (a seeded generator makes tables reproducible). */
	readonly uuid?: () => string;
	/** `parquet` (default): real files through DuckDB. `placeholder`: a few bytes each (benchmarks: history lists data files, it does not read them). */
	readonly data?: 'parquet' | 'placeholder';
};

type DataFile = {
	readonly path: string;
	readonly size: number;
	readonly rows: readonly Row[];
	readonly stats: string;
	readonly modificationTime: number;
};

let duckdb: Promise<{instance: DuckDBInstance; connection: DuckDBConnection}> | undefined;

async function connection(): Promise<DuckDBConnection> {
	duckdb ??= (async () => {
		const {DuckDBInstance} = await import('@duckdb/node-api');
		const instance = await DuckDBInstance.create(':memory:');
		return {instance, connection: await instance.connect()};
	})();
	return (await duckdb).connection;
}

function sqlString(value: string): string {
	return `'${value.replaceAll('\'', '\'\'')}'`;
}

function statsFor(rows: readonly Row[], columns: readonly Column[]): string {
	const minValues: Record<string, unknown> = {};
	const maxValues: Record<string, unknown> = {};
	const nullCount: Record<string, number> = {};
	for (const column of columns) {
		let nulls = 0;
		let min: string | number | undefined;
		let max: string | number | undefined;
		for (const row of rows) {
			const value = row[column.name];
			if (value === null || value === undefined) {
				nulls++;
				continue;
			}

			if (typeof value === 'number' || typeof value === 'string') {
				min = min === undefined || value < min ? value : min;
				max = max === undefined || value > max ? value : max;
			}
		}

		nullCount[column.name] = nulls;
		if (min !== undefined) {
			minValues[column.name] = min;
			maxValues[column.name] = max;
		}
	}

	return JSON.stringify({numRecords: rows.length, minValues, maxValues, nullCount});
}

function schemaString(columns: readonly Column[]): string {
	return JSON.stringify({
		type: 'struct',
		fields: columns.map(column => ({name: column.name, type: column.type, nullable: column.nullable ?? true, metadata: {}})),
	});
}

export class DeltaTableWriter {
	readonly store: FileStore;
	/** The version last committed (-1 before `create`). */
	version = -1;
	columns: Column[] = [];
	private readonly live = new Map<string, DataFile>();
	private readonly everWritten = new Set<string>();
	private readonly options: DeltaWriterOptions;
	private readonly tableId: string;
	private readonly createdTime: number;
	private lastTime = 0;
	private configuration: Record<string, string> = {};

	constructor(store: FileStore, options: DeltaWriterOptions = {}) {
		this.store = store;
		this.options = options;
		this.tableId = this.uuid();
		this.createdTime = this.now();
	}

	/** Version 0: `CREATE TABLE` (with rows: a `WRITE` in ErrorIfExists mode). */
	async create(columns: readonly Column[], rows: readonly Row[] = [], configuration: Record<string, string> = {}): Promise<number> {
		this.columns = [...columns];
		this.configuration = {...configuration};
		const files = rows.length > 0 ? [await this.writeDataFile(rows)] : [];
		return this.commit(
			rows.length > 0 ? 'WRITE' : 'CREATE TABLE',
			rows.length > 0 ? {mode: 'ErrorIfExists', partitionBy: '[]'} : {isManaged: 'false', description: null, partitionBy: '[]', properties: JSON.stringify(configuration)},
			[{protocol: {minReaderVersion: 1, minWriterVersion: 2}}, {metaData: this.metadata()}, ...files.map(file => this.add(file))],
			{isBlindAppend: true, metrics: rows.length > 0 ? {numFiles: '1', numOutputRows: String(rows.length), numOutputBytes: String(files[0]!.size)} : {}},
		);
	}

	async append(rows: readonly Row[]): Promise<number> {
		const file = await this.writeDataFile(rows);
		return this.commit('WRITE', {mode: 'Append', partitionBy: '[]'}, [this.add(file)], {
			isBlindAppend: true,
			metrics: {numFiles: '1', numOutputRows: String(rows.length), numOutputBytes: String(file.size)},
		});
	}

	async overwrite(rows: readonly Row[]): Promise<number> {
		const now = this.now();
		const removed = [...this.live.values()];
		const file = await this.writeDataFile(rows);
		return this.commit('WRITE', {mode: 'Overwrite', partitionBy: '[]'}, [this.add(file), ...removed.map(old => this.remove(old, now))], {
			isBlindAppend: false,
			metrics: {numFiles: '1', numOutputRows: String(rows.length), numOutputBytes: String(file.size), numRemovedFiles: String(removed.length)},
			time: now,
		});
	}

	/** Copy-on-write DELETE: every file with a matching row is rewritten without it. */
	async delete(predicate: (row: Row) => boolean, description: string): Promise<number> {
		const now = this.now();
		const actions: Action[] = [];
		let deleted = 0;
		let copied = 0;
		let added = 0;
		let removed = 0;
		for (const file of [...this.live.values()]) {
			const kept = file.rows.filter(row => !predicate(row));
			if (kept.length === file.rows.length) {
				continue;
			}

			deleted += file.rows.length - kept.length;
			copied += kept.length;
			actions.push(this.remove(file, now));
			removed++;
			if (kept.length > 0) {
				// eslint-disable-next-line no-await-in-loop
				actions.push(this.add(await this.writeDataFile(kept)));
				added++;
			}
		}

		return this.commit('DELETE', {predicate: JSON.stringify([description])}, actions, {
			isBlindAppend: false,
			metrics: {numRemovedFiles: String(removed), numAddedFiles: String(added), numDeletedRows: String(deleted), numCopiedRows: String(copied)},
			time: now,
		});
	}

	/** `ALTER TABLE ... ADD COLUMNS`: a new metaData action; old files simply lack the column. */
	async addColumns(columns: readonly Column[]): Promise<number> {
		this.columns.push(...columns);
		return this.commit('ADD COLUMNS', {columns: JSON.stringify(columns.map(column => ({column: {name: column.name, type: column.type, nullable: column.nullable ?? true, metadata: {}}})))}, [{metaData: this.metadata()}], {isBlindAppend: true, metrics: {}});
	}

	async setProperties(properties: Record<string, string>): Promise<number> {
		Object.assign(this.configuration, properties);
		return this.commit('SET TBLPROPERTIES', {properties: JSON.stringify(properties)}, [{metaData: this.metadata()}], {isBlindAppend: true, metrics: {}});
	}

	/** A classic single-file Parquet checkpoint of the current version, plus `_last_checkpoint`. */
	async checkpoint(): Promise<void> {
		const rows: Array<Record<string, unknown>> = [
			{protocol: {minReaderVersion: 1, minWriterVersion: 2}, metaData: null, add: null},
			{protocol: null, metaData: {...this.metadata(), format: {provider: 'parquet', options: {}}}, add: null},
			...[...this.live.values()].map(file => ({protocol: null, metaData: null, add: {...this.add(file)['add'], dataChange: false}})),
		];
		const name = `_delta_log/${String(this.version).padStart(20, '0')}.checkpoint.parquet`;
		const columns = {
			protocol: 'STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER)',
			metaData: 'STRUCT(id VARCHAR, format STRUCT(provider VARCHAR, options MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)',
			add: 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR)',
		};
		const bytes = await this.viaDuckDb(rows, columns);
		await this.store.put(name, bytes);
		await this.store.put('_delta_log/_last_checkpoint', new TextEncoder().encode(JSON.stringify({version: this.version, size: rows.length}) + '\n'));
	}

	/** Deletes every data file no longer live (Spark's VACUUM with zero retention). Returns what it deleted. */
	async vacuum(): Promise<string[]> {
		const removeFile = this.options.removeFile ?? (this.store instanceof LocalFileStore ? async (file: string) => fs.rm(path.join((this.store as LocalFileStore).directory, file)) : undefined);
		if (!removeFile) {
			throw new Error('vacuum needs options.removeFile for this store');
		}

		const livePaths = new Set(this.live.keys());
		const gone = [...this.everWritten].filter(file => !livePaths.has(file));
		// Spark 3.x+ logs a VACUUM as two commits around the deletion.
		await this.commit('VACUUM START', {retentionCheckEnabled: false, specifiedRetentionMillis: 0, defaultRetentionMillis: 604_800_000}, [], {isBlindAppend: true, metrics: {numFilesToDelete: String(gone.length), sizeOfDataToDelete: '0'}});
		for (const file of gone) {
			// eslint-disable-next-line no-await-in-loop
			await removeFile(file);
			this.everWritten.delete(file);
		}

		await this.commit('VACUUM END', {status: 'COMPLETED'}, [], {isBlindAppend: true, metrics: {numDeletedFiles: String(gone.length), numVacuumedDirectories: '1'}});
		return gone;
	}

	/** Paths of the live data files. */
	liveFiles(): string[] {
		return [...this.live.keys()];
	}

	liveRows(): number {
		return [...this.live.values()].reduce((sum, file) => sum + file.rows.length, 0);
	}

	private uuid(): string {
		return this.options.uuid?.() ?? randomUUID();
	}

	private now(): number {
		const time = Math.max(this.options.clock?.() ?? Date.now(), this.lastTime + 1);
		this.lastTime = time;
		return time;
	}

	private metadata() {
		return {
			id: this.tableId,
			format: {provider: 'parquet', options: {}},
			schemaString: schemaString(this.columns),
			partitionColumns: [],
			configuration: this.configuration,
			createdTime: this.createdTime,
		};
	}

	private add(file: DataFile): Action {
		return {add: {path: file.path, partitionValues: {}, size: file.size, modificationTime: file.modificationTime, dataChange: true, stats: file.stats}};
	}

	private remove(file: DataFile, time: number): Action {
		this.live.delete(file.path);
		return {remove: {path: file.path, deletionTimestamp: time, dataChange: true, extendedFileMetadata: true, partitionValues: {}, size: file.size}};
	}

	private async commit(operation: string, parameters: Record<string, unknown>, actions: Action[], extra: {isBlindAppend: boolean; metrics: Record<string, string>; time?: number}): Promise<number> {
		const version = this.version + 1;
		const commitInfo: Record<string, unknown> = {
			timestamp: extra.time ?? this.now(),
			operation,
			operationParameters: parameters,
			...(version > 0 ? {readVersion: version - 1} : {}),
			isolationLevel: 'Serializable',
			isBlindAppend: extra.isBlindAppend,
			operationMetrics: extra.metrics,
			engineInfo: this.options.engineInfo ?? 'ilum-restore-writer',
			txnId: this.uuid(),
		};
		const body = [{commitInfo}, ...actions].map(action => JSON.stringify(action)).join('\n') + '\n';
		await this.store.putIfAbsent(commitFileName(version), new TextEncoder().encode(body));
		this.version = version;
		return version;
	}

	private async writeDataFile(rows: readonly Row[]): Promise<DataFile> {
		const columns = Object.fromEntries(this.columns.map(column => [column.name, duckTypes[column.type]]));
		const normalized = rows.map(row => Object.fromEntries(this.columns.map(column => [column.name, row[column.name] ?? null])));
		const bytes = this.options.data === 'placeholder' ? new TextEncoder().encode(`placeholder ${rows.length} rows\n`) : await this.viaDuckDb(normalized, columns);
		const file = `part-00000-${this.uuid()}-c000.snappy.parquet`;
		await this.store.put(file, bytes);
		const data: DataFile = {path: file, size: bytes.length, rows: normalized as Row[], stats: statsFor(normalized as Row[], this.columns), modificationTime: this.now()};
		this.live.set(file, data);
		this.everWritten.add(file);
		return data;
	}

	/** Rows (as JSON objects) -> Parquet bytes with the given DuckDB column types. */
	private async viaDuckDb(rows: ReadonlyArray<Record<string, unknown>>, columns: Record<string, string>): Promise<Uint8Array> {
		const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-delta-writer-'));
		try {
			const input = path.join(directory, 'rows.json');
			const output = path.join(directory, 'out.parquet');
			await fs.writeFile(input, rows.map(row => JSON.stringify(row)).join('\n') + '\n');
			const columnSpec = Object.entries(columns).map(([name, type]) => `${sqlString(name)}: ${sqlString(type)}`).join(', ');
			const source = rows.length === 0
				? `SELECT ${Object.entries(columns).map(([name, type]) => `CAST(NULL AS ${type}) AS "${name.replaceAll('"', '""')}"`).join(', ')} LIMIT 0`
				: `SELECT * FROM read_json(${sqlString(input)}, format = 'newline_delimited', columns = {${columnSpec}})`;
			const duck = await connection();
			await duck.run(`COPY (${source}) TO ${sqlString(output)} (FORMAT parquet, COMPRESSION snappy)`);
			return new Uint8Array(await fs.readFile(output));
		} finally {
			await fs.rm(directory, {recursive: true, force: true});
		}
	}
}

/**
The demo table history the drill world and tests use, as steps (one commit each): 12 versions
(appends, copy-on-write deletes, a schema change, a property change, an overwrite).
*/
export function demoSteps(writer: DeltaTableWriter): Array<() => Promise<number>> {
	const order = (start: number, count: number) => Array.from({length: count}, (_, index) => ({
		order_id: start + index,
		customer: `customer-${(start + index) % 17}`,
		amount: Math.round(((start + index) * 7.31) % 500 * 100) / 100,
		status: index % 5 === 0 ? 'cancelled' : 'paid',
	}));
	return [
		async () => writer.create([{name: 'order_id', type: 'long'}, {name: 'customer', type: 'string'}, {name: 'amount', type: 'double'}, {name: 'status', type: 'string'}], order(1, 100)),
		async () => writer.append(order(101, 50)),
		async () => writer.append(order(151, 50)),
		async () => writer.delete(row => row['status'] === 'cancelled', 'status = \'cancelled\''),
		async () => writer.append(order(201, 40)),
		async () => writer.addColumns([{name: 'channel', type: 'string'}]),
		async () => writer.append(order(241, 30).map(row => ({...row, channel: 'web'}))),
		async () => writer.setProperties({'delta.logRetentionDuration': 'interval 30 days'}),
		async () => writer.delete(row => Number(row['order_id']) <= 50, 'order_id <= 50'),
		async () => writer.overwrite(order(1000, 120).map(row => ({...row, channel: 'store'}))),
		async () => writer.append(order(1120, 25).map(row => ({...row, channel: 'web'}))),
		async () => writer.append(order(1145, 25).map(row => ({...row, channel: 'app'}))),
	];
}

/** `demoSteps` run at once, checkpointed every `checkpointEvery` versions, VACUUMed at the end if asked. */
export async function writeDemoTable(store: FileStore, options: DeltaWriterOptions & {checkpointEvery?: number; vacuum?: boolean; startTime?: number} = {}): Promise<DeltaTableWriter> {
	let time = options.startTime ?? Date.UTC(2025, 0, 6, 9, 0, 0);
	const writer = new DeltaTableWriter(store, {...options, clock: options.clock ?? (() => (time += 3_600_000))});
	for (const step of demoSteps(writer)) {
		// eslint-disable-next-line no-await-in-loop
		await step();
		if (options.checkpointEvery && writer.version > 0 && writer.version % options.checkpointEvery === 0) {
			// eslint-disable-next-line no-await-in-loop
			await writer.checkpoint();
		}
	}

	if (options.vacuum) {
		await writer.vacuum();
	}

	return writer;
}
