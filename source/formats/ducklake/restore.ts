import os from 'node:os';
import {liveAt, noInlined, type CatalogState, type ColumnRow, type DataFileRow, type DeleteFileRow, type Inlined, type LiveFile, type Snapshot} from './catalog.js';
import type {SqlCatalog, SqlRow, SqlValue} from './sql.js';
import {restoreMessagePrefix} from './history.js';

export type Statement = {readonly sql: string; readonly params: readonly SqlValue[]; /** Rows it must change (checked when executing). */ readonly expectRows?: number};

/**
A file the restore writes before its transaction: a returning data or delete file copied to a
new name next to it. DuckLake's snapshot expiry schedules the *path* of every expired file row
for deletion, so a restored row must never share a path with a closed one.
*/
export type FileCopy = {
	readonly kind: 'data' | 'delete';
	/** Full locations (as DataStorage.locate gives them). */
	readonly from: string;
	readonly to: string;
	/** Delete files: the location of the data file they now belong to (their `file_path` column is rewritten). */
	readonly dataFile?: string;
	/** Encrypted delete files cannot be rewritten: copied byte for byte. */
	readonly encrypted?: boolean;
	/** Index of the INSERT statement registering it; for delete files the size and footer parameters are filled in after the rewrite. */
	readonly statement: number;
	readonly sizeParam?: number;
	readonly footerParam?: number;
};

/** What `plan.commit` holds for DuckLake: the new snapshot and the exact statements, in order. */
export type DuckLakeCommit = {
	readonly snapshotId: number;
	readonly schemaVersion: number;
	readonly nextCatalogId: number;
	readonly nextFileId: number;
	readonly changesMade: string;
	readonly author: string;
	readonly commitMessage: string;
	readonly commitExtraInfo: string;
	readonly tableId: number;
	/** Data file ids the restore closes (live now, not at the target). */
	readonly closedDataFiles: readonly number[];
	/** New data file id -> the target's data file id it copies. */
	readonly reopenedDataFiles: ReadonlyArray<readonly [number, number]>;
	readonly closedDeleteFiles: readonly number[];
	readonly reopenedDeleteFiles: ReadonlyArray<readonly [number, number]>;
	readonly closedInlinedRows: number;
	readonly reopenedInlinedRows: number;
	readonly copiedInlinedDeletes: number;
	/** Files written before the transaction (copies under new names). */
	readonly copies: readonly FileCopy[];
	readonly statements: readonly Statement[];
	/** The statements as SQL text with the values in place, for --dry-run. */
	readonly sql: readonly string[];
};

export type CommitInput = {
	readonly state: CatalogState;
	/** Column names of each catalog table this writes (they differ between catalog versions). */
	readonly tableColumns: ReadonlyMap<string, readonly string[]>;
	readonly tableId: number;
	readonly tableName: string;
	readonly current: Snapshot;
	readonly target: Snapshot;
	readonly now: readonly LiveFile[];
	readonly then: readonly LiveFile[];
	readonly columns: readonly ColumnRow[];
	/** Rows of ducklake_file_column_stats / _file_partition_value / _file_variant_stats per data file id, for the files returning. */
	readonly perFileRows: ReadonlyMap<string, readonly SqlRow[]>;
	/** Inlined rows and deletions of the table (data inlining). */
	readonly inlined?: Inlined;
	/** The table's ducklake_table_column_stats rows (undefined when the catalog has no such table). */
	readonly tableColumnStats?: readonly SqlRow[];
	/** snapshot_time, as `sqlTimestamp` writes it. */
	readonly time: string;
	/** Rows re-opened as copies beginning at the new snapshot (a dropped table's own row, its tags). */
	readonly reopenRows?: ReadonlyArray<{readonly table: string; readonly raw: SqlRow}>;
	/** changes_made entries to put first (created_table for a dropped table). */
	readonly extraChanges?: readonly string[];
	/** A dropped table without a ducklake_table_stats row gets one. */
	readonly insertTableStats?: {readonly nextRowId: number};
	/** Full location of a data or delete file row. */
	readonly locate: (row: DataFileRow | DeleteFileRow) => string;
	/** Where copies of files registered by absolute path go: the table's folder, ending with '/'. */
	readonly tableFolder: string;
	/** A fresh unique file name stem (a UUID). */
	readonly newName: () => string;
	readonly author?: string;
};

export const perFileTables = ['ducklake_file_column_stats', 'ducklake_file_partition_value', 'ducklake_file_variant_stats'] as const;

