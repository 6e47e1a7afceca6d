import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import pg from 'pg';
import {cacheDirectory, readCache, writeCache} from '../../../source/drill/seed/seed-cache.js';
import {clusterSeeder} from '../../../source/drill/seed/cluster.js';
import {ducklakeConfigMap, ducklakeTablesSeeder} from '../../../source/drill/seed/ducklake-tables.js';
import {startWorld} from '../../../source/drill/world.js';

let home: string;
const previous = process.env['XDG_CACHE_HOME'];

before(async () => {
	home = await fs.mkdtemp(path.join(os.tmpdir(), 'seed-cache-'));
	process.env['XDG_CACHE_HOME'] = home;
});

after(async () => {
	if (previous === undefined) {
		delete process.env['XDG_CACHE_HOME'];
	} else {
		process.env['XDG_CACHE_HOME'] = previous;
	}

	await fs.rm(home, {recursive: true, force: true});
});

test('a cache entry reads back; a corrupted or truncated one is refused and removed', async () => {
	assert.equal(await readCache('unit', 'k1'), undefined);
	assert.equal(await writeCache('unit', 'k1', {rows: [1, 2, 3]}), true);
	assert.deepEqual(await readCache('unit', 'k1'), {rows: [1, 2, 3]});
	assert.equal(await readCache('unit', 'k2'), undefined, 'another key is another entry');
	const [file] = (await fs.readdir(cacheDirectory())).filter(name => name.startsWith('unit-'));
	const full = path.join(cacheDirectory(), file!);
	const text = await fs.readFile(full, 'utf8');
	await fs.writeFile(full, text.replace('[1,2,3]', '[1,2,4]'));
	assert.equal(await readCache('unit', 'k1'), undefined, 'edited payload');
	await assert.rejects(fs.stat(full), 'the bad entry is removed');
	await writeCache('unit', 'k1', {rows: [1]});
	await fs.writeFile(full, (await fs.readFile(full, 'utf8')).slice(0, 40));
	assert.equal(await readCache('unit', 'k1'), undefined, 'truncated entry');
	assert.deepEqual((await fs.readdir(cacheDirectory())).filter(name => name.endsWith('.tmp')), [], 'no temporary files left');
});

/** The world's DuckLake: every file (key, time, ETag) and every catalog row. */
async function ducklakeOf(now: number) {
	const world = await startWorld({seed: 5, objects: 50, now, seeders: [clusterSeeder, ducklakeTablesSeeder]});
	try {
		const files = [...world.providerEndpoint.volume!.objects('ilum-ducklake').values()].map(object => `${object.key} ${object.lastModified.toISOString()} ${object.etag}`).sort();
		const configMap = world.store.get('configmaps', world.namespace, ducklakeConfigMap)!;
		const ref = String(configMap.data.ref);
		const client = new pg.Client({host: '127.0.0.1', port: Number(/port=(\d+)/.exec(ref)![1]), user: 'postgres', database: 'postgres'});
		await client.connect();
		try {
			const tables = (await client.query<{tablename: string}>('SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1')).rows.map(row => row.tablename);
			const rows: Record<string, string> = {};
			for (const table of tables) {
				// eslint-disable-next-line no-await-in-loop
				rows[table] = (await client.query<{rows: string}>(`SELECT coalesce(json_agg(t ORDER BY t::text), '[]')::text AS rows FROM ${table} t`)).rows[0]!.rows;
			}

			return {files, rows, configMapCreated: String(configMap.metadata.creationTimestamp)};
		} finally {
			await client.end();
		}
	} finally {
		await world.stop();
	}
}

test('DuckLake from the cache equals DuckLake computed: same files at the same times, same catalog rows', {timeout: 300_000}, async () => {
	await fs.rm(cacheDirectory(), {recursive: true, force: true});
	const now = Date.parse('2026-03-04T05:06:07Z');
	const computed = await ducklakeOf(now);
	const entries = (await fs.readdir(cacheDirectory())).filter(name => name.startsWith('ducklake-tables-'));
	assert.equal(entries.length, 1, 'the first start writes the entry');
	assert.ok(computed.files.length >= 20, computed.files.join('\n'));
	const cached = await ducklakeOf(now);
	assert.deepEqual(cached.files, computed.files);
	assert.deepEqual(cached.rows, computed.rows);
	// The ConfigMap naming the catalog appears after the last operation either way (the world's
	// clock runs on while a step works, so not to the second).
	assert.ok(Math.abs(Date.parse(cached.configMapCreated) - Date.parse(computed.configMapCreated)) < 60_000, `${cached.configMapCreated} against ${computed.configMapCreated}`);
	// Another day: the same data, the snapshots at that day's times.
	const later = await ducklakeOf(now + (3 * 3_600_000));
	assert.deepEqual(later.files.map(line => line.split(' ')[0]), computed.files.map(line => line.split(' ')[0]));
	assert.notDeepEqual(later.rows['ducklake_snapshot'], computed.rows['ducklake_snapshot']);
	assert.equal(later.rows['ducklake_data_file'], computed.rows['ducklake_data_file']);
});
