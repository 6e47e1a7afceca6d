import fs from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import {UserError, usageError} from '../../errors.js';
import {DuckDbCatalog, PostgresCatalog, SqliteCatalog} from './backends.js';
import type {SqlCatalog} from './sql.js';

/**
A DuckLake catalog named as DuckDB's ATTACH names it:
`ducklake:<duckdb-file>`, `ducklake:duckdb:<file>`, `ducklake:sqlite:<file>`,
`ducklake:postgres:<libpq conninfo or postgres:// URI>`.
*/
export type CatalogLocation =
	| {readonly kind: 'duckdb'; readonly file: string}
	| {readonly kind: 'sqlite'; readonly file: string}
	| {readonly kind: 'postgres'; readonly conninfo: string; readonly config: pg.ClientConfig};

export const isDuckLakeRef = (ref: string) => ref.startsWith('ducklake:');

export function parseDuckLakeRef(ref: string): CatalogLocation {
	if (!isDuckLakeRef(ref)) {
		throw usageError(`'${ref}' is not a DuckLake ref`, 'write ducklake:<file>, ducklake:sqlite:<file> or ducklake:postgres:<conninfo>');
	}

	const rest = ref.slice('ducklake:'.length);
	if (rest.startsWith('sqlite:')) {
		return {kind: 'sqlite', file: needFile(rest.slice('sqlite:'.length), ref)};
	}

	if (rest.startsWith('postgres://') || rest.startsWith('postgresql://')) {
		return {kind: 'postgres', conninfo: rest, config: parseConninfo(rest)};
	}

	if (rest.startsWith('postgres:')) {
		const conninfo = rest.slice('postgres:'.length);
		return {kind: 'postgres', conninfo, config: parseConninfo(conninfo)};
	}

	if (rest.startsWith('duckdb:')) {
		return {kind: 'duckdb', file: needFile(rest.slice('duckdb:'.length), ref)};
	}

	if (/^(mysql|md|motherduck):/.test(rest)) {
		throw usageError(`${ref}: this catalog backend is not supported`, 'use a DuckDB file, SQLite or PostgreSQL catalog');
	}

	return {kind: 'duckdb', file: needFile(rest, ref)};
}

function needFile(file: string, ref: string): string {
	if (file === '') {
		throw usageError(`'${ref}' names no catalog file`, 'write ducklake:<file> or ducklake:sqlite:<file>');
	}

	return path.resolve(file);
}

