import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type {DuckDBConnection, DuckDBInstance} from '@duckdb/node-api';
import type {FileStore} from '../../storage/file-store.js';
import {writeAvro} from '../../formats/iceberg/avro.js';
import {encodeMetadataBytes, idString, idValue, PathMapper, type RawMetadata} from '../../formats/iceberg/metadata.js';
import type {RestCatalogClient} from '../../formats/iceberg/rest-client.js';
import {appendMetadataLog, applyUpdates, failedRequirement, type TableRequirement, type TableUpdate} from '../../formats/iceberg/updates.js';

/**
Writes Iceberg tables the way engines do, for tests and the drill world: real Parquet data files
(DuckDB `COPY ... TO (FORMAT parquet, FIELD_IDS ...)`, offline), real Avro manifests and manifest
lists with the specification's v2 schemas and field ids, and one catalog commit per snapshot
(`add-snapshot` + `set-snapshot-ref main` with `assert-ref-snapshot-id`).
*/
export type ColumnType = 'long' | 'int' | 'string' | 'double' | 'boolean' | 'date';
export type WriterColumn = {readonly id: number; readonly name: string; readonly type: ColumnType; readonly required?: boolean; readonly expr?: string};

/** Where commits go: a REST catalog, or a path-based (Hadoop) table. */
export type CommitTarget = {
	load(): Promise<{raw: RawMetadata; metadataLocation: string}>;
	commit(requirements: TableRequirement[], updates: TableUpdate[]): Promise<void>;
	/** Writes what was deferred (path-based tables with `deferWrites`). */
	flush?(): Promise<void>;
};

export const schemaJson = (columns: readonly WriterColumn[], schemaId = 0) => ({
	type: 'struct',
	'schema-id': schemaId,
	fields: columns.map(column => ({id: column.id, name: column.name, required: Boolean(column.required), type: column.type})),
});

/** A REST catalog table as a commit target. */
export function restTarget(client: RestCatalogClient, namespace: readonly string[], table: string): CommitTarget {
	return {
		async load() {
			const loaded = await client.loadTable(namespace, table);
			return {raw: loaded.metadata, metadataLocation: loaded.metadataLocation};
		},
		async commit(requirements, updates) {
			await client.commit(namespace, table, {requirements: wireIds(requirements), updates: wireIds(updates)});
		},
	};
}

function wireIds<T>(items: readonly T[]): T[] {
	return items.map(item => {
		const copy = {...item} as Record<string, unknown>;
		if (typeof copy['snapshot-id'] === 'string') {
			copy['snapshot-id'] = idValue(copy['snapshot-id']);
		}

		return copy as T;
	});
}

