import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {connectLayers} from '../../source/layers/connect.js';
import {tableInventory} from '../../source/layers/tables/table-inventory.js';
import type {EngineEvent, RestoreReport} from '../../source/restore/index.js';
import {startDrillWorld} from '../helpers/drill-world.js';

/*
What the console's `R` in a table's history runs (`sources.prepareTableRestore`), on every format
of the drill world: an Iceberg table of its REST catalog, a Delta table and a DuckLake table of its
PostgreSQL catalog, each restored to its previous restorable version through the engine.
*/
test('prepareTableRestore restores an Iceberg, a Delta and a DuckLake table of the drill world', {timeout: 600_000}, async () => {
	const drill = await startDrillWorld({objects: 300});
	const {world} = drill;
	const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'table-restore-sources-'));
	const sources = await connectLayers({flags: {kubeconfig: world.kubeconfigPath, s3Endpoint: world.provider.endpoint, stateDir, tablesBucket: 'ilum-tables'}});
	try {
		assert.ok(sources.prepareTableRestore, 'offered when not --read-only');
		const {tables} = await tableInventory(sources.tableSources, sources.tableDiscovery);
		const done: string[] = [];
		for (const format of ['iceberg', 'delta', 'ducklake'] as const) {
			const table = tables.find(candidate => candidate.format === format && !candidate.error);
			assert.ok(table, `a ${format} table is listed (${tables.map(candidate => `${candidate.format}:${candidate.name}`).join(', ')})`);
			// eslint-disable-next-line no-await-in-loop
			const history = await sources.tableDiscovery.history({ref: table.ref, table: table.table});
			const currentIndex = history.entries.findIndex(entry => entry.current);
			const target = history.entries.slice(0, currentIndex).reverse().find(entry => entry.restorable);
			assert.ok(target, `${table.name} has an earlier restorable version`);
			// eslint-disable-next-line no-await-in-loop
			const session = await sources.prepareTableRestore({ref: table.ref, ...(table.table ? {table: table.table} : {}), to: target.id});
			assert.ok(session.plan.preview?.some(line => line.startsWith('before: ')), session.plan.preview?.join('\n'));
			const gates: string[] = [];
			const generator = session.execute({async confirm(gate) {
				gates.push(gate.confirmText);
				return gate.confirmText;
			}});
			let next: IteratorResult<EngineEvent, RestoreReport>;
			do {
				// eslint-disable-next-line no-await-in-loop
				next = await generator.next();
			} while (!next.done);

			assert.equal(next.value.outcome, 'succeeded', `${format} ${table.name}: ${next.value.reasons.join('; ')}`);
			assert.equal(gates.length, 1);
			// eslint-disable-next-line no-await-in-loop
			const after = await sources.tableDiscovery.history({ref: table.ref, table: table.table});
			assert.notEqual(after.current, history.current, `${format}: the current version moved`);
			done.push(format);
		}

		assert.deepEqual(done, ['iceberg', 'delta', 'ducklake']);
	} finally {
		await sources.close?.();
		await drill.stop();
		await fs.rm(stateDir, {recursive: true, force: true});
	}
});
