import {UserError} from '../../errors.js';
import {bool, int, intOrNull, isoTime, type SqlCatalog, type SqlRow} from './sql.js';

/** Catalog versions this tool reads and writes (`ducklake_metadata` key `version`). */
export const supportedVersions = ['0.3-dev1', '0.3', '0.4-dev1', '0.4', '1.0', '1.1-dev1'] as const;
/** Versions DuckDB's ducklake extension migrates on attach; this tool does not. */
export const migrateFirstVersions = ['0.1', '0.2'] as const;

export type Snapshot = {
	readonly id: number;
	readonly time: string;
	readonly schemaVersion: number;
	readonly nextCatalogId: number;
	readonly nextFileId: number;
	readonly changes: string;
	readonly author?: string;
	readonly message?: string;
	readonly extraInfo?: string;
};

/** A row with a life span: live at S when begin <= S and (end is null or end > S). */
export type Versioned = {readonly begin: number; readonly end?: number};

export type SchemaRow = Versioned & {readonly id: number; readonly name: string; readonly path?: string; readonly pathIsRelative: boolean};
export type TableRow = Versioned & {readonly id: number; readonly schemaId: number; readonly name: string; readonly path?: string; readonly pathIsRelative: boolean};

export type DataFileRow = Versioned & {
	readonly id: number;
	readonly tableId: number;
	readonly path: string;
	readonly pathIsRelative: boolean;
	readonly recordCount: number;
	readonly sizeBytes: number;
	/** 0.3's `partial_file_info` is set: a file only partly visible, in a form this tool does not interpret. */
	readonly partialInfo: boolean;
	/** `partial_max` (0.4+): rows carry their snapshot; at snapshots below it only some are visible. */
	readonly partialMax?: number;
	/** Every column as read, for copying the row. */
	readonly raw: SqlRow;
};

export type DeleteFileRow = Versioned & {
	readonly id: number;
	readonly tableId: number;
	readonly dataFileId: number;
	readonly path: string;
	readonly pathIsRelative: boolean;
	readonly deleteCount: number;
	readonly sizeBytes: number;
	readonly raw: SqlRow;
};

export type ColumnRow = Versioned & {
	readonly id: number;
	readonly tableId: number;
	readonly name: string;
	readonly type: string;
	readonly order: number;
	readonly parent?: number;
	readonly raw: SqlRow;
};

export type CatalogState = {
	readonly version: string;
	readonly dataPath: string;
	readonly snapshots: readonly Snapshot[];
	readonly schemas: readonly SchemaRow[];
	readonly tables: readonly TableRow[];
	readonly dataFiles: readonly DataFileRow[];
	readonly deleteFiles: readonly DeleteFileRow[];
};

export const liveAt = (row: Versioned, snapshot: number) => row.begin <= snapshot && (row.end === undefined || row.end > snapshot);

/**
Reads `ducklake_metadata` 'version' and refuses what this tool cannot read safely: one line
naming the catalog and the version. Nothing is written.
*/
export async function catalogVersion(sql: SqlCatalog): Promise<string> {
	let rows: SqlRow[];
	try {
		rows = await sql.query('SELECT "value" AS value FROM ducklake_metadata WHERE "key" = \'version\'');
	} catch (error) {
		throw new UserError(`${sql.description}: not a DuckLake catalog (no ducklake_metadata table: ${(error as Error).message.split('\n')[0]})`, {hint: 'check the ref names the catalog database, not the data folder', cause: error});
	}

	const version = rows[0]?.value === undefined || rows[0]?.value === null ? undefined : String(rows[0].value);
	if (version === undefined) {
		throw new UserError(`${sql.description}: DuckLake catalog without a version in ducklake_metadata`, {hint: 'check the catalog is complete'});
	}

	if ((migrateFirstVersions as readonly string[]).includes(version)) {
		throw new UserError(`${sql.description}: DuckLake catalog version ${version} is older than 0.3, which this tool reads`, {hint: 'migrate it first by attaching it once with DuckDB\'s ducklake extension (ATTACH \'ducklake:...\'), then retry'});
	}

	if (!(supportedVersions as readonly string[]).includes(version)) {
		throw new UserError(`${sql.description}: unknown DuckLake catalog version '${version}'`, {hint: `this tool reads versions ${supportedVersions.join(', ')}; nothing was read or written`});
	}

	return version;
}

