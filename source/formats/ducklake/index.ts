import {randomUUID} from 'node:crypto';
import {CopyObjectCommand} from '@aws-sdk/client-s3';
import path from 'node:path';
import process from 'node:process';
import {UserError, refusal, usageError} from '../../errors.js';
import type {FormatEnvironment} from '../index.js';
import {storageError} from '../index.js';
import type {HistoryEntry, RestoreOptions, TableFormat, TableHistory, TableRef, TableRestorePlan, TableRestoreResult, TableRetention} from '../types.js';
import {intervalMs} from '../retention.js';
import {sqlTimestamp} from './backends.js';
import {bytesOf, findTable, splitName, liveAt, liveFiles, loadCatalog, loadColumns, loadInlined, rowsOf, tableNames, tableRowsAt, type CatalogState, type Inlined, type LiveFile, type SchemaRow, type Snapshot, type TableRow} from './catalog.js';
import {openCatalog, parseDuckLakeRef, type CatalogLocation} from './connect.js';
import {allLiveFiles, checkFiles, entryFor, missingReason, operationOf, parseChanges, snapshotsChangingTable, tableChanges} from './history.js';
import {buildCommit, ConcurrentChangeError, perFileTables, runStatements, schemaDifferences, type DuckLakeCommit, type Statement} from './restore.js';
import {int, type SqlCatalog, type SqlRow} from './sql.js';
import {DataStorage} from './storage.js';

export {parseDuckLakeRef, parseConninfo} from './connect.js';

type Session = {
	readonly location: CatalogLocation;
	readonly sql: SqlCatalog;
	readonly state: CatalogState;
	readonly storage: DataStorage;
};

/** The folder a relative data_path is resolved against: the catalog file's, or the working directory for a server. */
function baseOf(location: CatalogLocation): string {
	return location.kind === 'postgres' ? process.cwd() : path.dirname(location.file);
}

/** DuckLake, read and written through its catalog database. */
export class DuckLakeFormat implements TableFormat {
	readonly name = 'ducklake' as const;
	private readonly environment: FormatEnvironment;

	constructor(environment: FormatEnvironment) {
		this.environment = environment;
	}

	private async session<T>(ref: string, readOnly: boolean, work: (session: Session) => Promise<T>): Promise<T> {
		const location = parseDuckLakeRef(ref);
		const sql = await openCatalog(location, {readOnly});
		try {
			const state = await loadCatalog(sql);
			const storage = new DataStorage(state, {base: baseOf(location), open: where => this.environment.openStore(where)});
			return await work({location, sql, state, storage});
		} catch (error) {
			throw storageError(error, `ducklake data in ${location.kind === 'postgres' ? 'the catalog\'s data_path' : location.file}`, this.environment);
		} finally {
			await sql.close();
		}
	}

	async history(ref: TableRef): Promise<TableHistory> {
		return this.session(ref.ref, true, async ({sql, state, storage}) => {
			const latest = latestSnapshot(state, sql);
			if (!ref.table) {
				const entries: HistoryEntry[] = [];
				let parent: number | undefined;
				for (const snapshot of state.snapshots) {
					// eslint-disable-next-line no-await-in-loop
					const changes = parseChanges(snapshot.changes);
					// eslint-disable-next-line no-await-in-loop
					const entry = await entryFor({snapshot, operation: operationOf(snapshot, changes), parent, current: snapshot.id === latest.id, files: allLiveFiles(state, snapshot.id), storage, withCounts: false});
					const tables = tablesNamed(state, changes, snapshot.id);
					entries.push(tables.length > 0 ? {...entry, summary: {...entry.summary, tables: tables.join(', ')}} : entry);
					parent = snapshot.id;
				}

				return {format: 'ducklake', ref: ref.ref, current: String(latest.id), entries, retention: await duckLakeRetention(sql)};
			}

			// A dropped table's history ends with its DROP: pick a snapshot before it to bring it back.
			const {schema, table} = needTable(state, ref.table, latest.id, sql, {allowDropped: true});
			const columns = await loadColumns(sql, table.id);
			const inlined = await loadInlined(sql, table.id);
			const touched = snapshotsChangingTable(state, table.id, schema.name, columns, inlined);
			const snapshots = state.snapshots.filter(snapshot => touched.has(snapshot.id) && snapshot.id >= Math.min(...state.tables.filter(row => row.id === table.id).map(row => row.begin)));
			const current = snapshots.at(-1)!;
			const entries: HistoryEntry[] = [];
			let parent: number | undefined;
			for (const snapshot of snapshots) {
				const changes = tableChanges(snapshot, state, table.id, schema.name);
				const operation = changes.length > 0 || snapshot.message ? operationOf(snapshot, changes) : 'CHANGE';
				// eslint-disable-next-line no-await-in-loop
				const files = liveFiles(state, table.id, snapshot.id);
				// eslint-disable-next-line no-await-in-loop
				entries.push(await entryFor({snapshot, operation, parent, current: snapshot.id === current.id, files, storage, withCounts: true, rows: tableRowsAt(files, inlined, snapshot.id)}));
				parent = snapshot.id;
			}

			return {format: 'ducklake', ref: ref.ref, current: String(current.id), entries, retention: await duckLakeRetention(sql, {schema: schema.id, table: table.id})};
		});
	}

