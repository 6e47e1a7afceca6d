import type {DuckLakeWriter} from './ducklake-writer.js';

export type DemoStep = {readonly snapshot: number; readonly what: string; /** Rows in the table after the step. */ readonly rows: number};

const rows = (from: number, to: number, extra = '') => `SELECT i AS id, 'customer-' || (i % 17) AS customer, CAST(i AS DOUBLE) * 1.5 AS amount${extra} FROM range(${from}, ${to + 1}) AS r(i)`;

export type DemoOperation = {readonly what: string; /** Rows in the table after it. */ readonly rows: number; run(writer: DuckLakeWriter): Promise<number | undefined>};

/**
A table with a history worth restoring: 12 snapshots of inserts, deletes through positional delete
files, an added column and an overwrite. Used by the tests and the drill world seed.
*/
export function demoOperations(table = 'main.orders'): DemoOperation[] {
	return [
		{what: 'create table', rows: 0, run: async writer => writer.createTable(table, [{name: 'id', type: 'int64'}, {name: 'customer', type: 'varchar'}, {name: 'amount', type: 'float64'}])},
		{what: 'insert 1-100', rows: 100, run: async writer => writer.insert(table, rows(1, 100))},
		{what: 'insert 101-150', rows: 150, run: async writer => writer.insert(table, rows(101, 150))},
		{what: 'insert 151-200', rows: 200, run: async writer => writer.insert(table, rows(151, 200))},
		{what: 'delete every tenth id', rows: 180, run: async writer => writer.delete(table, 'id % 10 = 0')},
		{what: 'add column note', rows: 180, run: async writer => writer.addColumn(table, {name: 'note', type: 'varchar'})},
		{what: 'insert 201-250 with a note', rows: 230, run: async writer => writer.insert(table, rows(201, 250, ', \'late\' AS note'))},
		{what: 'delete 11-15', rows: 225, run: async writer => writer.delete(table, 'id BETWEEN 11 AND 15')},
		{what: 'delete 201-205', rows: 220, run: async writer => writer.delete(table, 'id BETWEEN 201 AND 205')},
		{what: 'overwrite with 1-120', rows: 120, run: async writer => writer.overwrite(table, rows(1, 120, ', \'rewritten\' AS note'))},
		{what: 'insert 121-160', rows: 160, run: async writer => writer.insert(table, rows(121, 160, ', NULL AS note'))},
		{what: 'delete ids below 10', rows: 151, run: async writer => writer.delete(table, 'id < 10')},
	];
}

export async function writeDemoHistory(writer: DuckLakeWriter, table = 'main.orders'): Promise<DemoStep[]> {
	const steps: DemoStep[] = [];
	for (const operation of demoOperations(table)) {
		// eslint-disable-next-line no-await-in-loop
		const snapshot = await operation.run(writer);
		if (snapshot === undefined) {
			throw new Error(`${operation.what}: nothing changed`);
		}

		steps.push({snapshot, what: operation.what, rows: operation.rows});
	}

	return steps;
}