export async function loadCatalog(sql: SqlCatalog): Promise<CatalogState> {
	const version = await catalogVersion(sql);
	const dataPathRows = await sql.query('SELECT "value" AS value FROM ducklake_metadata WHERE "key" = \'data_path\' AND "scope" IS NULL');
	const dataPath = dataPathRows[0]?.value === undefined || dataPathRows[0]?.value === null ? '' : String(dataPathRows[0].value);

	const changeColumns = await sql.columns('ducklake_snapshot_changes');
	const extra = ['author', 'commit_message', 'commit_extra_info'].filter(column => changeColumns.includes(column));
	const snapshotRows = await sql.query(`SELECT s.snapshot_id, s.snapshot_time, s.schema_version, s.next_catalog_id, s.next_file_id, c.changes_made${extra.map(column => `, c.${column}`).join('')}
		FROM ducklake_snapshot s LEFT JOIN ducklake_snapshot_changes c ON c.snapshot_id = s.snapshot_id ORDER BY s.snapshot_id`);
	const snapshots: Snapshot[] = snapshotRows.map(row => ({
		id: int(row.snapshot_id),
		time: isoTime(row.snapshot_time),
		schemaVersion: int(row.schema_version),
		nextCatalogId: int(row.next_catalog_id),
		nextFileId: int(row.next_file_id),
		changes: row.changes_made === null || row.changes_made === undefined ? '' : String(row.changes_made),
		author: optionalText(row.author),
		message: optionalText(row.commit_message),
		extraInfo: optionalText(row.commit_extra_info),
	}));

	const hasSchemaPath = (await sql.columns('ducklake_schema')).includes('path');
	const schemas: SchemaRow[] = (await sql.query(`SELECT schema_id, schema_name, begin_snapshot, end_snapshot${hasSchemaPath ? ', path, path_is_relative' : ''} FROM ducklake_schema`)).map(row => ({
		id: int(row.schema_id),
		name: String(row.schema_name),
		begin: int(row.begin_snapshot),
		end: intOrNull(row.end_snapshot),
		path: optionalText(row.path),
		pathIsRelative: row.path_is_relative === undefined || row.path_is_relative === null ? true : bool(row.path_is_relative),
	}));

	const hasTablePath = (await sql.columns('ducklake_table')).includes('path');
	const tables: TableRow[] = (await sql.query(`SELECT table_id, schema_id, table_name, begin_snapshot, end_snapshot${hasTablePath ? ', path, path_is_relative' : ''} FROM ducklake_table`)).map(row => ({
		id: int(row.table_id),
		schemaId: int(row.schema_id),
		name: String(row.table_name),
		begin: int(row.begin_snapshot),
		end: intOrNull(row.end_snapshot),
		path: optionalText(row.path),
		pathIsRelative: row.path_is_relative === undefined || row.path_is_relative === null ? true : bool(row.path_is_relative),
	}));

	const dataFiles: DataFileRow[] = (await sql.query('SELECT * FROM ducklake_data_file ORDER BY data_file_id')).map(row => ({
		id: int(row.data_file_id),
		tableId: int(row.table_id),
		begin: int(row.begin_snapshot),
		end: intOrNull(row.end_snapshot),
		path: String(row.path),
		pathIsRelative: bool(row.path_is_relative),
		recordCount: int(row.record_count),
		sizeBytes: int(row.file_size_bytes),
		partialInfo: row.partial_file_info !== undefined && row.partial_file_info !== null,
		partialMax: intOrNull(row.partial_max),
		raw: row,
	}));

	const deleteFiles: DeleteFileRow[] = (await sql.query('SELECT * FROM ducklake_delete_file ORDER BY delete_file_id')).map(row => ({
		id: int(row.delete_file_id),
		tableId: int(row.table_id),
		dataFileId: int(row.data_file_id),
		begin: int(row.begin_snapshot),
		end: intOrNull(row.end_snapshot),
		path: String(row.path),
		pathIsRelative: bool(row.path_is_relative),
		deleteCount: int(row.delete_count),
		sizeBytes: int(row.file_size_bytes),
		raw: row,
	}));

	return {version, dataPath, snapshots, schemas, tables, dataFiles, deleteFiles};
}

export async function loadColumns(sql: SqlCatalog, tableId: number): Promise<ColumnRow[]> {
	return (await sql.query('SELECT * FROM ducklake_column WHERE table_id = ? ORDER BY column_id, begin_snapshot', [tableId])).map(row => ({
		id: int(row.column_id),
		tableId: int(row.table_id),
		name: String(row.column_name),
		type: String(row.column_type),
		order: int(row.column_order),
		parent: intOrNull(row.parent_column),
		begin: int(row.begin_snapshot),
		end: intOrNull(row.end_snapshot),
		raw: row,
	}));
}

function optionalText(value: unknown): string | undefined {
	return value === undefined || value === null || value === '' ? undefined : String(value);
}

/** The table named `schema.table` (or `table` in `main`) live at `snapshot`, if any. */
export function findTable(state: CatalogState, name: string, snapshot: number): {schema: SchemaRow; table: TableRow} | undefined {
	const [schemaName, tableName] = splitName(name);
	for (const schema of state.schemas.filter(row => row.name === schemaName && liveAt(row, snapshot))) {
		const table = state.tables.find(row => row.schemaId === schema.id && row.name === tableName && liveAt(row, snapshot));
		if (table) {
			return {schema, table};
		}
	}

	return undefined;
}

