/**
A world kept in `--state-dir` keeps its table catalogs: after `drill serve` is stopped (SIGTERM)
and started again, the Iceberg REST catalog and the DuckLake catalog (PostgreSQL) serve again, and
`inventory` lists the same tables with the same histories.
*/
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/run-cli.js';
import {waitFor} from '../helpers/drill-world.js';
import {clockStartArgument} from '../helpers/clock.js';
import {serveDrill, type ServeReady} from '../helpers/drill-serve.js';

type Json = Record<string, any>;

/** The tables inventory lists, each with the ids of its history (as `history` prints them). */
async function tables(ready: ServeReady, cacheDir: string): Promise<Array<{format: string; table: string; versions: string[]}>> {
	const env = {...process.env, KUBECACHEDIR: cacheDir, AWS_ACCESS_KEY_ID: ready.provider.accessKeyId, AWS_SECRET_ACCESS_KEY: ready.provider.secretAccessKey};
	const s3 = ['--s3-endpoint', ready.provider.endpoint];
	// The provider serves once its pod is Ready again: wait until inventory sees the catalogs' tables.
	const listed = await waitFor(async () => {
		const result = await runCli(['inventory', '--json', '--kubeconfig', ready.kubeconfig, ...s3], {env});
		const found = (JSON.parse(result.stdout) as Json)['tables'].tables as Json[];
		return found.filter(table => table['format'] === 'iceberg' || table['format'] === 'ducklake').length >= 5 ? found : undefined;
	}, 'inventory listing the catalogs\' tables', 120_000);
	const out = [];
	for (const table of listed.filter(item => item['format'] === 'iceberg' || item['format'] === 'ducklake')) {
		// eslint-disable-next-line no-await-in-loop
		const history = await runCli(['history', table['ref'], ...(table['table'] ? ['--table', table['table']] : []), '--json', ...s3], {env});
		assert.equal(history.code, 0, history.stderr);
		const entries = (JSON.parse(history.stdout) as Json)['entries'] as Json[];
		out.push({format: String(table['format']), table: String(table['table'] ?? table['name']), versions: entries.map(entry => `${entry['id']} ${entry['timestamp']} ${entry['operation']}`)});
	}

	return out.sort((a, b) => `${a.format} ${a.table}`.localeCompare(`${b.format} ${b.table}`));
}

test('drill serve --state-dir: after SIGTERM and a restart, inventory lists the Iceberg and DuckLake tables with their histories', {timeout: 600_000}, async () => {
	const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-catalogs-'));
	const cacheDir = path.join(stateDir, 'kube-cache');
	try {
		// Its clock opens clear of the top of the hour: no backup run between the two listings.
		const first = await serveDrill(['--seed', '5', '--objects', '100', '--state-dir', stateDir, '--clock-start', clockStartArgument()]);
		const before = await tables(first.ready, cacheDir);
		assert.deepEqual(before.map(table => `${table.format} ${table.table}`), ['ducklake analytics.daily_kpis', 'ducklake main.job_events', 'ducklake main.orders', 'iceberg analytics.job_runs', 'iceberg sales.orders']);
		for (const table of before) {
			assert.ok(table.versions.length >= 10, `${table.format} ${table.table} has ${table.versions.length} versions`);
		}

		const stopped = await first.stop();
		assert.equal(stopped.code, 0, stopped.stderr);

		const second = await serveDrill(['--state-dir', stateDir]);
		try {
			assert.deepEqual(await tables(second.ready, cacheDir), before);
		} finally {
			const again = await second.stop();
			assert.equal(again.code, 0, again.stderr);
		}
	} finally {
		await fs.rm(stateDir, {recursive: true, force: true});
	}
});
