import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {DuckDBInstance} from '@duckdb/node-api';
import {parquetMetadata} from 'hyparquet';
import {UserError} from '../../errors.js';
import type {FileStore} from '../../storage/file-store.js';
import type {CatalogState, DataFileRow, DeleteFileRow, LiveFile} from './catalog.js';

const schemeOf = (location: string) => /^([a-z][a-z\d+.-]*):\/\//i.exec(location)?.[1]?.toLowerCase();

const withSlash = (location: string) => location.endsWith('/') ? location : location + '/';

/**
Where a DuckLake catalog's files live. File paths chain: a relative file path is relative to its
table's path, a relative table path to its schema's path, a relative schema path to `data_path`
(catalogs before 0.3 had no schema or table paths: files were relative to `data_path`). A
relative `data_path` is relative to the catalog file's folder (or the working directory for a
server catalog).
*/
export class DataStorage {
	/** The resolved data path: an absolute local path or a URI, ending with '/'. */
	readonly root: string;
	private readonly open: (location: string) => FileStore;
	private readonly state: CatalogState;
	private listing?: Promise<Map<string, number>>;
	private readonly outside = new Map<string, Promise<Map<string, number>>>();

	private readonly serverCopy?: (from: string, to: string) => Promise<void>;

	constructor(state: CatalogState, options: {base: string; open: (location: string) => FileStore; dataPathOverride?: string; /** s3:// to s3:// copies on the server (CopyObject). */ serverCopy?: (from: string, to: string) => Promise<void>}) {
		this.state = state;
		this.open = options.open;
		this.serverCopy = options.serverCopy;
		const dataPath = options.dataPathOverride ?? state.dataPath;
		if (dataPath === '') {
			throw new UserError('the DuckLake catalog has no data_path in ducklake_metadata', {hint: 'check the catalog is complete'});
		}

		this.root = withSlash(resolveLocation(options.base, dataPath));
		const scheme = schemeOf(this.root);
		if (scheme && scheme !== 's3' && scheme !== 'file') {
			throw new UserError(`data_path ${this.root}: ${scheme}:// storage is not supported`, {hint: 'this tool reads local folders and S3'});
		}
	}

	/** The full location of a data or delete file. */
	locate(file: DataFileRow | DeleteFileRow): string {
		if (!file.pathIsRelative) {
			return file.path.startsWith('file://') ? new URL(file.path).pathname : file.path;
		}

		return this.tableBase(file.tableId) + file.path;
	}

	/** The location as shown to users: relative to data_path when under it. */
	display(location: string): string {
		return location.startsWith(this.root) ? location.slice(this.root.length) : location;
	}

	/** The folder new files of a table go to (data_path + schema path + table path). */
	tableFolder(tableId: number): string {
		return this.tableBase(tableId);
	}

	private tableBase(tableId: number): string {
		const table = [...this.state.tables].reverse().find(row => row.id === tableId);
		const schema = table ? [...this.state.schemas].reverse().find(row => row.id === table.schemaId) : undefined;
		let base = this.root;
		if (schema?.path) {
			base = withSlash(schema.pathIsRelative ? base + schema.path : schema.path);
		}

		if (table?.path) {
			base = withSlash(table.pathIsRelative ? base + table.path : table.path);
		}

		return base;
	}

	/** Sizes of the given locations that exist (one listing of data_path, plus one per folder outside it). */
	async sizes(locations: Iterable<string>): Promise<Map<string, number>> {
		const found = new Map<string, number>();
		const inRoot = await this.rootListing();
		for (const location of locations) {
			if (location.startsWith(this.root)) {
				const size = inRoot.get(location.slice(this.root.length));
				if (size !== undefined) {
					found.set(location, size);
				}

				continue;
			}

			const folder = location.slice(0, location.lastIndexOf('/') + 1);
			let listing = this.outside.get(folder);
			if (!listing) {
				listing = listAll(this.store(folder));
				this.outside.set(folder, listing);
			}

			// eslint-disable-next-line no-await-in-loop
			const size = (await listing).get(location.slice(folder.length));
			if (size !== undefined) {
				found.set(location, size);
			}
		}

		return found;
	}

	private async rootListing(): Promise<Map<string, number>> {
		this.listing ??= listAll(this.store(this.root));
		return this.listing;
	}

	private readonly stores = new Map<string, FileStore>();

	/** One store per folder, opened once. */
	private store(folder: string): FileStore {
		let store = this.stores.get(folder);
		if (!store) {
			store = this.open(folder);
			this.stores.set(folder, store);
		}

		return store;
	}

	/** Rows in the given live files, from the Parquet footers: data rows minus delete rows. */
	async footerRows(files: readonly LiveFile[]): Promise<number> {
		const locations = files.flatMap(file => [this.locate(file.data), ...(file.deletes ? [this.locate(file.deletes)] : [])]);
		const counts = await this.footerCounts(locations);
		let rows = 0;
		for (const file of files) {
			rows += counts.get(this.locate(file.data))!;
			if (file.deletes) {
				rows -= counts.get(this.locate(file.deletes))!;
			}
		}

		return rows;
	}

