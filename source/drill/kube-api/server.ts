/**
The HTTP face of the simulated Kubernetes API: the real REST protocol over an `ObjectStore`,
generic over the resource table (`resources.ts`), good enough that kubectl (1.27-1.33) and
@kubernetes/client-node accept it unchanged.

    const store = new ObjectStore();
    const api = await startKubeApi({store, identities: {'admin-token': {name: 'admin'}, 'view-token': {name: 'viewer', readOnly: true}}});
    writeKubeconfig(file, {server: api.url, namespace: 'ilum', users: [{name: 'admin', token: 'admin-token'}]});
    api.stats();   // requests counted by verb; `mutating` counts create/update/patch/delete/deletecollection
    await api.close();

What it serves: `/version`, legacy discovery (`/api`, `/apis`, `/api/v1`, `/apis/G/V`), OpenAPI v3
(`/openapi/v3` index and per group version), and for every row of the table: get, list (label and
field selectors, limit/continue), watch (chunked, resume from resourceVersion, bookmarks,
timeoutSeconds, 410 Expired as an ERROR event), create, update, patch (merge, JSON, strategic;
415 strategic on custom resources), delete, deletecollection, the `status` and `scale`
subresources, `pods/NAME/log` from a `podLogs` callback (with `tailLines` and `follow`), `dryRun=All`, `fieldValidation`, `meta.k8s.io/v1` Table and PartialObjectMetadata
output, protobuf request bodies (see `protobuf.ts`), bearer-token identities with RBAC-like rules
and SelfSubjectAccessReview. Every error is a `Status` like the real server's.

Around it: `discovery.ts` (discovery documents), `openapi.ts`, `patch.ts`, `protobuf.ts`,
`identity.ts` and `rbac.ts` (who may do what), `kubeconfig.ts` (`writeKubeconfig`).
*/
import {randomUUID} from 'node:crypto';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import type {Duplex} from 'node:stream';
import {ApiError, isApiError} from './api-error.js';
import {aggregatedDiscovery, apiGroup, apiResourceList} from './discovery.js';
import {groupVersionDocument, openApiIndex} from './openapi.js';
import {PatchError, builtinListStrategy, jsonPatch, mergePatch, strategicMergePatch} from './patch.js';
import {decodeProtobufObject, emptyOpenApiV2, protobufContentType} from './protobuf.js';
import {channelWebSocketServer, connectionRefused, parsePorts, rejectUpgrade, serveChannelForward, tokenizeProtocols, tunnelToken, type ForwardTarget} from './port-forward.js';
import {serveSpdyForward, serveTunnelledSpdyForward, spdyTunnelProtocol} from './spdy.js';
import {type Identity, type PolicyRule, authorize} from './identity.js';
import {rbacRules} from './rbac.js';
import {type FieldTree, type ResourceDef, apiVersionOf, getPath, setPath} from './resources.js';
import {type KubeObject, ObjectStore, type WatchEvent, timestamp} from './store.js';

export type KubeApiOptions = {
	store: ObjectStore;
	port?: number;
	host?: string;
	/** Bearer token -> identity. Without it every request acts as an unrestricted `admin`. */
	identities?: Record<string, Identity>;
	/**
	Who a request without credentials is (no token, no `/as/<name>` prefix: `kubectl get --raw`,
	curl). Unset: 401 Unauthorized, as a server with anonymous auth off.
	*/
	anonymous?: Identity;
	/** What `/version` reports; kubectl's dispatcher picks its binary from the minor. */
	version?: {major: string; minor: string};
	/** Lines of a container's log, for `pods/NAME/log` (kubectl logs); none when absent. */
	podLogs?: (namespace: string, pod: string, container: string | undefined) => string[] | undefined;
	/** How often a watch with allowWatchBookmarks gets a BOOKMARK (default 15 s). */
	bookmarkIntervalMs?: number;
	/**
	Connects to a port of a running pod, for `pods/NAME/portforward` (`port-forward.ts`); rejects
	with the reason the kubelet would give (`connection refused`). Absent: every port refuses.
	*/
	dialPod?: (pod: KubeObject, port: number) => Promise<Duplex>;
};

export const mutatingVerbs = ['create', 'update', 'patch', 'delete', 'deletecollection'] as const;

export type RequestRecord = {method: string; path: string; contentType?: string; userAgent?: string; verb: string; resource?: string; subresource?: string; namespace?: string; name?: string; user: string; code: number; dryRun: boolean};

export type KubeApiStats = {
	requests: number;
	byVerb: Record<string, number>;
	/** Requests that could change state: create/update/patch/delete/deletecollection, not dry-run, not access reviews or port-forwards. */
	mutating: number;
	forbidden: number;
};

export type KubeApi = {
	url: string;
	port: number;
	stats(): KubeApiStats;
	/** Zeroes the counters and empties the request log. */
	resetStats(): void;
	/** The last requests (at most 2000) since the start or `resetStats()`, oldest first. */
	requests(): RequestRecord[];
	close(): Promise<void>;
};

const maxBody = 3 * 1024 * 1024;
type MediaRange = {type: string; params: Record<string, string>};

