import type {DuckLakeWriter} from './ducklake-writer.js';

export type DemoStep = {readonly snapshot: number; readonly what: string; /** Rows in the table after the step. */ readonly rows: number};

const rows = (from: number, to: number, extra = '') => `SELECT i AS id, 'customer-' || (i % 17) AS customer, CAST(i AS DOUBLE) * 1.5 AS amount${extra} FROM range(${from}, ${to + 1}) AS r(i)`;

/**
A table with a history worth restoring: 12 snapshots of inserts, deletes through positional delete
files, an added column and an overwrite. Used by the tests and the drill world seed.
*/
export async function writeDemoHistory(writer: DuckLakeWriter, table = 'main.orders'): Promise<DemoStep[]> {
	const steps: DemoStep[] = [];
	const step = (snapshot: number | undefined, what: string, count: number) => {
		if (snapshot === undefined) {
			throw new Error(`${what}: nothing changed`);
		}

		steps.push({snapshot, what, rows: count});
	};

	step(await writer.createTable(table, [{name: 'id', type: 'int64'}, {name: 'customer', type: 'varchar'}, {name: 'amount', type: 'float64'}]), 'create table', 0);
	step(await writer.insert(table, rows(1, 100)), 'insert 1-100', 100);
	step(await writer.insert(table, rows(101, 150)), 'insert 101-150', 150);
	step(await writer.insert(table, rows(151, 200)), 'insert 151-200', 200);
	step(await writer.delete(table, 'id % 10 = 0'), 'delete every tenth id', 180);
	step(await writer.addColumn(table, {name: 'note', type: 'varchar'}), 'add column note', 180);
	step(await writer.insert(table, rows(201, 250, ', \'late\' AS note')), 'insert 201-250 with a note', 230);
	step(await writer.delete(table, 'id BETWEEN 11 AND 15'), 'delete 11-15', 225);
	step(await writer.delete(table, 'id BETWEEN 201 AND 205'), 'delete 201-205', 220);
	step(await writer.overwrite(table, rows(1, 120, ', \'rewritten\' AS note')), 'overwrite with 1-120', 120);
	step(await writer.insert(table, rows(121, 160, ', NULL AS note')), 'insert 121-160', 160);
	step(await writer.delete(table, 'id < 10'), 'delete ids below 10', 151);
	return steps;
}
