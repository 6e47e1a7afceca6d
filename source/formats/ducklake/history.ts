import type {HistoryEntry} from '../types.js';
import {bytesOf, liveFiles, noInlined, rowsOf, type CatalogState, type ColumnRow, type Inlined, type LiveFile, type Snapshot, type TableRow} from './catalog.js';
import type {DataStorage} from './storage.js';

export type Change = {readonly kind: string; readonly target: string};

/** `changes_made`: comma-separated `kind:value`, names double-quoted SQL style (commas inside quotes are not separators). */
export function parseChanges(text: string): Change[] {
	const parts: string[] = [];
	let current = '';
	let quoted = false;
	for (const char of text) {
		if (char === '"') {
			quoted = !quoted;
		}

		if (char === ',' && !quoted) {
			parts.push(current);
			current = '';
			continue;
		}

		current += char;
	}

	if (current !== '') {
		parts.push(current);
	}

	return parts.map(part => {
		const colon = part.indexOf(':');
		return colon === -1 ? {kind: part.trim(), target: ''} : {kind: part.slice(0, colon).trim(), target: part.slice(colon + 1).trim()};
	}).filter(change => change.kind !== '');
}

const operationWords: Record<string, string> = {
	created_schema: 'CREATE SCHEMA',
	created_table: 'CREATE TABLE',
	created_view: 'CREATE VIEW',
	inserted_into_table: 'INSERT',
	deleted_from_table: 'DELETE',
	compacted_table: 'COMPACT',
	merge_adjacent: 'COMPACT',
	dropped_schema: 'DROP SCHEMA',
	dropped_table: 'DROP TABLE',
	dropped_view: 'DROP VIEW',
	altered_table: 'ALTER TABLE',
	altered_view: 'ALTER VIEW',
	inlined_insert: 'INSERT',
	inlined_delete: 'DELETE',
	flushed_inlined: 'FLUSH INLINED',
};

export const restoreMessagePrefix = 'ilum-restore:';

/** One word (or a few joined by '+') for a snapshot's changes: INSERT, DELETE, DELETE+INSERT (an overwrite), RESTORE... */
export function operationOf(snapshot: Snapshot, changes: readonly Change[]): string {
	if (snapshot.message?.startsWith(restoreMessagePrefix)) {
		return 'RESTORE';
	}

	const words = [...new Set(changes.map(change => operationWords[change.kind] ?? change.kind.toUpperCase()))];
	if (words.includes('DELETE') && words.includes('INSERT')) {
		// Deletes first: an overwrite or an update reads as DELETE+INSERT whatever order DuckLake logged.
		words.splice(words.indexOf('DELETE'), 1);
		words.splice(words.indexOf('INSERT'), 0, 'DELETE');
	}

	return words.length === 0 ? (snapshot.id === 0 ? 'CREATE CATALOG' : 'NONE') : words.join('+');
}

