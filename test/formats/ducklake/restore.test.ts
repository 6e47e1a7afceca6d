import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {DuckLakeWriter, readTableAt} from '../../../source/drill/catalogs/ducklake-writer.js';
import {findTable, liveFiles, loadCatalog} from '../../../source/formats/ducklake/catalog.js';
import {DuckLakeFormat} from '../../../source/formats/ducklake/index.js';
import {formatEnvironment} from '../../../source/formats/index.js';
import {UserError} from '../../../source/errors.js';
import {runCli} from '../../helpers/run-cli.js';
import {makeLake, withCatalog, type Backend, type TestLake} from './lake.js';
import {postgresTargetNames, startPostgresTarget, type PostgresTarget} from './postgres.js';

const format = () => new DuckLakeFormat(formatEnvironment({env: {}}));

/** Every step's rows (the ids, sorted), read back through DuckDB's Parquet reader. */
async function readAll(lake: TestLake, snapshots: readonly number[]): Promise<Map<number, string[]>> {
	return withCatalog(lake, async sql => {
		const rows = new Map<number, string[]>();
		for (const snapshot of snapshots) {
			// eslint-disable-next-line no-await-in-loop
			rows.set(snapshot, await readTableAt(sql, {table: 'main.orders', snapshot, base: lake.dir}));
		}

		return rows;
	});
}

/** The live files as what they hold (records, sizes, deletions), their paths, and whether any live row shares a path with a closed one. */
async function liveSet(lake: TestLake, snapshot: number): Promise<{tableId: number; files: string[]; paths: string[]; sharedWithClosed: string[]}> {
	return withCatalog(lake, async sql => {
		const state = await loadCatalog(sql);
		const found = findTable(state, 'main.orders', snapshot)!;
		const live = liveFiles(state, found.table.id, snapshot);
		const files = live.map(file => `${file.data.recordCount} rows/${file.data.sizeBytes} bytes|${file.deletes?.deleteCount ?? 0} deleted`).sort();
		const paths = live.flatMap(file => [file.data.path, ...(file.deletes ? [file.deletes.path] : [])]).sort();
		const closed = new Set([...state.dataFiles, ...state.deleteFiles].filter(row => row.tableId === found.table.id && row.end !== undefined).map(row => row.path));
		return {tableId: found.table.id, files, paths, sharedWithClosed: paths.filter(file => closed.has(file))};
	});
}

const backends: Array<{name: string; backend: Backend; postgres?: string}> = [
	{name: 'SQLite', backend: 'sqlite'},
	{name: 'DuckDB file', backend: 'duckdb'},
	...postgresTargetNames().map(name => ({name: `PostgreSQL (${name})`, backend: 'postgres' as const, postgres: name})),
];