export function splitName(name: string): [string, string] {
	const dot = name.indexOf('.');
	return dot === -1 ? ['main', name] : [name.slice(0, dot), name.slice(dot + 1)];
}

/** Table names (`schema.table`) live at `snapshot`, for "did you mean" lines. */
export function tableNames(state: CatalogState, snapshot: number): string[] {
	return state.tables.filter(row => liveAt(row, snapshot)).map(row => {
		const schema = state.schemas.find(candidate => candidate.id === row.schemaId && liveAt(candidate, snapshot)) ?? state.schemas.find(candidate => candidate.id === row.schemaId);
		return `${schema?.name ?? '?'}.${row.name}`;
	}).sort();
}

export type LiveFile = {readonly data: DataFileRow; readonly deletes?: DeleteFileRow};

/** The table's data files live at `snapshot`, each with its live delete file (at most one). */
export function liveFiles(state: CatalogState, tableId: number, snapshot: number): LiveFile[] {
	const deletes = new Map<number, DeleteFileRow>();
	for (const row of state.deleteFiles) {
		if (row.tableId === tableId && liveAt(row, snapshot)) {
			deletes.set(row.dataFileId, row);
		}
	}

	return state.dataFiles
		.filter(row => row.tableId === tableId && liveAt(row, snapshot))
		.map(data => ({data, deletes: deletes.get(data.id)}));
}

export function rowsOf(files: readonly LiveFile[]): number {
	return files.reduce((sum, file) => sum + file.data.recordCount - (file.deletes?.deleteCount ?? 0), 0);
}

export function bytesOf(files: readonly LiveFile[]): number {
	return files.reduce((sum, file) => sum + file.data.sizeBytes + (file.deletes?.sizeBytes ?? 0), 0);
}

/** A row of an inlined data table (`ducklake_inlined_data_<table>_<schema_version>`): rows kept in the catalog instead of Parquet. */
export type InlinedRow = Versioned & {readonly rowId: number; readonly raw: SqlRow};
/** A deletion kept in the catalog (`ducklake_inlined_delete_<table>`): position `rowId` of data file `fileId`, from `begin` on. */
export type InlinedDelete = {readonly fileId: number; readonly rowId: number; readonly begin: number; readonly raw: SqlRow};

export type Inlined = {
	readonly dataTables: ReadonlyArray<{readonly name: string; readonly rows: readonly InlinedRow[]}>;
	/** Undefined when the table has none (DuckDB creates it on the first inlined delete). */
	readonly deleteTable?: string;
	readonly deletes: readonly InlinedDelete[];
};

export const noInlined: Inlined = {dataTables: [], deletes: []};

/** Data inlining (on by default since DuckLake 1.0, 10 rows): the table's inlined rows and deletions. */
export async function loadInlined(sql: SqlCatalog, tableId: number): Promise<Inlined> {
	const dataTables: Array<{name: string; rows: InlinedRow[]}> = [];
	if ((await sql.columns('ducklake_inlined_data_tables')).length > 0) {
		for (const row of await sql.query('SELECT table_name FROM ducklake_inlined_data_tables WHERE table_id = ?', [tableId])) {
			const name = String(row.table_name);
			// eslint-disable-next-line no-await-in-loop
			if (!/^\w+$/.test(name) || (await sql.columns(name)).length === 0) {
				continue;
			}

			// eslint-disable-next-line no-await-in-loop
			const rows = (await sql.query(`SELECT * FROM ${name}`)).map(raw => ({rowId: int(raw.row_id), begin: int(raw.begin_snapshot), end: intOrNull(raw.end_snapshot), raw}));
			dataTables.push({name, rows});
		}
	}

	const deleteTable = `ducklake_inlined_delete_${tableId}`;
	if ((await sql.columns(deleteTable)).length === 0) {
		return {dataTables, deletes: []};
	}

	const deletes = (await sql.query(`SELECT * FROM ${deleteTable}`)).map(raw => ({fileId: int(raw.file_id), rowId: int(raw.row_id), begin: int(raw.begin_snapshot), raw}));
	return {dataTables, deleteTable, deletes};
}

/** Rows of the table at `snapshot`: data file rows minus delete file rows and inlined deletions, plus inlined rows. */
export function tableRowsAt(files: readonly LiveFile[], inlined: Inlined, snapshot: number): number {
	const live = new Set(files.map(file => file.data.id));
	const inlinedDeletes = inlined.deletes.filter(row => live.has(row.fileId) && row.begin <= snapshot).length;
	const inlinedRows = inlined.dataTables.reduce((sum, table) => sum + table.rows.filter(row => liveAt(row, snapshot)).length, 0);
	return rowsOf(files) - inlinedDeletes + inlinedRows;
}
