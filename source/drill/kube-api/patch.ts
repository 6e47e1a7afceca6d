/**
The three patch formats of the Kubernetes API:
- JSON merge patch (RFC 7386), `application/merge-patch+json`;
- JSON patch (RFC 6902), `application/json-patch+json`;
- strategic merge patch, `application/strategic-merge-patch+json`, as k8s.io/apimachinery
  `strategicpatch` applies it: lists of objects merged by their patch merge key (containers by
  `name`, container ports by `containerPort`, Service ports by `port`, ...), primitive lists with
  the merge strategy (finalizers) united, other lists replaced; directives `$patch: replace|delete|merge`,
  `$retainKeys`, `$setElementOrder/<field>`, `$deleteFromPrimitiveList/<field>`; `null` deletes.
Every function returns a new value and never modifies its inputs.
*/

type Json = null | boolean | number | string | Json[] | {[key: string]: Json};
type JsonObject = {[key: string]: Json};

function isObject(value: unknown): value is JsonObject {
	return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export class PatchError extends Error {
	/** 400 for a malformed patch, 422 for one that cannot apply (a missing path, a failed `test`). */
	readonly code: number;

	constructor(message: string, code = 400) {
		super(message);
		this.name = 'PatchError';
		this.code = code;
	}
}

// ---- RFC 7386 ---------------------------------------------------------------------------------

export function mergePatch(target: unknown, patch: unknown): unknown {
	if (!isObject(patch)) {
		return structuredClone(patch);
	}

	const result: JsonObject = isObject(target) ? structuredClone(target) : {};
	for (const [key, value] of Object.entries(patch)) {
		if (value === null) {
			delete result[key];
		} else {
			result[key] = mergePatch(result[key], value) as Json;
		}
	}

	return result;
}

// ---- RFC 6902 ---------------------------------------------------------------------------------

function pointer(path: unknown): string[] {
	if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) {
		throw new PatchError(`invalid JSON pointer: ${JSON.stringify(path)}`);
	}

	return path === '' ? [] : path.slice(1).split('/').map(part => part.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function parentOf(document: Json, parts: string[], operation: string): {container: Json; key: string} {
	let container: Json = document;
	for (const part of parts.slice(0, -1)) {
		if (Array.isArray(container)) {
			container = container[Number(part)] as Json;
		} else if (isObject(container)) {
			container = container[part] as Json;
		} else {
			container = undefined as unknown as Json;
		}

		if (container === undefined) {
			throw new PatchError(`${operation} operation does not apply: doc is missing path: "/${parts.join('/')}": missing value`, 422);
		}
	}

	return {container, key: parts.at(-1)!};
}

function valueAt(document: Json, parts: string[], operation: string): Json {
	let current: Json = document;
	for (const part of parts) {
		const next: Json | undefined = Array.isArray(current) ? current[Number(part)] : (isObject(current) ? current[part] : undefined);
		if (next === undefined || (Array.isArray(current) && !/^\d+$/.test(part))) {
			throw new PatchError(`${operation} operation does not apply: doc is missing path: "/${parts.join('/')}": missing value`, 422);
		}

		current = next;
	}

	return current;
}

function arrayIndex(container: Json[], key: string, allowEnd: boolean, operation: string, parts: string[]): number {
	if (key === '-' && allowEnd) {
		return container.length;
	}

	if (!/^(0|[1-9]\d*)$/.test(key) || Number(key) > container.length - (allowEnd ? 0 : 1)) {
		throw new PatchError(`${operation} operation does not apply: doc is missing path: "/${parts.join('/')}": missing value`, 422);
	}

	return Number(key);
}

function add(document: Json, parts: string[], value: Json): Json {
	if (parts.length === 0) {
		return value;
	}

	const {container, key} = parentOf(document, parts, 'add');
	if (Array.isArray(container)) {
		container.splice(arrayIndex(container, key, true, 'add', parts), 0, value);
	} else if (isObject(container)) {
		container[key] = value;
	} else {
		throw new PatchError(`add operation does not apply: doc is missing path: "/${parts.join('/')}": missing value`, 422);
	}

	return document;
}

function remove(document: Json, parts: string[], operation = 'remove'): Json {
	const {container, key} = parentOf(document, parts, operation);
	if (Array.isArray(container)) {
		container.splice(arrayIndex(container, key, false, operation, parts), 1);
	} else if (isObject(container) && Object.hasOwn(container, key)) {
		delete container[key];
	} else {
		throw new PatchError(`${operation} operation does not apply: doc is missing path: "/${parts.join('/')}": missing value`, 422);
	}

	return document;
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
	if (!Array.isArray(operations)) {
		throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
	}

	let document = structuredClone(target) as Json;
	for (const operation of operations) {
		if (!isObject(operation) || typeof operation['op'] !== 'string') {
			throw new PatchError('Unexpected kind: unknown');
		}

		const parts = pointer(operation['path']);
		switch (operation['op']) {
			case 'add': {
				if (!('value' in operation)) {
					throw new PatchError('add operation missing value');
				}

				document = add(document, parts, structuredClone(operation['value']));
				break;
			}

			case 'remove': {
				document = remove(document, parts);
				break;
			}

			case 'replace': {
				valueAt(document, parts, 'replace');
				document = parts.length === 0 ? structuredClone(operation['value']) : add(remove(document, parts, 'replace'), parts, structuredClone(operation['value']));
				break;
			}

			case 'move': {
				const from = pointer(operation['from']);
				const value = valueAt(document, from, 'move');
				document = add(remove(document, from, 'move'), parts, value);
				break;
			}

			case 'copy': {
				const from = pointer(operation['from']);
				document = add(document, parts, structuredClone(valueAt(document, from, 'copy')));
				break;
			}

			case 'test': {
				const actual = valueAt(document, parts, 'test');
				if (JSON.stringify(actual) !== JSON.stringify(operation['value'])) {
					throw new PatchError(`testing value /${parts.join('/')} failed: test failed`, 422);
				}

				break;
			}

			default: {
				throw new PatchError(`Unexpected kind: ${String(operation['op'])}`);
			}
		}
	}

	return document;
}

// ---- strategic merge patch --------------------------------------------------------------------

/** How a list field merges: by a key (objects), as a set (primitives), or replaced (absent). */
export type ListStrategy = {mergeKey?: string; primitiveMerge?: boolean};

/**
The patch strategy of a list, from the `patchMergeKey`/`patchStrategy` tags of k8s.io/api.
`path` is the field path without list indices, e.g. ['spec', 'template', 'spec', 'containers'].
*/
export function builtinListStrategy(kind: string, path: readonly string[]): ListStrategy | undefined {
	const field = path.at(-1);
	const parent = path.at(-2);
	switch (field) {
		case 'containers':
		case 'initContainers':
		case 'ephemeralContainers':
		case 'env':
		case 'volumes':
		case 'imagePullSecrets':
		case 'resourceClaims': {
			return {mergeKey: 'name'};
		}

		case 'volumeMounts': {
			return {mergeKey: 'mountPath'};
		}

		case 'volumeDevices': {
			return {mergeKey: 'devicePath'};
		}

		case 'ports': {
			// Service ports merge by port; container (and endpoint) ports by containerPort.
			return kind === 'Service' && path.length === 2 ? {mergeKey: 'port'} : {mergeKey: 'containerPort'};
		}

		case 'conditions': {
			return parent === 'status' ? {mergeKey: 'type'} : undefined;
		}

		case 'ownerReferences': {
			return parent === 'metadata' ? {mergeKey: 'uid'} : undefined;
		}

		case 'finalizers': {
			return parent === 'metadata' ? {primitiveMerge: true} : undefined;
		}

		case 'hostAliases': {
			return {mergeKey: 'ip'};
		}

		case 'topologySpreadConstraints': {
			return {mergeKey: 'topologyKey'};
		}

		case 'ingress': {
			return undefined;
		}

		default: {
			return undefined;
		}
	}
}

const setElementOrderPrefix = '$setElementOrder/';
const deleteFromPrimitiveListPrefix = '$deleteFromPrimitiveList/';

type StrategyFor = (path: readonly string[]) => ListStrategy | undefined;

function stripDirectives(value: Json): Json {
	if (Array.isArray(value)) {
		return value.filter(item => !(isObject(item) && item['$patch'] !== undefined && Object.keys(item).length === 1)).map(item => stripDirectives(item));
	}

	if (isObject(value)) {
		const result: JsonObject = {};
		for (const [key, item] of Object.entries(value)) {
			if (key.startsWith('$')) {
				continue;
			}

			if (item !== null) {
				result[key] = stripDirectives(item);
			}
		}

		return result;
	}

	return value;
}

function order(list: Json[], orderList: Json[] | undefined, mergeKey: string | undefined): Json[] {
	if (!orderList) {
		return list;
	}

	const keyOf = (item: Json) => mergeKey && isObject(item) ? JSON.stringify(item[mergeKey]) : JSON.stringify(item);
	const position = new Map(orderList.map((item, index) => [keyOf(item), index]));
	const ordered = list.filter(item => position.has(keyOf(item))).sort((a, b) => position.get(keyOf(a))! - position.get(keyOf(b))!);
	const rest = list.filter(item => !position.has(keyOf(item)));
	return [...ordered, ...rest];
}

function mergeList(original: Json[], patch: Json[], path: readonly string[], strategy: ListStrategy | undefined, strategyFor: StrategyFor, orderList: Json[] | undefined, deletions: Json[] | undefined): Json[] {
	if (patch.some(item => isObject(item) && item['$patch'] === 'replace')) {
		return stripDirectives(patch.filter(item => !(isObject(item) && item['$patch'] === 'replace'))) as Json[];
	}

	if (strategy?.primitiveMerge) {
		const result = original.filter(item => !(deletions ?? []).some(d => JSON.stringify(d) === JSON.stringify(item)));
		for (const item of patch) {
			if (!result.some(existing => JSON.stringify(existing) === JSON.stringify(item))) {
				result.push(item);
			}
		}

		return order(result, orderList, undefined);
	}

	const mergeKey = strategy?.mergeKey;
	if (!mergeKey) {
		return stripDirectives(patch) as Json[];
	}

	const result = structuredClone(original);
	for (const item of patch) {
		if (!isObject(item)) {
			throw new PatchError(`unable to find api field in struct for the list ${path.join('.')}: expected a map with merge key ${mergeKey}`);
		}

		const key = item[mergeKey];
		const index = result.findIndex(existing => isObject(existing) && JSON.stringify(existing[mergeKey]) === JSON.stringify(key));
		if (item['$patch'] === 'delete') {
			if (index !== -1) {
				result.splice(index, 1);
			}

			continue;
		}

		if (key === undefined) {
			throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
		}

		if (index === -1) {
			result.push(stripDirectives(item));
		} else {
			result[index] = mergeObject(result[index] as JsonObject, item, path, strategyFor);
		}
	}

	return order(result, orderList, mergeKey);
}

function mergeObject(original: JsonObject | undefined, patch: JsonObject, path: readonly string[], strategyFor: StrategyFor): Json {
	const directive = patch['$patch'];
	if (directive === 'delete') {
		return null;
	}

	if (directive === 'replace') {
		return stripDirectives(patch);
	}

	if (directive !== undefined && directive !== 'merge') {
		throw new PatchError(`Unknown patch type: ${JSON.stringify(directive)} in map: ${JSON.stringify(patch)}`);
	}

	const result: JsonObject = isObject(original) ? structuredClone(original) : {};
	for (const [key, value] of Object.entries(patch)) {
		if (key === '$patch' || key === '$retainKeys' || key.startsWith(setElementOrderPrefix) || key.startsWith(deleteFromPrimitiveListPrefix)) {
			continue;
		}

		if (key.startsWith('$')) {
			throw new PatchError(`unknown patch directive: ${key}`);
		}

		const childPath = [...path, key];
		if (value === null) {
			delete result[key];
		} else if (isObject(value)) {
			const merged = mergeObject(isObject(result[key]) ? result[key] as JsonObject : undefined, value, childPath, strategyFor);
			if (merged === null) {
				delete result[key];
			} else {
				result[key] = merged;
			}
		} else if (Array.isArray(value)) {
			const orderList = patch[setElementOrderPrefix + key];
			const deletions = patch[deleteFromPrimitiveListPrefix + key];
			result[key] = mergeList(Array.isArray(result[key]) ? result[key] as Json[] : [], value, childPath, strategyFor(childPath), strategyFor, Array.isArray(orderList) ? orderList : undefined, Array.isArray(deletions) ? deletions : undefined);
		} else {
			result[key] = value;
		}
	}

	// Lists only ordered or only trimmed (no elements in the patch).
	for (const [key, value] of Object.entries(patch)) {
		if (key.startsWith(setElementOrderPrefix)) {
			const field = key.slice(setElementOrderPrefix.length);
			if (!(field in patch) && Array.isArray(result[field]) && Array.isArray(value)) {
				result[field] = order(result[field] as Json[], value, strategyFor([...path, field])?.mergeKey);
			}
		}

		if (key.startsWith(deleteFromPrimitiveListPrefix)) {
			const field = key.slice(deleteFromPrimitiveListPrefix.length);
			if (!(field in patch) && Array.isArray(result[field]) && Array.isArray(value)) {
				result[field] = (result[field] as Json[]).filter(item => !value.some(d => JSON.stringify(d) === JSON.stringify(item)));
			}
		}
	}

	const retain = patch['$retainKeys'];
	if (retain !== undefined) {
		if (!Array.isArray(retain)) {
			throw new PatchError('$retainKeys must be a list of strings');
		}

		for (const key of Object.keys(result)) {
			if (!retain.includes(key)) {
				delete result[key];
			}
		}
	}

	return result;
}

export function strategicMergePatch(target: unknown, patch: unknown, strategyFor: StrategyFor): unknown {
	if (!isObject(patch)) {
		throw new PatchError('json: cannot unmarshal into Go value of type map[string]interface {}');
	}

	const result = mergeObject(isObject(target) ? target as JsonObject : {}, patch, [], strategyFor);
	return result ?? {};
}
