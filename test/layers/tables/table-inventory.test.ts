import {test} from 'node:test';
import assert from 'node:assert/strict';
import {findIcebergRestTables, summarizeHistory, tableInventory} from '../../../source/layers/tables/table-inventory.js';
import {deltaHistory} from '../../helpers/console-fixture.js';

test('Iceberg REST discovery: prefix from /v1/config, namespaces, tables; the ref history takes', async () => {
	const answers: Record<string, unknown> = {
		'/v1/config': {overrides: {prefix: 'warehouse'}},
		'/v1/warehouse/namespaces': {namespaces: [['sales'], ['ops']]},
		'/v1/warehouse/namespaces/sales/tables': {identifiers: [{namespace: ['sales'], name: 'orders'}]},
		'/v1/warehouse/namespaces/ops/tables': {identifiers: []},
	};
	const fakeFetch = (async (url: string) => {
		const path = new URL(url).pathname;
		return path in answers ? new Response(JSON.stringify(answers[path])) : new Response('{}', {status: 404});
	}) as typeof fetch;
	const tables = await findIcebergRestTables('http://catalog:8181/', {fetch: fakeFetch});
	assert.deepEqual(tables, [{format: 'iceberg', ref: 'http://catalog:8181', table: 'sales.orders', name: 'sales.orders', source: 'http://catalog:8181'}]);
});

test('summary: current, versions kept, oldest restorable; a failing history stays on its row', async () => {
	const found = {format: 'delta' as const, ref: 's3://ilum-tables/sales', name: 'sales', source: 's3://ilum-tables'};
	const item = summarizeHistory(found, deltaHistory(found.ref));
	assert.equal(item.current, '3');
	assert.equal(item.versions, 4);
	assert.equal(item.oldestRestorable, '1');
	const s3 = (() => ({send: async (command: any) => ({CommonPrefixes: command.input.Prefix === '' ? [{Prefix: 'a/'}, {Prefix: 'b/'}] : [{Prefix: `${command.input.Prefix}_delta_log/`}]})})) as any;
	const inventory = await tableInventory({icebergCatalogs: [], buckets: ['s3://ilum-tables'], ducklakeCatalogs: ['ducklake:x.db']}, {
		s3,
		async history(ref) {
			if (ref.ref.endsWith('/b')) {
				throw new Error('b/_delta_log/00000000000000000000.json: access denied');
			}

			return deltaHistory(ref.ref);
		},
	});
	assert.deepEqual(inventory.tables.map(table => [table.name, table.current ?? table.error]), [['a', '3'], ['b', 'b/_delta_log/00000000000000000000.json: access denied']]);
	assert.match(inventory.errors[0]!, /DuckLake catalogs cannot be searched/);
});