function parseAccept(header: string | undefined): MediaRange[] {
	if (!header) {
		return [{type: 'application/json', params: {}}];
	}

	return header.split(',').map(part => {
		const [type = '', ...rest] = part.split(';').map(s => s.trim());
		const params: Record<string, string> = {};
		for (const item of rest) {
			const eq = item.indexOf('=');
			if (eq > 0) {
				params[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
			}
		}

		return {type: type.toLowerCase(), params};
	});
}

type OutputFormat = 'object' | 'table' | 'metadata';

function chooseFormat(accept: string | undefined): OutputFormat {
	for (const range of parseAccept(accept)) {
		const json = range.type === 'application/json' || range.type === '*/*' || range.type === 'application/*';
		if (range.params['as'] === 'Table' && range.params['g'] === 'meta.k8s.io' && json) {
			return 'table';
		}

		if ((range.params['as'] === 'PartialObjectMetadataList' || range.params['as'] === 'PartialObjectMetadata') && range.params['g'] === 'meta.k8s.io' && json) {
			return 'metadata';
		}

		if (range.params['as'] === undefined && (json || range.type === protobufContentType || range.type === 'application/yaml')) {
			return 'object';
		}
	}

	throw ApiError.notAcceptable(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
}

/** Adds a `Warning: 299 - "text"` header (kubectl prints each as `Warning: text`). */
function addWarning(res: http.ServerResponse, text: string): void {
	const current = res.getHeader('Warning');
	const list = current === undefined ? [] : (Array.isArray(current) ? current : [String(current)]);
	res.setHeader('Warning', [...list, `299 - ${JSON.stringify(text)}`]);
}

function bool(value: string | null): boolean {
	return value === 'true' || value === '1';
}

function nonNegativeInt(parameters: URLSearchParams, name: string): number | undefined {
	const raw = parameters.get(name);
	if (raw === null || raw === '') {
		return undefined;
	}

	if (!/^\d+$/.test(raw)) {
		throw ApiError.badRequest(`strconv.ParseInt: parsing "${raw}": invalid syntax`);
	}

	return Number(raw);
}

function partial(object: KubeObject) {
	return {kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata};
}

type Route = {
	def: ResourceDef;
	namespace?: string;
	name?: string;
	subresource?: 'status' | 'scale' | 'log' | 'portforward';
	legacyWatch: boolean;
};

class RequestContext {
	verb = '';
	route?: Route;
	identity: Identity = {name: 'admin'};
	dryRun = false;
}

export async function startKubeApi(options: KubeApiOptions): Promise<KubeApi> {
	const {store} = options;
	const table = store.resources;
	const version = options.version ?? {major: '1', minor: '33'};
	const gitVersion = `v${version.major}.${version.minor}.0`;
	const bookmarkInterval = options.bookmarkIntervalMs ?? 15_000;
	const watches = new Set<() => void>();
	let stats: KubeApiStats = {requests: 0, byVerb: {}, mutating: 0, forbidden: 0};
	const log: RequestRecord[] = [];

	/** The identity with the rules the store's RBAC objects give it in `namespace` (for `rbac: true`). */
	function effective(identity: Identity, namespace: string | undefined): Identity {
		if (!identity.rbac) {
			return identity;
		}

		const readAll: PolicyRule = {verbs: ['get', 'list', 'watch'], apiGroups: ['*'], resources: ['*']};
		return {...identity, rules: [...(identity.rules ?? []), ...(identity.readOnly && !identity.rules ? [readAll] : []), ...rbacRules(store, identity, namespace)]};
	}

	function send(res: http.ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
		const text = typeof body === 'string' ? body : JSON.stringify(body);
		res.writeHead(code, {'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'Audit-Id': randomUUID(), 'Content-Length': Buffer.byteLength(text)});
		res.end(text);
	}

	function sendError(res: http.ServerResponse, error: ApiError): void {
		if (!res.headersSent) {
			send(res, error.code, error.status());
		} else {
			res.end();
		}
	}

	// ---- discovery --------------------------------------------------------------------------------

	function wantsAggregated(accept: string | undefined): boolean {
		for (const range of parseAccept(accept)) {
			if (range.type === 'application/json' && range.params['g'] === 'apidiscovery.k8s.io' && range.params['v'] === 'v2' && range.params['as'] === 'APIGroupDiscoveryList') {
				return true;
			}

			if (range.params['as'] === undefined) {
				return false;
			}
		}

		return false;
	}

	function discovery(segments: string[], req: http.IncomingMessage, res: http.ServerResponse, serverAddress: string): boolean {
		if (segments.length === 1 && (segments[0] === 'api' || segments[0] === 'apis') && wantsAggregated(req.headers.accept)) {
			const text = JSON.stringify(aggregatedDiscovery(table, segments[0] === 'api'));
			res.writeHead(200, {'Content-Type': 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', Vary: 'Accept', 'Cache-Control': 'no-cache, private', 'Content-Length': Buffer.byteLength(text)});
			res.end(text);
			return true;
		}

		if (segments.length === 1 && segments[0] === 'api') {
			send(res, 200, {kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{clientCIDR: '0.0.0.0/0', serverAddress}]});
			return true;
		}

		if (segments.length === 1 && segments[0] === 'apis') {
			send(res, 200, {kind: 'APIGroupList', apiVersion: 'v1', groups: table.groups().map(g => apiGroup(g.group, g.versions))});
			return true;
		}

		if (segments.length === 2 && segments[0] === 'api' && segments[1] === 'v1') {
			send(res, 200, apiResourceList(table, '', 'v1'));
			return true;
		}

		if (segments.length === 2 && segments[0] === 'apis') {
			const entry = table.groups().find(g => g.group === segments[1]);
			if (!entry) {
				throw ApiError.pathNotFound();
			}

			send(res, 200, {kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(entry.group, entry.versions)});
			return true;
		}

		if (segments.length === 3 && segments[0] === 'apis') {
			const entry = table.groups().find(g => g.group === segments[1] && g.versions.includes(segments[2]!));
			if (!entry) {
				throw ApiError.pathNotFound();
			}

			send(res, 200, apiResourceList(table, segments[1]!, segments[2]!));
			return true;
		}

		return false;
	}

	// ---- routing ------------------------------------------------------------------------------------

	function route(group: string, versionName: string, rest: string[]): Route {
		let legacyWatch = false;
		let parts = rest;
		if (parts[0] === 'watch') {
			legacyWatch = true;
			parts = parts.slice(1);
		}

		if (parts[0] === 'namespaces' && parts.length >= 3) {
			const def = table.byGroupVersion(group, versionName, parts[2]!);
			if (def?.namespaced) {
				if (parts.length > 5) {
					throw ApiError.pathNotFound();
				}

				return {def, namespace: parts[1], name: parts[3], subresource: subresourceOf(def, parts[4]), legacyWatch};
			}
		}

		const def = table.byGroupVersion(group, versionName, parts[0]!);
		if (!def || parts.length > 3 || (def.namespaced && parts.length > 1)) {
			throw ApiError.pathNotFound();
		}

		return {def, name: parts[1], subresource: subresourceOf(def, parts[2]), legacyWatch};
	}

	function subresourceOf(def: ResourceDef, name: string | undefined): Route['subresource'] {
		if (name === undefined) {
			return undefined;
		}

		if ((name === 'log' || name === 'portforward') && def.plural === 'pods' && def.group === '') {
			return name;
		}

		if ((name === 'status' && def.subresources.status) || (name === 'scale' && def.subresources.scale)) {
			return name;
		}

		throw ApiError.pathNotFound();
	}

	function verbOf(method: string, r: Route, parameters: URLSearchParams): string {
		switch (method) {
			case 'GET': {
				return bool(parameters.get('watch')) || r.legacyWatch ? 'watch' : (r.name === undefined ? 'list' : 'get');
			}

			case 'POST': {
				if (r.name !== undefined) {
					throw ApiError.methodNotAllowed();
				}

				return 'create';
			}

			case 'PUT': {
				return r.name === undefined ? fail() : 'update';
			}

			case 'PATCH': {
				return r.name === undefined ? fail() : 'patch';
			}

			case 'DELETE': {
				return r.name === undefined ? 'deletecollection' : 'delete';
			}

			default: {
				return fail();
			}
		}

		function fail(): never {
			throw ApiError.methodNotAllowed();
		}
	}

	// ---- bodies -------------------------------------------------------------------------------------

	/** The whole body; a body over the limit is drained (so the client reads the answer) and is a 413. */
	async function readBody(req: http.IncomingMessage): Promise<Buffer> {
		return new Promise((resolve, reject) => {
			const chunks: Buffer[] = [];
			let size = 0;
			req.on('data', (chunk: Buffer) => {
				size += chunk.length;
				if (size <= maxBody) {
					chunks.push(chunk);
				}
			});
			req.on('end', () => {
				if (size > maxBody) {
					reject(new ApiError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${maxBody}`));
				} else {
					resolve(Buffer.concat(chunks));
				}
			});
			req.on('error', reject);
		});
	}

	function parseJson(body: Buffer, what = 'body'): unknown {
		const text = body.toString('utf8');
		if (!text.trim()) {
			throw ApiError.badRequest(`Object 'Kind' is missing in '${text}'`);
		}

		try {
			return JSON.parse(text);
		} catch (error) {
			const reason = error instanceof Error ? error.message : String(error);
			throw ApiError.badRequest(`couldn't get version/kind; json parse error: ${reason} (in ${what})`);
		}
	}

	function decodeObject(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, def: ResourceDef): KubeObject {
		const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
		let object: unknown;
		if (contentType === protobufContentType) {
			const notDecoded = new Set<string>();
			object = decodeProtobufObject(body, table, notDecoded);
			if (notDecoded.size > 0) {
				addWarning(res, `drill API: protobuf fields not decoded (dropped): ${[...notDecoded].join(', ')}`);
			}
		} else if (contentType === 'application/json' || contentType === 'application/yaml' || contentType === '*/*') {
			object = parseJson(body);
		} else {
			throw ApiError.unsupportedMediaType(contentType, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/cbor']);
		}

		if (object === null || typeof object !== 'object' || Array.isArray(object)) {
			throw ApiError.badRequest(`json: cannot unmarshal ${Array.isArray(object) ? 'array' : typeof object} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
		}

		const o = object as KubeObject;
		if (o.kind !== undefined && o.kind !== '' && o.kind !== def.kind) {
			throw ApiError.badRequest(`the server rejected our request for an unknown reason (kind ${String(o.kind)} does not match the expected kind ${def.kind})`);
		}

		if (o.apiVersion !== undefined && o.apiVersion !== '' && o.apiVersion !== apiVersionOf(def)) {
			throw ApiError.badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${apiVersionOf(def)})`);
		}

		o.metadata ??= {} as KubeObject['metadata'];
		return o;
	}

	/**
	Unknown fields (top level, in metadata, and below the schema of a custom resource) as
	`fieldValidation` asks: Strict is a 400 like the real decoder's, Warn (the default) a
	`Warning` header, Ignore nothing. Unknown fields of a custom resource are pruned (not stored),
	as a CRD's structural schema does.
	*/
	function checkFieldValidation(parameters: URLSearchParams, def: ResourceDef, object: KubeObject, res: http.ServerResponse, existing?: KubeObject): void {
		const mode = parameters.get('fieldValidation') || 'Warn';
		if (!['Ignore', 'Warn', 'Strict'].includes(mode)) {
			throw ApiError.badRequest(`fieldValidation: Unsupported value: "${mode}": supported values: "Ignore", "Strict", "Warn"`);
		}

		const knownTop = new Set(['apiVersion', 'kind', 'metadata', ...(def.topLevel ?? (def.schema ? Object.keys(def.schema) : ['spec', 'status']))]);
		const knownMeta = new Set(['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields']);
		// A patch is judged by what it adds: fields already stored (written by a controller) are left alone.
		const stored = (path: string) => existing !== undefined && getPath(existing, path) !== undefined;
		const unknown = [
			...Object.keys(object).filter(key => !knownTop.has(key)),
			...(object.metadata && typeof object.metadata === 'object' ? Object.keys(object.metadata).filter(key => !knownMeta.has(key)).map(key => `metadata.${key}`) : []),
		].filter(path => !stored(path));
		const prune = (value: unknown, tree: FieldTree, path: string) => {
			if (!value || typeof value !== 'object' || Array.isArray(value)) {
				return;
			}

			const record = value as Record<string, unknown>;
			for (const key of Object.keys(record)) {
				const sub = tree[key] ?? tree['*'];
				if (sub === undefined && stored(`${path}${key}`)) {
					continue;
				}

				if (sub === undefined) {
					unknown.push(`${path}${key}`);
					if (mode !== 'Strict') {
						delete record[key];
					}
				} else if (sub !== true) {
					prune(record[key], sub, `${path}${key}.`);
				}
			}
		};

		if (def.schema) {
			for (const [key, tree] of Object.entries(def.schema)) {
				if (tree !== true) {
					prune(object[key], tree, `${key}.`);
				}
			}
		}

		if (unknown.length === 0 || mode === 'Ignore') {
			return;
		}

		const messages = unknown.map(field => `unknown field "${field}"`);
		if (mode === 'Strict') {
			throw ApiError.badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: strict decoding error: ${messages.join(', ')}`);
		}

		for (const text of messages) {
			addWarning(res, text);
		}
	}

	function checkDryRun(parameters: URLSearchParams): boolean {
		const values = parameters.getAll('dryRun');
		for (const value of values) {
			if (value !== 'All') {
				throw ApiError.badRequest(`Invalid dryRun value: ${value}: supported values: "All"`);
			}
		}

		return values.length > 0;
	}

	// ---- output -------------------------------------------------------------------------------------

	function tableOf(def: ResourceDef, objects: KubeObject[], meta: Record<string, unknown>, includeObject: string | null) {
		const now = store.now();
		return {
			kind: 'Table',
			apiVersion: 'meta.k8s.io/v1',
			metadata: meta,
			columnDefinitions: def.columns.map(column => ({name: column.name, type: column.type, format: column.format ?? '', description: column.description ?? '', priority: column.priority ?? 0})),
			rows: objects.map(object => ({
				cells: def.columns.map(column => {
					try {
						return column.cell(object, now) ?? null;
					} catch {
						return null;
					}
				}),
				object: includeObject === 'None' ? undefined : (includeObject === 'Object' ? object : partial(object)),
			})),
		};
	}

	function render(def: ResourceDef, object: KubeObject, format: OutputFormat, parameters: URLSearchParams): unknown {
		if (format === 'table') {
			return tableOf(def, [object], {resourceVersion: object.metadata.resourceVersion}, parameters.get('includeObject'));
		}

		if (format === 'metadata') {
			return partial(object);
		}

		return object;
	}

	// ---- scale ----------------------------------------------------------------------------------------

	function scaleOf(def: ResourceDef, object: KubeObject) {
		const scale = def.subresources.scale!;
		const selector = scale.labelSelectorPath ? getPath(object, scale.labelSelectorPath) as {matchLabels?: Record<string, string>} | undefined : undefined;
		return {
			kind: 'Scale',
			apiVersion: 'autoscaling/v1',
			metadata: {name: object.metadata.name, namespace: object.metadata.namespace, uid: object.metadata.uid, resourceVersion: object.metadata.resourceVersion, creationTimestamp: object.metadata.creationTimestamp},
			spec: {replicas: Number(getPath(object, scale.specReplicasPath) ?? 0)},
			status: {replicas: Number(getPath(object, scale.statusReplicasPath) ?? 0), selector: Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')},
		};
	}

	function writeScale(def: ResourceDef, current: KubeObject, scale: any, dryRun: boolean): KubeObject {
		if (scale?.metadata?.resourceVersion && scale.metadata.resourceVersion !== current.metadata.resourceVersion) {
			throw ApiError.conflict(def, current.metadata.name);
		}

		const replicas = scale?.spec?.replicas;
		if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)) {
			throw ApiError.invalid({group: 'autoscaling', plural: 'scales', kind: 'Scale'}, current.metadata.name, [{reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, field: 'spec.replicas'}]);
		}

		const next = structuredClone(current);
		setPath(next, def.subresources.scale!.specReplicasPath, replicas ?? 0);
		return store.update(def.plural, next, {dryRun});
	}

	// ---- patch -------------------------------------------------------------------------------------

	function applyPatch(def: ResourceDef, kind: string, contentType: string, target: unknown, patch: unknown): unknown {
		try {
			switch (contentType) {
				case 'application/merge-patch+json': {
					return mergePatch(target, patch);
				}

				case 'application/json-patch+json': {
					return jsonPatch(target, patch);
				}

				case 'application/strategic-merge-patch+json': {
					return strategicMergePatch(target, patch, p => builtinListStrategy(kind, p));
				}

				case 'application/apply-patch+yaml': {
					return def.custom ? mergePatch(target, patch) : strategicMergePatch(target, patch, p => builtinListStrategy(kind, p));
				}

				default: {
					throw ApiError.unsupportedMediaType(contentType, []);
				}
			}
		} catch (error) {
			if (error instanceof PatchError) {
				// As the real server: a patch that does not apply is a generic 422, a malformed one a 400.
				throw error.code === 422
					? new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {causes: [{reason: 'FieldValueInvalid', message: error.message, field: 'patch'}]})
					: ApiError.badRequest(error.message);
			}

			throw error;
		}
	}

	async function patchRequest(req: http.IncomingMessage, res: http.ServerResponse, context: RequestContext, parameters: URLSearchParams, format: OutputFormat): Promise<void> {
		const r = context.route!;
		const {def} = r;
		const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
		const accepted = def.custom
			? ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']
			: ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'];
		if (!accepted.includes(contentType)) {
			throw ApiError.unsupportedMediaType(contentType, accepted);
		}

		const body = await readBody(req);
		const patch = parseJson(body, 'patch');
		if (contentType === 'application/apply-patch+yaml' && !parameters.get('fieldManager')) {
			throw ApiError.invalid({group: 'meta.k8s.io', plural: 'patchoptions', kind: 'PatchOptions'}, '', [{reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager'}]);
		}

		const current = store.get(def.plural, r.namespace, r.name!);
		if (!current) {
			if (contentType === 'application/apply-patch+yaml' && !r.subresource) {
				const object = patch as KubeObject;
				object.metadata = {...object.metadata, name: r.name!, ...(r.namespace ? {namespace: r.namespace} : {})};
				const created = store.create(def.plural, object, {dryRun: context.dryRun});
				send(res, 201, render(def, created, format, parameters));
				return;
			}

			throw ApiError.notFound(def, r.name!);
		}

		if (r.subresource === 'scale') {
			const scale = scaleOf(def, current);
			const patched = applyPatch(def, 'Scale', contentType, scale, patch) as any;
			const written = writeScale(def, current, patched, context.dryRun);
			send(res, 200, scaleOf(def, written));
			return;
		}

		const patched = applyPatch(def, def.kind, contentType, current, patch) as KubeObject;
		if (patched === null || typeof patched !== 'object' || Array.isArray(patched)) {
			throw ApiError.badRequest('the patch produced something that is not an object');
		}

		patched.metadata ??= {} as KubeObject['metadata'];
		if (typeof patched.metadata !== 'object' || patched.metadata === null) {
			throw ApiError.badRequest('json: cannot unmarshal into Go struct field .metadata of type v1.ObjectMeta');
		}

		if (patched.metadata.name !== r.name) {
			throw ApiError.badRequest(`the name of the object (${String(patched.metadata.name)}) does not match the name on the URL (${r.name})`);
		}

		if (def.namespaced && patched.metadata.namespace !== r.namespace) {
			throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
		}

		checkFieldValidation(parameters, def, patched, res, current);
		const written = store.update(def.plural, patched, {dryRun: context.dryRun, subresource: r.subresource === 'status' ? 'status' : undefined});
		send(res, 200, render(def, written, format, parameters));
	}

	// ---- watch -------------------------------------------------------------------------------------

	function serveWatch(req: http.IncomingMessage, res: http.ServerResponse, r: Route, parameters: URLSearchParams, format: OutputFormat): void {
		const {def} = r;
		let fieldSelector = parameters.get('fieldSelector') ?? undefined;
		if (r.name !== undefined) {
			fieldSelector = [`metadata.name=${r.name}`, fieldSelector].filter(Boolean).join(',');
		}

		const matches = store.matcher(def.plural, {labelSelector: parameters.get('labelSelector') ?? undefined, fieldSelector});
		const timeoutSeconds = nonNegativeInt(parameters, 'timeoutSeconds') ?? 1800;
		const bookmarks = bool(parameters.get('allowWatchBookmarks'));
		const resourceVersion = parameters.get('resourceVersion') ?? '';
		const sendInitialEvents = bool(parameters.get('sendInitialEvents'));
		if (resourceVersion !== '' && !/^\d+$/.test(resourceVersion)) {
			throw ApiError.badRequest(`resourceVersion: Invalid value: "${resourceVersion}": must be a valid resource version`);
		}

		const includeObject = parameters.get('includeObject');
		const encode = (type: string, object: unknown) => {
			let payload = object;
			if (type !== 'ERROR' && type !== 'BOOKMARK') {
				if (format === 'table') {
					payload = tableOf(def, [object as KubeObject], {resourceVersion: (object as KubeObject).metadata.resourceVersion}, includeObject);
				} else if (format === 'metadata') {
					payload = partial(object as KubeObject);
				}
			}

			return `${JSON.stringify({type, object: payload})}\n`;
		};

		const inSelection = new Set<string>();
		const key = (object: KubeObject) => `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
		const queue: string[] = [];
		const listed = store.list(def.plural, r.namespace);
		for (const object of listed.items) {
			if (matches(object)) {
				inSelection.add(key(object));
			}
		}

		const initial = resourceVersion === '' || resourceVersion === '0' || sendInitialEvents;
		if (initial) {
			for (const object of listed.items) {
				if (matches(object)) {
					queue.push(encode('ADDED', object));
				}
			}

			if (sendInitialEvents && bookmarks) {
				queue.push(encode('BOOKMARK', {kind: def.kind, apiVersion: apiVersionOf(def), metadata: {resourceVersion: listed.resourceVersion, annotations: {'k8s.io/initial-events-end': 'true'}}}));
			}
		}

		res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked', 'Audit-Id': randomUUID()});
		res.flushHeaders();
		for (const line of queue) {
			res.write(line);
		}

		let closed = false;
		let stop: () => void = () => {};
		const timers: NodeJS.Timeout[] = [];
		const end = () => {
			if (closed) {
				return;
			}

			closed = true;
			stop();
			for (const timer of timers) {
				clearTimeout(timer);
			}

			watches.delete(end);
			res.end();
		};

		watches.add(end);
		res.on('close', end);
		const listener = (event: WatchEvent) => {
			if (closed) {
				return;
			}

			const id = key(event.object);
			const now = event.type !== 'DELETED' && matches(event.object);
			const before = inSelection.has(id);
			let type: string | undefined;
			if (event.type === 'DELETED') {
				type = before || matches(event.object) ? 'DELETED' : undefined;
				inSelection.delete(id);
			} else if (now) {
				type = before ? event.type : 'ADDED';
				if (event.type === 'ADDED') {
					type = 'ADDED';
				}

				inSelection.add(id);
			} else if (before) {
				type = 'DELETED';
				inSelection.delete(id);
			}

			if (type) {
				res.write(encode(type, event.object));
			}
		};

		try {
			stop = store.watch(def.plural, r.namespace, initial ? listed.resourceVersion : resourceVersion, listener);
		} catch (error) {
			if (isApiError(error)) {
				res.write(`${JSON.stringify({type: 'ERROR', object: error.status()})}\n`);
				end();
				return;
			}

			throw error;
		}

		timers.push(setTimeout(end, timeoutSeconds * 1000));
		if (bookmarks) {
			const tick = () => {
				if (closed) {
					return;
				}

				res.write(encode('BOOKMARK', {kind: def.kind, apiVersion: apiVersionOf(def), metadata: {resourceVersion: store.resourceVersion}}));
				timers.push(setTimeout(tick, bookmarkInterval));
			};

			timers.push(setTimeout(tick, bookmarkInterval));
		}

		void req;
	}

	// ---- pod logs ----------------------------------------------------------------------------------

	/** `pods/NAME/log`: the lines `options.podLogs` gives, `tailLines`, and `follow` until the pod ends or the client leaves. */
	function servePodLog(res: http.ServerResponse, pod: KubeObject, parameters: URLSearchParams): void {
		const containers: string[] = ((pod.spec?.containers ?? []) as Array<{name?: string}>).map(c => c.name ?? '');
		const container = parameters.get('container') ?? undefined;
		if (container === undefined && containers.length > 1) {
			throw ApiError.badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${containers.join(' ')}]`);
		}

		if (container !== undefined && !containers.includes(container)) {
			throw ApiError.badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
		}

		const read = () => options.podLogs?.(pod.metadata.namespace ?? '', pod.metadata.name, container ?? containers[0]) ?? [];
		const tail = nonNegativeInt(parameters, 'tailLines');
		let lines = read();
		if (tail !== undefined) {
			lines = lines.slice(Math.max(0, lines.length - tail));
		}

		const follow = bool(parameters.get('follow'));
		res.writeHead(200, {'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private', ...(follow ? {'Transfer-Encoding': 'chunked'} : {})});
		const text = (batch: string[]) => batch.map(line => `${line}\n`).join('');
		if (!follow) {
			res.end(text(lines));
			return;
		}

		res.write(text(lines));
		let sent = read().length;
		let closed = false;
		const finish = () => {
			if (!closed) {
				closed = true;
				clearInterval(timer);
				watches.delete(finish);
				res.end();
			}
		};

		const timer = setInterval(() => {
			const all = read();
			if (all.length > sent) {
				res.write(text(all.slice(sent)));
				sent = all.length;
			}

			const current = store.get('pods', pod.metadata.namespace, pod.metadata.name);
			if (!current || current.status?.phase === 'Succeeded' || current.status?.phase === 'Failed') {
				finish();
			}
		}, 200);
		watches.add(finish);
		res.on('close', finish);
	}

	// ---- access reviews ----------------------------------------------------------------------------

	function accessReview(body: KubeObject, identity: Identity): KubeObject {
		const spec = body.spec ?? {};
		let allowed: boolean;
		const resourceAttributes = spec.resourceAttributes as {namespace?: string; verb?: string; group?: string; resource?: string; subresource?: string; name?: string} | undefined;
		if (resourceAttributes) {
			const resource = resourceAttributes.subresource ? `${resourceAttributes.resource ?? ''}/${resourceAttributes.subresource}` : resourceAttributes.resource ?? '';
			allowed = authorize(effective(identity, resourceAttributes.namespace || undefined), resourceAttributes.verb ?? '', resourceAttributes.group ?? '', resource, resourceAttributes.namespace || undefined, resourceAttributes.name || undefined);
		} else if (spec.nonResourceAttributes) {
			allowed = identity.rules ? false : (!identity.readOnly || spec.nonResourceAttributes.verb === 'get');
		} else {
			throw ApiError.invalid({group: 'authorization.k8s.io', plural: 'selfsubjectaccessreviews', kind: 'SelfSubjectAccessReview'}, '', [{reason: 'FieldValueRequired', message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified', field: 'spec.resourceAttributes'}]);
		}

		const status: Record<string, unknown> = {allowed};
		if (allowed) {
			status['reason'] = identity.readOnly || identity.rules ? `RBAC: allowed by ClusterRoleBinding "${identity.name}" of ClusterRole "view" to User "${identity.name}"` : `RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to User "${identity.name}"`;
		}

		return {kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: {creationTimestamp: null} as unknown as KubeObject['metadata'], spec, status};
	}

	/** `kubectl auth can-i --list`: the identity's rules as they apply in the namespace asked about. */
	function rulesReview(body: KubeObject, identity: Identity): KubeObject {
		const namespace = typeof body.spec?.namespace === 'string' ? body.spec.namespace as string : undefined;
		identity = effective(identity, namespace);
		const rules = identity.rules
			? identity.rules.filter(rule => !rule.namespaces || (namespace !== undefined && rule.namespaces.includes(namespace)))
			: [{verbs: identity.readOnly ? ['get', 'list', 'watch'] : ['*'], apiGroups: ['*'], resources: ['*']}];
		const resourceRules = [
			{verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']},
			...rules.map(rule => ({verbs: rule.verbs, apiGroups: rule.apiGroups, resources: rule.resources, ...(rule.resourceNames?.length ? {resourceNames: rule.resourceNames} : {})})),
		];
		const nonResourceRules = [{verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/']}];
		return {kind: 'SelfSubjectRulesReview', apiVersion: 'authorization.k8s.io/v1', metadata: {creationTimestamp: null} as unknown as KubeObject['metadata'], spec: body.spec ?? {}, status: {resourceRules, nonResourceRules, incomplete: false}};
	}

	// ---- the handler -------------------------------------------------------------------------------

	function authenticate(req: http.IncomingMessage): Identity {
		if (!options.identities) {
			return {name: 'admin'};
		}

		const header = req.headers.authorization ?? '';
		const match = /^Bearer\s+(.+)$/i.exec(header);
		if (!match && options.anonymous) {
			return options.anonymous;
		}

		const identity = match ? options.identities[match[1]!.trim()] : undefined;
		if (!identity) {
			throw ApiError.unauthorized();
		}

		return identity;
	}

	function record(req: http.IncomingMessage, context: RequestContext, code: number): void {
		stats.requests++;
		if (context.verb) {
			stats.byVerb[context.verb] = (stats.byVerb[context.verb] ?? 0) + 1;
			// Access reviews and port-forwards are creates that change nothing.
			const review = context.route?.def.virtual || context.route?.subresource === 'portforward';
			if ((mutatingVerbs as readonly string[]).includes(context.verb) && !review && !context.dryRun) {
				stats.mutating++;
			}
		}

		if (code === 403) {
			stats.forbidden++;
		}

		log.push({method: req.method ?? '', path: req.url ?? '', contentType: req.headers['content-type'], userAgent: req.headers['user-agent'], verb: context.verb, resource: context.route?.def.plural, subresource: context.route?.subresource, namespace: context.route?.namespace, name: context.route?.name, user: context.identity.name, code, dryRun: context.dryRun});
		if (log.length > 2000) {
			log.splice(0, log.length - 2000);
		}
	}

	/** A request path's segments (decoded), and the identity an `/as/NAME/` prefix names (then cut off). */
	function pathOf(url: URL): {segments: string[]; prefixIdentity?: Identity} {
		let segments: string[];
		try {
			segments = url.pathname.split('/').filter(Boolean).map(segment => decodeURIComponent(segment));
		} catch {
			throw ApiError.badRequest(`invalid URL escape in "${url.pathname}"`);
		}

		if (segments[0] !== 'as' || segments.length < 2) {
			return {segments};
		}

		// kubectl sends no credentials over plain HTTP, so identities are also told apart by a path prefix.
		const prefixIdentity = options.identities ? Object.values(options.identities).find(identity => identity.name === segments[1]) : {name: segments[1]!};
		if (!prefixIdentity) {
			throw ApiError.unauthorized();
		}

		return {segments: segments.slice(2), prefixIdentity};
	}

	async function handle(req: http.IncomingMessage, res: http.ServerResponse, context: RequestContext): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://localhost');
		const parameters = url.searchParams;
		const {segments, prefixIdentity} = pathOf(url);
		const serverAddress = `${req.socket.localAddress}:${req.socket.localPort}`;

		if (segments.length === 1 && ['healthz', 'livez', 'readyz'].includes(segments[0]!)) {
			send(res, 200, 'ok', 'text/plain; charset=utf-8');
			return;
		}

		// /version is public, as `system:public-info-viewer` makes it (kubectl's dispatcher asks without credentials).
		if (segments.length === 1 && segments[0] === 'version') {
			send(res, 200, {major: version.major, minor: version.minor, emulationMajor: version.major, emulationMinor: version.minor, minCompatibilityMajor: version.major, minCompatibilityMinor: String(Number(version.minor) - 1), gitVersion, gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2025-04-23T13:00:00Z', goVersion: 'go1.24.2', compiler: 'gc', platform: 'linux/amd64'});
			return;
		}

		context.identity = prefixIdentity ?? authenticate(req);
		if (segments[0] === 'openapi') {
			if (segments[1] === 'v3' && segments.length === 2) {
				send(res, 200, openApiIndex(table, gitVersion));
				return;
			}

			if (segments[1] === 'v3') {
				const document = groupVersionDocument(table, segments.slice(2).join('/'), gitVersion);
				if (document) {
					send(res, 200, document);
					return;
				}
			}

			if (segments[1] === 'v2' && segments.length === 2) {
				// An empty Swagger 2.0 document in gnostic's protobuf form: old kubectl (1.27) reads it before
				// patching, finds no schemas, and falls back to its built-in types (or merge patch for custom kinds).
				const document = emptyOpenApiV2(gitVersion);
				res.writeHead(200, {'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf', 'Content-Length': document.length});
				res.end(document);
				return;
			}

			send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
			return;
		}

		if (segments.length === 0) {
			send(res, 200, {paths: ['/api', '/api/v1', '/apis', ...table.groups().flatMap(g => [`/apis/${g.group}`, ...g.versions.map(v => `/apis/${g.group}/${v}`)]), '/healthz', '/livez', '/openapi/v3', '/readyz', '/version']});
			return;
		}

		if (segments[0] !== 'api' && segments[0] !== 'apis') {
			send(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
			return;
		}

		if (req.method === 'GET' && discovery(segments, req, res, serverAddress)) {
			return;
		}

		let group: string;
		let versionName: string;
		let rest: string[];
		if (segments[0] === 'api') {
			if (segments[1] !== 'v1') {
				throw ApiError.pathNotFound();
			}

			[group, versionName, rest] = ['', 'v1', segments.slice(2)];
		} else {
			if (segments.length < 4) {
				throw ApiError.pathNotFound();
			}

			[group, versionName, rest] = [segments[1]!, segments[2]!, segments.slice(3)];
		}

		const r = route(group, versionName, rest);
		context.route = r;
		const {def} = r;
		const verb = verbOf(req.method ?? 'GET', r, parameters);
		context.verb = verb;
		if (r.subresource === 'portforward' && r.name !== undefined && (req.method === 'GET' || req.method === 'POST')) {
			// Reached only without an `Upgrade` header (upgrades go to `upgrade()`).
			throw ApiError.badRequest('Upgrade request required');
		}

		if (r.subresource && (!['get', 'update', 'patch'].includes(verb) || (r.subresource === 'log' && verb !== 'get'))) {
			throw ApiError.methodNotAllowed();
		}

		if (!r.subresource && !def.verbs.includes(verb)) {
			throw ApiError.methodNotAllowed();
		}

		context.dryRun = checkDryRun(parameters);
		const authResource = r.subresource ? `${def.plural}/${r.subresource}` : def.plural;
		if (!def.virtual && !authorize(effective(context.identity, r.namespace), verb, def.group, authResource, r.namespace, verb === 'create' ? undefined : r.name)) {
			throw ApiError.forbidden(def, verb === 'create' ? undefined : r.name, context.identity.name, verb, r.namespace, r.subresource);
		}

		const format = chooseFormat(req.headers.accept);
		const ns = r.namespace;
		switch (verb) {
			case 'get': {
				const object = store.require(def.plural, ns, r.name!);
				if (r.subresource === 'log') {
					servePodLog(res, object, parameters);
					return;
				}

				if (r.subresource === 'scale') {
					send(res, 200, scaleOf(def, object));
					return;
				}

				send(res, 200, render(def, object, format, parameters));
				return;
			}

			case 'list': {
				const listed = store.list(def.plural, ns, {
					labelSelector: parameters.get('labelSelector') ?? undefined,
					fieldSelector: parameters.get('fieldSelector') ?? undefined,
					limit: nonNegativeInt(parameters, 'limit'),
					continue: parameters.get('continue') ?? undefined,
				});
				const meta: Record<string, unknown> = {resourceVersion: listed.resourceVersion};
				if (listed.continue) {
					meta['continue'] = listed.continue;
					meta['remainingItemCount'] = listed.remainingItemCount;
				}

				if (format === 'table') {
					send(res, 200, tableOf(def, listed.items, meta, parameters.get('includeObject')));
				} else if (format === 'metadata') {
					send(res, 200, {kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: meta, items: listed.items.map(item => partial(item))});
				} else {
					send(res, 200, {kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: meta, items: listed.items});
				}

				return;
			}

			case 'watch': {
				serveWatch(req, res, r, parameters, format);
				return;
			}

			case 'create': {
				const body = await readBody(req);
				const object = decodeObject(req, res, body, def);
				if (def.virtual) {
					send(res, 201, def.kind === 'SelfSubjectRulesReview' ? rulesReview(object, context.identity) : accessReview(object, context.identity));
					return;
				}

				if (def.namespaced) {
					if (!ns) {
						throw ApiError.methodNotAllowed();
					}

					if (object.metadata.namespace && object.metadata.namespace !== ns) {
						throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
					}

					object.metadata.namespace = ns;
				}

				checkFieldValidation(parameters, def, object, res);
				const created = store.create(def.plural, object, {dryRun: context.dryRun});
				send(res, 201, render(def, created, format, parameters));
				return;
			}

			case 'update': {
				const body = await readBody(req);
				if (r.subresource === 'scale') {
					const scale = parseJson(body) as any;
					const current = store.require(def.plural, ns, r.name!);
					if (scale?.metadata?.name !== undefined && scale.metadata.name !== r.name) {
						throw ApiError.badRequest(`the name of the object (${String(scale.metadata.name)}) does not match the name on the URL (${r.name})`);
					}

					send(res, 200, scaleOf(def, writeScale(def, current, scale, context.dryRun)));
					return;
				}

				const object = decodeObject(req, res, body, def);
				if (object.metadata.name !== r.name) {
					throw ApiError.badRequest(`the name of the object (${String(object.metadata.name ?? '')}) does not match the name on the URL (${r.name})`);
				}

				if (def.namespaced) {
					if (object.metadata.namespace && object.metadata.namespace !== ns) {
						throw ApiError.badRequest('the namespace of the provided object does not match the namespace sent on the request');
					}

					object.metadata.namespace = ns;
				}

				checkFieldValidation(parameters, def, object, res);
				const updated = store.update(def.plural, object, {dryRun: context.dryRun, subresource: r.subresource === 'status' ? 'status' : undefined});
				send(res, 200, render(def, updated, format, parameters));
				return;
			}

			case 'patch': {
				await patchRequest(req, res, context, parameters, format);
				return;
			}

			case 'delete': {
				const body = await readBody(req);
				const deleteOptions = body.length > 0 ? parseJson(body, 'DeleteOptions') as any : {};
				const propagationPolicy = parameters.get('propagationPolicy') ?? deleteOptions?.propagationPolicy;
				if (propagationPolicy !== undefined && propagationPolicy !== null && !['Background', 'Foreground', 'Orphan'].includes(propagationPolicy)) {
					throw ApiError.invalid({group: 'meta.k8s.io', plural: 'deleteoptions', kind: 'DeleteOptions'}, '', [{reason: 'FieldValueNotSupported', message: `Unsupported value: "${String(propagationPolicy)}": supported values: "Foreground", "Background", "Orphan"`, field: 'propagationPolicy'}]);
				}

				const dryRun = context.dryRun || (Array.isArray(deleteOptions?.dryRun) && deleteOptions.dryRun.includes('All'));
				context.dryRun = dryRun;
				const deleted = store.delete(def.plural, ns, r.name!, {dryRun, propagationPolicy: propagationPolicy ?? undefined, preconditions: deleteOptions?.preconditions});
				send(res, 200, render(def, deleted, format, parameters));
				return;
			}

			case 'deletecollection': {
				const listed = store.list(def.plural, ns, {labelSelector: parameters.get('labelSelector') ?? undefined, fieldSelector: parameters.get('fieldSelector') ?? undefined});
				const deleted: KubeObject[] = [];
				for (const item of listed.items) {
					try {
						deleted.push(store.delete(def.plural, item.metadata.namespace, item.metadata.name, {dryRun: context.dryRun}));
					} catch (error) {
						if (!(isApiError(error) && error.code === 404)) {
							throw error;
						}
					}
				}

				send(res, 200, {kind: `${def.kind}List`, apiVersion: apiVersionOf(def), metadata: {resourceVersion: store.resourceVersion}, items: deleted});
				return;
			}

			default: {
				throw ApiError.methodNotAllowed();
			}
		}
	}

	const server = http.createServer((req, res) => {
		const context = new RequestContext();
		handle(req, res, context).then(() => {
			record(req, context, res.statusCode);
		}, (error: unknown) => {
			const apiError = isApiError(error) ? error : ApiError.internal(error instanceof Error ? error.message : String(error));
			record(req, context, apiError.code);
			req.resume();
			sendError(res, apiError);
		});
	});
	server.keepAliveTimeout = 30_000;

	// ---- port-forward (connection upgrades) ---------------------------------------------------------

	const forwards = new Set<() => void>();
	const channelServer = channelWebSocketServer(spdyTunnelProtocol);

	/**
	`pods/NAME/portforward` upgraded to a WebSocket (channel protocol, or SPDY tunnelled in it) or
	to SPDY/3.1. Authorized as `create pods/portforward` (what Kubernetes 1.35 asks of WebSocket
	upgrades too); an error before the upgrade is a Status, after it a line on the error stream.
	*/
	function upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
		const context = new RequestContext();
		context.verb = 'create';
		socket.on('error', () => {
			socket.destroy();
		});
		try {
			const url = new URL(req.url ?? '/', 'http://localhost');
			const {segments, prefixIdentity} = pathOf(url);
			context.identity = prefixIdentity ?? authenticate(req);
			const [api, v1, namespacesWord, namespace, pods, name, subresource] = segments;
			if (segments.length !== 7 || api !== 'api' || v1 !== 'v1' || namespacesWord !== 'namespaces' || pods !== 'pods' || subresource !== 'portforward') {
				throw ApiError.pathNotFound();
			}

			const def = table.byGroupVersion('', 'v1', 'pods')!;
			context.route = {def, namespace, name, subresource: 'portforward', legacyWatch: false};
			if (req.method !== 'GET' && req.method !== 'POST') {
				throw ApiError.methodNotAllowed();
			}

			if (!authorize(effective(context.identity, namespace), 'create', '', 'pods/portforward', namespace, name)) {
				throw ApiError.forbidden(def, name, context.identity.name, 'create', namespace, 'portforward');
			}

			const pod = store.require('pods', namespace, name!);
			const uid = pod.metadata.uid ?? '';
			const running = () => {
				const current = store.get('pods', namespace, name!);
				return current !== undefined && current.metadata.uid === uid && !current.metadata.deletionTimestamp && current.status?.phase === 'Running';
			};

			const makeTarget = (ports: number[]): ForwardTarget => ({
				podName: name!,
				uid,
				ports,
				alive: running,
				async dial(port) {
					const phase = String(store.get('pods', namespace, name!)?.status?.phase ?? 'Unknown');
					if (!running()) {
						throw new Error(`sandbox container is not running (pod phase ${phase})`);
					}

					if (!options.dialPod) {
						throw connectionRefused(name!, port);
					}

					return options.dialPod(pod, port);
				},
			});

			const kind = (req.headers.upgrade ?? '').toLowerCase();
			if (kind === 'websocket') {
				const parameters = url.searchParams;
				const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map(item => item.trim());
				const tunnelled = offered.includes(spdyTunnelProtocol);
				let ports: number[] = [];
				if (!tunnelled) {
					try {
						ports = parsePorts(parameters);
					} catch (error) {
						throw ApiError.badRequest(error instanceof Error ? error.message : String(error));
					}
				}

				tokenizeProtocols(req, spdyTunnelProtocol);
				channelServer.handleUpgrade(req, socket, head, ws => {
					record(req, context, 101);
					const stop = () => {
						ws.terminate();
					};

					forwards.add(stop);
					ws.on('close', () => forwards.delete(stop));
					if (ws.protocol === tunnelToken) {
						serveTunnelledSpdyForward(ws, makeTarget([]));
					} else {
						serveChannelForward(ws, makeTarget(ports));
					}
				});
				return;
			}

			if (kind.startsWith('spdy/3.1')) {
				const protocols = String(req.headers['x-stream-protocol-version'] ?? '').split(',').map(item => item.trim());
				if (!protocols.includes('portforward.k8s.io')) {
					throw ApiError.badRequest(`unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(protocols)}, server accepts ["portforward.k8s.io"]`);
				}

				socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
				record(req, context, 101);
				const stop = () => {
					socket.destroy();
				};

				forwards.add(stop);
				socket.on('close', () => forwards.delete(stop));
				serveSpdyForward(socket, head, makeTarget([]));
				return;
			}

			throw ApiError.badRequest('Upgrade request required');
		} catch (error) {
			const apiError = isApiError(error) ? error : ApiError.internal(error instanceof Error ? error.message : String(error));
			record(req, context, apiError.code);
			rejectUpgrade(socket, apiError.code, apiError.status());
		}
	}

	server.on('upgrade', upgrade);

	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
			server.off('error', reject);
			resolve();
		});
	});
	const address = server.address() as AddressInfo;
	const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

	return {
		url: `http://${host}:${address.port}`,
		port: address.port,
		stats: () => structuredClone(stats),
		resetStats() {
			stats = {requests: 0, byVerb: {}, mutating: 0, forbidden: 0};
			log.length = 0;
		},
		requests: () => [...log],
		async close() {
			for (const end of [...watches, ...forwards]) {
				end();
			}

			channelServer.close();

			await new Promise<void>(resolve => {
				server.close(() => {
					resolve();
				});
				server.closeAllConnections();
			});
		},
	};
}

export {timestamp};
export {type Identity, type PolicyRule, authorize} from './identity.js';
export {type KubeconfigUser, writeKubeconfig} from './kubeconfig.js';
