/**
The object store behind the simulated Kubernetes API: what etcd plus the generic registry of the
real API server do, in memory. The HTTP server (`server.ts`) and the drill's controllers both use
it; controllers write through it directly (no HTTP), and every write is seen by watches.

Resources are addressed by their plural name from the resource table (`pods`,
`persistentvolumeclaims`, `volumesnapshots`, ...); `plural.group` also works.

    const store = new ObjectStore({now: () => clock.now()});
    store.create('namespaces', {apiVersion: 'v1', kind: 'Namespace', metadata: {name: 'ilum'}});
    store.get('pods', 'ilum', 'rustfs-0');                  // a copy, or undefined
    store.list('persistentvolumeclaims', 'ilum', {labelSelector: 'app.kubernetes.io/name=rustfs'});
    store.update('volumesnapshots', snapshot);              // 409 Conflict on a stale resourceVersion
    store.mutate('volumesnapshots', 'ilum', 'snap-1', o => {o.status = {readyToUse: true}}, {subresource: 'status'});
    store.delete('persistentvolumeclaims', 'ilum', 'data-rustfs-0');
    const stop = store.onChange((resource, event) => ...);  // every ADDED/MODIFIED/DELETED
    const unwatch = store.watch('pods', 'ilum', '42', event => ...); // replays what is newer than 42

Semantics (as the real server):
- `create` fills uid, resourceVersion, creationTimestamp, generation (kinds that have one), a name
  from `generateName`, apiVersion/kind, then the kind's defaults; a 500 when the object already
  carries a resourceVersion (as the real server); 409 AlreadyExists; 422 Invalid
  (name rules, label syntax, the kind's `validate`); 404 when the namespace does not exist. Status
  is reset on create unless `{keepStatus: true}` (for seeding).
- `update` is a PUT: 409 Conflict when `metadata.resourceVersion` is set and stale (unset means
  unconditional). On a kind with a status subresource the main resource ignores `status`, and
  `{subresource: 'status'}` changes only `status`. `{subresource: 'any'}` (store only, not
  reachable over HTTP) writes spec, status and metadata at once: for controllers and seeds. An
  update that changes nothing returns the object unchanged (same resourceVersion, no event).
  `generation` is bumped when the spec changes. Removing the last finalizer of an object being
  deleted deletes it.
- `delete`: with finalizers it only sets `deletionTimestamp` (MODIFIED); otherwise the object goes
  (DELETED). Dependents whose every ownerReference pointed at deleted objects are then deleted in
  the background (the garbage collector), unless `propagationPolicy: 'Orphan'`. Deleting a
  namespace marks it Terminating, deletes its contents, then the namespace.
- `watch(resource, namespace, fromResourceVersion)`: undefined = only future events; a version =
  replay every retained event newer than it first; too old (compacted) = 410 Expired ApiError.
- Every object handed out is a copy; events given to `watch` listeners are shared: read only.
- `toJSON()` / `ObjectStore.fromJSON()` persist the objects and the resourceVersion counter (not
  the event history: an old watch after a reload gets 410, as after an etcd compaction).
*/
import {randomUUID} from 'node:crypto';
import {ApiError, type StatusCause} from './api-error.js';

export {ApiError, type KubeStatus, type StatusCause} from './api-error.js';
import {type ResourceDef, ResourceTable, apiVersionOf, canonical} from './resources.js';
import {matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector} from './selectors.js';

export type ObjectMeta = {
	name: string;
	namespace?: string;
	uid: string;
	resourceVersion: string;
	creationTimestamp: string;
	generation?: number;
	labels?: Record<string, string>;
	annotations?: Record<string, string>;
	ownerReferences?: any[];
	finalizers?: string[];
	deletionTimestamp?: string;
	deletionGracePeriodSeconds?: number;
	generateName?: string;
	[k: string]: unknown;
};

export type KubeObject = {
	apiVersion: string;
	kind: string;
	metadata: ObjectMeta;
	spec?: any;
	status?: any;
	data?: any;
	[k: string]: unknown;
};