	async plan(ref: TableRef, to: string, _options: RestoreOptions = {}): Promise<TableRestorePlan> {
		if (!ref.table) {
			throw usageError('restoring a DuckLake table needs --table <schema>.<table>', 'snapshots are catalog-wide; name the table to restore');
		}

		return this.session(ref.ref, true, async session => planIn(session, ref, to, ref.table!));
	}

	async execute(plan: TableRestorePlan, options: RestoreOptions = {}): Promise<TableRestoreResult> {
		if (plan.refusal) {
			throw refusal(plan.refusal);
		}

		const commit = plan.commit as DuckLakeCommit;
		options.signal?.throwIfAborted();
		const location = parseDuckLakeRef(plan.ref);
		const sql = await openCatalog(location, {readOnly: false});
		try {
			const moved = async (catalog: SqlCatalog) => {
				const top = await catalog.query('SELECT max(snapshot_id) AS id FROM ducklake_snapshot');
				const now = int(top[0]?.id ?? null);
				if (String(now) !== plan.from) {
					throw refusal(`${sql.description}: the catalog moved since the plan (snapshot ${now} is current, the plan was made at ${plan.from})`, 'nothing was written; plan again');
				}
			};

			await moved(sql);
			// The returning files, copied to new names first: nothing in the catalog points at them until the transaction commits.
			const patched = new Map<number, Statement>();
			if (commit.copies.length > 0) {
				const state = await loadCatalog(sql);
				const storage = new DataStorage(state, {base: baseOf(location), open: where => this.environment.openStore(where), serverCopy: async (from, to) => s3ServerCopy(this.environment, from, to)});
				try {
					for (const copy of commit.copies) {
						options.signal?.throwIfAborted();
						if (copy.kind === 'delete' && !copy.encrypted) {
							// eslint-disable-next-line no-await-in-loop
							const written = await storage.rewriteDeleteFile(copy.from, copy.to, copy.dataFile!);
							const statement = commit.statements[copy.statement]!;
							patched.set(copy.statement, {...statement, params: statement.params.map((value, index) => index === copy.sizeParam ? written.size : (index === copy.footerParam ? written.footer : value))});
						} else {
							// eslint-disable-next-line no-await-in-loop
							await storage.copy(copy.from, copy.to);
						}
					}
				} catch (error) {
					throw storageError(error, `copying the files of snapshot ${plan.target} (nothing was committed; copies already made are unreferenced and can be deleted)`, this.environment);
				}
			}

			await sql.transaction(async tx => {
				await moved(tx);
				const time = sqlTimestamp(new Date());
				const statements = commit.statements.map((statement, index) => patched.get(index) ?? (statement.sql.startsWith('INSERT INTO ducklake_snapshot (') ? {...statement, params: statement.params.map((value, position) => position === 1 ? time : value)} : statement));
				try {
					await runStatements(tx, statements);
				} catch (error) {
					if (error instanceof ConcurrentChangeError) {
						throw refusal(`${sql.description}: the table changed under the restore (${error.message})`, 'nothing was written; plan again');
					}

					if (/duplicate|unique|primary key|constraint|conflict/i.test((error as Error).message)) {
						throw refusal(`${sql.description}: another writer committed snapshot ${commit.snapshotId} first (${(error as Error).message.split('\n')[0]})`, 'nothing was written; plan again');
					}

					throw error;
				}
			});
		} finally {
			await sql.close();
		}

		return this.session(plan.ref, true, async session => verify(session, plan, commit));
	}
}

