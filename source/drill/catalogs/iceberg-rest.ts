import http from 'node:http';
import type {AddressInfo} from 'node:net';
import type {FileStore} from '../../storage/file-store.js';
import {decodeMetadataBytes, encodeMetadataBytes, nextMetadataName, parseJson, stringifyJson, type RawMetadata} from '../../formats/iceberg/metadata.js';
import {appendMetadataLog, applyUpdates, failedRequirement, UnsupportedUpdateError, type TableRequirement, type TableUpdate} from '../../formats/iceberg/updates.js';

/**
An Iceberg REST catalog (apache/iceberg `open-api/rest-catalog-open-api.yaml`) for tests and the
drill world: config, namespaces, tables, loadTable, updateTable with requirements (409 on a failed
one). Metadata files are written through a FileStore whose root is the warehouse (an S3 bucket or a
local folder); the catalog's pointers (namespaces, current metadata file per table) are kept in
`.iceberg-rest/catalog.json` in the same store, so the catalog survives restarts and travels with
the bucket.
*/
export type IcebergRestServerOptions = {
	/** The warehouse: table metadata lives under `<namespace path>/<table>/metadata/`. */
	readonly store: FileStore;
	/** The warehouse as tables name it in `location` (default: the store's root URI). */
	readonly warehouse?: string;
	/** The `prefix` the config hands out (default `ilum`). */
	readonly prefix?: string;
	readonly host?: string;
	readonly port?: number;
	/** Extra table config returned by loadTable (e.g. `s3.endpoint`). */
	readonly tableConfig?: Record<string, string>;
	readonly now?: () => number;
	/** Do not keep the process alive for this server (the drill world's catalog). */
	readonly unref?: boolean;
	/**
	Read the catalog's pointers on the first request instead of in `start()` (a resumed drill world:
	its provider serves only once its pod is Ready). Until they can be read, requests get 503.
	*/
	readonly deferLoad?: boolean;
};

/** A failure injected into the next updateTable calls: answered before or after the commit is applied. */
export type InjectedFailure = {
	readonly status: number;
	/** `before`: nothing changes; `after`: the commit lands, the client still sees an error. */
	readonly when: 'before' | 'after';
	/** How many commits fail (default 1). */
	readonly times?: number;
};

type State = {namespaces: Record<string, Record<string, string>>; tables: Record<string, string>};
const statePath = '.iceberg-rest/catalog.json';
const separator = '\u001F';

class HttpError extends Error {
	readonly status: number;
	readonly type: string;

	constructor(status: number, type: string, message: string) {
		super(message);
		this.status = status;
		this.type = type;
	}
}

const noSuchTable = (name: string) => new HttpError(404, 'NoSuchTableException', `Table does not exist: ${name}`);
const noSuchNamespace = (name: string) => new HttpError(404, 'NoSuchNamespaceException', `Namespace does not exist: ${name}`);

function maxFieldId(type: any): number {
	let max = 0;
	for (const field of (type?.fields ?? []) as any[]) {
		max = Math.max(max, Number(field.id), maxFieldId(field.type));
	}

	if (type?.type === 'list') {
		max = Math.max(max, Number(type['element-id'] ?? 0), maxFieldId(type.element));
	}

	if (type?.type === 'map') {
		max = Math.max(max, Number(type['key-id'] ?? 0), Number(type['value-id'] ?? 0), maxFieldId(type.value));
	}

	return max;
}

export class IcebergRestCatalogServer {
	readonly store: FileStore;
	readonly warehouse: string;
	readonly prefix: string;
	/** Every updateTable request body received (parsed), for tests that check what a client sent. */
	readonly commits: Array<{table: string; requirements: TableRequirement[]; updates: TableUpdate[]}> = [];
	private readonly options: IcebergRestServerOptions;
	private server: http.Server | undefined;
	private state: State = {namespaces: {}, tables: {}};
	private readonly cache = new Map<string, RawMetadata>();
	private locks = new Map<string, Promise<unknown>>();
	private failures: Array<{status: number; when: 'before' | 'after'}> = [];
	private baseUrl = '';
	private loading: Promise<void> | undefined;