/**
libpq connection strings: `key=value` pairs (values may be single-quoted, with `\` escapes) or a
`postgres://user:password@host:port/dbname?param=value` URI. Keys `pg` does not know are ignored;
unset ones fall back to the PG* environment variables as libpq does (pg reads them).
*/
export function parseConninfo(conninfo: string): pg.ClientConfig {
	const trimmed = conninfo.trim();
	const pairs: Record<string, string> = {};
	if (/^postgres(ql)?:\/\//.test(trimmed)) {
		let url: URL;
		try {
			url = new URL(trimmed);
		} catch {
			throw usageError(`'${redact(trimmed)}' is not a valid postgres:// URI`, 'write postgres://user:password@host:port/dbname');
		}

		if (url.hostname) {
			pairs.host = decodeURIComponent(url.hostname.replace(/^\[|\]$/g, ''));
		}

		if (url.port) {
			pairs.port = url.port;
		}

		if (url.username) {
			pairs.user = decodeURIComponent(url.username);
		}

		if (url.password) {
			pairs.password = decodeURIComponent(url.password);
		}

		const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
		if (database) {
			pairs.dbname = database;
		}

		for (const [key, value] of url.searchParams) {
			pairs[key] = value;
		}
	} else {
		let index = 0;
		const text = trimmed;
		while (index < text.length) {
			while (index < text.length && /\s/.test(text[index]!)) {
				index++;
			}

			if (index >= text.length) {
				break;
			}

			const equals = text.indexOf('=', index);
			if (equals === -1) {
				throw usageError(`'${redact(text)}' is not a libpq connection string (missing '=' after '${text.slice(index).split(/\s/)[0]}')`, 'write host=... port=... dbname=... user=...');
			}

			const key = text.slice(index, equals).trim();
			index = equals + 1;
			while (index < text.length && text[index] === ' ') {
				index++;
			}

			let value = '';
			if (text[index] === '\'') {
				index++;
				let closed = false;
				while (index < text.length) {
					const char = text[index]!;
					if (char === '\\' && index + 1 < text.length) {
						value += text[index + 1];
						index += 2;
						continue;
					}

					if (char === '\'') {
						closed = true;
						index++;
						break;
					}

					value += char;
					index++;
				}

				if (!closed) {
					throw usageError(`'${redact(text)}': unterminated quoted value for ${key}`, 'close the quote');
				}
			} else {
				while (index < text.length && !/\s/.test(text[index]!)) {
					if (text[index] === '\\' && index + 1 < text.length) {
						value += text[index + 1];
						index += 2;
						continue;
					}

					value += text[index];
					index++;
				}
			}

			pairs[key] = value;
		}
	}

	const config: pg.ClientConfig = {};
	if (pairs.host ?? pairs.hostaddr) {
		config.host = pairs.host ?? pairs.hostaddr;
	}

	if (pairs.port) {
		const port = Number(pairs.port);
		if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
			throw usageError(`port '${pairs.port}' in the connection string is not a port number`);
		}

		config.port = port;
	}

	if (pairs.dbname) {
		config.database = pairs.dbname;
	}

	if (pairs.user) {
		config.user = pairs.user;
	}

	if (pairs.password) {
		config.password = pairs.password;
	}

	if (pairs.options) {
		// e.g. options='-c search_path=lake' for a catalog outside the public schema.
		config.options = pairs.options;
	}

	if (pairs.application_name) {
		config.application_name = pairs.application_name;
	}

	if (pairs.connect_timeout) {
		config.connectionTimeoutMillis = Number(pairs.connect_timeout) * 1000;
	}

	if (pairs.sslmode && pairs.sslmode !== 'disable' && pairs.sslmode !== 'allow' && pairs.sslmode !== 'prefer') {
		config.ssl = pairs.sslmode === 'require' ? {rejectUnauthorized: false} : true;
	}

	config.connectionTimeoutMillis ??= 15_000;
	return config;
}

/** A conninfo or URI with any password replaced, for messages. */
export function redact(conninfo: string): string {
	return conninfo
		.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi, '$1***')
		.replace(/(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

/** Opens the catalog database. Exit 1 with one line when it cannot be reached or is not there. */
export async function openCatalog(location: CatalogLocation, options: {readOnly?: boolean} = {}): Promise<SqlCatalog> {
	switch (location.kind) {
		case 'sqlite': {
			mustExist(location.file);
			try {
				return new SqliteCatalog(location.file, options);
			} catch (error) {
				throw new UserError(`${location.file}: cannot open as SQLite (${(error as Error).message})`, {hint: 'check the file is a SQLite DuckLake catalog', cause: error});
			}
		}

		case 'duckdb': {
			mustExist(location.file);
			try {
				return await DuckDbCatalog.open(location.file, options);
			} catch (error) {
				const message = (error as Error).message.split('\n')[0]!;
				const hint = /lock/i.test(message) ? 'another process holds the file: stop it or work on a copy' : 'check the file is a DuckDB DuckLake catalog (for SQLite write ducklake:sqlite:<file>)';
				throw new UserError(`${location.file}: cannot open as DuckDB (${message})`, {hint, cause: error});
			}
		}

		case 'postgres': {
			const description = `postgres:${redact(location.conninfo)}`;
			try {
				return await PostgresCatalog.open(location.config, description);
			} catch (error) {
				const code = (error as NodeJS.ErrnoException).code;
				const message = (error as Error).message || code || 'connection failed';
				throw new UserError(`${description}: cannot connect (${message})`, {hint: 'check host, port, dbname, user and password in the connection string', cause: error});
			}
		}
	}
}

function mustExist(file: string) {
	if (!fs.existsSync(file)) {
		throw new UserError(`${file}: no such catalog file`, {hint: 'check the path after ducklake:'});
	}
}