for (const {name, backend, postgres} of backends) {
	describe(`DuckLake forward restore, catalog in ${name}`, () => {
		let server: PostgresTarget | undefined;
		let lake: TestLake;
		before(async () => {
			if (postgres) {
				server = await startPostgresTarget(postgres);
			}

			lake = await makeLake(backend, server);
		});
		after(async () => {
			await lake?.cleanup();
			await server?.stop();
		});

		test('restoring to a snapshot before the added column brings back its files, rows and columns; old snapshots read as before', async () => {
			const snapshots = lake.steps.map(step => step.snapshot);
			const target = lake.steps.find(step => step.what === 'insert 151-200')!;
			const rowsBefore = await readAll(lake, snapshots);
			for (const step of lake.steps) {
				assert.equal(rowsBefore.get(step.snapshot)!.length, step.rows, `rows at ${step.what}`);
			}

			const {tableId} = await liveSet(lake, snapshots.at(-1)!);
			const plan = await format().plan({ref: lake.ref, table: 'main.orders'}, String(target.snapshot));
			assert.equal(plan.refusal, undefined);
			assert.equal(plan.from, String(snapshots.at(-1)));
			assert.deepEqual(plan.after.rows, 200);
			assert.ok(plan.schemaChanges.some(line => line.includes('note') && line.includes('dropped')), plan.schemaChanges.join('; '));
			assert.ok(plan.filesReturning.length >= 3, 'the three insert files come back');
			assert.ok(plan.filesLeaving.length >= 1);

			const result = await format().execute(plan);
			assert.equal(result.verified, true, JSON.stringify(result.checks));
			const written = Number(result.newVersion);
			assert.equal(written, snapshots.at(-1)! + 1);

			const now = await liveSet(lake, written);
			const then = await liveSet(lake, target.snapshot);
			assert.deepEqual(now.files, then.files, 'live files hold what the target\'s held');
			assert.deepEqual(now.sharedWithClosed, [], 'no live file row shares a path with a closed one (snapshot expiry deletes by path)');
			assert.ok(now.paths.every(file => !then.paths.includes(file) || !plan.filesReturning.some(returning => returning.endsWith(file))), 'returning files are copies under new names');
			assert.equal(now.tableId, tableId, 'the table keeps its id');

			const rowsAfter = await readAll(lake, [...snapshots, written]);
			assert.deepEqual(rowsAfter.get(written), rowsBefore.get(target.snapshot), 'the table reads as at the target');
			for (const snapshot of snapshots) {
				assert.deepEqual(rowsAfter.get(snapshot), rowsBefore.get(snapshot), `time travel to snapshot ${snapshot} is unaffected`);
			}

			const history = await format().history({ref: lake.ref, table: 'main.orders'});
			const last = history.entries.at(-1)!;
			assert.equal(last.id, String(written));
			assert.equal(last.operation, 'RESTORE');
			assert.equal(last.current, true);
			assert.equal(last.summary.message, `ilum-restore: restore main.orders to snapshot ${target.snapshot}`);
			assert.equal(last.summary.rows, 200);
			assert.match(String(last.summary.author), /ilum-restore/);
		});

		test('restoring forward again to the overwrite re-opens files closed twice, with the added column', async () => {
			const overwrite = lake.steps.find(step => step.what === 'overwrite with 1-120')!;
			const expected = await readAll(lake, [overwrite.snapshot]);
			const plan = await format().plan({ref: lake.ref, table: 'main.orders'}, String(overwrite.snapshot));
			assert.ok(plan.schemaChanges.some(line => line.includes('note') && line.includes('comes back')), plan.schemaChanges.join('; '));
			const result = await format().execute(plan);
			assert.equal(result.verified, true, JSON.stringify(result.checks));
			const written = Number(result.newVersion);
			const after = await readAll(lake, [written]);
			assert.deepEqual(after.get(written), expected.get(overwrite.snapshot));
			assert.equal(after.get(written)!.length, 120);
			const columns = await withCatalog(lake, async sql => sql.query('SELECT column_name FROM ducklake_column WHERE end_snapshot IS NULL ORDER BY column_order'));
			assert.deepEqual(columns.map(row => row.column_name), ['id', 'customer', 'amount', 'note']);
		});

		test('inlined rows and inlined deletions (DuckLake 1.0 data inlining) come and go with the restore', async () => {
			const writeWith = async (work: (writer: DuckLakeWriter) => Promise<number>) => withCatalog(lake, async sql => {
				const writer = await DuckLakeWriter.open(sql, {base: lake.dir});
				try {
					return await work(writer);
				} finally {
					await writer.close();
				}
			});
			const start = await withCatalog(lake, async sql => (await loadCatalog(sql)).snapshots.at(-1)!.id);
			const inserted = await writeWith(async writer => writer.insertInlined('main.orders', 'SELECT 5000 + i AS id, \'inlined\' AS customer, 1.0 AS amount, NULL AS note FROM range(1, 6) AS r(i)'));
			const deleted = await writeWith(async writer => writer.deleteInlined('main.orders', 'id BETWEEN 20 AND 24 OR id = 5001'));
			const rows = await readAll(lake, [start, inserted, deleted]);
			assert.equal(rows.get(inserted)!.length, rows.get(start)!.length + 5);
			assert.deepEqual(rows.get(deleted), rows.get(inserted)!.filter(id => !['20', '21', '22', '23', '24', '5001'].includes(id)));
			const history = await format().history({ref: lake.ref, table: 'main.orders'});
			assert.equal(history.entries.at(-1)!.summary.rows, rows.get(deleted)!.length, 'history counts inlined rows and deletions');

			const back = await format().execute(await format().plan({ref: lake.ref, table: 'main.orders'}, String(start)));
			assert.equal(back.verified, true, JSON.stringify(back.checks));
			const forward = await format().execute(await format().plan({ref: lake.ref, table: 'main.orders'}, String(deleted)));
			assert.equal(forward.verified, true, JSON.stringify(forward.checks));
			const after = await readAll(lake, [start, inserted, deleted, Number(back.newVersion), Number(forward.newVersion)]);
			assert.deepEqual(after.get(Number(back.newVersion)), rows.get(start), 'back to before the inlined writes');
			assert.deepEqual(after.get(Number(forward.newVersion)), rows.get(deleted), 'forward to after them');
			for (const snapshot of [start, inserted, deleted]) {
				assert.deepEqual(after.get(snapshot), rows.get(snapshot), `time travel to ${snapshot} unaffected`);
			}
		});

		test('a restore planned before someone else committed is refused (exit 3) and writes nothing', async () => {
			const plan = await format().plan({ref: lake.ref, table: 'main.orders'}, String(lake.steps[1]!.snapshot));
			await withCatalog(lake, async sql => {
				const writer = await DuckLakeWriter.open(sql, {base: lake.dir});
				try {
					await writer.insert('main.orders', 'SELECT 999 AS id, \'late\' AS customer, 1.0 AS amount, NULL AS note');
				} finally {
					await writer.close();
				}
			});
			const snapshotsBefore = await withCatalog(lake, async sql => (await loadCatalog(sql)).snapshots.length);
			await assert.rejects(format().execute(plan), (error: unknown) => error instanceof UserError && error.exitCode === 3 && /moved since the plan/.test(error.message));
			const snapshotsAfter = await withCatalog(lake, async sql => (await loadCatalog(sql)).snapshots.length);
			assert.equal(snapshotsAfter, snapshotsBefore);
		});
	});
}

