import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {DatabaseSync} from 'node:sqlite';
import {UserError, usageError} from '../../errors.js';
import type {FileInfo, FileStore} from '../../storage/file-store.js';
import {FileNotFoundError} from '../../storage/file-store.js';
import {LocalFileStore} from '../../storage/local-file-store.js';
import type {TableRef} from '../types.js';
import {decodeMetadataBytes, isMetadataFileName, metadataVersion, PathMapper, readMetadata, type TableMetadata} from './metadata.js';
import {RestCatalogClient, RestCatalogError} from './rest-client.js';

/** Opens a FileStore for a location URI (`/path`, `file://`, `s3://bucket/prefix`). */
export type StoreOpener = (uri: string) => FileStore | Promise<FileStore>;

export type IcebergOptions = {
	/** For `s3://` (and any other) locations; local paths and `file:` work without it. */
	readonly openStore?: StoreOpener;
	readonly fetch?: typeof fetch;
	/** Bearer token for REST catalogs (default: $ICEBERG_REST_TOKEN). */
	readonly restToken?: string;
	/** Reads in flight at once. */
	readonly concurrency?: number;
};

export type TableSource =
	| {readonly kind: 'path'; readonly hint?: string; readonly pinned: boolean}
	| {readonly kind: 'sql'; readonly database: string; readonly catalog: string; readonly namespace: string; readonly table: string}
	| {readonly kind: 'rest'; readonly client: RestCatalogClient; readonly namespace: readonly string[]; readonly table: string};

export type OpenTable = {
	readonly ref: TableRef;
	readonly source: TableSource;
	/** The table's root (its location). */
	readonly store: FileStore;
	/** The current metadata file: relative to `store` when it is under it, else as the catalog names it. */
	readonly metadataFile: string;
	/** The current metadata file as the catalog (or the table's own paths) write it. */
	readonly metadataLocation: string;
	readonly metadata: TableMetadata;
	readonly mapper: PathMapper;
	/** Every file under the table root, by relative path: one listing, started when the table is opened. */
	readonly listing: Promise<ReadonlyMap<string, FileInfo>>;
	readonly notes: readonly string[];
	/**
	Resolves to this table once the listing confirms its current metadata file, or to the table
	re-opened at the file the listing shows is current (a Hadoop table whose hint lags behind).
	*/
	confirm(): Promise<OpenTable>;
};

const defaultOpener = (options: IcebergOptions) => async (uri: string): Promise<FileStore> => {
	if (uri.startsWith('file:')) {
		return new LocalFileStore(fileURLToPath(uri.startsWith('file://') ? uri : 'file://' + uri.slice('file:'.length)));
	}

	if (/^[a-zA-Z][a-zA-Z\d+.-]+:\/\//.test(uri)) {
		if (options.openStore) {
			return options.openStore(uri);
		}

		throw new UserError(`${uri}: no storage client for this location`, {hint: 'pass the S3 endpoint and credentials (--s3-endpoint, AWS_* variables)'});
	}

	return new LocalFileStore(uri);
};