function latestSnapshot(state: CatalogState, sql: SqlCatalog): Snapshot {
	const latest = state.snapshots.at(-1);
	if (!latest) {
		throw new UserError(`${sql.description}: the DuckLake catalog has no snapshots`, {hint: 'check the catalog is complete'});
	}

	return latest;
}

function needTable(state: CatalogState, name: string, snapshot: number, sql: SqlCatalog, options: {allowDropped?: boolean} = {}): {schema: SchemaRow; table: TableRow; dropped: boolean} {
	const found = findTable(state, name, snapshot);
	if (found) {
		return {...found, dropped: false};
	}

	const [schemaName, tableName] = splitName(name);
	const dropped = state.tables
		.filter(row => row.name === tableName && row.end !== undefined && !state.tables.some(other => other.id === row.id && other.end === undefined))
		.map(row => ({row, schema: state.schemas.find(schema => schema.id === row.schemaId && schema.name === schemaName && liveAt(schema, row.end! - 1))}))
		.filter(candidate => candidate.schema)
		.sort((a, b) => b.row.end! - a.row.end!)[0];
	if (dropped && options.allowDropped) {
		return {schema: dropped.schema!, table: dropped.row, dropped: true};
	}

	if (dropped) {
		throw new UserError(`${sql.description}: ${name} (table id ${dropped.row.id}) was dropped at snapshot ${dropped.row.end}`, {hint: `its data up to snapshot ${dropped.row.end! - 1} is readable with AT (VERSION => ${dropped.row.end! - 1})`});
	}

	const renamed = state.tables.find(row => row.name === tableName && row.end !== undefined);
	if (renamed) {
		const now = state.tables.find(row => row.id === renamed.id && row.end === undefined);
		throw new UserError(`${sql.description}: no table ${name} at the current snapshot ${snapshot}`, {hint: now ? `table id ${renamed.id} is called ${now.name} since snapshot ${now.begin}` : 'see ilum-restore history without --table'});
	}

	const names = tableNames(state, snapshot);
	throw new UserError(`${sql.description}: no table ${name} at the current snapshot ${snapshot}`, {hint: names.length > 0 ? `tables: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}` : 'the catalog has no tables'});
}

/** `--to`: a snapshot id, or an ISO timestamp (the newest snapshot at or before it). */
export function resolveTarget(state: CatalogState, to: string): Snapshot {
	if (/^\d+$/.test(to)) {
		const snapshot = state.snapshots.find(candidate => candidate.id === Number(to));
		if (!snapshot) {
			throw usageError(`no snapshot ${to} in the catalog`, `snapshots go from ${state.snapshots[0]?.id} to ${state.snapshots.at(-1)?.id} (see ilum-restore history)`);
		}

		return snapshot;
	}

	const time = Date.parse(to);
	if (Number.isNaN(time) || !/^\d{4}-\d\d-\d\d/.test(to)) {
		throw usageError(`--to ${to} is neither a snapshot id nor an ISO 8601 timestamp`, 'e.g. --to 7 or --to 2026-01-02T03:04:05Z');
	}

	const snapshot = state.snapshots.filter(candidate => Date.parse(candidate.time) <= time).at(-1);
	if (!snapshot) {
		throw usageError(`no snapshot at or before ${to}`, `the oldest is ${state.snapshots[0]?.time}`);
	}

	return snapshot;
}