describe('DuckLake restore through the CLI', () => {
	let lake: TestLake;
	before(async () => {
		lake = await makeLake('sqlite');
	});
	after(async () => {
		await lake?.cleanup();
	});

	test('refuses with exit 3, naming the missing file, when a file the target needs is gone; nothing is written', async () => {
		const first = lake.steps.find(step => step.what === 'insert 1-100')!;
		const file = await withCatalog(lake, async sql => {
			const rows = await sql.query('SELECT path FROM ducklake_data_file WHERE begin_snapshot = ?', [first.snapshot]);
			return String(rows[0]!.path);
		});
		await fs.rm(path.join(lake.dir, 'data/main/orders', file));
		const catalogBefore = await fs.readFile(lake.ref.slice('ducklake:sqlite:'.length));
		const result = await runCli(['restore', 'table', lake.ref, '--table', 'main.orders', '--to', String(first.snapshot), '--yes']);
		assert.equal(result.code, 3, result.stderr);
		assert.match(result.stderr, new RegExp(`missing: main/orders/${file.replaceAll('.', '\\.')}`));
		assert.deepEqual(await fs.readFile(lake.ref.slice('ducklake:sqlite:'.length)), catalogBefore, 'the catalog file is unchanged');

		const history = await runCli(['history', lake.ref, '--table', 'main.orders', '--json']);
		assert.equal(history.code, 0, history.stderr);
		const entries = JSON.parse(history.stdout).entries as Array<{id: string; restorable: boolean; reason?: string}>;
		const unrestorable = entries.filter(entry => !entry.restorable).map(entry => Number(entry.id));
		// The first data file is live from its insert until the overwrite closed it.
		const overwrite = lake.steps.find(step => step.what === 'overwrite with 1-120')!;
		assert.deepEqual(unrestorable, entries.map(entry => Number(entry.id)).filter(id => id >= first.snapshot && id < overwrite.snapshot));
	});

	test('restores with --yes --json and reports the checks', async () => {
		const target = lake.steps.find(step => step.what === 'overwrite with 1-120')!;
		const result = await runCli(['restore', 'table', lake.ref, '--table', 'main.orders', '--to', String(target.snapshot), '--yes', '--json']);
		assert.equal(result.code, 0, result.stderr);
		const lines = result.stdout.trim().split('\n').map(line => JSON.parse(line) as {type: string; verified?: boolean; newVersion?: string});
		const final = lines.at(-1)!;
		assert.equal(final.type, 'result');
		assert.equal(final.verified, true);
		const rows = await withCatalog(lake, async sql => readTableAt(sql, {table: 'main.orders', base: lake.dir}));
		assert.equal(rows.length, 120);
	});

	test('widens the table-level column bounds to cover the files that return', async () => {
		// Bounds recomputed narrower than the files the target needs (as after a rewrite): readers pruning on them would skip rows.
		await withCatalog(lake, async sql => {
			await sql.run('UPDATE ducklake_table_column_stats SET min_value = ?, max_value = ? WHERE column_id = 1', ['150', '151']);
		});
		const target = lake.steps.find(step => step.what === 'insert 121-160')!;
		const result = await format().execute(await format().plan({ref: lake.ref, table: 'main.orders'}, String(target.snapshot)));
		assert.equal(result.verified, true, JSON.stringify(result.checks));
		const [bounds] = await withCatalog(lake, async sql => sql.query('SELECT min_value, max_value FROM ducklake_table_column_stats WHERE column_id = 1'));
		assert.equal(bounds!.min_value, '121', 'the returning file holds ids 121-160');
		assert.equal(bounds!.max_value, '160');
	});

	test('brings back a dropped table under its own table id, with its rows, columns and files', async () => {
		const before = await withCatalog(lake, async sql => {
			const state = await loadCatalog(sql);
			const latest = state.snapshots.at(-1)!.id;
			return {snapshot: latest, tableId: findTable(state, 'main.orders', latest)!.table.id, rows: await readTableAt(sql, {table: 'main.orders', base: lake.dir})};
		});
		const dropped = await withCatalog(lake, async sql => {
			const writer = await DuckLakeWriter.open(sql, {base: lake.dir});
			try {
				return await writer.dropTable('main.orders');
			} finally {
				await writer.close();
			}
		});
		const history = await runCli(['history', lake.ref, '--table', 'main.orders', '--json']);
		assert.equal(history.code, 0, history.stderr);
		const entries = (JSON.parse(history.stdout) as {entries: Array<{id: string; operation: string}>}).entries;
		assert.deepEqual(entries.at(-1), {...entries.at(-1), id: String(dropped), operation: 'DROP TABLE'});

		const result = await runCli(['restore', 'table', lake.ref, '--table', 'main.orders', '--to', String(before.snapshot), '--yes', '--json']);
		assert.equal(result.code, 0, result.stderr);
		const lines = result.stdout.trim().split('\n').map(line => JSON.parse(line) as {type: string; verified?: boolean; warnings?: string[]});
		assert.match(lines[0]!.warnings!.join(' '), /was dropped at snapshot \d+: the restore brings it back under its table id/);
		assert.equal(lines.at(-1)!.verified, true);
		await withCatalog(lake, async sql => {
			const state = await loadCatalog(sql);
			const latest = state.snapshots.at(-1)!.id;
			assert.equal(findTable(state, 'main.orders', latest)?.table.id, before.tableId);
			assert.deepEqual(await readTableAt(sql, {table: 'main.orders', base: lake.dir}), before.rows);
			const writer = await DuckLakeWriter.open(sql, {base: lake.dir});
			try {
				await writer.insert('main.orders', 'SELECT 7777 AS id, \'after\' AS customer, 1.0 AS amount, NULL AS note');
			} finally {
				await writer.close();
			}

			assert.deepEqual(await readTableAt(sql, {table: 'main.orders', base: lake.dir}), [...before.rows, '7777'].sort((a, b) => a.localeCompare(b, 'en', {numeric: true})), 'the table takes writes again');
		});
	});
});

