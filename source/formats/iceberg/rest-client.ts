import {parseJson, stringifyJson, type RawMetadata} from './metadata.js';

/** A failed REST catalog call: HTTP status and the `{"error": {...}}` body's type and message. */
export class RestCatalogError extends Error {
	readonly status: number;
	readonly type: string;

	constructor(status: number, type: string, message: string) {
		super(message);
		this.name = 'RestCatalogError';
		this.status = status;
		this.type = type;
	}
}

export type LoadTableResult = {
	readonly metadataLocation: string;
	readonly metadata: RawMetadata;
	readonly config: Readonly<Record<string, string>>;
};

export type RestClientOptions = {
	readonly fetch?: typeof fetch;
	/** Bearer token (`Authorization: Bearer ...`). */
	readonly token?: string;
	/** `?warehouse=` for GET /v1/config. */
	readonly warehouse?: string;
};

/** The few Iceberg REST catalog calls ilum-restore needs: config, loadTable, updateTable. */
export class RestCatalogClient {
	readonly baseUrl: string;
	private readonly options: RestClientOptions;
	private prefix: string | undefined;

	constructor(baseUrl: string, options: RestClientOptions = {}) {
		this.baseUrl = baseUrl.replace(/\/+$/, '');
		this.options = options;
	}

	async config(): Promise<{prefix: string; overrides: Record<string, string>; defaults: Record<string, string>}> {
		const query = this.options.warehouse ? `?warehouse=${encodeURIComponent(this.options.warehouse)}` : '';
		const body = await this.request('GET', `/v1/config${query}`);
		const overrides = (body?.overrides ?? {}) as Record<string, string>;
		const defaults = (body?.defaults ?? {}) as Record<string, string>;
		return {prefix: overrides['prefix'] ?? defaults['prefix'] ?? '', overrides, defaults};
	}

	async tablePath(namespace: readonly string[], table: string): Promise<string> {
		this.prefix ??= (await this.config()).prefix;
		const prefix = this.prefix ? `/${this.prefix.split('/').map(part => encodeURIComponent(part)).join('/')}` : '';
		return `/v1${prefix}/namespaces/${namespace.map(part => encodeURIComponent(part)).join('%1F')}/tables/${encodeURIComponent(table)}`;
	}

	async loadTable(namespace: readonly string[], table: string): Promise<LoadTableResult> {
		const body = await this.request('GET', await this.tablePath(namespace, table));
		if (!body || typeof body.metadata !== 'object') {
			throw new RestCatalogError(502, 'InvalidResponse', 'loadTable answered without table metadata');
		}

		return {metadataLocation: body['metadata-location'], metadata: body.metadata, config: body.config ?? {}};
	}

	/** POST updateTable. Throws `RestCatalogError` on any non-2xx answer (409 CommitFailed, 5xx state unknown). */
	async commit(namespace: readonly string[], table: string, request: {requirements: unknown[]; updates: unknown[]}): Promise<LoadTableResult> {
		const body = await this.request('POST', await this.tablePath(namespace, table), {identifier: {namespace, name: table}, ...request});
		return {metadataLocation: body['metadata-location'], metadata: body.metadata, config: {}};
	}

	private async request(method: string, path: string, body?: unknown): Promise<any> {
		const doFetch = this.options.fetch ?? fetch;
		const headers: Record<string, string> = {accept: 'application/json'};
		if (body !== undefined) {
			headers['content-type'] = 'application/json';
		}

		if (this.options.token) {
			headers['authorization'] = `Bearer ${this.options.token}`;
		}

		let response: Response;
		try {
			response = await doFetch(this.baseUrl + path, {method, headers, body: body === undefined ? undefined : stringifyJson(body)});
		} catch (error) {
			// No answer at all: for a commit that is "state unknown" too.
			throw new RestCatalogError(0, 'NetworkError', `${this.baseUrl}: ${(error as Error).message}${(error as any).cause ? ` (${(error as any).cause.message ?? (error as any).cause})` : ''}`);
		}

		const text = await response.text();
		let parsed: any;
		try {
			parsed = text ? parseJson(text) : undefined;
		} catch {
			parsed = undefined;
		}

		if (!response.ok) {
			const error = parsed?.error;
			throw new RestCatalogError(response.status, error?.type ?? `HTTP ${response.status}`, error?.message ?? (text.slice(0, 200) || response.statusText));
		}

		return parsed;
	}
}
