import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {after, describe, test} from 'node:test';
import {UserError} from '../../source/errors.js';
import {formatEnvironment, isStorageRef, resolveFormat, type FormatPlugin} from '../../source/formats/index.js';
import type {TableFormat} from '../../source/formats/types.js';
import {S3FileStore} from '../../source/storage/s3-file-store.js';

const directories: string[] = [];
after(async () => {
	await Promise.all(directories.map(async directory => fs.rm(directory, {recursive: true, force: true})));
});

function fakeFormat(name: TableFormat['name']): TableFormat {
	const fail = async () => {
		throw new Error('not used');
	};

	return {name, history: fail, plan: fail, execute: fail};
}

const registry: FormatPlugin[] = [
	{name: 'delta', detect: async store => (await store.list('_delta_log/')).length > 0, create: () => fakeFormat('delta')},
	{name: 'iceberg', claims: ref => ref.startsWith('http://'), detect: async store => (await store.list('metadata/')).length > 0, create: () => fakeFormat('iceberg')},
	{name: 'ducklake', claims: ref => ref.startsWith('ducklake:'), create: () => fakeFormat('ducklake')},
];

async function table(files: string[]): Promise<string> {
	const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-resolve-'));
	directories.push(directory);
	for (const file of files) {
		await fs.mkdir(path.dirname(path.join(directory, file)), {recursive: true});
		await fs.writeFile(path.join(directory, file), '{}');
	}

	return directory;
}

async function rejects(promise: Promise<unknown>, exitCode: number, pattern: RegExp) {
	await assert.rejects(promise, (error: unknown) => error instanceof UserError && error.exitCode === exitCode && pattern.test(error.line()));
}

describe('resolving a table ref to a format', () => {
	const environment = formatEnvironment({env: {}});

	test('claims first (catalog refs), then what storage holds, in registry order', async () => {
		assert.equal((await resolveFormat({ref: 'ducklake:postgres:dbname=x', table: 'main.t'}, environment, registry)).name, 'ducklake');
		assert.equal((await resolveFormat({ref: 'http://catalog:8181', table: 'ns.t'}, environment, registry)).name, 'iceberg');
		assert.equal((await resolveFormat({ref: await table(['_delta_log/00000000000000000000.json'])}, environment, registry)).name, 'delta');
		assert.equal((await resolveFormat({ref: await table(['metadata/v1.metadata.json'])}, environment, registry)).name, 'iceberg');
		// A UniForm table has both: it is Delta (the log is the source of truth).
		assert.equal((await resolveFormat({ref: await table(['_delta_log/00000000000000000000.json', 'metadata/v1.metadata.json'])}, environment, registry)).name, 'delta');
	});

	test('one-line errors: no such folder, not a folder, neither format, an unknown ref form', async () => {
		await rejects(resolveFormat({ref: '/no/such/table'}, environment, registry), 1, /\/no\/such\/table: no such folder: check the path/);
		const directory = await table(['part-0.parquet']);
		await rejects(resolveFormat({ref: path.join(directory, 'part-0.parquet')}, environment, registry), 1, /not a folder/);
		await rejects(resolveFormat({ref: directory}, environment, registry), 1, /not a Delta table \(no _delta_log\/\) nor an Iceberg table \(no metadata\/\): point at the table's root/);
		await rejects(resolveFormat({ref: 'gs://bucket/table'}, environment, registry), 2, /'gs:\/\/bucket\/table' is not a table ref I know/);
		await rejects(resolveFormat({ref: 's3:///table'}, environment, registry), 2, /names no bucket/);
	});

	test('s3://bucket/prefix opens an S3 store on that bucket and prefix; paths and file:// are storage refs', () => {
		const store = formatEnvironment({s3Endpoint: 'http://127.0.0.1:9', env: {}}).openStore('s3://ilum-tables/delta/orders/');
		assert.ok(store instanceof S3FileStore);
		assert.equal(store.root, 's3://ilum-tables/delta/orders');
		assert.equal(store.bucket, 'ilum-tables');
		assert.ok(isStorageRef('./orders') && isStorageRef('/data/orders') && isStorageRef('file:///data/orders') && isStorageRef('s3://b/p'));
		assert.ok(!isStorageRef('ducklake:sqlite:x.db') && !isStorageRef('http://catalog:8181'));
	});
});