describe('DuckLake restore of files registered by absolute path', () => {
	let lake: TestLake;
	before(async () => {
		lake = await makeLake('sqlite');
	});
	after(async () => {
		await lake?.cleanup();
	});

	test('copies them into the table\'s own folder, as relative paths', async () => {
		const first = lake.steps.find(step => step.what === 'insert 1-100')!;
		const outside = path.join(lake.dir, 'elsewhere');
		await fs.mkdir(outside);
		const absolute = await withCatalog(lake, async sql => {
			const [row] = await sql.query('SELECT data_file_id, path FROM ducklake_data_file WHERE begin_snapshot = ?', [first.snapshot]);
			const location = path.join(outside, String(row!.path));
			await fs.rename(path.join(lake.dir, 'data/main/orders', String(row!.path)), location);
			await sql.run('UPDATE ducklake_data_file SET path = ?, path_is_relative = ? WHERE data_file_id = ?', [location, false, row!.data_file_id!]);
			return location;
		});
		const expected = await readAll(lake, [first.snapshot]);
		const result = await format().execute(await format().plan({ref: lake.ref, table: 'main.orders'}, String(first.snapshot)));
		assert.equal(result.verified, true, JSON.stringify(result.checks));
		const [copy] = await withCatalog(lake, async sql => sql.query('SELECT path, path_is_relative FROM ducklake_data_file WHERE begin_snapshot = ?', [Number(result.newVersion)]));
		assert.match(String(copy!.path), /^ducklake-[\da-f-]+\.parquet$/);
		assert.ok(copy!.path_is_relative);
		await fs.access(path.join(lake.dir, 'data/main/orders', String(copy!.path)));
		assert.deepEqual(await fs.readdir(outside), [path.basename(absolute)], 'nothing written next to the foreign file');
		const after = await readAll(lake, [Number(result.newVersion)]);
		assert.deepEqual(after.get(Number(result.newVersion)), expected.get(first.snapshot));
	});
});