/**
A new path-based table (Hadoop layout: `metadata/v<N>.metadata.json` + `metadata/version-hint.text`).
With `deferWrites`, commits stay in memory until `flush()` writes one metadata file (benchmarks).
*/
export async function createPathTable(store: FileStore, options: {location?: string; columns: readonly WriterColumn[]; formatVersion?: 1 | 2; deferWrites?: boolean; now?: () => number}): Promise<CommitTarget> {
	const location = (options.location ?? store.root).replace(/\/+$/, '');
	const formatVersion = options.formatVersion ?? 2;
	const schema = schemaJson(options.columns);
	const now = options.now?.() ?? Date.now();
	let raw: RawMetadata = {
		'format-version': formatVersion,
		'table-uuid': crypto.randomUUID(),
		location,
		...(formatVersion >= 2 ? {'last-sequence-number': 0} : {}),
		'last-updated-ms': now,
		'last-column-id': Math.max(...options.columns.map(column => column.id)),
		'current-schema-id': 0,
		schemas: [schema],
		...(formatVersion === 1 ? {schema, 'partition-spec': []} : {}),
		'default-spec-id': 0,
		'partition-specs': [{'spec-id': 0, fields: []}],
		'last-partition-id': 999,
		'default-sort-order-id': 0,
		'sort-orders': [{'order-id': 0, fields: []}],
		properties: {},
		'current-snapshot-id': -1,
		refs: {},
		snapshots: [],
		'snapshot-log': [],
		'metadata-log': [],
	};
	let version = 1;
	const write = async () => {
		await store.putIfAbsent(`metadata/v${version}.metadata.json`, encodeMetadataBytes(raw, false));
		await store.put('metadata/version-hint.text', Buffer.from(`${version}\n`));
	};

	await write();
	let dirty = false;
	return {
		async load() {
			return {raw, metadataLocation: `${location}/metadata/v${version}.metadata.json`};
		},
		async commit(requirements, updates) {
			const failed = failedRequirement(raw, requirements);
			if (failed) {
				throw new Error(`commit failed: ${failed}`);
			}

			const time = options.now?.() ?? Date.now();
			const next = applyUpdates(raw, updates, time);
			if (options.deferWrites) {
				raw = next;
				dirty = true;
				return;
			}

			raw = appendMetadataLog(next, `${location}/metadata/v${version}.metadata.json`, Number(raw['last-updated-ms']));
			version++;
			await write();
		},
		async flush() {
			if (dirty) {
				raw = appendMetadataLog(raw, `${location}/metadata/v${version}.metadata.json`, Number(raw['last-updated-ms']));
				version++;
				await write();
				dirty = false;
			}
		},
	};
}

const mapOf = (key: number, value: number, valueType: 'long' | 'bytes') => ({type: 'array', logicalType: 'map', items: {type: 'record', name: `k${key}_v${value}`, fields: [{name: 'key', type: 'int', 'field-id': key}, {name: 'value', type: valueType, 'field-id': value}]}});