async function planIn(session: Session, ref: TableRef, to: string, name: string): Promise<TableRestorePlan> {
	const {sql, state, storage} = session;
	const current = latestSnapshot(state, sql);
	const {schema, table, dropped} = needTable(state, name, current.id, sql, {allowDropped: true});
	const target = resolveTarget(state, to);
	const namedAtTarget = state.tables.find(row => row.id === table.id && liveAt(row, target.id));
	const qualified = `${schema.name}.${dropped && namedAtTarget ? namedAtTarget.name : table.name}`;
	const base = {format: 'ducklake' as const, ref: ref.ref, table: qualified, target: String(target.id), from: String(current.id)};
	const now = liveFiles(state, table.id, current.id);
	const inlined = await loadInlined(sql, table.id);
	const before = sideOf(now, inlined, current.id);
	const checks = [
		`the catalog is still at snapshot ${current.id} when writing (checked inside the transaction)`,
		'every row closed by the restore is still live (each UPDATE changes exactly one row)',
		`the live data and delete files at the new snapshot are those of snapshot ${target.id} (returning ones as their copies)`,
		`the row count equals snapshot ${target.id}'s, from the catalog and from the Parquet footers`,
		`the table keeps id ${table.id}`,
		'the columns equal the target\'s',
	];

	const tableAtTarget = state.tables.find(row => row.id === table.id && liveAt(row, target.id));
	if (!tableAtTarget) {
		return {...base, before, after: before, filesReturning: [], filesLeaving: [], schemaChanges: [], commit: null, checks, warnings: [], refusal: `${qualified} (table id ${table.id}) did not exist at snapshot ${target.id}: it was created at snapshot ${Math.min(...state.tables.filter(row => row.id === table.id).map(row => row.begin))}`};
	}

	const then = liveFiles(state, table.id, target.id);
	const after = sideOf(then, inlined, target.id);
	const columns = await loadColumns(sql, table.id);
	const warnings: string[] = [];
	// A dropped table comes back as itself: its table row, columns, files and tags re-opened under its id.
	const reopenRows: Array<{table: string; raw: SqlRow}> = [];
	const extraChanges: string[] = [];
	let insertTableStats: {nextRowId: number} | undefined;
	if (dropped) {
		const early = (reason: string): TableRestorePlan => ({...base, before, after, filesReturning: [], filesLeaving: [], schemaChanges: [], commit: null, checks, warnings, refusal: reason});
		if (!liveAt(schema, current.id)) {
			return early(`${qualified} was dropped with its schema ${schema.name} (at snapshot ${schema.end}); this tool brings back tables, not schemas`);
		}

		const taken = findTable(state, qualified, current.id);
		if (taken) {
			return early(`${qualified} was dropped at snapshot ${table.end}, and a table of that name exists now (table id ${taken.table.id}): rename or drop it first`);
		}

		warnings.push(`${qualified} was dropped at snapshot ${table.end}: the restore brings it back under its table id ${table.id}`);
		const [tableRow] = await sql.query('SELECT * FROM ducklake_table WHERE table_id = ? AND begin_snapshot = ?', [table.id, tableAtTarget.begin]);
		reopenRows.push({table: 'ducklake_table', raw: tableRow!});
		const liveThenNotNow = (row: SqlRow) => int(row.begin_snapshot ?? null) <= target.id && (row.end_snapshot === null || row.end_snapshot === undefined || int(row.end_snapshot) > target.id) && !(row.end_snapshot === null || row.end_snapshot === undefined);
		for (const [catalogTable, idColumn] of [['ducklake_tag', 'object_id'], ['ducklake_column_tag', 'table_id']] as const) {
			// eslint-disable-next-line no-await-in-loop
			if ((await sql.columns(catalogTable)).length > 0) {
				// eslint-disable-next-line no-await-in-loop
				for (const row of (await sql.query(`SELECT * FROM ${catalogTable} WHERE ${idColumn} = ?`, [table.id])).filter(row => liveThenNotNow(row))) {
					reopenRows.push({table: catalogTable, raw: row});
				}
			}
		}

		if ((await sql.columns('ducklake_partition_info')).length > 0 && (await sql.query('SELECT partition_id FROM ducklake_partition_info WHERE table_id = ? AND begin_snapshot <= ? AND (end_snapshot IS NULL OR end_snapshot > ?)', [table.id, target.id, target.id])).length > 0) {
			warnings.push('the table was partitioned: its files come back as they were, new writes are not partitioned until partitioning is set again');
		}

		const stats = await sql.query('SELECT table_id FROM ducklake_table_stats WHERE table_id = ?', [table.id]);
		if (stats.length === 0) {
			const fileEnd = state.dataFiles.filter(row => row.tableId === table.id).reduce((max, row) => Math.max(max, int(row.raw.row_id_start ?? null) + row.recordCount), 0);
			const inlinedEnd = inlined.dataTables.reduce((max, inlinedTable) => Math.max(max, ...inlinedTable.rows.map(row => row.rowId + 1)), 0);
			insertTableStats = {nextRowId: Math.max(fileEnd, inlinedEnd)};
		}

		extraChanges.push(`created_table:"${schema.name.replaceAll('"', '""')}"."${(namedAtTarget?.name ?? table.name).replaceAll('"', '""')}"`);
	}

	if (tableAtTarget.name !== table.name) {
		warnings.push(`the table was called ${tableAtTarget.name} at snapshot ${target.id}; it keeps its current name ${table.name}`);
	}

	const nowIds = new Set(now.map(file => file.data.id));
	const thenIds = new Set(then.map(file => file.data.id));
	const swapped = new Set(inlined.deletes.filter(row => row.begin > target.id && row.begin <= current.id && nowIds.has(row.fileId) && thenIds.has(row.fileId)).map(row => row.fileId));
	if (swapped.size > 0) {
		warnings.push(`${swapped.size} data file(s) got inlined deletions after snapshot ${target.id}: the restore re-registers them under new file ids without those deletions`);
	}

	const inlinedNow = inlined.dataTables.reduce((sum, table) => sum + table.rows.filter(row => liveAt(row, current.id)).length, 0);
	const inlinedThen = inlined.dataTables.reduce((sum, table) => sum + table.rows.filter(row => liveAt(row, target.id)).length, 0);
	if (inlinedNow > 0 || inlinedThen > 0) {
		warnings.push(`inlined rows in the catalog: ${inlinedNow} now, ${inlinedThen} at snapshot ${target.id}; they are restored with the files`);
	}

	const filesReturning = then.filter(file => !nowIds.has(file.data.id)).map(file => storage.display(storage.locate(file.data)));
	const filesLeaving = now.filter(file => !thenIds.has(file.data.id)).map(file => storage.display(storage.locate(file.data)));
	const nowDeletes = new Set(now.flatMap(file => file.deletes ? [file.deletes.id] : []));
	const thenDeletes = new Set(then.flatMap(file => file.deletes ? [file.deletes.id] : []));
	filesReturning.push(...then.filter(file => file.deletes && !nowDeletes.has(file.deletes.id)).map(file => storage.display(storage.locate(file.deletes!))));
	filesLeaving.push(...now.filter(file => file.deletes && !thenDeletes.has(file.deletes.id)).map(file => storage.display(storage.locate(file.deletes!))));
	const schemaChanges = schemaDifferences(columns, current.id, target.id);

	const refuse = (reason: string): TableRestorePlan => ({...base, before, after, filesReturning, filesLeaving, schemaChanges, commit: null, checks, warnings, refusal: reason});

	if (filesReturning.length === 0 && filesLeaving.length === 0 && schemaChanges.length === 0 && swapped.size === 0 && inlinedChanged(inlined, current.id, target.id) === false) {
		return refuse(`${qualified} at snapshot ${target.id} already equals the current table (snapshot ${current.id}): nothing to restore`);
	}

	const check = await checkFiles(storage, then);
	if (!check.restorable) {
		return refuse(`snapshot ${target.id} of ${qualified} cannot be restored: ${missingReason(check.missing)}`);
	}

	warnings.push(...check.notes);
	// A partial file copied in at the new snapshot shows all its rows; the target saw only those up
	// to its own snapshot when it is below partial_max.
	const partial = then.filter(file => !nowIds.has(file.data.id) && (file.data.partialInfo || (file.data.partialMax !== undefined && file.data.partialMax > target.id)));
	if (partial.length > 0) {
		return refuse(`${qualified} at snapshot ${target.id} sees only part of ${partial.length} file(s) (${partial.map(file => storage.display(storage.locate(file.data))).join(', ')}), which this tool cannot bring back as they were: pick a snapshot at or after ${Math.max(...partial.map(file => file.data.partialMax ?? target.id))}`);
	}

	const tableColumns = new Map<string, string[]>();
	for (const catalogTable of ['ducklake_data_file', 'ducklake_delete_file', 'ducklake_column', 'ducklake_snapshot_changes', 'ducklake_schema_versions', ...perFileTables, ...new Set(reopenRows.map(row => row.table)), ...inlined.dataTables.map(inlinedTable => inlinedTable.name), ...(inlined.deleteTable ? [inlined.deleteTable] : [])]) {
		// eslint-disable-next-line no-await-in-loop
		tableColumns.set(catalogTable, await sql.columns(catalogTable));
	}

	const returningIds = then.filter(file => !nowIds.has(file.data.id) || swapped.has(file.data.id)).map(file => file.data.id);
	const perFileRows = new Map<string, SqlRow[]>();
	for (const catalogTable of perFileTables) {
		if ((tableColumns.get(catalogTable) ?? []).length === 0 || returningIds.length === 0) {
			continue;
		}

		// eslint-disable-next-line no-await-in-loop
		const rows = await sql.query(`SELECT * FROM ${catalogTable} WHERE table_id = ? AND data_file_id IN (${returningIds.map(() => '?').join(', ')})`, [table.id, ...returningIds]);
		for (const row of rows) {
			const key = `${catalogTable}:${int(row.data_file_id ?? null)}`;
			perFileRows.set(key, [...(perFileRows.get(key) ?? []), row]);
		}
	}

	const copyBytes = then.filter(file => !nowIds.has(file.data.id) || swapped.has(file.data.id)).reduce((sum, file) => sum + file.data.sizeBytes, 0)
		+ then.filter(file => file.deletes && (!nowDeletes.has(file.deletes.id) || !nowIds.has(file.data.id) || swapped.has(file.data.id))).reduce((sum, file) => sum + file.deletes!.sizeBytes, 0);
	const commit = buildCommit({
		state,
		tableColumns,
		tableId: table.id,
		tableName: qualified,
		current,
		target,
		now,
		then,
		columns,
		perFileRows,
		inlined,
		reopenRows,
		extraChanges,
		insertTableStats,
		locate: row => storage.locate(row),
		tableFolder: storage.tableFolder(table.id),
		newName: () => randomUUID(),
		tableColumnStats: (await sql.columns('ducklake_table_column_stats')).length > 0 ? await sql.query('SELECT * FROM ducklake_table_column_stats WHERE table_id = ?', [table.id]) : undefined,
		time: sqlTimestamp(new Date()),
	});
	if (commit.copies.length > 0) {
		warnings.push(`${commit.copies.length} returning file(s), ${copyBytes} bytes, are first copied to new names next to them (delete files rewritten to point at their data file's copy): DuckLake's snapshot expiry deletes files by path, so restored rows get files of their own`);
	}

	return {...base, before, after, filesReturning, filesLeaving, schemaChanges, commit, checks: [...checks, 'every copy is read back: the row count from the footers of the new files'], warnings};
}