/** True when the change names this table (by id, or by name for created_table). */
function namesTable(change: Change, table: TableRow, schemaName: string): boolean {
	if (change.kind === 'created_table') {
		return change.target === `${quote(schemaName)}.${quote(table.name)}` || change.target === table.name || change.target === `${schemaName}.${table.name}`;
	}

	return /_table$/.test(change.kind) && change.target === String(table.id);
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Snapshots that changed the table: its changes_made mentions it, or one of its rows begins or ends there. */
export function snapshotsChangingTable(state: CatalogState, tableId: number, schemaName: string, columns: readonly ColumnRow[], inlined: Inlined = noInlined): Set<number> {
	const touched = new Set<number>();
	const mark = (rows: ReadonlyArray<{begin: number; end?: number}>) => {
		for (const row of rows) {
			touched.add(row.begin);
			if (row.end !== undefined) {
				touched.add(row.end);
			}
		}
	};

	const tableRows = state.tables.filter(row => row.id === tableId);
	mark(tableRows);
	mark(state.dataFiles.filter(row => row.tableId === tableId));
	mark(state.deleteFiles.filter(row => row.tableId === tableId));
	mark(columns);
	for (const table of inlined.dataTables) {
		mark(table.rows);
	}

	mark(inlined.deletes);
	for (const snapshot of state.snapshots) {
		if (parseChanges(snapshot.changes).some(change => tableRows.some(table => namesTable(change, table, schemaName)))) {
			touched.add(snapshot.id);
		}
	}

	return touched;
}

export function tableChanges(snapshot: Snapshot, state: CatalogState, tableId: number, schemaName: string): Change[] {
	const tableRows = state.tables.filter(row => row.id === tableId);
	return parseChanges(snapshot.changes).filter(change => tableRows.some(table => namesTable(change, table, schemaName)));
}

/** Whether every file is in storage: a reason naming what is missing, and notes on size mismatches. */
export async function checkFiles(storage: DataStorage, files: readonly LiveFile[]): Promise<{restorable: boolean; missing: string[]; notes: string[]}> {
	const wanted = files.flatMap(file => [{row: file.data, kind: 'data'}, ...(file.deletes ? [{row: file.deletes, kind: 'delete'}] : [])]);
	const sizes = await storage.sizes(wanted.map(file => storage.locate(file.row)));
	const missing: string[] = [];
	const notes: string[] = [];
	for (const file of wanted) {
		const location = storage.locate(file.row);
		const size = sizes.get(location);
		if (size === undefined) {
			missing.push(storage.display(location));
		} else if (size !== file.row.sizeBytes) {
			notes.push(`${file.kind} file ${storage.display(location)} is ${size} bytes, the catalog says ${file.row.sizeBytes}`);
		}
	}

	return {restorable: missing.length === 0, missing, notes};
}

export function missingReason(missing: readonly string[]): string {
	const shown = missing.slice(0, 5).join(', ');
	return `${missing.length} file${missing.length === 1 ? '' : 's'} missing: ${shown}${missing.length > 5 ? `, and ${missing.length - 5} more` : ''}`;
}

export function summaryOf(snapshot: Snapshot, files?: readonly LiveFile[], rows?: number): Record<string, string | number> {
	const summary: Record<string, string | number> = {};
	if (snapshot.author) {
		summary.author = snapshot.author;
	}

	if (snapshot.message) {
		summary.message = snapshot.message;
	}

	summary.changes = snapshot.changes;
	if (files) {
		summary.files = files.length;
		summary.deleteFiles = files.filter(file => file.deletes).length;
		summary.rows = rows ?? rowsOf(files);
		summary.bytes = bytesOf(files);
	}

	return summary;
}

/** A history entry; `files` are the live files it needs (the table's, or every table's for the catalog-wide view). */
export async function entryFor(options: {snapshot: Snapshot; operation: string; parent?: number; current: boolean; files: readonly LiveFile[]; storage: DataStorage; withCounts: boolean; rows?: number}): Promise<HistoryEntry> {
	const check = await checkFiles(options.storage, options.files);
	const reasons = check.restorable ? check.notes : [missingReason(check.missing), ...check.notes];
	return {
		id: String(options.snapshot.id),
		timestamp: options.snapshot.time,
		operation: options.operation,
		...(options.parent === undefined ? {} : {parent: String(options.parent)}),
		current: options.current,
		restorable: check.restorable,
		...(reasons.length > 0 ? {reason: reasons.join('; ')} : {}),
		summary: summaryOf(options.snapshot, options.withCounts ? options.files : undefined, options.rows),
	};
}

/** Every table's live files at a snapshot (the catalog-wide view). */
export function allLiveFiles(state: CatalogState, snapshot: number): LiveFile[] {
	const tableIds = [...new Set(state.dataFiles.map(row => row.tableId))];
	return tableIds.flatMap(id => liveFiles(state, id, snapshot));
}