	/** The store and key for a location (the data path's store when under it). */
	private where(location: string): {store: FileStore; key: string} {
		const folder = location.startsWith(this.root) ? this.root : location.slice(0, location.lastIndexOf('/') + 1);
		return {store: this.store(folder), key: location.slice(folder.length)};
	}

	/** Copies a file byte for byte to a new location (created only if absent). */
	async copy(from: string, to: string): Promise<number> {
		if (!schemeOf(from) && !schemeOf(to)) {
			// Local: no buffering, and never over an existing file.
			await fs.copyFile(from, to, fs.constants.COPYFILE_EXCL);
			return (await fs.stat(to)).size;
		}

		if (this.serverCopy && schemeOf(from) === 's3' && schemeOf(to) === 's3') {
			try {
				await this.serverCopy(from, to);
				return 0;
			} catch {
				// A server without CopyObject (or an object over its 5 GB limit): copy through this process.
			}
		}

		const source = this.where(from);
		const bytes = await source.store.read(source.key);
		const target = this.where(to);
		await target.store.putIfAbsent(target.key, bytes);
		return bytes.byteLength;
	}

	/**
	Writes a positional delete file for another data file: the same positions, `file_path` set to
	`dataFile`. Returns the new file's size and footer size.
	*/
	async rewriteDeleteFile(from: string, to: string, dataFile: string): Promise<{size: number; footer: number}> {
		const source = this.where(from);
		const bytes = await source.store.read(source.key);
		const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-ducklake-'));
		const instance = await DuckDBInstance.create(':memory:');
		const connection = await instance.connect();
		try {
			const input = path.join(folder, 'in.parquet');
			const output = path.join(folder, 'out.parquet');
			await fs.writeFile(input, bytes);
			const quote = (text: string) => `'${text.replaceAll('\'', '\'\'')}'`;
			await connection.run(`COPY (SELECT ${quote(dataFile)} AS file_path, CAST(pos AS BIGINT) AS pos FROM read_parquet(${quote(input)}) ORDER BY pos) TO ${quote(output)} (FORMAT parquet, FIELD_IDS {file_path: 2147483546, pos: 2147483545})`);
			const [row] = (await connection.runAndReadAll(`SELECT file_size_bytes, footer_size FROM parquet_file_metadata(${quote(output)})`)).getRows();
			const target = this.where(to);
			await target.store.putIfAbsent(target.key, await fs.readFile(output));
			return {size: Number(row![0]), footer: Number(row![1])};
		} finally {
			connection.closeSync();
			instance.closeSync();
			await fs.rm(folder, {recursive: true, force: true});
		}
	}

	/** `num_rows` of each Parquet file: DuckDB's parquet_file_metadata for local files, hyparquet over the bytes for S3. */
	async footerCounts(locations: readonly string[]): Promise<Map<string, number>> {
		const counts = new Map<string, number>();
		const local = locations.filter(location => !schemeOf(location));
		if (local.length > 0) {
			const instance = await DuckDBInstance.create(':memory:');
			const connection = await instance.connect();
			try {
				const list = local.map(location => `'${location.replaceAll('\'', '\'\'')}'`).join(', ');
				const reader = await connection.runAndReadAll(`SELECT file_name, num_rows FROM parquet_file_metadata([${list}])`);
				for (const [name, rows] of reader.getRows()) {
					counts.set(path.resolve(String(name)), Number(rows));
				}
			} finally {
				connection.closeSync();
				instance.closeSync();
			}

			for (const location of local) {
				const resolved = counts.get(path.resolve(location));
				if (resolved !== undefined) {
					counts.set(location, resolved);
				}
			}
		}

		for (const location of locations.filter(location => schemeOf(location))) {
			const folder = location.startsWith(this.root) ? this.root : location.slice(0, location.lastIndexOf('/') + 1);
			// eslint-disable-next-line no-await-in-loop
			const bytes = await this.store(folder).read(location.slice(folder.length));
			const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
			counts.set(location, Number(metadata.num_rows));
		}

		return counts;
	}
}

async function listAll(store: FileStore): Promise<Map<string, number>> {
	const files = await store.list('');
	return new Map(files.map(file => [file.path, file.size]));
}

/** A data_path (or any path) made absolute: URIs and absolute paths as they are, relative ones against `base`. */
export function resolveLocation(base: string, location: string): string {
	if (schemeOf(location)) {
		return location.startsWith('file://') ? new URL(location).pathname : location;
	}

	if (path.isAbsolute(location)) {
		return location;
	}

	if (schemeOf(base)) {
		return withSlash(base) + location;
	}

	return path.resolve(base, location) + (location.endsWith('/') ? '/' : '');
}
