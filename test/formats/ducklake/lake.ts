import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {createDuckDbDuckLake, createPostgresDuckLake, createSqliteDuckLake} from '../../../source/drill/catalogs/ducklake-catalogs.js';
import {writeDemoHistory, type DemoStep} from '../../../source/drill/catalogs/ducklake-demo.js';
import {DuckLakeWriter} from '../../../source/drill/catalogs/ducklake-writer.js';
import {openCatalog, parseDuckLakeRef} from '../../../source/formats/ducklake/connect.js';
import type {SqlCatalog} from '../../../source/formats/ducklake/sql.js';
import type {PostgresTarget} from './postgres.js';

export type Backend = 'sqlite' | 'duckdb' | 'postgres';

/** A temporary DuckLake with the demo history (12 snapshots) in one backend; data in a temp folder. */
export type TestLake = {
	readonly ref: string;
	readonly dir: string;
	readonly steps: DemoStep[];
	/** Opens the catalog (close it before the format opens a DuckDB file again). */
	open(): Promise<SqlCatalog>;
	cleanup(): Promise<void>;
};

export async function makeLake(backend: Backend, postgres?: PostgresTarget): Promise<TestLake> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), `ilum-ducklake-${backend}-`));
	let ref: string;
	let sql: SqlCatalog;
	let drop = async () => {};
	if (backend === 'sqlite') {
		const file = path.join(dir, 'catalog.sqlite');
		sql = await createSqliteDuckLake(file, 'data/');
		ref = `ducklake:sqlite:${file}`;
	} else if (backend === 'duckdb') {
		const file = path.join(dir, 'catalog.ducklake');
		sql = await createDuckDbDuckLake(file, 'data/');
		ref = `ducklake:${file}`;
	} else {
		const database = await postgres!.fresh();
		drop = database.drop;
		// A server catalog gets an absolute data path.
		sql = await createPostgresDuckLake(database.conninfo, path.join(dir, 'data') + '/');
		ref = `ducklake:postgres:${database.conninfo}`;
	}

	const writer = await DuckLakeWriter.open(sql, {base: dir});
	let steps: DemoStep[];
	try {
		steps = await writeDemoHistory(writer);
	} finally {
		await writer.close();
		await sql.close();
	}

	return {
		ref,
		dir,
		steps,
		open: async () => openCatalog(parseDuckLakeRef(ref)),
		async cleanup() {
			await drop();
			await fs.rm(dir, {recursive: true, force: true});
		},
	};
}

/** Runs `work` with the catalog open, then closes it. */
export async function withCatalog<T>(lake: TestLake, work: (sql: SqlCatalog) => Promise<T>): Promise<T> {
	const sql = await lake.open();
	try {
		return await work(sql);
	} finally {
		await sql.close();
	}
}