/** What callers pass in: metadata may lack what the store fills. */
export type KubeObjectInput = Omit<KubeObject, 'metadata' | 'apiVersion' | 'kind'> & {apiVersion?: string; kind?: string; metadata: Partial<ObjectMeta>};

export type WatchEvent = {type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject};

export type ListOptions = {
	labelSelector?: string;
	fieldSelector?: string;
	limit?: number;
	continue?: string;
};

export type ListResult = {items: KubeObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number};

export type WriteOptions = {dryRun?: boolean};
export type CreateOptions = WriteOptions & {keepStatus?: boolean};
export type UpdateOptions = WriteOptions & {subresource?: 'status' | 'any'};
export type DeleteOptions = WriteOptions & {
	propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
	preconditions?: {uid?: string; resourceVersion?: string};
};

export type StoreOptions = {
	resources?: ResourceTable;
	/** The clock for timestamps (a drill may run faster than real time). */
	now?: () => Date;
	/** How many events watches can resume from (older resourceVersions get 410). */
	historyLimit?: number;
};

export type StoreSnapshot = {version: 1; resourceVersion: number; objects: Record<string, KubeObject[]>};

type HistoryEntry = {rv: number; resource: string; namespace: string | undefined; event: WatchEvent};
type Watcher = {resource: string; namespace: string | undefined; listener: (event: WatchEvent) => void};

