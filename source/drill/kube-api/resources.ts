/**
The resource table of the simulated Kubernetes API: one row per kind. The HTTP server, discovery,
OpenAPI, Table output, field selectors, defaulting and validation are all driven from this table,
so adding a kind is adding a row (see `resources` at the bottom, and `defineResource`).

A row says:
- where the kind lives (`group`, `version`, `plural`, `namespaced`) and how discovery names it
  (`kind`, `singular`, `shortNames`, `categories`, `verbs`);
- which subresources it has (`status`, `scale` with the paths of replicas);
- whether it is a custom resource (`custom: true`: merge and JSON patch only, 415 for strategic
  merge patch, as the real server answers for CRDs);
- the columns the real server prints for it in a `meta.k8s.io/v1` Table (`columns`, each with a
  `cell(object, now)`), in the order kubectl shows them; `priority: 1` columns show with `-o wide`;
- extra field selectors it accepts (`fields`), beyond `metadata.name` and `metadata.namespace`;
- `defaults(object, now)` applied on create (what the real API server's defaulting does), and
  `validate(object, old)` returning the causes of a 422 Invalid.
*/
import type {StatusCause} from './api-error.js';
import type {KubeObject} from './store.js';

export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

export type Column = {
	readonly name: string;
	readonly type: ColumnType;
	readonly format?: string;
	readonly description?: string;
	readonly priority?: number;
	readonly cell: (object: KubeObject, now: Date) => unknown;
};

export type ScaleSubresource = {
	/** Dotted path of the desired replicas, e.g. `spec.replicas`. */
	readonly specReplicasPath: string;
	readonly statusReplicasPath: string;
	readonly labelSelectorPath?: string;
};

export type ResourceDef = {
	readonly group: string;
	readonly version: string;
	readonly kind: string;
	readonly plural: string;
	readonly singular: string;
	readonly shortNames: readonly string[];
	readonly categories?: readonly string[];
	readonly namespaced: boolean;
	readonly verbs: readonly string[];
	readonly subresources: {readonly status?: boolean; readonly scale?: ScaleSubresource};
	/** A CustomResourceDefinition's kind: no strategic merge patch. */
	readonly custom?: boolean;
	/** Not stored: only `create` answers (SelfSubjectAccessReview). */
	readonly virtual?: boolean;
	readonly columns: readonly Column[];
	/** Top-level fields besides apiVersion, kind and metadata (default spec and status): others are unknown to `fieldValidation`. */
	readonly topLevel?: readonly string[];
	/**
	A custom resource's structural schema, as far as known fields go: unknown fields below these
	are pruned from requests (with a warning), or refused with `fieldValidation=Strict`, as the
	real server does for CRDs. `true` = any value; a `'*'` key = a map of that shape.
	*/
	readonly schema?: FieldTree;
	/** Field selector labels beyond metadata.name / metadata.namespace, with their values. */
	readonly fields?: (object: KubeObject) => Record<string, string>;
	readonly defaults?: (object: KubeObject, now: Date) => void;
	/** Causes of a 422; `old` is set on update. */
	readonly validate?: (object: KubeObject, old: KubeObject | undefined) => StatusCause[];
	/** True when the change from old to next counts as a spec change (bumps metadata.generation). */
	readonly generationChanged?: (old: KubeObject, next: KubeObject) => boolean;
};

export type FieldTree = {readonly [field: string]: FieldTree | true};

export const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

export function apiVersionOf(resource: ResourceDef): string {
	return resource.group ? `${resource.group}/${resource.version}` : resource.version;
}

// ---- cell helpers -----------------------------------------------------------------------------

/** Port of k8s.io/apimachinery/pkg/util/duration.HumanDuration. */
export function humanDuration(milliseconds: number): string {
	const seconds = Math.floor(milliseconds / 1000);
	if (seconds < -1) {
		return '<invalid>';
	}

	if (seconds < 0) {
		return '0s';
	}

	if (seconds < 60 * 2) {
		return `${seconds}s`;
	}

	const minutes = Math.floor(seconds / 60);
	if (minutes < 10) {
		const s = seconds % 60;
		return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
	}

	if (minutes < 60 * 3) {
		return `${minutes}m`;
	}

	const hours = Math.floor(minutes / 60);
	if (hours < 8) {
		const m = minutes % 60;
		return m === 0 ? `${hours}h` : `${hours}h${m}m`;
	}

	if (hours < 48) {
		return `${hours}h`;
	}

	if (hours < 24 * 8) {
		const h = hours % 24;
		return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
	}

	if (hours < 24 * 365 * 2) {
		return `${Math.floor(hours / 24)}d`;
	}

	if (hours < 24 * 365 * 8) {
		const days = Math.floor(hours / 24) % 365;
		return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
	}

	return `${Math.floor(hours / 24 / 365)}y`;
}

/** What the real printers show for a timestamp: its age, or `<unknown>`. */
export function since(timestamp: unknown, now: Date): string {
	if (typeof timestamp !== 'string' || !timestamp) {
		return '<unknown>';
	}

	const time = Date.parse(timestamp);
	return Number.isNaN(time) ? '<unknown>' : humanDuration(now.getTime() - time);
}

/** JSON with object keys sorted: equal objects compare equal whatever order their keys came in (Go's encoding is canonical). */
export function canonical(value: unknown): string {
	return JSON.stringify(value, (_key, item: unknown) => {
		if (item && typeof item === 'object' && !Array.isArray(item)) {
			return Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : (a > b ? 1 : 0))));
		}

		return item;
	});
}

const quantitySuffixes: Record<string, number> = {'': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60};

/** The value of a resource.Quantity (`10Gi`, `500M`, `1.5`, `1e3`), or undefined when it is not one. */
export function quantityValue(quantity: unknown): number | undefined {
	if (typeof quantity === 'number') {
		return quantity;
	}

	const match = typeof quantity === 'string' ? /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(quantity.trim()) : null;
	if (!match) {
		return undefined;
	}

	const base = Number(match[1]);
	return match[2] ? base * (10 ** Number(match[2].slice(1))) : base * quantitySuffixes[match[3] ?? '']!;
}