	constructor(options: IcebergRestServerOptions) {
		this.options = options;
		this.store = options.store;
		this.warehouse = (options.warehouse ?? options.store.root).replace(/\/+$/, '');
		this.prefix = options.prefix ?? 'ilum';
	}

	/** The catalog's base URL (what `history` takes as the ref), e.g. `http://127.0.0.1:41234`. */
	get url(): string {
		return this.baseUrl;
	}

	async start(): Promise<string> {
		if (!this.options.deferLoad) {
			await this.loadState();
		}

		this.server = http.createServer((request, response) => {
			void this.handle(request, response);
		});
		await new Promise<void>((resolve, reject) => {
			this.server!.once('error', reject);
			this.server!.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
				resolve();
			});
		});
		if (this.options.unref) {
			this.server.unref();
		}

		const address = this.server.address() as AddressInfo;
		this.baseUrl = `http://${address.address}:${address.port}`;
		return this.baseUrl;
	}

	/** Reads the pointers once (again after a failed attempt). */
	private async loadState(): Promise<void> {
		this.loading ??= (async () => {
			if (await this.store.exists(statePath)) {
				this.state = JSON.parse(Buffer.from(await this.store.read(statePath)).toString('utf8')) as State;
			}
		})().catch((error: unknown) => {
			this.loading = undefined;
			throw error;
		});
		return this.loading;
	}

	async stop(): Promise<void> {
		const server = this.server;
		this.server = undefined;
		if (server) {
			server.closeAllConnections();
			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
			});
		}
	}

	/** Makes the next updateTable call(s) answer `status` (500, 502, 504...) with a CommitStateUnknownException. */
	injectCommitFailure(failure: InjectedFailure) {
		for (let index = 0; index < (failure.times ?? 1); index++) {
			this.failures.push({status: failure.status, when: failure.when});
		}
	}

	/** Creates a namespace directly (same as POST /namespaces), for seeding. */
	async createNamespace(namespace: readonly string[], properties: Record<string, string> = {}) {
		const key = namespace.join(separator);
		if (!this.state.namespaces[key]) {
			this.state.namespaces[key] = properties;
			await this.persist();
		}
	}

	/** Creates a table directly (same as POST /tables); returns its metadata location. */
	async createTable(namespace: readonly string[], request: Record<string, any>): Promise<{metadataLocation: string; metadata: RawMetadata}> {
		return this.create(namespace.join(separator), request);
	}

	/** The current metadata of a table, as loadTable returns it. */
	async load(namespace: readonly string[], name: string): Promise<{metadataLocation: string; metadata: RawMetadata}> {
		return this.loadKey(namespace.join(separator) + separator + name, [...namespace, name].join('.'));
	}

	/** Commits requirements and updates directly (same as POST /tables/{table}). */
	async commit(namespace: readonly string[], name: string, request: {requirements?: TableRequirement[]; updates?: TableUpdate[]}) {
		return this.commitKey(namespace.join(separator), name, request);
	}

	private tableLocation(namespace: string, name: string) {
		return `${this.warehouse}/${namespace.split(separator).join('/')}/${name}`;
	}

	private relative(location: string): string {
		if (!location.startsWith(this.warehouse + '/')) {
			throw new HttpError(400, 'BadRequestException', `location ${location} is outside the warehouse ${this.warehouse}`);
		}

		return location.slice(this.warehouse.length + 1);
	}

	private async persist() {
		await this.store.put(statePath, Buffer.from(JSON.stringify(this.state, null, 2)));
	}

	private async loadKey(key: string, label: string) {
		const metadataLocation = this.state.tables[key];
		if (!metadataLocation) {
			throw noSuchTable(label);
		}

		let metadata = this.cache.get(metadataLocation);
		if (!metadata) {
			metadata = decodeMetadataBytes(await this.store.read(this.relative(metadataLocation)), metadataLocation);
			this.cache.set(metadataLocation, metadata);
		}

		return {metadataLocation, metadata};
	}

	private async create(namespace: string, request: Record<string, any>) {
		if (!this.state.namespaces[namespace]) {
			throw noSuchNamespace(namespace.split(separator).join('.'));
		}

		const name = String(request['name'] ?? '');
		if (!name || !request['schema']) {
			throw new HttpError(400, 'BadRequestException', 'CreateTableRequest needs name and schema');
		}

		const key = namespace + separator + name;
		if (this.state.tables[key]) {
			throw new HttpError(409, 'AlreadyExistsException', `Table already exists: ${namespace.split(separator).join('.')}.${name}`);
		}

		const location = String(request['location'] ?? this.tableLocation(namespace, name)).replace(/\/+$/, '');
		const properties = {...request['properties']} as Record<string, string>;
		const formatVersion = Number(properties['format-version'] ?? 2);
		delete properties['format-version'];
		const schema = {...request['schema'], 'schema-id': request['schema']['schema-id'] ?? 0};
		const spec = {'spec-id': 0, fields: request['partition-spec']?.fields ?? []};
		const order = request['write-order'] ? {...request['write-order'], 'order-id': request['write-order']['order-id'] ?? 1} : {'order-id': 0, fields: []};
		const now = this.now();
		const metadata: RawMetadata = {
			'format-version': formatVersion,
			'table-uuid': crypto.randomUUID(),
			location,
			...(formatVersion >= 2 ? {'last-sequence-number': 0} : {}),
			'last-updated-ms': now,
			'last-column-id': maxFieldId(schema),
			'current-schema-id': schema['schema-id'],
			schemas: [schema],
			...(formatVersion === 1 ? {schema, 'partition-spec': spec.fields} : {}),
			'default-spec-id': 0,
			'partition-specs': [spec],
			'last-partition-id': Math.max(999, ...spec.fields.map((field: any) => Number(field['field-id'] ?? 0))),
			'default-sort-order-id': order['order-id'],
			'sort-orders': [order],
			properties,
			'current-snapshot-id': formatVersion === 1 ? -1 : null,
			refs: {},
			snapshots: [],
			'snapshot-log': [],
			'metadata-log': [],
			...(formatVersion >= 3 ? {'next-row-id': 0} : {}),
		};
		const metadataLocation = `${location}/metadata/00000-${crypto.randomUUID()}.metadata.json`;
		await this.store.putIfAbsent(this.relative(metadataLocation), encodeMetadataBytes(metadata, false));
		this.state.tables[key] = metadataLocation;
		this.cache.set(metadataLocation, metadata);
		await this.persist();
		return {metadataLocation, metadata};
	}

	private now() {
		return this.options.now?.() ?? Date.now();
	}

	private async commitKey(namespace: string, name: string, request: {requirements?: TableRequirement[]; updates?: TableUpdate[]}) {
		const key = namespace + separator + name;
		const label = `${namespace.split(separator).join('.')}.${name}`;
		// One commit per table at a time: requirements are checked against what the commit replaces.
		const previous = this.locks.get(key) ?? Promise.resolve();
		const run = previous.catch(() => undefined).then(async () => {
			const requirements = request.requirements ?? [];
			const updates = request.updates ?? [];
			this.commits.push({table: label, requirements, updates});
			const failure = this.failures.shift();
			if (failure?.when === 'before') {
				throw new HttpError(failure.status, 'CommitStateUnknownException', `injected failure (${failure.status}) before the commit`);
			}

			const exists = Boolean(this.state.tables[key]);
			const current = exists ? await this.loadKey(key, label) : undefined;
			if (!current) {
				throw noSuchTable(label);
			}

			let failed: string | undefined;
			let next: RawMetadata;
			try {
				failed = failedRequirement(current.metadata, requirements);
				if (failed) {
					throw new HttpError(409, 'CommitFailedException', `Commit failed: ${failed}`);
				}

				const now = this.now();
				next = appendMetadataLog(applyUpdates(current.metadata, updates, now), current.metadataLocation, Number(current.metadata['last-updated-ms'] ?? now));
			} catch (error) {
				if (error instanceof UnsupportedUpdateError) {
					throw new HttpError(400, 'BadRequestException', error.message);
				}

				throw error;
			}

			const file = nextMetadataName(current.metadataLocation);
			const location = String(next['location']).replace(/\/+$/, '');
			const metadataLocation = `${location}/metadata/${file}`;
			await this.store.putIfAbsent(this.relative(metadataLocation), encodeMetadataBytes(next, false));
			this.state.tables[key] = metadataLocation;
			this.cache.set(metadataLocation, next);
			await this.persist();
			if (failure?.when === 'after') {
				throw new HttpError(failure.status, 'CommitStateUnknownException', `injected failure (${failure.status}) after the commit`);
			}

			return {metadataLocation, metadata: next};
		});
		this.locks.set(key, run);
		return run;
	}

	private async handle(request: http.IncomingMessage, response: http.ServerResponse) {
		try {
			await this.loadState().catch((error: unknown) => {
				throw new HttpError(503, 'ServiceUnavailableException', `the catalog's pointers cannot be read yet: ${(error as Error).message}`);
			});
			const url = new URL(request.url ?? '/', 'http://catalog');
			const body = request.method === 'POST' ? await readBody(request) : undefined;
			const result = await this.route(request.method ?? 'GET', url, body);
			if (result === undefined) {
				response.writeHead(204).end();
			} else {
				const text = stringifyJson(result);
				response.writeHead(200, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)}).end(text);
			}
		} catch (error) {
			const status = error instanceof HttpError ? error.status : 500;
			const type = error instanceof HttpError ? error.type : 'InternalServerError';
			const message = (error as Error).message;
			const text = JSON.stringify({error: {message, type, code: status}});
			if (request.method === 'HEAD') {
				response.writeHead(status).end();
			} else {
				response.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)}).end(text);
			}
		}
	}

	private async route(method: string, url: URL, body: any): Promise<unknown> {
		const parts = url.pathname.split('/').filter(Boolean).map(part => decodeURIComponent(part));
		if (parts[0] !== 'v1') {
			throw new HttpError(404, 'NotFoundException', `no route ${method} ${url.pathname}`);
		}

		if (parts.length === 2 && parts[1] === 'config' && method === 'GET') {
			return {
				defaults: {},
				overrides: {prefix: this.prefix, warehouse: this.warehouse},
				endpoints: [
					'GET /v1/{prefix}/namespaces', 'POST /v1/{prefix}/namespaces', 'GET /v1/{prefix}/namespaces/{namespace}',
					'HEAD /v1/{prefix}/namespaces/{namespace}', 'DELETE /v1/{prefix}/namespaces/{namespace}',
					'GET /v1/{prefix}/namespaces/{namespace}/tables', 'POST /v1/{prefix}/namespaces/{namespace}/tables',
					'GET /v1/{prefix}/namespaces/{namespace}/tables/{table}', 'HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}',
					'POST /v1/{prefix}/namespaces/{namespace}/tables/{table}', 'DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}',
				],
			};
		}

		if (parts[1] !== this.prefix || parts[2] !== 'namespaces') {
			throw new HttpError(404, 'NotFoundException', `no route ${method} ${url.pathname} (prefix is ${this.prefix})`);
		}

		const namespace = parts[3];
		if (parts.length === 3) {
			if (method === 'GET') {
				const parent = url.searchParams.get('parent') ?? '';
				const depth = parent ? parent.split(separator).length : 0;
				const found = new Set<string>();
				for (const key of Object.keys(this.state.namespaces)) {
					const levels = key.split(separator);
					if (levels.length > depth && (depth === 0 || levels.slice(0, depth).join(separator) === parent)) {
						found.add(levels.slice(0, depth + 1).join(separator));
					}
				}

				return {namespaces: [...found].sort().map(key => key.split(separator))};
			}

			if (method === 'POST') {
				const levels = body?.namespace as string[] | undefined;
				if (!Array.isArray(levels) || levels.length === 0) {
					throw new HttpError(400, 'BadRequestException', 'CreateNamespaceRequest needs namespace');
				}

				const key = levels.join(separator);
				if (this.state.namespaces[key]) {
					throw new HttpError(409, 'AlreadyExistsException', `Namespace already exists: ${levels.join('.')}`);
				}

				this.state.namespaces[key] = body.properties ?? {};
				await this.persist();
				return {namespace: levels, properties: this.state.namespaces[key]};
			}
		}

		if (namespace === undefined) {
			throw new HttpError(405, 'BadRequestException', `method ${method} not allowed`);
		}

		const label = namespace.split(separator).join('.');
		if (parts.length === 4) {
			const properties = this.state.namespaces[namespace];
			if (!properties) {
				throw noSuchNamespace(label);
			}

			if (method === 'GET') {
				return {namespace: namespace.split(separator), properties};
			}

			if (method === 'HEAD') {
				return undefined;
			}

			if (method === 'DELETE') {
				if (Object.keys(this.state.tables).some(key => key.startsWith(namespace + separator) && key.split(separator).length === namespace.split(separator).length + 1)) {
					throw new HttpError(409, 'NamespaceNotEmptyException', `Namespace not empty: ${label}`);
				}

				delete this.state.namespaces[namespace];
				await this.persist();
				return undefined;
			}
		}

		if (parts[4] === 'tables') {
			if (!this.state.namespaces[namespace]) {
				throw noSuchNamespace(label);
			}

			if (parts.length === 5 && method === 'GET') {
				const identifiers = Object.keys(this.state.tables)
					.map(key => key.split(separator))
					.filter(levels => levels.slice(0, -1).join(separator) === namespace)
					.map(levels => ({namespace: levels.slice(0, -1), name: levels.at(-1)}));
				return {identifiers};
			}

			if (parts.length === 5 && method === 'POST') {
				const created = await this.create(namespace, body ?? {});
				return {'metadata-location': created.metadataLocation, metadata: created.metadata, config: this.options.tableConfig ?? {}};
			}

			if (parts.length === 6) {
				const name = parts[5]!;
				const key = namespace + separator + name;
				if (method === 'GET' || method === 'HEAD') {
					const loaded = await this.loadKey(key, `${label}.${name}`);
					return method === 'HEAD' ? undefined : {'metadata-location': loaded.metadataLocation, metadata: loaded.metadata, config: this.options.tableConfig ?? {}};
				}

				if (method === 'POST') {
					const committed = await this.commitKey(namespace, name, {requirements: body?.requirements ?? [], updates: body?.updates ?? []});
					return {'metadata-location': committed.metadataLocation, metadata: committed.metadata};
				}

				if (method === 'DELETE') {
					if (!this.state.tables[key]) {
						throw noSuchTable(`${label}.${name}`);
					}

					delete this.state.tables[key];
					await this.persist();
					return undefined;
				}
			}
		}

		throw new HttpError(405, 'BadRequestException', `method ${method} not allowed on ${url.pathname}`);
	}
}

async function readBody(request: http.IncomingMessage): Promise<any> {
	const chunks: Buffer[] = [];
	for await (const chunk of request) {
		chunks.push(chunk as Buffer);
	}

	const text = Buffer.concat(chunks).toString('utf8');
	if (!text) {
		return undefined;
	}

	try {
		return parseJson(text);
	} catch (error) {
		throw new HttpError(400, 'BadRequestException', `malformed JSON: ${(error as Error).message}`);
	}
}

/** Starts a catalog server on loopback; stop it with `server.stop()`. */
export async function startIcebergRestCatalog(options: IcebergRestServerOptions): Promise<IcebergRestCatalogServer> {
	const server = new IcebergRestCatalogServer(options);
	await server.start();
	return server;
}