export const openStore = async (location: string, options: IcebergOptions): Promise<FileStore> => {
	// Hadoop's S3 schemes name the same buckets.
	const uri = location.replace(/^s3[an]:\/\//i, 's3://');
	if (options.openStore) {
		return options.openStore(uri);
	}

	return defaultOpener(options)(uri);
};

const isUrl = (ref: string) => /^https?:\/\//i.test(ref);
const isSqlite = (file: string) => {
	try {
		const fd = fs.openSync(file, 'r');
		const header = Buffer.alloc(16);
		fs.readSync(fd, header, 0, 16, 0);
		fs.closeSync(fd);
		return header.toString('latin1') === 'SQLite format 3\u0000';
	} catch {
		return false;
	}
};

/** Whether a ref names an Iceberg table this module can open without listing storage (REST URL, SQL catalog file). */
export function isIcebergCatalogRef(ref: string): boolean {
	return isUrl(ref) || (!ref.includes('://') && isSqlite(ref.startsWith('file:') ? fileURLToPath(ref) : ref));
}

function splitTable(table: string | undefined, what: string): {namespace: string[]; name: string} {
	const parts = (table ?? '').split('.').filter(Boolean);
	if (parts.length < 2) {
		throw usageError(`${what} needs --table <namespace>.<table>`, table ? `'${table}' has no namespace` : undefined);
	}

	return {namespace: parts.slice(0, -1), name: parts.at(-1)!};
}

function listAll(store: FileStore): Promise<Map<string, FileInfo>> {
	const listing = (async () => {
		const files = new Map<string, FileInfo>();
		for (const file of await store.list('')) {
			files.set(file.path, file);
		}

		return files;
	})();
	// Awaited later (or not at all when opening fails first): never an unhandled rejection.
	listing.catch(() => undefined);
	return listing;
}

async function readIfExists(store: FileStore, file: string): Promise<Uint8Array | undefined> {
	try {
		return await store.read(file);
	} catch (error) {
		if (error instanceof FileNotFoundError) {
			return undefined;
		}

		throw error;
	}
}

async function readMetadataBytes(store: FileStore, relative: string): Promise<Uint8Array> {
	try {
		return await store.read(relative);
	} catch (error) {
		if (error instanceof FileNotFoundError) {
			throw new UserError(`${store.root}/${relative}: the current metadata file is missing`, {hint: 'the catalog points at a file that is gone'});
		}

		throw error;
	}
}

async function readMetadataFile(store: FileStore, relative: string) {
	const bytes = await readMetadataBytes(store, relative);
	const file = `${store.root}/${relative}`;
	return readMetadata(decodeMetadataBytes(bytes, file), file);
}

/** Finds the current metadata file of a path-based table from its listing: version hint, else the newest. */
export function locateCurrent(files: ReadonlyMap<string, FileInfo>, hintText: string | undefined): {file: string; notes: string[]} | undefined {
	const notes: string[] = [];
	const candidates = [...files.values()].filter(file => file.path.startsWith('metadata/') && !file.path.slice('metadata/'.length).includes('/') && isMetadataFileName(file.path));
	if (candidates.length === 0) {
		return undefined;
	}

	if (hintText !== undefined) {
		const hint = hintText.trim();
		if (/^\d+$/.test(hint)) {
			const n = Number(hint);
			const byVersion = new Map<number, string>();
			for (const file of candidates) {
				const base = file.path.slice('metadata/'.length);
				if (/^v\d+\./.test(base)) {
					byVersion.set(metadataVersion(base)!, file.path);
				}
			}

			if (byVersion.has(n)) {
				let version = n;
				// A writer may have crashed between the metadata file and the hint: Hadoop tables then read on.
				while (byVersion.has(version + 1)) {
					version++;
				}

				if (version !== n) {
					notes.push(`version hint says ${n} but v${version} exists: v${version} is current`);
				}

				return {file: byVersion.get(version)!, notes};
			}

			notes.push(`version hint names v${n}, which does not exist: using the newest metadata file`);
		} else if (files.has(`metadata/${hint}`)) {
			return {file: `metadata/${hint}`, notes};
		} else {
			notes.push(`version hint '${hint.slice(0, 40)}' is not understood: using the newest metadata file`);
		}
	}

	const newest = candidates.sort((a, b) => {
		const va = metadataVersion(a.path) ?? -1;
		const vb = metadataVersion(b.path) ?? -1;
		if (va !== vb) {
			return vb - va;
		}

		const ta = a.lastModified?.getTime() ?? 0;
		const tb = b.lastModified?.getTime() ?? 0;
		return tb !== ta ? tb - ta : (a.path < b.path ? 1 : -1);
	})[0]!;
	return {file: newest.path, notes};
}

/** Opens an Iceberg table from a ref: a REST catalog URL, a pyiceberg SQL catalog file, a table folder (path, file://, s3://) or one metadata file. */
export async function openTable(ref: TableRef, options: IcebergOptions = {}): Promise<OpenTable> {
	return (await openTableFast(ref, options)).confirm();
}

/**
Like `openTable`, but returns as soon as the current metadata is read, with the table's listing
still under way (history reads manifests meanwhile); call `confirm()` before trusting the result.
*/
export async function openTableFast(ref: TableRef, options: IcebergOptions = {}): Promise<OpenTable> {
	const given = ref.ref;
	if (isUrl(given)) {
		return openRest(ref, options);
	}

	const local = given.includes('://') && !given.startsWith('file:') ? undefined : (given.startsWith('file:') ? fileURLToPath(given.startsWith('file://') ? given : 'file://' + given.slice(5)) : given);
	if (local !== undefined) {
		let stat: fs.Stats | undefined;
		try {
			stat = fs.statSync(local);
		} catch {
			throw new UserError(`${given}: no such file or folder`, {hint: 'name an Iceberg table folder, a metadata file, a catalog file or a REST catalog URL'});
		}

		if (stat.isFile() && isSqlite(local)) {
			return openSql(ref, local, options);
		}

		if (stat.isDirectory() && ref.table && !fs.existsSync(path.join(local, 'metadata')) && fs.existsSync(path.join(local, 'catalog.db'))) {
			return openSql(ref, path.join(local, 'catalog.db'), options);
		}

		if (stat.isFile()) {
			if (!isMetadataFileName(local)) {
				throw new UserError(`${given}: not an Iceberg table (a file that is neither a metadata file nor a catalog)`);
			}

			const root = path.dirname(path.dirname(path.resolve(local)));
			const store = await openStore(root, options);
			return openPath(ref, store, options, path.relative(root, path.resolve(local)).split(path.sep).join('/'));
		}
	}

	if (!local && isMetadataFileName(given)) {
		const metadataDir = given.slice(0, given.lastIndexOf('/'));
		const root = metadataDir.slice(0, metadataDir.lastIndexOf('/'));
		const store = await openStore(root, options);
		return openPath(ref, store, options, given.slice(root.length + 1));
	}

	return openPath(ref, await openStore(local ?? given, options), options);
}

async function openPath(ref: TableRef, store: FileStore, options: IcebergOptions, pinned?: string): Promise<OpenTable> {
	// A local listing stats every file: the metadata read queued behind thousands of stats would hold
	// up everything else, so it starts once the current metadata file is read. Remote listings
	// (pages of a thousand) start at once, alongside.
	let started: Promise<Map<string, FileInfo>> | undefined;
	const startListing = () => {
		started ??= listAll(store);
		return started;
	};

	if (!(store instanceof LocalFileStore)) {
		startListing();
	}

	let hint: string | undefined;
	let hintText: string | undefined;
	for (const name of ['metadata/version-hint.text', 'metadata/version-hint.txt']) {
		// eslint-disable-next-line no-await-in-loop
		const bytes = await readIfExists(store, name);
		if (bytes) {
			hint = name;
			hintText = Buffer.from(bytes).toString('utf8');
			break;
		}
	}

	// With a numeric hint the current file can be read before the listing is back.
	let file = pinned;
	let bytes: Uint8Array | undefined;
	if (!file && hintText && /^\d+$/.test(hintText.trim())) {
		const n = Number(hintText.trim());
		for (const candidate of [`metadata/v${n}.metadata.json`, `metadata/v${n}.gz.metadata.json`, `metadata/v${n}.metadata.json.gz`]) {
			// eslint-disable-next-line no-await-in-loop
			bytes = await readIfExists(store, candidate);
			if (bytes) {
				file = candidate;
				break;
			}
		}
	}

	let notes: string[] = [];
	if (!file) {
		const files = await startListing();
		const located = locateCurrent(files, hintText);
		if (!located) {
			throw new UserError(`${store.root}: not an Iceberg table (no metadata/*.metadata.json)`, {hint: [...files.keys()].some(name => name.startsWith('_delta_log/')) ? 'this is a Delta table' : 'name the table folder, the one holding metadata/'});
		}

		file = located.file;
		notes = located.notes;
	}

	if (!bytes) {
		bytes = await readMetadataBytes(store, file);
	}

	const listing = startListing();
	const metadata = readMetadata(decodeMetadataBytes(bytes, `${store.root}/${file}`), `${store.root}/${file}`);
	const mapper = new PathMapper(metadata.location);
	const table: OpenTable = {
		ref,
		source: {kind: 'path', hint, pinned: Boolean(pinned)},
		store,
		metadataFile: file,
		metadataLocation: mapper.toWritten(file),
		metadata,
		mapper,
		listing,
		notes,
		async confirm() {
			if (pinned) {
				return table;
			}

			const located = locateCurrent(await listing, hintText);
			if (!located || located.file === file) {
				return table;
			}

			// The hint lags behind a newer vN file (a writer stopped between the two): that file is current.
			const reopened = await openPath(ref, store, options, located.file);
			const fixed: OpenTable = {...reopened, source: {kind: 'path', hint, pinned: false}, notes: located.notes, confirm: async () => fixed};
			return fixed;
		},
	};
	return table;
}

type SqlRow = {catalog_name: string; table_namespace: string; table_name: string; metadata_location: string | null};

/** Finds where a path written by another machine lives here: the longest suffix of it that exists under `base`. */
function findLocally(base: string, written: string): string | undefined {
	const parts = written.replace(/^[a-zA-Z][a-zA-Z\d+.-]+:\/\/[^/]*/, '').split('/').filter(part => part && part !== '.');
	for (let index = 0; index < parts.length; index++) {
		const candidate = path.join(base, ...parts.slice(index));
		if (fs.existsSync(candidate)) {
			return candidate;
		}
	}

	return undefined;
}

async function openSql(ref: TableRef, database: string, options: IcebergOptions): Promise<OpenTable> {
	const {namespace, name} = splitTable(ref.table, `the SQL catalog ${database}`);
	let rows: SqlRow[];
	const db = new DatabaseSync(database, {readOnly: true});
	try {
		rows = db.prepare('SELECT catalog_name, table_namespace, table_name, metadata_location FROM iceberg_tables WHERE table_name = ?').all(name) as SqlRow[];
	} catch (error) {
		throw new UserError(`${database}: not an Iceberg SQL catalog (${(error as Error).message})`);
	} finally {
		db.close();
	}

	const wanted = namespace.join('.');
	let matches = rows.filter(row => row.table_namespace === wanted);
	if (matches.length === 0 && namespace.length > 1) {
		// catalog.namespace.table
		matches = rows.filter(row => row.catalog_name === namespace[0] && row.table_namespace === namespace.slice(1).join('.'));
	}

	if (matches.length === 0) {
		throw new UserError(`${database}: no table ${ref.table} in the catalog`, {hint: rows.length > 0 ? `tables named ${name}: ${rows.map(row => `${row.catalog_name}/${row.table_namespace}.${row.table_name}`).join(', ')}` : undefined});
	}

	if (matches.length > 1) {
		throw usageError(`${database}: ${ref.table} exists in several catalogs (${matches.map(row => row.catalog_name).join(', ')})`, 'name it as <catalog>.<namespace>.<table>');
	}

	const row = matches[0]!;
	if (!row.metadata_location) {
		throw new UserError(`${database}: ${ref.table} has no metadata location (created but never committed)`);
	}

	const written = row.metadata_location;
	let store: FileStore;
	let metadataFile: string;
	if (/^[a-zA-Z][a-zA-Z\d+.-]+:\/\//.test(written) && !written.startsWith('file:')) {
		const metadataDir = written.slice(0, written.lastIndexOf('/'));
		const root = metadataDir.slice(0, metadataDir.lastIndexOf('/'));
		store = await openStore(root, options);
		metadataFile = written.slice(root.length + 1);
	} else {
		const found = findLocally(path.dirname(path.resolve(database)), written.startsWith('file:') ? fileURLToPath(written.startsWith('file://') ? written : 'file://' + written.slice(5)) : written);
		if (!found) {
			throw new UserError(`${database}: ${ref.table} points at ${written}, which is not found next to the catalog`, {hint: 'the metadata file is missing'});
		}

		const root = path.dirname(path.dirname(found));
		store = await openStore(root, options);
		metadataFile = path.relative(root, found).split(path.sep).join('/');
	}

	const listing = listAll(store);
	const metadata = await readMetadataFile(store, metadataFile);
	const table: OpenTable = {
		ref,
		source: {kind: 'sql', database, catalog: row.catalog_name, namespace: row.table_namespace, table: row.table_name},
		store,
		metadataFile,
		metadataLocation: written,
		metadata,
		mapper: new PathMapper(metadata.location),
		listing,
		notes: [],
		confirm: async () => table,
	};
	return table;
}

function restClient(ref: TableRef, options: IcebergOptions): RestCatalogClient {
	const url = new URL(ref.ref);
	const warehouse = url.searchParams.get('warehouse') ?? undefined;
	url.search = '';
	return new RestCatalogClient(url.href, {fetch: options.fetch, token: options.restToken ?? process.env['ICEBERG_REST_TOKEN'], warehouse});
}

export async function loadRest(client: RestCatalogClient, namespace: readonly string[], table: string, ref: TableRef) {
	try {
		return await client.loadTable(namespace, table);
	} catch (error) {
		if (error instanceof RestCatalogError) {
			if (error.status === 404) {
				throw new UserError(`${ref.ref}: no table ${[...namespace, table].join('.')} (${error.type}: ${error.message})`);
			}

			throw new UserError(`${ref.ref}: loading ${[...namespace, table].join('.')} failed: HTTP ${error.status} ${error.type}: ${error.message}`);
		}

		throw error;
	}
}

async function openRest(ref: TableRef, options: IcebergOptions): Promise<OpenTable> {
	const {namespace, name} = splitTable(ref.table, `the Iceberg REST catalog ${ref.ref}`);
	const client = restClient(ref, options);
	const loaded = await loadRest(client, namespace, name, ref);
	const label = `${ref.ref} ${ref.table}`;
	const metadata = readMetadata(loaded.metadata, `${label} (${loaded.metadataLocation})`);
	const store = await openStore(metadata.location, options);
	const listing = listAll(store);
	const mapper = new PathMapper(metadata.location);
	const table: OpenTable = {
		ref,
		source: {kind: 'rest', client, namespace, table: name},
		store,
		metadataFile: mapper.toRelative(loaded.metadataLocation) ?? loaded.metadataLocation,
		metadataLocation: loaded.metadataLocation,
		metadata,
		mapper,
		listing,
		notes: [],
		confirm: async () => table,
	};
	return table;
}