describe('DuckLake restore of partial files (partial_max)', () => {
	let lake: TestLake;
	before(async () => {
		lake = await makeLake('sqlite');
	});
	after(async () => {
		await lake?.cleanup();
	});

	test('refused when the target saw only part of a file, allowed once it saw all of it', async () => {
		const first = lake.steps.find(step => step.what === 'insert 1-100')!;
		const setPartialMax = async (value: number) => withCatalog(lake, async sql => sql.run('UPDATE ducklake_data_file SET partial_max = ? WHERE begin_snapshot = ?', [value, first.snapshot]));
		await setPartialMax(first.snapshot + 1);
		const refused = await format().plan({ref: lake.ref, table: 'main.orders'}, String(first.snapshot));
		assert.match(refused.refusal ?? '', new RegExp(`sees only part of 1 file.*pick a snapshot at or after ${first.snapshot + 1}`));
		await setPartialMax(first.snapshot);
		const plan = await format().plan({ref: lake.ref, table: 'main.orders'}, String(first.snapshot));
		assert.equal(plan.refusal, undefined);
		const result = await format().execute(plan);
		assert.equal(result.verified, true, JSON.stringify(result.checks));
		const [copy] = await withCatalog(lake, async sql => sql.query('SELECT partial_max FROM ducklake_data_file WHERE begin_snapshot = ?', [Number(result.newVersion)]));
		assert.equal(copy!.partial_max, first.snapshot, 'the copy keeps partial_max');
	});
});