export function timestamp(date: Date): string {
	return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const dnsLabel = /^[a-z\d]([-a-z\d]*[a-z\d])?$/;
const dnsSubdomain = /^[a-z\d]([-a-z\d]*[a-z\d])?(\.[a-z\d]([-a-z\d]*[a-z\d])?)*$/;
const qualifiedName = /^([a-z\d]([-a-z\d]*[a-z\d])?(\.[a-z\d]([-a-z\d]*[a-z\d])?)*\/)?[A-Za-z\d]([-\w.]*[A-Za-z\d])?$/;
const labelValue = /^([A-Za-z\d]([-\w.]*[A-Za-z\d])?)?$/;
const nameAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

function labelNamed(plural: string): boolean {
	return plural === 'namespaces' || plural === 'services';
}

function nameCauses(plural: string, name: string): StatusCause[] {
	if (labelNamed(plural)) {
		if (!dnsLabel.test(name) || name.length > 63) {
			return [{reason: 'FieldValueInvalid', message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`, field: 'metadata.name'}];
		}

		return [];
	}

	if (!dnsSubdomain.test(name) || name.length > 253) {
		return [{reason: 'FieldValueInvalid', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`, field: 'metadata.name'}];
	}

	return [];
}

function isStringMap(value: unknown): value is Record<string, string> {
	return value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every(v => typeof v === 'string');
}

/** The shape checks the real server's JSON decoder makes (400 on a wrong type). */
function checkShape(object: unknown): asserts object is KubeObject {
	if (object === null || typeof object !== 'object' || Array.isArray(object)) {
		throw ApiError.badRequest('the object provided is unrecognized (must be of type Object)');
	}

	const o = object as Record<string, any>;
	if (o['metadata'] !== undefined && (o['metadata'] === null || typeof o['metadata'] !== 'object' || Array.isArray(o['metadata']))) {
		throw ApiError.badRequest(`json: cannot unmarshal ${Array.isArray(o['metadata']) ? 'array' : typeof o['metadata']} into Go struct field .metadata of type v1.ObjectMeta`);
	}

	const metadata = (o['metadata'] ?? {}) as Record<string, unknown>;
	for (const field of ['labels', 'annotations']) {
		if (metadata[field] !== undefined && metadata[field] !== null && !isStringMap(metadata[field])) {
			throw ApiError.badRequest(`json: cannot unmarshal ${Array.isArray(metadata[field]) ? 'array' : typeof metadata[field]} into Go struct field ObjectMeta.metadata.${field} of type map[string]string`);
		}
	}

	for (const field of ['name', 'namespace', 'generateName', 'resourceVersion', 'uid']) {
		if (metadata[field] !== undefined && metadata[field] !== null && typeof metadata[field] !== 'string') {
			throw ApiError.badRequest(`json: cannot unmarshal ${typeof metadata[field]} into Go struct field ObjectMeta.metadata.${field} of type string`);
		}
	}

	if (metadata['finalizers'] !== undefined && metadata['finalizers'] !== null && (!Array.isArray(metadata['finalizers']) || !metadata['finalizers'].every(f => typeof f === 'string'))) {
		throw ApiError.badRequest('json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string');
	}

	if (metadata['ownerReferences'] !== undefined && metadata['ownerReferences'] !== null && (!Array.isArray(metadata['ownerReferences']) || !metadata['ownerReferences'].every(r => r && typeof r === 'object'))) {
		throw ApiError.badRequest('json: cannot unmarshal into Go struct field ObjectMeta.metadata.ownerReferences of type []v1.OwnerReference');
	}

	for (const field of ['spec', 'status']) {
		if (o[field] !== undefined && o[field] !== null && (typeof o[field] !== 'object' || Array.isArray(o[field]))) {
			throw ApiError.badRequest(`json: cannot unmarshal ${Array.isArray(o[field]) ? 'array' : typeof o[field]} into Go struct field .${field} of type object`);
		}
	}
}

function metadataCauses(metadata: ObjectMeta): StatusCause[] {
	const causes: StatusCause[] = [];
	for (const [key, value] of Object.entries(metadata.labels ?? {})) {
		if (!qualifiedName.test(key)) {
			causes.push({reason: 'FieldValueInvalid', message: `Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`, field: 'metadata.labels'});
		}

		if (!labelValue.test(value) || value.length > 63) {
			causes.push({reason: 'FieldValueInvalid', message: `Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`, field: 'metadata.labels'});
		}
	}

	for (const key of Object.keys(metadata.annotations ?? {})) {
		if (!qualifiedName.test(key)) {
			causes.push({reason: 'FieldValueInvalid', message: `Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`, field: 'metadata.annotations'});
		}
	}

	const annotationBytes = Object.entries(metadata.annotations ?? {}).reduce((sum, [k, v]) => sum + k.length + v.length, 0);
	if (annotationBytes > 262_144) {
		causes.push({reason: 'FieldValueTooLong', message: 'Too long: may not be more than 262144 bytes', field: 'metadata.annotations'});
	}

	for (const [index, reference] of (metadata.ownerReferences ?? []).entries()) {
		for (const field of ['apiVersion', 'kind', 'name', 'uid']) {
			if (!reference[field]) {
				causes.push({reason: 'FieldValueRequired', message: 'Required value', field: `metadata.ownerReferences[${index}].${field}`});
			}
		}
	}

	return causes;
}

function keyOf(namespace: string | undefined, name: string): string {
	return namespace ? `${namespace}/${name}` : name;
}

function comparable(object: KubeObject): string {
	const {resourceVersion: _rv, ...metadata} = object.metadata;
	return canonical({...object, metadata});
}

export class ObjectStore {
	readonly resources: ResourceTable;
	readonly now: () => Date;
	private readonly objects = new Map<string, Map<string, KubeObject>>();
	private rv = 0;
	private readonly history: HistoryEntry[] = [];
	private compactedRv = 0;
	private readonly historyLimit: number;
	private readonly watchers = new Set<Watcher>();
	private readonly changeListeners = new Set<(resource: string, event: WatchEvent) => void>();

	constructor(options: StoreOptions = {}) {
		this.resources = options.resources ?? new ResourceTable();
		this.now = options.now ?? (() => new Date());
		this.historyLimit = options.historyLimit ?? 10_000;
	}

	/** The current resourceVersion of the whole store (what a list reports). */
	get resourceVersion(): string {
		return String(this.rv);
	}

	/** The table row for `pods`, `volumesnapshots.snapshot.storage.k8s.io`; 404 when unknown. */
	resource(resource: string): ResourceDef {
		const dot = resource.indexOf('.');
		const def = dot === -1 ? this.resources.byPlural(resource) : this.resources.byPlural(resource.slice(0, dot), resource.slice(dot + 1));
		if (!def) {
			throw ApiError.pathNotFound();
		}

		return def;
	}

	private bucket(def: ResourceDef): Map<string, KubeObject> {
		const key = def.plural;
		let bucket = this.objects.get(key);
		if (!bucket) {
			bucket = new Map();
			this.objects.set(key, bucket);
		}

		return bucket;
	}

	private namespaceOf(def: ResourceDef, namespace: string | undefined): string | undefined {
		return def.namespaced ? namespace : undefined;
	}

	get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
		const def = this.resource(resource);
		const object = this.bucket(def).get(keyOf(this.namespaceOf(def, namespace), name));
		return object ? structuredClone(object) : undefined;
	}

	/** Like `get`, but a 404 ApiError when missing. */
	require(resource: string, namespace: string | undefined, name: string): KubeObject {
		const object = this.get(resource, namespace, name);
		if (!object) {
			throw ApiError.notFound(this.resource(resource), name);
		}

		return object;
	}

	/** Field selector labels the resource accepts. */
	fieldLabels(def: ResourceDef): string[] {
		const extra = def.fields ? Object.keys(def.fields(this.emptyObject(def))) : [];
		return ['metadata.name', 'metadata.namespace', ...extra];
	}

	private emptyObject(def: ResourceDef): KubeObject {
		return {apiVersion: apiVersionOf(def), kind: def.kind, metadata: {name: '', uid: '', resourceVersion: '', creationTimestamp: ''}};
	}

	/** A predicate for the selectors (throws 400 on a malformed one). */
	matcher(resource: string, options: {labelSelector?: string; fieldSelector?: string} = {}): (object: KubeObject) => boolean {
		const def = this.resource(resource);
		const labels = parseLabelSelector(options.labelSelector);
		const fields = parseFieldSelector(options.fieldSelector, this.fieldLabels(def));
		if (labels.length === 0 && fields.length === 0) {
			return () => true;
		}

		return object => {
			if (!matchesLabels(labels, object.metadata.labels)) {
				return false;
			}

			if (fields.length === 0) {
				return true;
			}

			const values: Record<string, string> = {'metadata.name': object.metadata.name, 'metadata.namespace': object.metadata.namespace ?? '', ...def.fields?.(object)};
			return matchesFields(fields, values);
		};
	}

	list(resource: string, namespace?: string, options: ListOptions = {}): ListResult {
		const def = this.resource(resource);
		const matches = this.matcher(resource, options);
		const ns = this.namespaceOf(def, namespace);
		let start = '';
		if (options.continue) {
			try {
				const token = JSON.parse(Buffer.from(options.continue, 'base64url').toString('utf8')) as {start?: unknown};
				if (typeof token.start !== 'string') {
					throw new TypeError('no start');
				}

				start = token.start;
			} catch {
				throw ApiError.badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
			}
		}

		const entries = [...this.bucket(def).entries()]
			.filter(([key, object]) => (ns === undefined || object.metadata.namespace === ns) && (!start || key > start))
			.sort(([a], [b]) => (a < b ? -1 : (a > b ? 1 : 0)));
		const items: KubeObject[] = [];
		let last = '';
		let remaining = 0;
		const limit = options.limit && options.limit > 0 ? options.limit : Number.POSITIVE_INFINITY;
		for (const [key, object] of entries) {
			if (!matches(object)) {
				continue;
			}

			if (items.length >= limit) {
				remaining++;
				continue;
			}

			items.push(structuredClone(object));
			last = key;
		}

		const result: ListResult = {items, resourceVersion: this.resourceVersion};
		if (remaining > 0) {
			result.continue = Buffer.from(JSON.stringify({v: 'meta.k8s.io/v1', rv: this.rv, start: last})).toString('base64url');
			result.remainingItemCount = remaining;
		}

		return result;
	}

	create(resource: string, input: KubeObjectInput | KubeObject, options: CreateOptions = {}): KubeObject {
		const def = this.resource(resource);
		if (def.virtual) {
			throw ApiError.methodNotAllowed();
		}

		checkShape(input);
		const object = structuredClone(input) as KubeObject;
		object.metadata ??= {} as ObjectMeta;
		const metadata = object.metadata;
		object.apiVersion = apiVersionOf(def);
		object.kind = def.kind;
		const namespace = this.namespaceOf(def, metadata.namespace ?? undefined);
		if (def.namespaced && !namespace) {
			throw ApiError.invalid(def, metadata.name ?? '', [{reason: 'FieldValueRequired', message: 'Required value', field: 'metadata.namespace'}]);
		}

		if (namespace) {
			metadata.namespace = namespace;
		} else {
			delete metadata.namespace;
		}

		if (!metadata.name) {
			if (!metadata.generateName) {
				throw ApiError.invalid(def, '', [{reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name'}]);
			}

			let suffix = '';
			for (let index = 0; index < 5; index++) {
				suffix += nameAlphabet[Math.floor(Math.random() * nameAlphabet.length)];
			}

			metadata.name = `${metadata.generateName}${suffix}`;
		}

		const bucket = this.bucket(def);
		const causes = [...nameCauses(def.plural, metadata.name), ...metadataCauses(metadata)];
		if (causes.length > 0) {
			throw ApiError.invalid(def, metadata.name, causes);
		}

		if (namespace && this.resources.byPlural('namespaces') && !this.bucket(this.resource('namespaces')).has(namespace)) {
			throw ApiError.notFoundNamespace(namespace);
		}

		const key = keyOf(namespace, metadata.name);
		if (bucket.has(key)) {
			throw ApiError.alreadyExists(def, metadata.name);
		}

		if (namespace) {
			const ns = this.bucket(this.resource('namespaces')).get(namespace);
			if (ns?.metadata.deletionTimestamp) {
				throw new ApiError(403, 'Forbidden', `${def.group ? `${def.plural}.${def.group}` : def.plural} "${metadata.name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {name: metadata.name, kind: def.plural});
			}
		}

		if (metadata.resourceVersion) {
			// The real server's etcd layer refuses this with a reason-less 500.
			throw new ApiError(500, '', 'resourceVersion should not be set on objects to be created');
		}

		const now = this.now();
		metadata.uid = randomUUID();
		metadata.creationTimestamp = timestamp(now);
		delete metadata.deletionTimestamp;
		delete metadata.deletionGracePeriodSeconds;
		delete metadata['managedFields'];
		delete metadata['selfLink'];
		if (def.generationChanged) {
			metadata.generation = 1;
		} else {
			delete metadata.generation;
		}

		const status = object.status;
		if (def.subresources.status) {
			delete object.status;
		}

		def.defaults?.(object, now);
		if (options.keepStatus && status !== undefined) {
			object.status = status;
		}

		const kindCauses = def.validate?.(object, undefined) ?? [];
		if (kindCauses.length > 0) {
			throw ApiError.invalid(def, metadata.name, kindCauses);
		}

		if (options.dryRun) {
			metadata.resourceVersion = '';
			return object;
		}

		this.rv++;
		metadata.resourceVersion = String(this.rv);
		bucket.set(key, object);
		this.emit(def, {type: 'ADDED', object: structuredClone(object)});
		return structuredClone(object);
	}

	update(resource: string, input: KubeObject, options: UpdateOptions = {}): KubeObject {
		const def = this.resource(resource);
		checkShape(input);
		const namespace = this.namespaceOf(def, input.metadata?.namespace ?? undefined);
		const name = input.metadata?.name;
		if (!name) {
			throw ApiError.invalid(def, '', [{reason: 'FieldValueRequired', message: 'Required value: name is required', field: 'metadata.name'}]);
		}

		const bucket = this.bucket(def);
		const key = keyOf(namespace, name);
		const old = bucket.get(key);
		if (!old) {
			throw ApiError.notFound(def, name);
		}

		if (input.metadata.resourceVersion && input.metadata.resourceVersion !== old.metadata.resourceVersion) {
			throw ApiError.conflict(def, name);
		}

		if (input.metadata.uid && input.metadata.uid !== old.metadata.uid) {
			throw ApiError.conflict(def, name, `Precondition failed: UID in precondition: ${input.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
		}

		let next: KubeObject;
		if (options.subresource === 'status') {
			next = structuredClone(old);
			if (input.status === undefined) {
				delete next.status;
			} else {
				next.status = structuredClone(input.status);
			}
		} else {
			next = structuredClone(input);
			next.metadata.uid = old.metadata.uid;
			next.metadata.creationTimestamp = old.metadata.creationTimestamp;
			if (old.metadata.deletionTimestamp) {
				next.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
				next.metadata.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
			} else {
				delete next.metadata.deletionTimestamp;
				delete next.metadata.deletionGracePeriodSeconds;
			}

			if (namespace) {
				next.metadata.namespace = namespace;
			}

			delete next.metadata['managedFields'];
			delete next.metadata['selfLink'];
			if (old.metadata.generation === undefined) {
				delete next.metadata.generation;
			} else {
				next.metadata.generation = old.metadata.generation;
			}

			if (options.subresource !== 'any' && def.subresources.status) {
				if (old.status === undefined) {
					delete next.status;
				} else {
					next.status = structuredClone(old.status);
				}
			}

			if (def.plural === 'secrets' && next['stringData']) {
				def.defaults?.(next, this.now());
			}

			const causes = [...metadataCauses(next.metadata)];
			if (causes.length > 0) {
				throw ApiError.invalid(def, name, causes);
			}
		}

		next.apiVersion = apiVersionOf(def);
		next.kind = def.kind;
		next.metadata.resourceVersion = old.metadata.resourceVersion;
		const kindCauses = def.validate?.(next, old) ?? [];
		if (kindCauses.length > 0) {
			throw ApiError.invalid(def, name, kindCauses);
		}

		if (next.metadata.generation !== undefined && def.generationChanged?.(old, next)) {
			next.metadata.generation = (old.metadata.generation ?? 0) + 1;
		}

		if (comparable(next) === comparable(old)) {
			return structuredClone(old);
		}

		if (options.dryRun) {
			return next;
		}

		const finishing = Boolean(next.metadata.deletionTimestamp) && (next.metadata.finalizers ?? []).length === 0;
		this.rv++;
		next.metadata.resourceVersion = String(this.rv);
		if (finishing) {
			bucket.delete(key);
			this.emit(def, {type: 'DELETED', object: structuredClone(next)});
			this.collectGarbage(next.metadata.uid);
		} else {
			bucket.set(key, next);
			this.emit(def, {type: 'MODIFIED', object: structuredClone(next)});
		}

		return structuredClone(next);
	}

	/** Read-modify-write: `fn` edits a copy of the current object, which is then updated. */
	mutate(resource: string, namespace: string | undefined, name: string, fn: (object: KubeObject) => void, options: UpdateOptions = {}): KubeObject {
		const current = this.require(resource, namespace, name);
		fn(current);
		return this.update(resource, current, options);
	}

	delete(resource: string, namespace: string | undefined, name: string, options: DeleteOptions = {}): KubeObject {
		const def = this.resource(resource);
		const ns = this.namespaceOf(def, namespace);
		const bucket = this.bucket(def);
		const key = keyOf(ns, name);
		const old = bucket.get(key);
		if (!old) {
			throw ApiError.notFound(def, name);
		}

		if (options.preconditions?.uid && options.preconditions.uid !== old.metadata.uid) {
			throw ApiError.conflict(def, name, `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${old.metadata.uid}`);
		}

		if (options.preconditions?.resourceVersion && options.preconditions.resourceVersion !== old.metadata.resourceVersion) {
			throw ApiError.conflict(def, name, `Precondition failed: ResourceVersion in precondition: ${options.preconditions.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
		}

		const isNamespace = def.plural === 'namespaces';
		if ((old.metadata.finalizers ?? []).length > 0 || isNamespace) {
			if (old.metadata.deletionTimestamp) {
				return structuredClone(old);
			}

			const next = structuredClone(old);
			next.metadata.deletionTimestamp = timestamp(this.now());
			next.metadata.deletionGracePeriodSeconds = 0;
			if (isNamespace) {
				next.status = {...next.status, phase: 'Terminating'};
			}

			if (options.dryRun) {
				return next;
			}

			this.rv++;
			next.metadata.resourceVersion = String(this.rv);
			bucket.set(key, next);
			this.emit(def, {type: 'MODIFIED', object: structuredClone(next)});
			if (isNamespace) {
				setImmediate(() => {
					this.finishNamespace(name);
				});
			}

			return structuredClone(next);
		}

		if (options.dryRun) {
			return structuredClone(old);
		}

		bucket.delete(key);
		this.rv++;
		const gone = structuredClone(old);
		gone.metadata.resourceVersion = String(this.rv);
		this.emit(def, {type: 'DELETED', object: structuredClone(gone)});
		if (options.propagationPolicy === 'Orphan') {
			this.orphan(old.metadata.uid);
		} else {
			this.collectGarbage(old.metadata.uid);
		}

		return gone;
	}

	/** Deletes everything a terminating namespace holds, then the namespace. */
	private finishNamespace(name: string): void {
		for (const def of this.resources.all) {
			if (!def.namespaced || def.virtual) {
				continue;
			}

			for (const object of [...this.bucket(def).values()]) {
				if (object.metadata.namespace !== name) {
					continue;
				}

				try {
					const current = this.bucket(def).get(keyOf(name, object.metadata.name));
					if (current && (current.metadata.finalizers ?? []).length > 0) {
						// Finalizers keep it; a controller must release it. Drop them, as a drill world has none to wait for.
						this.update(def.plural, {...current, metadata: {...current.metadata, finalizers: []}}, {subresource: 'any'});
					}

					if (this.bucket(def).has(keyOf(name, object.metadata.name))) {
						this.delete(def.plural, name, object.metadata.name);
					}
				} catch {}
			}
		}

		const namespaces = this.resource('namespaces');
		const ns = this.bucket(namespaces).get(name);
		if (ns) {
			this.bucket(namespaces).delete(name);
			this.rv++;
			const gone = structuredClone(ns);
			gone.metadata.resourceVersion = String(this.rv);
			this.emit(namespaces, {type: 'DELETED', object: gone});
		}
	}

	private dependents(uid: string): Array<{def: ResourceDef; object: KubeObject}> {
		const result: Array<{def: ResourceDef; object: KubeObject}> = [];
		for (const def of this.resources.all) {
			for (const object of this.objects.get(def.plural)?.values() ?? []) {
				if ((object.metadata.ownerReferences ?? []).some(reference => reference?.uid === uid)) {
					result.push({def, object});
				}
			}
		}

		return result;
	}

	private liveUid(uid: string): boolean {
		for (const bucket of this.objects.values()) {
			for (const object of bucket.values()) {
				if (object.metadata.uid === uid && !object.metadata.deletionTimestamp) {
					return true;
				}
			}
		}

		return false;
	}

	/** Background garbage collection: dependents with no live owner left are deleted. */
	private collectGarbage(uid: string): void {
		setImmediate(() => {
			for (const {def, object} of this.dependents(uid)) {
				const owners: any[] = object.metadata.ownerReferences ?? [];
				if (owners.some(reference => reference?.uid !== uid && this.liveUid(String(reference?.uid)))) {
					continue;
				}

				try {
					this.delete(def.plural, object.metadata.namespace, object.metadata.name, {propagationPolicy: 'Background'});
				} catch {}
			}
		});
	}

	private orphan(uid: string): void {
		for (const {def, object} of this.dependents(uid)) {
			try {
				this.mutate(def.plural, object.metadata.namespace, object.metadata.name, o => {
					o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter(reference => reference?.uid !== uid);
					if (o.metadata.ownerReferences.length === 0) {
						delete o.metadata.ownerReferences;
					}
				}, {subresource: 'any'});
			} catch {}
		}
	}

	private emit(def: ResourceDef, event: WatchEvent): void {
		const entry: HistoryEntry = {rv: Number(event.object.metadata.resourceVersion), resource: def.plural, namespace: event.object.metadata.namespace, event};
		this.history.push(entry);
		if (this.history.length > this.historyLimit) {
			const dropped = this.history.splice(0, this.history.length - this.historyLimit);
			this.compactedRv = dropped.at(-1)!.rv;
		}

		for (const watcher of this.watchers) {
			if (watcher.resource === def.plural && (watcher.namespace === undefined || watcher.namespace === entry.namespace)) {
				try {
					watcher.listener(event);
				} catch {}
			}
		}

		for (const listener of this.changeListeners) {
			try {
				listener(def.plural, structuredClone(event));
			} catch {}
		}
	}

	/**
	Calls `listener` for every change of `resource` (in `namespace`, or all), after replaying the
	retained events newer than `fromResourceVersion`. Returns the function that stops it.
	*/
	watch(resource: string, namespace: string | undefined, fromResourceVersion: string | undefined, listener: (event: WatchEvent) => void): () => void {
		const def = this.resource(resource);
		const ns = this.namespaceOf(def, namespace);
		if (fromResourceVersion !== undefined && fromResourceVersion !== '') {
			const from = Number(fromResourceVersion);
			if (!Number.isInteger(from) || from < 0) {
				throw ApiError.badRequest(`Invalid value: "${fromResourceVersion}": invalid resource version`);
			}

			if (from < this.compactedRv) {
				throw ApiError.expired(`too old resource version: ${from} (${this.compactedRv + 1})`);
			}

			for (const entry of this.history) {
				if (entry.rv > from && entry.resource === def.plural && (ns === undefined || entry.namespace === ns)) {
					listener(entry.event);
				}
			}
		}

		const watcher: Watcher = {resource: def.plural, namespace: ns, listener};
		this.watchers.add(watcher);
		return () => {
			this.watchers.delete(watcher);
		};
	}

	/** Every change of every resource, for controllers. Events are copies. */
	onChange(listener: (resource: string, event: WatchEvent) => void): () => void {
		this.changeListeners.add(listener);
		return () => {
			this.changeListeners.delete(listener);
		};
	}

	toJSON(): StoreSnapshot {
		const objects: Record<string, KubeObject[]> = {};
		for (const [plural, bucket] of this.objects) {
			if (bucket.size > 0) {
				objects[plural] = [...bucket.values()];
			}
		}

		return {version: 1, resourceVersion: this.rv, objects};
	}

	static fromJSON(snapshot: StoreSnapshot, options: StoreOptions = {}): ObjectStore {
		const store = new ObjectStore(options);
		if (snapshot?.version !== 1 || typeof snapshot.resourceVersion !== 'number') {
			throw new TypeError('Not a saved object store (version 1)');
		}

		store.rv = snapshot.resourceVersion;
		store.compactedRv = snapshot.resourceVersion;
		for (const [plural, items] of Object.entries(snapshot.objects ?? {})) {
			const def = store.resource(plural);
			const bucket = store.bucket(def);
			for (const item of items) {
				bucket.set(keyOf(store.namespaceOf(def, item.metadata.namespace), item.metadata.name), item);
			}
		}

		return store;
	}
}