function sideOf(files: readonly LiveFile[], inlined: Inlined, snapshot: number) {
	return {files: files.length + files.filter(file => file.deletes).length, rows: tableRowsAt(files, inlined, snapshot), bytes: bytesOf(files)};
}

function inlinedChanged(inlined: Inlined, current: number, target: number): boolean {
	return inlined.dataTables.some(table => table.rows.some(row => liveAt(row, current) !== liveAt(row, target)));
}

async function verify(session: Session, plan: TableRestorePlan, commit: DuckLakeCommit): Promise<TableRestoreResult> {
	const {state, storage, sql} = session;
	const target = Number(plan.target);
	const written = commit.snapshotId;
	const checks: Array<{name: string; ok: boolean; detail: string}> = [];
	// The restored rows name copies: map them back to the files they copy.
	const original = new Map(commit.copies.map(copy => [copy.to, copy.from]));
	const source = (location: string) => original.get(location) ?? location;
	const key = (files: readonly LiveFile[]) => files.map(file => `${source(storage.locate(file.data))}|${file.deletes ? source(storage.locate(file.deletes)) : ''}`).sort();
	const then = liveFiles(state, commit.tableId, target);
	const after = liveFiles(state, commit.tableId, written);
	const snapshotWritten = state.snapshots.some(snapshot => snapshot.id === written);
	checks.push({name: 'snapshot written', ok: snapshotWritten, detail: snapshotWritten ? `snapshot ${written}: ${commit.commitMessage}` : `snapshot ${written} is not in the catalog`});
	const same = JSON.stringify(key(then)) === JSON.stringify(key(after));
	checks.push({name: 'live files', ok: same, detail: same ? `${after.length} data files and ${after.filter(file => file.deletes).length} delete files, as at snapshot ${target}` : `snapshot ${written} has ${after.length} data files, snapshot ${target} had ${then.length}`});
	const inlined = await loadInlined(sql, commit.tableId);
	const expected = tableRowsAt(then, inlined, target);
	const catalogRows = tableRowsAt(after, inlined, written);
	const inlinedAdjust = catalogRows - rowsOf(after);
	checks.push({name: 'row count (catalog)', ok: catalogRows === expected, detail: `${catalogRows} rows, expected ${expected}`});
	let footerRows: number | undefined;
	try {
		footerRows = await storage.footerRows(after) + inlinedAdjust;
		checks.push({name: 'row count (Parquet footers)', ok: footerRows === expected, detail: `${footerRows} rows read from ${after.length} data and ${after.filter(file => file.deletes).length} delete file footers, expected ${expected}`});
	} catch (error) {
		checks.push({name: 'row count (Parquet footers)', ok: false, detail: `could not read the footers: ${(error as Error).message.split('\n')[0]}`});
	}

	const table = plan.table ? findTable(state, plan.table, written) : undefined;
	checks.push({name: 'table id', ok: table?.table.id === commit.tableId, detail: table ? `table id ${table.table.id}` : `${plan.table} is not live at snapshot ${written}`});
	const columns = await loadColumns(sql, commit.tableId);
	const columnKey = (snapshot: number) => JSON.stringify(columns.filter(row => liveAt(row, snapshot)).map(row => [row.id, row.name, row.type, row.order, row.parent ?? null]).sort());
	const sameColumns = columnKey(target) === columnKey(written);
	checks.push({name: 'columns', ok: sameColumns, detail: sameColumns ? `${columns.filter(row => liveAt(row, written)).length} columns, as at snapshot ${target}` : 'the columns differ from the target\'s'});
	return {plan, newVersion: String(written), verified: checks.every(check => check.ok), checks};
}