/** Reads a dotted path (`spec.source.persistentVolumeClaimName`). */
export function getPath(object: unknown, path: string): unknown {
	let current: any = object;
	for (const part of path.split('.')) {
		if (current === null || typeof current !== 'object') {
			return undefined;
		}

		current = current[part];
	}

	return current;
}

export function setPath(object: any, path: string, value: unknown): void {
	const parts = path.split('.');
	let current = object;
	for (const part of parts.slice(0, -1)) {
		if (current[part] === null || typeof current[part] !== 'object') {
			current[part] = {};
		}

		current = current[part];
	}

	current[parts.at(-1)!] = value;
}

const nameColumn: Column = {name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: o => o.metadata.name};
const ageColumn: Column = {name: 'Age', type: 'string', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.', cell: (o, now) => since(o.metadata.creationTimestamp, now)};

/** A custom resource's additionalPrinterColumn: the value at a path, null when absent (as the real CRD printer). */
function crdColumn(name: string, type: ColumnType, path: string, description = '', priority = 0): Column {
	return {
		name,
		type,
		description,
		priority,
		cell(o, now) {
			const value = getPath(o, path);
			if (value === undefined || value === null) {
				return null;
			}

			if (type === 'date') {
				return since(value, now);
			}

			if (type === 'string' && typeof value === 'object') {
				return JSON.stringify(value);
			}

			return value;
		},
	};
}

const crdAge: Column = {name: 'Age', type: 'date', cell: (o, now) => since(o.metadata.creationTimestamp, now)};

function accessModes(modes: unknown): string {
	if (!Array.isArray(modes)) {
		return '';
	}

	const short: Record<string, string> = {ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP'};
	const seen: string[] = [];
	for (const mode of modes) {
		const value = short[mode as string];
		if (value && !seen.includes(value)) {
			seen.push(value);
		}
	}

	return seen.join(',');
}

function containers(o: KubeObject, path: string): {names: string; images: string} {
	const list = getPath(o, path);
	const items = Array.isArray(list) ? list as Array<{name?: string; image?: string}> : [];
	return {names: items.map(c => c.name ?? '').join(','), images: items.map(c => c.image ?? '').join(',')};
}

function selectorString(selector: unknown): string {
	if (!selector || typeof selector !== 'object') {
		return '<none>';
	}

	const {matchLabels, matchExpressions} = selector as {matchLabels?: Record<string, string>; matchExpressions?: Array<{key: string; operator: string; values?: string[]}>};
	const parts = Object.entries(matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
	for (const expression of matchExpressions ?? []) {
		const op = expression.operator;
		if (op === 'In' || op === 'NotIn') {
			parts.push(`${expression.key} ${op.toLowerCase()} (${(expression.values ?? []).join(',')})`);
		} else if (op === 'Exists') {
			parts.push(expression.key);
		} else if (op === 'DoesNotExist') {
			parts.push(`!${expression.key}`);
		}
	}

	return parts.length > 0 ? parts.join(',') : '<none>';
}

function podStatus(o: KubeObject): string {
	let reason: string = o.status?.reason ?? o.status?.phase ?? 'Pending';
	const statuses: any[] = o.status?.containerStatuses ?? [];
	for (const status of statuses) {
		if (status.state?.waiting?.reason) {
			reason = status.state.waiting.reason;
		} else if (status.state?.terminated?.reason) {
			reason = status.state.terminated.reason;
		}
	}

	if (o.metadata.deletionTimestamp) {
		reason = 'Terminating';
	}

	return reason;
}

function condition(o: KubeObject, type: string): boolean {
	const conditions: any[] = o.status?.conditions ?? [];
	return conditions.some(c => c.type === type && c.status === 'True');
}

function jobStatus(o: KubeObject): string {
	if (o.metadata.deletionTimestamp) {
		return 'Terminating';
	}

	if (condition(o, 'Complete')) {
		return 'Complete';
	}

	if (condition(o, 'Failed')) {
		return 'Failed';
	}

	if (condition(o, 'SuccessCriteriaMet')) {
		return 'SuccessCriteriaMet';
	}

	if (condition(o, 'FailureTarget')) {
		return 'FailureTarget';
	}

	if (condition(o, 'Suspended')) {
		return 'Suspended';
	}

	return 'Running';
}

function jobDuration(o: KubeObject, now: Date): string {
	const start = o.status?.startTime;
	if (!start) {
		return '';
	}

	const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : now.getTime();
	return humanDuration(end - Date.parse(start));
}

function servicePorts(o: KubeObject): string {
	const ports: any[] = o.spec?.ports ?? [];
	if (ports.length === 0) {
		return '<none>';
	}

	return ports.map(p => p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`).join(',');
}

function labelMap(map: unknown): string {
	if (!map || typeof map !== 'object' || Object.keys(map).length === 0) {
		return '<none>';
	}

	return Object.entries(map as Record<string, string>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`).join(',');
}

function required(value: unknown, field: string, message = 'Required value'): StatusCause[] {
	if (value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)) {
		return [{reason: 'FieldValueRequired', message, field}];
	}

	return [];
}

function immutable(old: KubeObject | undefined, next: KubeObject, path: string, message = 'field is immutable'): StatusCause[] {
	if (!old) {
		return [];
	}

	const before = JSON.stringify(getPath(old, path) ?? null);
	const after = JSON.stringify(getPath(next, path) ?? null);
	return before === after ? [] : [{reason: 'FieldValueInvalid', message: `Invalid value: ${after === 'null' ? 'null' : after}: ${message}`, field: path}];
}

function specChanged(old: KubeObject, next: KubeObject): boolean {
	return JSON.stringify(old.spec ?? null) !== JSON.stringify(next.spec ?? null);
}

function everythingButMetadataAndStatus(old: KubeObject, next: KubeObject): boolean {
	const strip = (o: KubeObject) => {
		const {metadata: _m, status: _s, ...rest} = o;
		return JSON.stringify(rest);
	};

	return strip(old) !== strip(next);
}

function podTemplateDefaults(template: any): void {
	if (!template || typeof template !== 'object') {
		return;
	}

	template.spec ??= {};
	template.spec.restartPolicy ??= 'Always';
	template.spec.terminationGracePeriodSeconds ??= 30;
	template.spec.dnsPolicy ??= 'ClusterFirst';
	template.spec.schedulerName ??= 'default-scheduler';
	template.spec.securityContext ??= {};
	for (const container of [...(template.spec.initContainers ?? []), ...(template.spec.containers ?? [])]) {
		container.terminationMessagePath ??= '/dev/termination-log';
		container.terminationMessagePolicy ??= 'File';
		container.imagePullPolicy ??= String(container.image ?? '').endsWith(':latest') || !String(container.image ?? '').includes(':') ? 'Always' : 'IfNotPresent';
		container.resources ??= {};
	}
}

let nextClusterIp = 10;

// ---- the table --------------------------------------------------------------------------------

export function defineResource(row: Omit<ResourceDef, 'verbs' | 'shortNames' | 'subresources'> & Partial<Pick<ResourceDef, 'verbs' | 'shortNames' | 'subresources'>>): ResourceDef {
	return {verbs: allVerbs, shortNames: [], subresources: {}, ...row};
}

/** RoleBinding and ClusterRoleBinding: the same shape, a roleRef that cannot change. */
function bindingResource(kind: string, plural: string, namespaced: boolean): ResourceDef {
	return defineResource({
		group: 'rbac.authorization.k8s.io', version: 'v1', kind, plural, singular: kind.toLowerCase(), namespaced,
		topLevel: ['roleRef', 'subjects'],
		columns: [
			nameColumn,
			{name: 'Role', type: 'string', cell: o => `${(o['roleRef'] as {kind?: string} | undefined)?.kind ?? ''}/${(o['roleRef'] as {name?: string} | undefined)?.name ?? ''}`},
			ageColumn,
		],
		validate: (o, old) => [...required(o['roleRef'], 'roleRef'), ...(old && JSON.stringify(old['roleRef']) !== JSON.stringify(o['roleRef']) ? [{reason: 'FieldValueInvalid', message: 'Invalid value: cannot change roleRef', field: 'roleRef'}] : [])],
	});
}

export const resources: ResourceDef[] = [
	defineResource({
		group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', shortNames: ['ns'], namespaced: false,
		verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
		subresources: {status: true},
		columns: [nameColumn, {name: 'Status', type: 'string', description: 'The status of the namespace', cell: o => o.status?.phase ?? ''}, ageColumn],
		fields: o => ({'status.phase': String(o.status?.phase ?? '')}),
		defaults(o) {
			o.metadata.labels = {...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name};
			o.spec ??= {};
			o.spec.finalizers ??= ['kubernetes'];
			o.status = {phase: 'Active'};
		},
	}),
	defineResource({
		group: '', version: 'v1', kind: 'Secret', plural: 'secrets', singular: 'secret', namespaced: true,
		topLevel: ['data', 'stringData', 'type', 'immutable'],
		columns: [nameColumn, {name: 'Type', type: 'string', cell: o => o['type'] ?? 'Opaque'}, {name: 'Data', type: 'string', cell: o => Object.keys((o.data as object | undefined) ?? {}).length}, ageColumn],
		fields: o => ({type: String(o['type'] ?? 'Opaque')}),
		defaults(o) {
			o['type'] ??= 'Opaque';
			if (o['stringData'] && typeof o['stringData'] === 'object') {
				o.data = {...o.data};
				for (const [key, value] of Object.entries(o['stringData'] as Record<string, string>)) {
					o.data[key] = Buffer.from(String(value)).toString('base64');
				}

				delete o['stringData'];
			}
		},
		validate(o) {
			const causes: StatusCause[] = [];
			for (const [key, value] of Object.entries((o.data as Record<string, unknown> | undefined) ?? {})) {
				if (!/^[-._a-zA-Z\d]+$/.test(key)) {
					causes.push({reason: 'FieldValueInvalid', message: `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`, field: `data[${key}]`});
				}

				if (typeof value !== 'string' || !/^[A-Za-z\d+/]*={0,2}$/.test(value)) {
					causes.push({reason: 'FieldValueInvalid', message: 'Invalid value: illegal base64 data', field: `data[${key}]`});
				}
			}

			return causes;
		},
	}),
	defineResource({
		group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', shortNames: ['cm'], namespaced: true,
		topLevel: ['data', 'binaryData', 'immutable'],
		columns: [nameColumn, {name: 'Data', type: 'string', cell: o => Object.keys((o.data as object | undefined) ?? {}).length + Object.keys((o['binaryData'] as object | undefined) ?? {}).length}, ageColumn],
	}),
	defineResource({
		group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', shortNames: ['svc'], categories: ['all'], namespaced: true,
		verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
		subresources: {status: true},
		columns: [
			nameColumn,
			{name: 'Type', type: 'string', cell: o => o.spec?.type ?? 'ClusterIP'},
			{name: 'Cluster-IP', type: 'string', cell: o => o.spec?.clusterIP ?? '<none>'},
			{name: 'External-IP', type: 'string', cell: o => (o.spec?.externalIPs as string[] | undefined)?.join(',') || (o.status?.loadBalancer?.ingress?.length ? o.status.loadBalancer.ingress.map((i: any) => i.ip ?? i.hostname).join(',') : (o.spec?.type === 'LoadBalancer' ? '<pending>' : '<none>'))},
			{name: 'Port(s)', type: 'string', cell: servicePorts},
			ageColumn,
			{name: 'Selector', type: 'string', priority: 1, cell: o => labelMap(o.spec?.selector)},
		],
		defaults(o) {
			o.spec ??= {};
			o.spec.type ??= 'ClusterIP';
			if (o.spec.clusterIP === undefined && o.spec.type !== 'ExternalName') {
				o.spec.clusterIP = `10.96.${Math.floor(nextClusterIp / 250)}.${(nextClusterIp % 250) + 1}`;
				nextClusterIp++;
				o.spec.clusterIPs = [o.spec.clusterIP];
			}

			o.spec.sessionAffinity ??= 'None';
			for (const port of o.spec.ports ?? []) {
				port.protocol ??= 'TCP';
				port.targetPort ??= port.port;
			}

			o.status ??= {loadBalancer: {}};
		},
		validate: (o, old) => [...(o.spec?.ports ?? []).flatMap((p: any, i: number) => required(p.port, `spec.ports[${i}].port`)), ...immutable(old, o, 'spec.clusterIP')],
	}),
	defineResource({
		group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', shortNames: ['ev'], namespaced: true,
		topLevel: ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series', 'action', 'related', 'reportingComponent', 'reportingInstance'],
		columns: [
			{name: 'Last Seen', type: 'string', cell: (o, now) => since(o['lastTimestamp'] ?? o['eventTime'] ?? o['firstTimestamp'] ?? o.metadata.creationTimestamp, now)},
			{name: 'Type', type: 'string', cell: o => o['type'] ?? ''},
			{name: 'Reason', type: 'string', cell: o => o['reason'] ?? ''},
			{name: 'Object', type: 'string', cell(o) {
				const involved = o['involvedObject'] as {kind?: string; name?: string} | undefined;
				return `${String(involved?.kind ?? '').toLowerCase()}/${involved?.name ?? ''}`;
			}},
			{name: 'Subobject', type: 'string', priority: 1, cell: o => (o['involvedObject'] as any)?.fieldPath ?? ''},
			{name: 'Source', type: 'string', priority: 1, cell: o => (o['source'] as any)?.component ?? (o['reportingComponent'] as string | undefined) ?? ''},
			{name: 'Message', type: 'string', cell: o => o['message'] ?? ''},
			{name: 'First Seen', type: 'string', priority: 1, cell: (o, now) => since(o['firstTimestamp'] ?? o.metadata.creationTimestamp, now)},
			{name: 'Count', type: 'string', priority: 1, cell: o => String(o['count'] ?? 1)},
			{name: 'Name', type: 'string', priority: 1, cell: o => o.metadata.name},
		],
		fields(o) {
			const involved = (o['involvedObject'] ?? {}) as Record<string, unknown>;
			const result: Record<string, string> = {};
			for (const key of ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath']) {
				result[`involvedObject.${key}`] = String(involved[key] ?? '');
			}

			result['reason'] = String(o['reason'] ?? '');
			result['reportingComponent'] = String(o['reportingComponent'] ?? '');
			result['source'] = String((o['source'] as any)?.component ?? '');
			result['type'] = String(o['type'] ?? '');
			return result;
		},
		validate: o => required(o['involvedObject'], 'involvedObject'),
	}),
	defineResource({
		group: '', version: 'v1', kind: 'PersistentVolumeClaim', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', shortNames: ['pvc'], namespaced: true,
		subresources: {status: true},
		columns: [
			nameColumn,
			{name: 'Status', type: 'string', cell: o => o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase ?? 'Pending')},
			{name: 'Volume', type: 'string', cell: o => o.spec?.volumeName ?? ''},
			{name: 'Capacity', type: 'string', cell: o => o.spec?.volumeName ? (o.status?.capacity?.storage ?? '') : ''},
			{name: 'Access Modes', type: 'string', cell: o => o.spec?.volumeName ? accessModes(o.status?.accessModes) : ''},
			{name: 'StorageClass', type: 'string', cell: o => o.spec?.storageClassName ?? ''},
			{name: 'VolumeAttributesClass', type: 'string', cell: o => o.spec?.volumeAttributesClassName ?? '<unset>'},
			ageColumn,
			{name: 'VolumeMode', type: 'string', priority: 1, cell: o => o.spec?.volumeMode ?? 'Filesystem'},
		],
		defaults(o) {
			o.spec ??= {};
			o.spec.volumeMode ??= 'Filesystem';
			o.status = {phase: 'Pending'};
		},
		validate(o, old) {
			const causes = [
				...required(o.spec?.accessModes, 'spec.accessModes', 'Required value: at least 1 access mode is required'),
				...required(o.spec?.resources?.requests?.storage, 'spec.resources[storage]', 'Required value'),
			];
			if (old) {
				// As ValidatePersistentVolumeClaimUpdate: only a bound claim may change its storage request (and only up).
				const bound = old.status?.phase === 'Bound';
				const strip = (claim: KubeObject) => {
					const spec = structuredClone(claim.spec ?? {});
					delete spec.volumeAttributesClassName;
					if (bound && spec.resources?.requests) {
						spec.resources.requests.storage = old.spec?.resources?.requests?.storage;
					}

					if (!getPath(old, 'spec.volumeName')) {
						delete spec.volumeName;
					}

					return canonical(spec);
				};

				if (strip(old) !== strip(o)) {
					causes.push({reason: 'FieldValueForbidden', message: 'Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims', field: 'spec'});
				} else if (bound) {
					const floor = quantityValue(old.status?.capacity?.storage ?? old.spec?.resources?.requests?.storage);
					const requested = quantityValue(o.spec?.resources?.requests?.storage);
					if (floor !== undefined && requested !== undefined && requested < floor) {
						causes.push({reason: 'FieldValueForbidden', message: 'Forbidden: field can not be less than status.capacity', field: 'spec.resources.requests.storage'});
					}
				}
			}

			return causes;
		},
	}),
	defineResource({
		group: '', version: 'v1', kind: 'PersistentVolume', plural: 'persistentvolumes', singular: 'persistentvolume', shortNames: ['pv'], namespaced: false,
		subresources: {status: true},
		columns: [
			nameColumn,
			{name: 'Capacity', type: 'string', cell: o => o.spec?.capacity?.storage ?? ''},
			{name: 'Access Modes', type: 'string', cell: o => accessModes(o.spec?.accessModes)},
			{name: 'Reclaim Policy', type: 'string', cell: o => o.spec?.persistentVolumeReclaimPolicy ?? 'Retain'},
			{name: 'Status', type: 'string', cell: o => o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase ?? 'Pending')},
			{name: 'Claim', type: 'string', cell: o => o.spec?.claimRef ? `${o.spec.claimRef.namespace}/${o.spec.claimRef.name}` : ''},
			{name: 'StorageClass', type: 'string', cell: o => o.spec?.storageClassName ?? ''},
			{name: 'VolumeAttributesClass', type: 'string', cell: o => o.spec?.volumeAttributesClassName ?? '<unset>'},
			{name: 'Reason', type: 'string', cell: o => o.status?.reason ?? ''},
			ageColumn,
			{name: 'VolumeMode', type: 'string', priority: 1, cell: o => o.spec?.volumeMode ?? 'Filesystem'},
		],
		defaults(o) {
			o.spec ??= {};
			o.spec.persistentVolumeReclaimPolicy ??= 'Retain';
			o.spec.volumeMode ??= 'Filesystem';
			o.status = {phase: 'Pending'};
		},
		validate: o => [...required(o.spec?.capacity?.storage, 'spec.capacity'), ...required(o.spec?.accessModes, 'spec.accessModes')],
	}),
	defineResource({
		group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', shortNames: ['po'], categories: ['all'], namespaced: true,
		subresources: {status: true},
		columns: [
			nameColumn,
			{name: 'Ready', type: 'string', cell(o) {
				const statuses: any[] = o.status?.containerStatuses ?? [];
				const total = (o.spec?.containers as unknown[] | undefined)?.length ?? statuses.length;
				return `${statuses.filter(s => s.ready).length}/${total}`;
			}},
			{name: 'Status', type: 'string', cell: podStatus},
			{name: 'Restarts', type: 'string', cell: o => String(((o.status?.containerStatuses ?? []) as any[]).reduce((sum, s) => sum + (s.restartCount ?? 0), 0))},
			ageColumn,
			{name: 'IP', type: 'string', priority: 1, cell: o => o.status?.podIP ?? '<none>'},
			{name: 'Node', type: 'string', priority: 1, cell: o => o.spec?.nodeName ?? '<none>'},
			{name: 'Nominated Node', type: 'string', priority: 1, cell: o => o.status?.nominatedNodeName ?? '<none>'},
			{name: 'Readiness Gates', type: 'string', priority: 1, cell: o => (o.spec?.readinessGates as unknown[] | undefined)?.length ? String(o.spec.readinessGates.length) : '<none>'},
		],
		fields: o => ({
			'spec.nodeName': String(o.spec?.nodeName ?? ''),
			'spec.restartPolicy': String(o.spec?.restartPolicy ?? ''),
			'spec.schedulerName': String(o.spec?.schedulerName ?? ''),
			'spec.serviceAccountName': String(o.spec?.serviceAccountName ?? ''),
			'spec.hostNetwork': String(Boolean(o.spec?.hostNetwork)),
			'status.phase': String(o.status?.phase ?? ''),
			'status.podIP': String(o.status?.podIP ?? ''),
			'status.nominatedNodeName': String(o.status?.nominatedNodeName ?? ''),
		}),
		defaults(o) {
			podTemplateDefaults(o);
			o.spec.serviceAccountName ??= 'default';
			o.status = {phase: 'Pending', qosClass: 'BestEffort'};
		},
		validate: o => required(o.spec?.containers, 'spec.containers'),
		generationChanged: () => false,
	}),
	defineResource({
		group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', plural: 'storageclasses', singular: 'storageclass', shortNames: ['sc'], namespaced: false,
		topLevel: ['provisioner', 'parameters', 'reclaimPolicy', 'mountOptions', 'allowVolumeExpansion', 'volumeBindingMode', 'allowedTopologies'],
		columns: [
			{...nameColumn, cell: o => o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? `${o.metadata.name} (default)` : o.metadata.name},
			{name: 'Provisioner', type: 'string', cell: o => o['provisioner'] ?? ''},
			{name: 'ReclaimPolicy', type: 'string', cell: o => o['reclaimPolicy'] ?? 'Delete'},
			{name: 'VolumeBindingMode', type: 'string', cell: o => o['volumeBindingMode'] ?? 'Immediate'},
			{name: 'AllowVolumeExpansion', type: 'string', cell: o => String(o['allowVolumeExpansion'] ?? false)},
			ageColumn,
		],
		defaults(o) {
			o['reclaimPolicy'] ??= 'Delete';
			o['volumeBindingMode'] ??= 'Immediate';
		},
		validate: (o, old) => [...required(o['provisioner'], 'provisioner'), ...immutable(old, o, 'provisioner', 'updates to provisioner are forbidden.')],
	}),
	defineResource({
		group: 'storage.k8s.io', version: 'v1', kind: 'CSIDriver', plural: 'csidrivers', singular: 'csidriver', namespaced: false,
		columns: [
			nameColumn,
			{name: 'AttachRequired', type: 'boolean', cell: o => o.spec?.attachRequired ?? true},
			{name: 'PodInfoOnMount', type: 'boolean', cell: o => o.spec?.podInfoOnMount ?? false},
			{name: 'StorageCapacity', type: 'boolean', cell: o => o.spec?.storageCapacity ?? false},
			{name: 'TokenRequests', type: 'string', cell: o => (o.spec?.tokenRequests as any[] | undefined)?.map(t => t.audience).join(',') || '<unset>'},
			{name: 'RequiresRepublish', type: 'boolean', cell: o => o.spec?.requiresRepublish ?? false},
			{name: 'Modes', type: 'string', cell: o => (o.spec?.volumeLifecycleModes as string[] | undefined)?.join(',') ?? 'Persistent'},
			ageColumn,
		],
		defaults(o) {
			o.spec ??= {};
			o.spec.attachRequired ??= true;
			o.spec.podInfoOnMount ??= false;
			o.spec.storageCapacity ??= false;
			o.spec.requiresRepublish ??= false;
			o.spec.fsGroupPolicy ??= 'ReadWriteOnceWithFSType';
			o.spec.volumeLifecycleModes ??= ['Persistent'];
		},
	}),
	defineResource({
		group: 'apps', version: 'v1', kind: 'StatefulSet', plural: 'statefulsets', singular: 'statefulset', shortNames: ['sts'], categories: ['all'], namespaced: true,
		subresources: {status: true, scale: {specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector'}},
		columns: [
			nameColumn,
			{name: 'Ready', type: 'string', cell: o => `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 1}`},
			ageColumn,
			{name: 'Containers', type: 'string', priority: 1, cell: o => containers(o, 'spec.template.spec.containers').names},
			{name: 'Images', type: 'string', priority: 1, cell: o => containers(o, 'spec.template.spec.containers').images},
		],
		defaults(o) {
			o.spec ??= {};
			o.spec.replicas ??= 1;
			o.spec.podManagementPolicy ??= 'OrderedReady';
			o.spec.updateStrategy ??= {type: 'RollingUpdate', rollingUpdate: {partition: 0}};
			o.spec.revisionHistoryLimit ??= 10;
			o.spec.persistentVolumeClaimRetentionPolicy ??= {whenDeleted: 'Retain', whenScaled: 'Retain'};
			podTemplateDefaults(o.spec.template);
			for (const template of o.spec.volumeClaimTemplates ?? []) {
				template.apiVersion ??= 'v1';
				template.kind ??= 'PersistentVolumeClaim';
				template.spec ??= {};
				template.spec.volumeMode ??= 'Filesystem';
				template.status ??= {phase: 'Pending'};
			}

			o.status = {replicas: 0, availableReplicas: 0};
		},
		validate(o, old) {
			const causes = [...required(o.spec?.selector, 'spec.selector'), ...required(o.spec?.template, 'spec.template')];
			if ((o.spec?.replicas ?? 0) < 0) {
				causes.push({reason: 'FieldValueInvalid', message: `Invalid value: ${o.spec.replicas}: must be greater than or equal to 0`, field: 'spec.replicas'});
			}

			if (old) {
				const strip = (sts: KubeObject) => {
					const {replicas: _r, ordinals: _o, template: _t, updateStrategy: _u, persistentVolumeClaimRetentionPolicy: _p, minReadySeconds: _m, ...rest} = sts.spec ?? {};
					return JSON.stringify(rest);
				};

				if (strip(old) !== strip(o)) {
					causes.push({reason: 'FieldValueForbidden', message: 'Forbidden: updates to statefulset spec for fields other than \'replicas\', \'ordinals\', \'template\', \'updateStrategy\', \'persistentVolumeClaimRetentionPolicy\' and \'minReadySeconds\' are forbidden', field: 'spec'});
				}
			}

			return causes;
		},
		generationChanged: specChanged,
	}),
	defineResource({
		group: 'batch', version: 'v1', kind: 'Job', plural: 'jobs', singular: 'job', categories: ['all'], namespaced: true,
		subresources: {status: true},
		columns: [
			nameColumn,
			{name: 'Status', type: 'string', cell: jobStatus},
			{name: 'Completions', type: 'string', cell: o => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`},
			{name: 'Duration', type: 'string', cell: jobDuration},
			ageColumn,
			{name: 'Containers', type: 'string', priority: 1, cell: o => containers(o, 'spec.template.spec.containers').names},
			{name: 'Images', type: 'string', priority: 1, cell: o => containers(o, 'spec.template.spec.containers').images},
			{name: 'Selector', type: 'string', priority: 1, cell: o => selectorString(o.spec?.selector)},
		],
		fields: o => ({'status.successful': String(o.status?.succeeded ?? 0)}),
		defaults(o) {
			o.spec ??= {};
			o.spec.parallelism ??= 1;
			o.spec.completions ??= 1;
			o.spec.backoffLimit ??= 6;
			o.spec.completionMode ??= 'NonIndexed';
			o.spec.suspend ??= false;
			o.spec.podReplacementPolicy ??= 'TerminatingOrFailed';
			o.spec.manualSelector = undefined;
			delete o.spec.manualSelector;
			const uid = o.metadata.uid;
			const labels = {'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': o.metadata.name, 'controller-uid': uid, 'job-name': o.metadata.name};
			o.spec.selector ??= {matchLabels: {'batch.kubernetes.io/controller-uid': uid}};
			o.spec.template ??= {};
			o.spec.template.metadata ??= {};
			o.spec.template.metadata.labels = {...o.spec.template.metadata.labels, ...labels};
			o.metadata.labels = {...labels, ...o.metadata.labels};
			podTemplateDefaults(o.spec.template);
			o.spec.template.spec.restartPolicy = o.spec.template.spec.restartPolicy === 'Always' ? 'Always' : o.spec.template.spec.restartPolicy;
			o.status = {};
		},
		validate(o, old) {
			const causes = [...required(o.spec?.template?.spec?.containers, 'spec.template.spec.containers')];
			const policy = o.spec?.template?.spec?.restartPolicy;
			if (policy !== 'Never' && policy !== 'OnFailure') {
				causes.push({reason: 'FieldValueNotSupported', message: `Unsupported value: "${policy ?? ''}": supported values: "OnFailure", "Never"`, field: 'spec.template.spec.restartPolicy'});
			}

			if (old) {
				causes.push(...immutable(old, o, 'spec.template', 'field is immutable'), ...immutable(old, o, 'spec.completions', 'field is immutable'), ...immutable(old, o, 'spec.selector', 'field is immutable'));
			}

			return causes;
		},
		generationChanged: specChanged,
	}),
	defineResource({
		group: 'batch', version: 'v1', kind: 'CronJob', plural: 'cronjobs', singular: 'cronjob', shortNames: ['cj'], categories: ['all'], namespaced: true,
		subresources: {status: true},
		columns: [
			nameColumn,
			{name: 'Schedule', type: 'string', cell: o => o.spec?.schedule ?? ''},
			{name: 'Timezone', type: 'string', cell: o => o.spec?.timeZone ?? '<none>'},
			{name: 'Suspend', type: 'boolean', cell: o => Boolean(o.spec?.suspend)},
			{name: 'Active', type: 'integer', cell: o => (o.status?.active as unknown[] | undefined)?.length ?? 0},
			{name: 'Last Schedule', type: 'string', cell: (o, now) => o.status?.lastScheduleTime ? since(o.status.lastScheduleTime, now) : '<none>'},
			ageColumn,
			{name: 'Containers', type: 'string', priority: 1, cell: o => containers(o, 'spec.jobTemplate.spec.template.spec.containers').names},
			{name: 'Images', type: 'string', priority: 1, cell: o => containers(o, 'spec.jobTemplate.spec.template.spec.containers').images},
			{name: 'Selector', type: 'string', priority: 1, cell: o => selectorString(o.spec?.jobTemplate?.spec?.selector)},
		],
		defaults(o) {
			o.spec ??= {};
			o.spec.concurrencyPolicy ??= 'Allow';
			o.spec.suspend ??= false;
			o.spec.successfulJobsHistoryLimit ??= 3;
			o.spec.failedJobsHistoryLimit ??= 1;
			podTemplateDefaults(o.spec.jobTemplate?.spec?.template);
			o.status = {};
		},
		validate(o) {
			const causes = [...required(o.spec?.schedule, 'spec.schedule'), ...required(o.spec?.jobTemplate?.spec?.template?.spec?.containers, 'spec.jobTemplate.spec.template.spec.containers')];
			if (o.spec?.schedule && String(o.spec.schedule).trim().split(/\s+/).length !== 5 && !String(o.spec.schedule).startsWith('@')) {
				causes.push({reason: 'FieldValueInvalid', message: `Invalid value: "${o.spec.schedule}": expected exactly 5 fields, found ${String(o.spec.schedule).trim().split(/\s+/).length}: ${o.spec.schedule}`, field: 'spec.schedule'});
			}

			return causes;
		},
		generationChanged: specChanged,
	}),
	defineResource({
		group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshotClass', plural: 'volumesnapshotclasses', singular: 'volumesnapshotclass', shortNames: ['vsclass', 'vsclasses'], namespaced: false, custom: true,
		schema: {driver: true, deletionPolicy: true, parameters: {'*': true}},
		topLevel: ['driver', 'parameters', 'deletionPolicy'],
		columns: [nameColumn, crdColumn('Driver', 'string', 'driver'), crdColumn('DeletionPolicy', 'string', 'deletionPolicy', 'Determines whether a VolumeSnapshotContent created through the VolumeSnapshotClass should be deleted when its bound VolumeSnapshot is deleted.'), crdAge],
		validate(o, old) {
			const causes = [...required(o['driver'], 'driver'), ...required(o['deletionPolicy'], 'deletionPolicy')];
			if (o['deletionPolicy'] && o['deletionPolicy'] !== 'Delete' && o['deletionPolicy'] !== 'Retain') {
				causes.push({reason: 'FieldValueNotSupported', message: `Unsupported value: "${String(o['deletionPolicy'])}": supported values: "Delete", "Retain"`, field: 'deletionPolicy'});
			}

			return [...causes, ...immutable(old, o, 'driver'), ...immutable(old, o, 'parameters')];
		},
		generationChanged: everythingButMetadataAndStatus,
	}),
	defineResource({
		group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshot', plural: 'volumesnapshots', singular: 'volumesnapshot', shortNames: ['vs'], namespaced: true, custom: true,
		schema: {spec: {source: {persistentVolumeClaimName: true, volumeSnapshotContentName: true}, volumeSnapshotClassName: true}, status: {boundVolumeSnapshotContentName: true, creationTime: true, readyToUse: true, restoreSize: true, error: {message: true, time: true}, volumeGroupSnapshotName: true}},
		subresources: {status: true},
		columns: [
			nameColumn,
			crdColumn('ReadyToUse', 'boolean', 'status.readyToUse', 'Indicates if the snapshot is ready to be used to restore a volume.'),
			crdColumn('SourcePVC', 'string', 'spec.source.persistentVolumeClaimName', 'If a new snapshot needs to be created, this contains the name of the source PVC from which this snapshot was (or will be) created.'),
			crdColumn('SourceSnapshotContent', 'string', 'spec.source.volumeSnapshotContentName', 'If a snapshot already exists, this contains the name of the existing VolumeSnapshotContent object representing the existing snapshot.'),
			crdColumn('RestoreSize', 'string', 'status.restoreSize', 'Represents the minimum size of volume required to rehydrate from this snapshot.'),
			crdColumn('SnapshotClass', 'string', 'spec.volumeSnapshotClassName', 'The name of the VolumeSnapshotClass requested by the VolumeSnapshot.'),
			crdColumn('SnapshotContent', 'string', 'status.boundVolumeSnapshotContentName', 'Name of the VolumeSnapshotContent object to which the VolumeSnapshot object intends to bind to. Please note that verification of binding actually requires checking both VolumeSnapshot and VolumeSnapshotContent to ensure both are pointing at each other. Binding MUST be verified prior to usage of this object.'),
			crdColumn('CreationTime', 'date', 'status.creationTime', 'Timestamp when the point-in-time snapshot was taken by the underlying storage system.'),
			crdAge,
		],
		validate(o, old) {
			const causes = [...required(o.spec, 'spec'), ...required(o.spec?.source, 'spec.source')];
			const source = o.spec?.source ?? {};
			if (o.spec?.source && Boolean(source.persistentVolumeClaimName) === Boolean(source.volumeSnapshotContentName)) {
				causes.push({reason: 'FieldValueInvalid', message: `Invalid value: "object": Exactly one of volumeSnapshotContentName and persistentVolumeClaimName must be set`, field: 'spec.source'});
			}

			if (old) {
				causes.push(...immutable(old, o, 'spec.source.persistentVolumeClaimName', 'persistentVolumeClaimName is immutable'), ...immutable(old, o, 'spec.source.volumeSnapshotContentName', 'volumeSnapshotContentName is immutable'));
			}

			return causes;
		},
		generationChanged: specChanged,
	}),
	defineResource({
		group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshotContent', plural: 'volumesnapshotcontents', singular: 'volumesnapshotcontent', shortNames: ['vsc', 'vscs'], namespaced: false, custom: true,
		schema: {spec: {deletionPolicy: true, driver: true, source: {snapshotHandle: true, volumeHandle: true}, sourceVolumeMode: true, volumeSnapshotClassName: true, volumeSnapshotRef: {apiVersion: true, fieldPath: true, kind: true, name: true, namespace: true, resourceVersion: true, uid: true}}, status: {creationTime: true, error: {message: true, time: true}, readyToUse: true, restoreSize: true, snapshotHandle: true, volumeGroupSnapshotHandle: true}},
		subresources: {status: true},
		columns: [
			nameColumn,
			crdColumn('ReadyToUse', 'boolean', 'status.readyToUse', 'Indicates if a snapshot is ready to be used to restore a volume.'),
			crdColumn('RestoreSize', 'integer', 'status.restoreSize', 'Represents the complete size of the snapshot in bytes'),
			crdColumn('DeletionPolicy', 'string', 'spec.deletionPolicy', 'Determines whether this VolumeSnapshotContent and its physical snapshot on the underlying storage system should be deleted when its bound VolumeSnapshot is deleted.'),
			crdColumn('Driver', 'string', 'spec.driver', 'Name of the CSI driver used to create the physical snapshot on the underlying storage system.'),
			crdColumn('VolumeSnapshotClass', 'string', 'spec.volumeSnapshotClassName', 'Name of the VolumeSnapshotClass to which this snapshot belongs.'),
			crdColumn('VolumeSnapshot', 'string', 'spec.volumeSnapshotRef.name', 'Name of the VolumeSnapshot object to which this VolumeSnapshotContent object is bound.'),
			crdColumn('VolumeSnapshotNamespace', 'string', 'spec.volumeSnapshotRef.namespace', 'Namespace of the VolumeSnapshot object to which this VolumeSnapshotContent object is bound.'),
			crdAge,
		],
		validate(o) {
			return [...required(o.spec?.driver, 'spec.driver'), ...required(o.spec?.deletionPolicy, 'spec.deletionPolicy'), ...required(o.spec?.source, 'spec.source'), ...required(o.spec?.volumeSnapshotRef, 'spec.volumeSnapshotRef')];
		},
		generationChanged: specChanged,
	}),
	defineResource({
		group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', singular: 'serviceaccount', shortNames: ['sa'], namespaced: true,
		topLevel: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
		columns: [nameColumn, {name: 'Secrets', type: 'integer', cell: o => ((o['secrets'] as unknown[] | undefined) ?? []).length}, ageColumn],
	}),
	defineResource({
		group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', plural: 'roles', singular: 'role', namespaced: true,
		topLevel: ['rules'],
		columns: [nameColumn, {name: 'Created At', type: 'string', cell: o => o.metadata.creationTimestamp}],
	}),
	bindingResource('RoleBinding', 'rolebindings', true),
	defineResource({
		group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', plural: 'clusterroles', singular: 'clusterrole', namespaced: false,
		topLevel: ['rules', 'aggregationRule'],
		columns: [nameColumn, {name: 'Created At', type: 'string', cell: o => o.metadata.creationTimestamp}],
	}),
	bindingResource('ClusterRoleBinding', 'clusterrolebindings', false),
	defineResource({
		group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectRulesReview', plural: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', namespaced: false, virtual: true,
		verbs: ['create'],
		columns: [nameColumn, ageColumn],
	}),
	defineResource({
		group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', namespaced: false, virtual: true,
		verbs: ['create'],
		columns: [nameColumn, ageColumn],
	}),
];

/** Looks resources up by plural (`pods`), by group and plural, and by kind. */
export class ResourceTable {
	readonly all: ResourceDef[];

	constructor(rows: readonly ResourceDef[] = resources) {
		this.all = [...rows];
	}

	add(row: ResourceDef): void {
		this.all.push(row);
	}

	/** By plural; a plural shared by two groups needs `group`. */
	byPlural(plural: string, group?: string): ResourceDef | undefined {
		return this.all.find(r => r.plural === plural && (group === undefined || r.group === group));
	}

	byGroupVersion(group: string, version: string, plural: string): ResourceDef | undefined {
		return this.all.find(r => r.group === group && r.version === version && r.plural === plural);
	}

	byKind(apiVersion: string, kind: string): ResourceDef | undefined {
		return this.all.find(r => apiVersionOf(r) === apiVersion && r.kind === kind);
	}

	groups(): Array<{group: string; versions: string[]}> {
		const result: Array<{group: string; versions: string[]}> = [];
		for (const r of this.all) {
			if (!r.group) {
				continue;
			}

			const entry = result.find(g => g.group === r.group);
			if (entry) {
				if (!entry.versions.includes(r.version)) {
					entry.versions.push(r.version);
				}
			} else {
				result.push({group: r.group, versions: [r.version]});
			}
		}

		return result;
	}
}
