import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {findTable, liveFiles, loadCatalog} from '../../formats/ducklake/catalog.js';
import {openCatalog, parseDuckLakeRef} from '../../formats/ducklake/connect.js';
import type {SqlCatalog} from '../../formats/ducklake/sql.js';
import {DataStorage} from '../../formats/ducklake/storage.js';
import {LocalFileStore} from '../../storage/local-file-store.js';
import {DuckLakeWriter} from '../catalogs/ducklake-writer.js';
import {ducklakeBucket, ducklakeConfigMap, ducklakePrefix} from '../seed/ducklake-tables.js';
import type {World} from '../world.js';
import type {Scenario} from './scenario.js';
import {compareWithVersion, configValue, providerStore, tableFigures} from './tables.js';

type State = {
	ref: string;
	table: string;
	/** The table's id in the catalog: a restore must keep it (readers and grants refer to it). */
	tableId: number;
	/** The snapshot current before the DELETE: the last good one. */
	lastGood: string;
	rows: number;
	deleteSnapshot: string;
	deletedRows: number;
	deletedAt: string;
};

const table = 'main.orders';
const intended = 'id = 142';
const ran = 'id >= 42';

async function withCatalog<T>(ref: string, work: (sql: SqlCatalog) => Promise<T>): Promise<T> {
	const sql = await openCatalog(parseDuckLakeRef(ref));
	try {
		return await work(sql);
	} finally {
		await sql.close();
	}
}

async function tableId(ref: string): Promise<number | undefined> {
	return withCatalog(ref, async sql => {
		const state = await loadCatalog(sql);
		return findTable(state, table, state.snapshots.at(-1)!.id)?.table.id;
	});
}

/**
An analyst meant to delete one order of the DuckLake table `main.orders` (catalog in PostgreSQL,
data in `ilum-ducklake`) and typed `>=` for `=`: most of the table is gone, in a snapshot of
positional delete files. DuckLake has no rollback; ilum-restore writes a new snapshot that makes
the table's live files equal to the snapshot before the DELETE (a forward restore, same table id).
Nothing is lost (RPO 0 rows).
*/
export const ducklakeDelete: Scenario<State> = {
	name: 'ducklake-delete',
	summary: 'An accidental DELETE emptied most of the DuckLake table main.orders; restore it forward',
	briefing: {
		what: `An analyst meant to run "DELETE FROM ${table} WHERE ${intended}" on the DuckLake catalog (PostgreSQL, named in ConfigMap ${ducklakeConfigMap}) and ran "WHERE ${ran}": most orders are gone from the table. The data files are untouched; the DELETE wrote delete files in a new snapshot.`,
		success: `${table} holds again the rows and live files of the snapshot before the DELETE, as a new snapshot (the history stays whole), under the same table id.`,
		targetRtoMinutes: 10,
	},
	async inject(world: World) {
		const ref = configValue(world, ducklakeConfigMap, 'ref');
		const good = await tableFigures(world, {ref, table});
		const id = await tableId(ref);
		if (id === undefined) {
			throw new Error(`ducklake-delete: no table ${table} in ${ref}`);
		}

		const staging = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-drill-ducklake-delete-'));
		const {store, client} = providerStore(world, ducklakeBucket, ducklakePrefix);
		const sql = await openCatalog(parseDuckLakeRef(ref));
		let writer: DuckLakeWriter | undefined;
		try {
			// The analyst's DuckDB reads the table's live files: fetch them into the writer's local mirror of data_path.
			const state = await loadCatalog(sql);
			const latest = state.snapshots.at(-1)!.id;
			const storage = new DataStorage(state, {base: staging, open: where => new LocalFileStore(where)});
			for (const file of liveFiles(state, id, latest)) {
				for (const row of file.deletes ? [file.data, file.deletes] : [file.data]) {
					const relative = storage.display(storage.locate(row));
					const local = path.join(staging, relative);
					await fs.mkdir(path.dirname(local), {recursive: true});
					await fs.writeFile(local, await store.read(relative));
				}
			}

			writer = await DuckLakeWriter.open(sql, {base: staging, store, staging, author: 'analyst@ilum', now: () => new Date(world.clock.now())});
			const snapshot = await writer.delete(table, ran, `DELETE FROM ${table} WHERE ${ran}`);
			if (snapshot === undefined) {
				throw new Error(`ducklake-delete: "WHERE ${ran}" matched nothing in ${table}`);
			}

			const after = await tableFigures(world, {ref, table});
			return {ref, table, tableId: id, lastGood: good.current, rows: good.rows, deleteSnapshot: String(snapshot), deletedRows: good.rows - after.rows, deletedAt: world.clock.iso()};
		} finally {
			await writer?.close();
			await sql.close();
			client.destroy();
			await fs.rm(staging, {recursive: true, force: true});
		}
	},
	async check(world, state) {
		const findings: string[] = [];
		const now = await compareWithVersion(world, {ref: state.ref, table: state.table}, state.lastGood);
		const id = await tableId(state.ref);
		const sameTable = id === state.tableId;
		const recovered = now.equal && now.rowsNow === state.rows && sameTable;
		findings.push(recovered
			? `${state.table} is at snapshot ${now.history.current} with the live set of snapshot ${state.lastGood} (returning files as copies: same count and bytes) and its ${now.rowsNow} rows, table id ${id} kept (RPO 0 rows).`
			: `${state.table} is at snapshot ${now.history.current}: ${now.rowsNow} rows where snapshot ${state.lastGood} had ${state.rows}; ${now.missing} of its files missing, ${now.extra} extra.`);
		findings.push(`The DELETE was snapshot ${state.deleteSnapshot}: ${state.deletedRows} rows.`);
		if (!recovered && sameTable && Number(now.history.current) > Number(state.deleteSnapshot)) {
			findings.push(`Mistake: wrong recovery point: ${state.table} was changed after the DELETE (snapshot ${now.history.current}) but is not equal to snapshot ${state.lastGood}, the one before it: ${now.rowsNow} rows where it had ${state.rows}.`);
		}

		if (!recovered && sameTable && Number(now.history.current) > Number(state.deleteSnapshot)) {
			findings.push(`Mistake: wrong recovery point: ${state.table} was changed after the DELETE (snapshot ${now.history.current}) but is not equal to snapshot ${state.lastGood}, the one before it: ${now.rowsNow} rows where it had ${state.rows}.`);
		}

		if (id === undefined) {
			findings.push(`Mistake: ${state.table} no longer exists in the catalog.`);
		} else if (!sameTable) {
			findings.push(`Mistake: ${state.table} was recreated (table id ${state.tableId} is now ${id}): readers, grants and its history refer to the old id; restore the table, do not copy it into a new one.`);
		}

		const lost = recovered ? 0 : Math.max(0, state.rows - now.rowsNow);
		return {recovered, lostObjects: lost, checkedObjects: state.rows, unit: 'rows', findings};
	},
	recovery: (_world, state) => [
		{argv: ['history', state.ref, '--table', state.table], why: 'find the snapshot before the DELETE'},
		{argv: ['restore', 'table', state.ref, '--table', state.table, '--to', state.lastGood, '--yes'], why: 'write a snapshot that makes the table equal to it again (forward restore, same table id)'},
	],
};