export function defaultAuthor(): string {
	let user = 'unknown';
	try {
		user = os.userInfo().username;
	} catch {}

	return `ilum-restore (${user}@${os.hostname()})`;
}

/**
The restore as one catalog transaction: a new snapshot in which the table's live data files,
delete files and columns equal the target's.

- Rows live now but not at the target get `end_snapshot` = the new snapshot.
- Rows live at the target but not now are inserted again as copies that begin at the new
  snapshot: a closed row is never re-opened (time travel to the snapshots in between must keep
  seeing what they saw). Their files are copied to new names first (`copies`, done by
  `execute` before the transaction): snapshot expiry deletes files by path, so a live row must
  never share a path with a closed one. Data and delete file rows get new ids from
  `next_file_id`, keep sizes, footer and `row_id_start` (the rows keep their row ids); their
  per-file statistics and partition values are copied to the new ids; delete files of a
  returning data file point at its copy. Column rows are copied with their column ids (field
  ids in the Parquet files); inlined rows and inlined deletions follow the same rules.
- `ducklake_table_stats` gets the target's record count and size (next_row_id never goes back);
  schema_version goes up when the columns change.
*/
export function buildCommit(input: CommitInput): DuckLakeCommit {
	const {current, target, tableId} = input;
	const snapshotId = current.id + 1;
	const nowData = new Map(input.now.map(file => [file.data.id, file.data]));
	const thenData = new Map(input.then.map(file => [file.data.id, file.data]));
	const nowDeletes = new Map(input.now.filter(file => file.deletes).map(file => [file.deletes!.id, file.deletes!]));
	const thenDeletes = new Map(input.then.filter(file => file.deletes).map(file => [file.deletes!.id, file.deletes!]));

	const inlined = input.inlined ?? noInlined;
	// A file live at both snapshots that got inlined deletions since the target is swapped for a
	// copy: inlined deletions have no end, so only a new file id leaves them behind.
	const deletedSince = new Set(inlined.deletes.filter(row => row.begin > target.id && row.begin <= current.id).map(row => row.fileId));
	const kept = new Set([...nowData.keys()].filter(id => thenData.has(id) && !deletedSince.has(id)));
	const closedDataFiles = [...nowData.keys()].filter(id => !kept.has(id));
	const returningData = [...thenData.values()].filter(row => !kept.has(row.id));
	const closedDeleteFiles = [...nowDeletes.values()].filter(row => !thenDeletes.has(row.id) || !kept.has(row.dataFileId)).map(row => row.id);
	const returningDeletes = [...thenDeletes.values()].filter(row => !nowDeletes.has(row.id) || !kept.has(row.dataFileId));
	const closedInlined = inlined.dataTables.flatMap(table => table.rows.filter(row => liveAt(row, current.id) && !liveAt(row, target.id)).map(row => ({table: table.name, row})));
	const returningInlined = inlined.dataTables.flatMap(table => table.rows.filter(row => liveAt(row, target.id) && !liveAt(row, current.id)).map(row => ({table: table.name, row})));
	const inlinedDeleteCopies = returningData.flatMap(row => inlined.deletes.filter(deletion => deletion.fileId === row.id && deletion.begin <= target.id));

	const nowColumns = input.columns.filter(row => liveAt(row, current.id));
	const thenColumns = input.columns.filter(row => liveAt(row, target.id));
	const nowColumnRows = new Set(nowColumns);
	const thenColumnRows = new Set(thenColumns);
	const closedColumns = nowColumns.filter(row => !thenColumnRows.has(row));
	const returningColumns = thenColumns.filter(row => !nowColumnRows.has(row));
	const schemaChanged = closedColumns.length > 0 || returningColumns.length > 0;

	let nextFileId = current.nextFileId;
	const dataIdMap = new Map<number, number>();
	const reopenedDataFiles: Array<[number, number]> = [];
	for (const row of returningData) {
		const id = nextFileId++;
		dataIdMap.set(row.id, id);
		reopenedDataFiles.push([id, row.id]);
	}

	const reopenedDeleteFiles: Array<[number, number]> = [];
	const deleteCopies: Array<{id: number; row: DeleteFileRow}> = [];
	for (const row of returningDeletes) {
		const id = nextFileId++;
		reopenedDeleteFiles.push([id, row.id]);
		deleteCopies.push({id, row});
	}

	const statements: Statement[] = [];
	const closeRows = (table: string, idColumn: string, ids: readonly number[]) => {
		for (const id of ids) {
			statements.push({sql: `UPDATE ${table} SET end_snapshot = ? WHERE ${idColumn} = ? AND table_id = ? AND end_snapshot IS NULL`, params: [snapshotId, id, tableId], expectRows: 1});
		}
	};

	closeRows('ducklake_delete_file', 'delete_file_id', closedDeleteFiles);
	closeRows('ducklake_data_file', 'data_file_id', closedDataFiles);

	const insertCopy = (table: string, raw: SqlRow, overrides: Record<string, SqlValue>) => {
		const columns = input.tableColumns.get(table) ?? Object.keys(raw);
		const values = columns.map(column => column in overrides ? overrides[column]! : (raw[column] ?? null));
		statements.push({sql: `INSERT INTO ${table} (${columns.map(column => quoteIdentifier(column)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, params: values, expectRows: 1});
	};

	for (const row of input.reopenRows ?? []) {
		insertCopy(row.table, row.raw, {begin_snapshot: snapshotId, end_snapshot: null});
	}

	const copies: FileCopy[] = [];
	const renamed = (row: DataFileRow | DeleteFileRow, suffix: string) => {
		const name = `ducklake-${input.newName()}${suffix}.parquet`;
		const from = input.locate(row);
		if (!row.pathIsRelative) {
			// A file registered from elsewhere (absolute path): its copy goes to the table's own folder.
			return {path: name, relative: true, from, to: input.tableFolder + name};
		}

		const slash = row.path.lastIndexOf('/');
		return {path: slash === -1 ? name : row.path.slice(0, slash + 1) + name, relative: true, from, to: from.slice(0, from.lastIndexOf('/') + 1) + name};
	};

	const dataLocations = new Map<number, string>();
	for (const row of returningData) {
		const id = dataIdMap.get(row.id)!;
		const copy = renamed(row, '');
		dataLocations.set(row.id, copy.to);
		copies.push({kind: 'data', from: copy.from, to: copy.to, statement: statements.length});
		insertCopy('ducklake_data_file', row.raw, {data_file_id: id, begin_snapshot: snapshotId, end_snapshot: null, path: copy.path, path_is_relative: copy.relative});
		for (const table of perFileTables) {
			for (const stats of input.perFileRows.get(`${table}:${row.id}`) ?? []) {
				insertCopy(table, stats, {data_file_id: id});
			}
		}
	}

	for (const deletion of inlinedDeleteCopies) {
		insertCopy(inlined.deleteTable!, deletion.raw, {file_id: dataIdMap.get(deletion.fileId)!, begin_snapshot: snapshotId});
	}

	for (const {table, row} of closedInlined) {
		statements.push({sql: `UPDATE ${table} SET end_snapshot = ? WHERE row_id = ? AND begin_snapshot = ? AND end_snapshot IS NULL`, params: [snapshotId, row.rowId, row.begin], expectRows: 1});
	}

	for (const {table, row} of returningInlined) {
		insertCopy(table, row.raw, {begin_snapshot: snapshotId, end_snapshot: null});
	}

	for (const {id, row} of deleteCopies) {
		const copy = renamed(row, '-delete');
		const columns = input.tableColumns.get('ducklake_delete_file') ?? Object.keys(row.raw);
		const encrypted = row.raw.encryption_key !== null && row.raw.encryption_key !== undefined;
		const dataFile = dataLocations.get(row.dataFileId) ?? input.locate(input.now.find(file => file.data.id === row.dataFileId)?.data ?? input.then.find(file => file.data.id === row.dataFileId)!.data);
		copies.push({kind: 'delete', from: copy.from, to: copy.to, dataFile, encrypted, statement: statements.length, sizeParam: columns.indexOf('file_size_bytes'), footerParam: columns.indexOf('footer_size')});
		insertCopy('ducklake_delete_file', row.raw, {delete_file_id: id, begin_snapshot: snapshotId, end_snapshot: null, data_file_id: dataIdMap.get(row.dataFileId) ?? row.dataFileId, path: copy.path, path_is_relative: copy.relative});
	}

	for (const row of closedColumns) {
		statements.push({sql: 'UPDATE ducklake_column SET end_snapshot = ? WHERE table_id = ? AND column_id = ? AND begin_snapshot = ? AND end_snapshot IS NULL', params: [snapshotId, tableId, row.id, row.begin], expectRows: 1});
	}

	for (const row of returningColumns) {
		insertCopy('ducklake_column', row.raw, {begin_snapshot: snapshotId, end_snapshot: null});
	}

	// Table-level column bounds must cover the returning files, or readers may prune them away.
	if (input.tableColumnStats) {
		for (const column of thenColumns) {
			const fileStats = returningData.flatMap(row => (input.perFileRows.get(`ducklake_file_column_stats:${row.id}`) ?? []).filter(stats => Number(stats.column_id) === column.id));
			if (fileStats.length === 0) {
				continue;
			}

			const existing = input.tableColumnStats.find(stats => Number(stats.column_id) === column.id);
			const numeric = /^(u?int|float|decimal|double|hugeint)/i.test(column.type);
			let min = existing ? textOrNull(existing.min_value) : null;
			let max = existing ? textOrNull(existing.max_value) : null;
			let containsNull = existing ? existing.contains_null === true || existing.contains_null === 1 || existing.contains_null === '1' : false;
			for (const stats of fileStats) {
				min = widen(min, textOrNull(stats.min_value), numeric, 'min');
				max = widen(max, textOrNull(stats.max_value), numeric, 'max');
				containsNull ||= Number(stats.null_count ?? 0) > 0;
			}

			if (!existing) {
				statements.push({sql: 'INSERT INTO ducklake_table_column_stats (table_id, column_id, contains_null, contains_nan, min_value, max_value, extra_stats) VALUES (?, ?, ?, NULL, ?, ?, NULL)', params: [tableId, column.id, containsNull, min, max], expectRows: 1});
			} else if (min !== textOrNull(existing.min_value) || max !== textOrNull(existing.max_value) || containsNull !== (existing.contains_null === true || existing.contains_null === 1 || existing.contains_null === '1')) {
				statements.push({sql: 'UPDATE ducklake_table_column_stats SET min_value = ?, max_value = ?, contains_null = ? WHERE table_id = ? AND column_id = ?', params: [min, max, containsNull, tableId, column.id]});
			}
		}
	}

	const targetRecords = input.then.reduce((sum, file) => sum + file.data.recordCount, 0);
	const targetBytes = input.then.reduce((sum, file) => sum + file.data.sizeBytes, 0);
	statements.push(input.insertTableStats
		? {sql: 'INSERT INTO ducklake_table_stats (table_id, record_count, next_row_id, file_size_bytes) VALUES (?, ?, ?, ?)', params: [tableId, targetRecords, input.insertTableStats.nextRowId, targetBytes], expectRows: 1}
		: {sql: 'UPDATE ducklake_table_stats SET record_count = ?, file_size_bytes = ? WHERE table_id = ?', params: [targetRecords, targetBytes, tableId]});

	const schemaVersion = schemaChanged ? current.schemaVersion + 1 : current.schemaVersion;
	const changes = [
		...(input.extraChanges ?? []),
		...(returningData.length > 0 || closedDeleteFiles.length > 0 || returningInlined.length > 0 ? [`inserted_into_table:${tableId}`] : []),
		...(closedDataFiles.length > 0 || returningDeletes.length > 0 || closedInlined.length > 0 || inlinedDeleteCopies.length > 0 ? [`deleted_from_table:${tableId}`] : []),
		...(schemaChanged ? [`altered_table:${tableId}`] : []),
	];
	const changesMade = changes.join(',');
	const commitMessage = `${restoreMessagePrefix} restore ${input.tableName} to snapshot ${target.id}`;
	const author = input.author ?? defaultAuthor();
	const commitExtraInfo = JSON.stringify({tool: 'ilum-restore', operation: 'restore', table_id: tableId, target_snapshot: target.id, from_snapshot: current.id});
	statements.push({sql: 'INSERT INTO ducklake_snapshot (snapshot_id, snapshot_time, schema_version, next_catalog_id, next_file_id) VALUES (?, ?, ?, ?, ?)', params: [snapshotId, input.time, schemaVersion, current.nextCatalogId, nextFileId], expectRows: 1});
	const changeColumns = input.tableColumns.get('ducklake_snapshot_changes') ?? ['snapshot_id', 'changes_made'];
	const changeValues: Record<string, SqlValue> = {snapshot_id: snapshotId, changes_made: changesMade, author, commit_message: commitMessage, commit_extra_info: commitExtraInfo};
	const present = changeColumns.filter(column => column in changeValues);
	statements.push({sql: `INSERT INTO ducklake_snapshot_changes (${present.join(', ')}) VALUES (${present.map(() => '?').join(', ')})`, params: present.map(column => changeValues[column]!), expectRows: 1});
	if (schemaChanged) {
		const versionColumns = input.tableColumns.get('ducklake_schema_versions') ?? [];
		if (versionColumns.includes('table_id')) {
			statements.push({sql: 'INSERT INTO ducklake_schema_versions (begin_snapshot, schema_version, table_id) VALUES (?, ?, ?)', params: [snapshotId, schemaVersion, tableId], expectRows: 1});
		} else if (versionColumns.length > 0) {
			statements.push({sql: 'INSERT INTO ducklake_schema_versions (begin_snapshot, schema_version) VALUES (?, ?)', params: [snapshotId, schemaVersion], expectRows: 1});
		}
	}

	const commit = {
		snapshotId,
		schemaVersion,
		nextCatalogId: current.nextCatalogId,
		nextFileId,
		changesMade,
		author,
		commitMessage,
		commitExtraInfo,
		tableId,
		closedDataFiles,
		reopenedDataFiles,
		closedDeleteFiles,
		reopenedDeleteFiles,
		closedInlinedRows: closedInlined.length,
		reopenedInlinedRows: returningInlined.length,
		copiedInlinedDeletes: inlinedDeleteCopies.length,
		copies,
		statements,
		sql: statements.map(statement => inlineParams(statement)),
	};
	// The statements with their parameters are for `execute`; --dry-run and --json show `sql`.
	Object.defineProperty(commit, 'statements', {enumerable: false});
	return commit;
}

/** Runs the statements, checking each changed as many rows as planned. Throws on the first surprise (the caller's transaction rolls back). */
export async function runStatements(sql: SqlCatalog, statements: readonly Statement[]): Promise<void> {
	for (const statement of statements) {
		// eslint-disable-next-line no-await-in-loop
		const changed = await sql.run(statement.sql, statement.params);
		if (statement.expectRows !== undefined && changed !== undefined && changed !== statement.expectRows) {
			throw new ConcurrentChangeError(`${inlineParams(statement)} changed ${changed} rows, expected ${statement.expectRows}`);
		}
	}
}

export class ConcurrentChangeError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'ConcurrentChangeError';
	}
}

const quoteIdentifier = (name: string) => /^[a-z_][a-z\d_]*$/.test(name) && !['key', 'value', 'type', 'sql', 'scope', 'transform'].includes(name) ? name : `"${name.replaceAll('"', '""')}"`;

export function inlineParams(statement: Statement): string {
	let index = 0;
	return statement.sql.replaceAll('?', () => literal(statement.params[index++] ?? null));
}

function literal(value: SqlValue): string {
	if (value === null) {
		return 'NULL';
	}

	if (typeof value === 'number' || typeof value === 'bigint') {
		return String(value);
	}

	if (typeof value === 'boolean') {
		return value ? 'true' : 'false';
	}

	if (value instanceof Date) {
		return `'${value.toISOString()}'`;
	}

	if (value instanceof Uint8Array) {
		return `'\\x${Buffer.from(value).toString('hex')}'`;
	}

	return `'${value.replaceAll('\'', '\'\'')}'`;
}

/** Human lines for the columns that change between now and the target. */
export function schemaDifferences(columns: readonly ColumnRow[], current: number, target: number): string[] {
	const now = new Map(columns.filter(row => liveAt(row, current)).map(row => [row.id, row]));
	const then = new Map(columns.filter(row => liveAt(row, target)).map(row => [row.id, row]));
	const lines: string[] = [];
	for (const [id, row] of then) {
		const present = now.get(id);
		if (!present) {
			lines.push(`column ${row.name} (${row.type}) comes back`);
		} else if (present !== row) {
			if (present.name !== row.name) {
				lines.push(`column ${present.name} is renamed back to ${row.name}`);
			}

			if (present.type !== row.type) {
				lines.push(`column ${row.name} goes back from ${present.type} to ${row.type}`);
			}

			if (present.name === row.name && present.type === row.type) {
				lines.push(`column ${row.name}: order, default or nullability go back`);
			}
		}
	}

	for (const [id, row] of now) {
		if (!then.has(id)) {
			lines.push(`column ${row.name} (${row.type}) is dropped (added after the target)`);
		}
	}

	return lines;
}

export type {DataFileRow};

const textOrNull = (value: SqlValue | undefined): string | null => value === null || value === undefined ? null : String(value);

/** The wider of two bounds (numeric or lexical). A missing bound stays missing: unbounded. */
function widen(current: string | null, candidate: string | null, numeric: boolean, side: 'min' | 'max'): string | null {
	if (current === null || candidate === null) {
		return null;
	}

	const less = numeric && !Number.isNaN(Number(current)) && !Number.isNaN(Number(candidate)) ? Number(candidate) < Number(current) : candidate < current;
	const greater = numeric && !Number.isNaN(Number(current)) && !Number.isNaN(Number(candidate)) ? Number(candidate) > Number(current) : candidate > current;
	return (side === 'min' ? less : greater) ? candidate : current;
}