/** `schema.table` of every table a snapshot's changes name (by id, or by name for created_table). */
function tablesNamed(state: CatalogState, changes: ReadonlyArray<{kind: string; target: string}>, snapshot: number): string[] {
	const names = new Set<string>();
	for (const change of changes) {
		if (change.kind === 'created_table') {
			names.add(change.target.replaceAll('"', ''));
		} else if (/_table$/.test(change.kind) && /^\d+$/.test(change.target)) {
			const id = Number(change.target);
			const table = state.tables.filter(row => row.id === id && row.begin <= snapshot).at(-1) ?? state.tables.find(row => row.id === id);
			const schema = table ? state.schemas.find(row => row.id === table.schemaId) : undefined;
			names.add(table ? `${schema?.name ?? '?'}.${table.name}` : `table ${id}`);
		}
	}

	return [...names];
}

/** CopyObject within S3: the bytes never pass through this process. */
async function s3ServerCopy(environment: FormatEnvironment, from: string, to: string): Promise<void> {
	const split = (location: string) => {
		const rest = location.slice('s3://'.length);
		const slash = rest.indexOf('/');
		return {bucket: rest.slice(0, slash), key: rest.slice(slash + 1)};
	};

	const source = split(from);
	const target = split(to);
	await environment.s3().send(new CopyObjectCommand({Bucket: target.bucket, Key: target.key, CopySource: `${source.bucket}/${source.key.split('/').map(part => encodeURIComponent(part)).join('/')}`}));
}

/**
`ducklake_expire_snapshots` without an explicit time expires what is older than the
`expire_older_than` option (table, then schema, then global scope); unset, nothing expires until
someone expires it by hand.
*/
export async function duckLakeRetention(sql: Session['sql'], scope: {schema?: number; table?: number} = {}): Promise<TableRetention> {
	const rows = await sql.query('SELECT "value" AS value, "scope" AS scope, "scope_id" AS scope_id FROM ducklake_metadata WHERE "key" = \'expire_older_than\'').catch(() => []);
	const find = (kind: string | null, id?: number) => rows.find(row => (row.scope ?? null) === kind && (id === undefined || Number(row.scope_id) === id));
	const row = (scope.table === undefined ? undefined : find('table', scope.table)) ?? (scope.schema === undefined ? undefined : find('schema', scope.schema)) ?? find(null);
	const value = row?.value === undefined || row.value === null ? undefined : String(row.value);
	return {
		...(value === undefined ? {} : {keepsMs: intervalMs(value)}),
		settings: {expire_older_than: value ?? 'not set (snapshots stay until expired by hand)'},
	};
}