/** The manifest entry schema of format v2 (unpartitioned tables: an empty partition record). */
export const manifestEntrySchema = {
	type: 'record',
	name: 'manifest_entry',
	fields: [
		{name: 'status', type: 'int', 'field-id': 0},
		{name: 'snapshot_id', type: ['null', 'long'], default: null, 'field-id': 1},
		{name: 'sequence_number', type: ['null', 'long'], default: null, 'field-id': 3},
		{name: 'file_sequence_number', type: ['null', 'long'], default: null, 'field-id': 4},
		{name: 'data_file', 'field-id': 2, type: {type: 'record', name: 'r2', fields: [
			{name: 'content', type: 'int', doc: 'Contents of the file: 0=data, 1=position deletes, 2=equality deletes', 'field-id': 134},
			{name: 'file_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 100},
			{name: 'file_format', type: 'string', doc: 'File format name: avro, orc, or parquet', 'field-id': 101},
			{name: 'partition', type: {type: 'record', name: 'r102', fields: []}, doc: 'Partition data tuple, schema based on the partition spec', 'field-id': 102},
			{name: 'record_count', type: 'long', doc: 'Number of records in the file', 'field-id': 103},
			{name: 'file_size_in_bytes', type: 'long', doc: 'Total file size in bytes', 'field-id': 104},
			{name: 'column_sizes', type: ['null', mapOf(117, 118, 'long')], default: null, 'field-id': 108},
			{name: 'value_counts', type: ['null', mapOf(119, 120, 'long')], default: null, 'field-id': 109},
			{name: 'null_value_counts', type: ['null', mapOf(121, 122, 'long')], default: null, 'field-id': 110},
			{name: 'nan_value_counts', type: ['null', mapOf(138, 139, 'long')], default: null, 'field-id': 137},
			{name: 'lower_bounds', type: ['null', mapOf(126, 127, 'bytes')], default: null, 'field-id': 125},
			{name: 'upper_bounds', type: ['null', mapOf(129, 130, 'bytes')], default: null, 'field-id': 128},
			{name: 'key_metadata', type: ['null', 'bytes'], default: null, 'field-id': 131},
			{name: 'split_offsets', type: ['null', {type: 'array', items: 'long', 'element-id': 133}], default: null, 'field-id': 132},
			{name: 'equality_ids', type: ['null', {type: 'array', items: 'int', 'element-id': 136}], default: null, 'field-id': 135},
			{name: 'sort_order_id', type: ['null', 'int'], default: null, 'field-id': 140},
		]}},
	],
};

/** The manifest list schema of format v2. */
export const manifestFileSchema = {
	type: 'record',
	name: 'manifest_file',
	fields: [
		{name: 'manifest_path', type: 'string', doc: 'Location URI with FS scheme', 'field-id': 500},
		{name: 'manifest_length', type: 'long', 'field-id': 501},
		{name: 'partition_spec_id', type: 'int', 'field-id': 502},
		{name: 'content', type: 'int', 'field-id': 517},
		{name: 'sequence_number', type: 'long', 'field-id': 515},
		{name: 'min_sequence_number', type: 'long', 'field-id': 516},
		{name: 'added_snapshot_id', type: 'long', 'field-id': 503},
		{name: 'added_files_count', type: 'int', 'field-id': 504},
		{name: 'existing_files_count', type: 'int', 'field-id': 505},
		{name: 'deleted_files_count', type: 'int', 'field-id': 506},
		{name: 'added_rows_count', type: 'long', 'field-id': 512},
		{name: 'existing_rows_count', type: 'long', 'field-id': 513},
		{name: 'deleted_rows_count', type: 'long', 'field-id': 514},
		{name: 'partitions', type: ['null', {type: 'array', items: {type: 'record', name: 'r508', fields: [
			{name: 'contains_null', type: 'boolean', 'field-id': 509},
			{name: 'contains_nan', type: ['null', 'boolean'], default: null, 'field-id': 518},
			{name: 'lower_bound', type: ['null', 'bytes'], default: null, 'field-id': 510},
			{name: 'upper_bound', type: ['null', 'bytes'], default: null, 'field-id': 511},
		]}, 'element-id': 508}], default: null, 'field-id': 507},
		{name: 'key_metadata', type: ['null', 'bytes'], default: null, 'field-id': 519},
	],
};

export type DataFileState = {
	readonly path: string;
	readonly records: number;
	readonly bytes: number;
	readonly snapshotId: string;
	readonly sequence: number;
};

type Entry = {status: 0 | 1 | 2; snapshotId: string; sequence: number; file: DataFileState};
type Manifest = {path: string; length: number; addedSnapshotId: string; sequence: number; entries: Entry[]};

const randomSnapshotId = () => (crypto.randomBytes(8).readBigUInt64BE() & 0x7F_FF_FF_FF_FF_FF_FF_FFn).toString();
const sqlString = (value: string) => `'${value.replaceAll('\'', '\'\'')}'`;
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

function defaultExpr(column: WriterColumn): string {
	switch (column.type) {
		case 'long': {
			return 'CAST(i AS BIGINT)';
		}

		case 'int': {
			return 'CAST(i % 1000 AS INTEGER)';
		}

		case 'string': {
			return `'${column.name}-' || i`;
		}

		case 'double': {
			return 'CAST(i AS DOUBLE) * 1.5';
		}

		case 'boolean': {
			return 'i % 2 = 0';
		}

		case 'date': {
			return 'DATE \'2026-01-01\' + CAST(i % 365 AS INTEGER)';
		}
	}
}

export type WriterOptions = {
	/** The table's root (its location), where data and metadata files go. */
	readonly store: FileStore;
	readonly target: CommitTarget;
	/** `parquet` (default): real Parquet through DuckDB. `placeholder`: tiny stand-in files (benchmarks). */
	readonly data?: 'parquet' | 'placeholder';
	/** Merge manifests into one when a snapshot would have more than this many (Iceberg's min-count-to-merge, default 100). */
	readonly mergeAfter?: number;
	readonly now?: () => number;
	readonly codec?: 'null' | 'deflate';
};

export class IcebergTableWriter {
	private readonly options: WriterOptions;
	private raw: RawMetadata = {};
	private location = '';
	private mapper = new PathMapper('');
	private manifests: Manifest[] = [];
	private columns: WriterColumn[] = [];
	private nextRow = 0;
	private lastTime = 0;
	private duck?: {instance: DuckDBInstance; connection: DuckDBConnection; dir: string};

	private constructor(options: WriterOptions) {
		this.options = options;
	}

	/** Opens a table this writer creates the snapshots of (a new, empty table). Column expressions (SQL over the row number `i`) shape the data. */
	static async open(options: WriterOptions & {columns?: readonly WriterColumn[]}): Promise<IcebergTableWriter> {
		const writer = new IcebergTableWriter(options);
		writer.columns = [...options.columns ?? []];
		await writer.reload();
		if (writer.currentSnapshotId !== undefined) {
			throw new Error('IcebergTableWriter only writes tables it creates (this one already has snapshots)');
		}

		return writer;
	}

	/** The live data files of the current snapshot. */
	liveFiles(): DataFileState[] {
		return this.manifests.flatMap(manifest => manifest.entries.filter(entry => entry.status !== 2).map(entry => entry.file));
	}

	get currentSnapshotId(): string | undefined {
		const main = this.raw['refs']?.['main']?.['snapshot-id'] ?? this.raw['current-snapshot-id'];
		return main === undefined || main === null || idString(main) === '-1' ? undefined : idString(main);
	}

	async close() {
		await this.options.target.flush?.();
		if (this.duck) {
			this.duck.connection.closeSync();
			this.duck.instance.closeSync();
			await fs.rm(this.duck.dir, {recursive: true, force: true});
			this.duck = undefined;
		}
	}

	/** Appends `rows` rows (ids continue from the last append) as one data file. */
	async append(rows: number): Promise<string> {
		const file = await this.writeDataFile(rows);
		return this.commitSnapshot('append', [file], []);
	}

	/** Replaces the files `remove` picks with one new file of `rows` rows (operation overwrite). */
	async overwrite(remove: (file: DataFileState, index: number) => boolean, rows: number): Promise<string> {
		const removed = this.liveFiles().filter((file, index) => remove(file, index));
		const file = await this.writeDataFile(rows);
		return this.commitSnapshot('overwrite', [file], removed);
	}

	/** Deletes whole files (operation delete). */
	async deleteFiles(remove: (file: DataFileState, index: number) => boolean): Promise<string> {
		const removed = this.liveFiles().filter((file, index) => remove(file, index));
		return this.commitSnapshot('delete', [], removed);
	}

	/** Adds a column: a new schema, made current (no snapshot). */
	async addColumn(column: Omit<WriterColumn, 'id'>): Promise<number> {
		const id = Number(this.raw['last-column-id']) + 1;
		const schemaId = Math.max(...(this.raw['schemas'] as any[]).map(schema => Number(schema['schema-id']))) + 1;
		this.columns = [...this.columns, {...column, id}];
		await this.options.target.commit(
			[{type: 'assert-current-schema-id', 'current-schema-id': Number(this.raw['current-schema-id'])}],
			[{action: 'add-schema', schema: schemaJson(this.columns, schemaId)}, {action: 'set-current-schema', 'schema-id': -1}],
		);
		await this.reload();
		return schemaId;
	}

	private async reload() {
		const {raw} = await this.options.target.load();
		this.raw = raw;
		this.location = String(raw['location']).replace(/\/+$/, '');
		this.mapper = new PathMapper(this.location);
		const schema = (raw['schemas'] as any[]).find(item => Number(item['schema-id']) === Number(raw['current-schema-id']));
		const expressions = new Map(this.columns.map(column => [column.id, column.expr]));
		this.columns = (schema?.fields ?? []).map((field: any) => ({id: Number(field.id), name: String(field.name), type: field.type as ColumnType, required: Boolean(field.required), expr: expressions.get(Number(field.id))}));
	}

	private tick(): number {
		const now = this.options.now?.() ?? Date.now();
		this.lastTime = Math.max(now, this.lastTime + 1);
		return this.lastTime;
	}

	private async duckdb() {
		if (!this.duck) {
			const {DuckDBInstance} = await import('@duckdb/node-api');
			const instance = await DuckDBInstance.create(':memory:');
			const connection = await instance.connect();
			const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-iceberg-writer-'));
			this.duck = {instance, connection, dir};
		}

		return this.duck;
	}

	private async writeDataFile(rows: number): Promise<Omit<DataFileState, 'snapshotId' | 'sequence'>> {
		const name = `data/00000-${this.nextRow}-${crypto.randomUUID()}.parquet`;
		const start = this.nextRow;
		this.nextRow += rows;
		let bytes: Uint8Array;
		if (this.options.data === 'placeholder') {
			bytes = Buffer.from(`PAR1 placeholder rows ${start}-${start + rows}`);
		} else {
			const duck = await this.duckdb();
			const local = path.join(duck.dir, crypto.randomUUID() + '.parquet');
			const projection = this.columns.map(column => `${column.expr ?? defaultExpr(column)} AS ${quote(column.name)}`).join(', ');
			const fieldIds = this.columns.map(column => `${quote(column.name)}: ${column.id}`).join(', ');
			await duck.connection.run(`COPY (SELECT ${projection} FROM range(${start}, ${start + rows}) AS t(i)) TO ${sqlString(local)} (FORMAT parquet, FIELD_IDS {${fieldIds}})`);
			bytes = await fs.readFile(local);
			await fs.rm(local);
		}

		await this.options.store.putIfAbsent(name, bytes);
		return {path: this.mapper.toWritten(name), records: rows, bytes: bytes.byteLength};
	}

	private async writeManifest(entries: Entry[], snapshotId: string, sequence: number): Promise<Manifest> {
		const name = `metadata/${crypto.randomUUID()}-m0.avro`;
		const schema = (this.raw['schemas'] as any[]).find(item => Number(item['schema-id']) === Number(this.raw['current-schema-id']));
		const records = entries.map(entry => ({
			status: entry.status,
			snapshot_id: BigInt(entry.snapshotId),
			sequence_number: entry.sequence,
			file_sequence_number: entry.file.sequence,
			data_file: {
				content: 0,
				file_path: entry.file.path,
				file_format: 'PARQUET',
				partition: {},
				record_count: entry.file.records,
				file_size_in_bytes: entry.file.bytes,
				column_sizes: null,
				value_counts: null,
				null_value_counts: null,
				nan_value_counts: null,
				lower_bounds: null,
				upper_bounds: null,
				key_metadata: null,
				split_offsets: null,
				equality_ids: null,
				sort_order_id: null,
			},
		}));
		const bytes = writeAvro(manifestEntrySchema, records, {codec: this.options.codec, meta: {
			schema: JSON.stringify(schema),
			'schema-id': String(this.raw['current-schema-id']),
			'partition-spec': '[]',
			'partition-spec-id': '0',
			'format-version': String(this.raw['format-version']),
			content: 'data',
		}});
		await this.options.store.putIfAbsent(name, bytes);
		return {path: this.mapper.toWritten(name), length: bytes.byteLength, addedSnapshotId: snapshotId, sequence, entries};
	}

	private async commitSnapshot(operation: string, added: ReadonlyArray<Omit<DataFileState, 'snapshotId' | 'sequence'>>, removed: readonly DataFileState[]): Promise<string> {
		const id = randomSnapshotId();
		const parent = this.currentSnapshotId;
		const sequence = Number(this.raw['last-sequence-number'] ?? 0) + 1;
		const removedPaths = new Set(removed.map(file => file.path));
		const next: Manifest[] = [];
		if (added.length > 0) {
			next.push(await this.writeManifest(added.map(file => ({status: 1, snapshotId: id, sequence, file: {...file, snapshotId: id, sequence}})), id, sequence));
		}

		for (const manifest of this.manifests) {
			const live = manifest.entries.filter(entry => entry.status !== 2);
			if (live.length === 0) {
				continue;
			}

			if (live.some(entry => removedPaths.has(entry.file.path))) {
				// eslint-disable-next-line no-await-in-loop
				next.push(await this.writeManifest(live.map(entry => removedPaths.has(entry.file.path)
					? {status: 2, snapshotId: id, sequence: entry.sequence, file: entry.file}
					: {status: 0, snapshotId: entry.snapshotId, sequence: entry.sequence, file: entry.file}), id, sequence));
			} else {
				next.push(manifest);
			}
		}

		let manifests = next;
		if (manifests.length > (this.options.mergeAfter ?? 100)) {
			const entries = manifests.flatMap(manifest => manifest.entries.filter(entry => entry.status !== 2).map(entry => entry.snapshotId === id && entry.status === 1 ? entry : {...entry, status: 0 as const}));
			manifests = [await this.writeManifest(entries, id, sequence)];
		}

		const listName = `metadata/snap-${id}-1-${crypto.randomUUID()}.avro`;
		const list = writeAvro(manifestFileSchema, manifests.map(manifest => {
			const count = (status: number) => manifest.entries.filter(entry => entry.status === status);
			const rows = (status: number) => count(status).reduce((sum, entry) => sum + entry.file.records, 0);
			return {
				manifest_path: manifest.path,
				manifest_length: manifest.length,
				partition_spec_id: 0,
				content: 0,
				sequence_number: manifest.sequence,
				min_sequence_number: Math.min(manifest.sequence, ...manifest.entries.map(entry => entry.sequence)),
				added_snapshot_id: BigInt(manifest.addedSnapshotId),
				added_files_count: count(1).length,
				existing_files_count: count(0).length,
				deleted_files_count: count(2).length,
				added_rows_count: rows(1),
				existing_rows_count: rows(0),
				deleted_rows_count: rows(2),
				partitions: [],
				key_metadata: null,
			};
		}), {codec: this.options.codec, meta: {
			'snapshot-id': id,
			'parent-snapshot-id': parent ?? 'null',
			'sequence-number': String(sequence),
			'format-version': String(this.raw['format-version']),
		}});
		await this.options.store.putIfAbsent(listName, list);
		const live = manifests.flatMap(manifest => manifest.entries.filter(entry => entry.status !== 2).map(entry => entry.file));
		const addedRecords = added.reduce((sum, file) => sum + file.records, 0);
		const addedBytes = added.reduce((sum, file) => sum + file.bytes, 0);
		const summary: Record<string, string> = {
			operation,
			...(added.length > 0 ? {'added-data-files': String(added.length), 'added-records': String(addedRecords), 'added-files-size': String(addedBytes)} : {}),
			...(removed.length > 0 ? {'deleted-data-files': String(removed.length), 'deleted-records': String(removed.reduce((sum, file) => sum + file.records, 0)), 'removed-files-size': String(removed.reduce((sum, file) => sum + file.bytes, 0))} : {}),
			'total-data-files': String(live.length),
			'total-delete-files': '0',
			'total-records': String(live.reduce((sum, file) => sum + file.records, 0)),
			'total-files-size': String(live.reduce((sum, file) => sum + file.bytes, 0)),
			'total-position-deletes': '0',
			'total-equality-deletes': '0',
		};
		const snapshot = {
			'snapshot-id': idValue(id),
			...(parent === undefined ? {} : {'parent-snapshot-id': idValue(parent)}),
			'sequence-number': sequence,
			'timestamp-ms': this.tick(),
			'manifest-list': this.mapper.toWritten(listName),
			summary,
			'schema-id': Number(this.raw['current-schema-id']),
		};
		await this.options.target.commit(
			[{type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': parent ?? null}],
			[{action: 'add-snapshot', snapshot}, {action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': id}],
		);
		this.manifests = manifests;
		await this.reload();
		return id;
	}
}
