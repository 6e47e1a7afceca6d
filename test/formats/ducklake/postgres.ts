import {randomBytes} from 'node:crypto';
import process from 'node:process';
import pg from 'pg';
import {startPgliteServer, type PostgresServer} from '../../../source/drill/catalogs/ducklake-catalogs.js';
import {parseConninfo} from '../../../source/formats/ducklake/connect.js';

/**
Postgres servers the catalog tests run against: PGlite (always; in-process, served over TCP) and
the Debian PostgreSQL server that `.ci/run` starts and names in ILUM_TEST_POSTGRES (a URI to a
database the user may create databases from).
*/
export type PostgresTarget = {
	readonly name: string;
	/** A fresh, empty database for one test: its conninfo, and how to drop it. */
	fresh(): Promise<{conninfo: string; drop(): Promise<void>}>;
	stop(): Promise<void>;
};

export function postgresTargetNames(): string[] {
	return ['pglite', ...(process.env.ILUM_TEST_POSTGRES ? ['debian-postgres'] : [])];
}

export async function startPostgresTarget(name: string): Promise<PostgresTarget> {
	if (name === 'pglite') {
		let server: PostgresServer | undefined = await startPgliteServer();
		return {
			name,
			async fresh() {
				// PGlite is one database: a fresh catalog is an empty public schema.
				const client = new pg.Client(parseConninfo(server!.conninfo));
				await client.connect();
				await client.query('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public');
				await client.end();
				return {conninfo: server!.conninfo, async drop() {}};
			},
			async stop() {
				await server?.stop();
				server = undefined;
			},
		};
	}

	const admin = process.env.ILUM_TEST_POSTGRES!;
	return {
		name,
		async fresh() {
			const database = `ilum_ducklake_${randomBytes(6).toString('hex')}`;
			const client = new pg.Client(parseConninfo(admin));
			await client.connect();
			await client.query(`CREATE DATABASE ${database}`);
			await client.end();
			const config = parseConninfo(admin);
			const conninfo = [`host=${config.host ?? '127.0.0.1'}`, `port=${config.port ?? 5432}`, `dbname=${database}`, ...(config.user ? [`user=${config.user}`] : []), ...(config.password ? [`password=${String(config.password)}`] : [])].join(' ');
			return {
				conninfo,
				async drop() {
					const cleanup = new pg.Client(parseConninfo(admin));
					await cleanup.connect();
					await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
					await cleanup.end();
				},
			};
		},
		async stop() {},
	};
}
