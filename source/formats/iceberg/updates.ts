import {idString, idValue, type RawMetadata} from './metadata.js';

/**
The REST catalog's table requirements and updates (OpenAPI `TableRequirement`, `TableUpdate`),
applied to raw metadata. Used by the REST catalog server, by path-based commits and by the writer,
so all three change metadata the same way.
*/
export type TableRequirement = {readonly type: string; readonly [key: string]: unknown};
export type TableUpdate = {readonly action: string; readonly [key: string]: unknown};

export class UnsupportedUpdateError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'UnsupportedUpdateError';
	}
}

const refSnapshot = (raw: RawMetadata, ref: string): string | undefined => {
	const refs = raw['refs'] as Record<string, any> | undefined;
	if (refs?.[ref]) {
		return idString(refs[ref]['snapshot-id']);
	}

	if (ref === 'main' && !refs) {
		const current = raw['current-snapshot-id'];
		return current === undefined || current === null || idString(current) === '-1' ? undefined : idString(current);
	}

	return undefined;
};

/** The first requirement that does not hold, as a message; undefined when all hold. */
export function failedRequirement(raw: RawMetadata | undefined, requirements: readonly TableRequirement[]): string | undefined {
	for (const requirement of requirements) {
		switch (requirement.type) {
			case 'assert-create': {
				if (raw) {
					return 'Requirement failed: table already exists';
				}

				break;
			}

			case 'assert-table-uuid': {
				if (raw?.['table-uuid'] !== requirement['uuid']) {
					return `Requirement failed: UUID does not match: expected ${String(raw?.['table-uuid'])} != ${String(requirement['uuid'])}`;
				}

				break;
			}

			case 'assert-ref-snapshot-id': {
				const ref = String(requirement['ref']);
				const actual = raw ? refSnapshot(raw, ref) : undefined;
				const expected = requirement['snapshot-id'] === null || requirement['snapshot-id'] === undefined ? undefined : idString(requirement['snapshot-id']);
				if (expected === undefined && actual !== undefined) {
					return `Requirement failed: ${ref} was created concurrently`;
				}

				if (expected !== actual) {
					return actual === undefined ? `Requirement failed: ${ref} was removed concurrently` : `Requirement failed: ${ref} has changed: expected id ${expected} != ${actual}`;
				}

				break;
			}

			case 'assert-current-schema-id':
			case 'assert-last-assigned-field-id':
			case 'assert-last-assigned-partition-id':
			case 'assert-default-spec-id':
			case 'assert-default-sort-order-id': {
				const [key, field] = ({
					'assert-current-schema-id': ['current-schema-id', 'current-schema-id'],
					'assert-last-assigned-field-id': ['last-assigned-field-id', 'last-column-id'],
					'assert-last-assigned-partition-id': ['last-assigned-partition-id', 'last-partition-id'],
					'assert-default-spec-id': ['default-spec-id', 'default-spec-id'],
					'assert-default-sort-order-id': ['default-sort-order-id', 'default-sort-order-id'],
				} as const)[requirement.type];
				if (Number(raw?.[field]) !== Number(requirement[key])) {
					return `Requirement failed: ${field} has changed: expected ${String(requirement[key])} != ${String(raw?.[field])}`;
				}

				break;
			}

			default: {
				throw new UnsupportedUpdateError(`unknown requirement type '${requirement.type}'`);
			}
		}
	}

	return undefined;
}

function maxFieldId(type: any): number {
	let max = 0;
	for (const field of (type?.fields ?? []) as any[]) {
		max = Math.max(max, Number(field.id), maxFieldId(field.type));
	}

	if (type?.type === 'list') {
		max = Math.max(max, Number(type['element-id'] ?? 0), maxFieldId(type.element));
	}

	if (type?.type === 'map') {
		max = Math.max(max, Number(type['key-id'] ?? 0), Number(type['value-id'] ?? 0), maxFieldId(type.key), maxFieldId(type.value));
	}

	return max;
}

/** Applies updates to a copy of `raw` and returns it. `now` is the commit time (ms). */
export function applyUpdates(raw: RawMetadata, updates: readonly TableUpdate[], now: number): RawMetadata {
	const meta: RawMetadata = structuredClone(raw);
	const addedSnapshots = new Map<string, number>();
	let lastAddedSchema: number | undefined;
	let lastAddedSpec: number | undefined;
	let lastAddedOrder: number | undefined;
	for (const update of updates) {
		switch (update.action) {
			case 'assign-uuid': {
				meta['table-uuid'] = update['uuid'];
				break;
			}

			case 'upgrade-format-version': {
				const version = Number(update['format-version']);
				if (version < Number(meta['format-version'])) {
					throw new UnsupportedUpdateError(`cannot downgrade format-version ${String(meta['format-version'])} to ${version}`);
				}

				meta['format-version'] = version;
				meta['last-sequence-number'] ??= 0;
				break;
			}

			case 'add-schema': {
				const schema = structuredClone(update['schema']) as any;
				const schemas = (meta['schemas'] ??= []) as any[];
				schema['schema-id'] ??= Math.max(-1, ...schemas.map(item => Number(item['schema-id']))) + 1;
				schemas.push(schema);
				meta['last-column-id'] = Math.max(Number(meta['last-column-id'] ?? 0), maxFieldId(schema));
				lastAddedSchema = Number(schema['schema-id']);
				break;
			}

			case 'set-current-schema': {
				const id = Number(update['schema-id']) === -1 ? lastAddedSchema : Number(update['schema-id']);
				if (id === undefined || !(meta['schemas'] ?? []).some((schema: any) => Number(schema['schema-id']) === id)) {
					throw new UnsupportedUpdateError(`cannot set current schema to unknown schema ${String(update['schema-id'])}`);
				}

				meta['current-schema-id'] = id;
				if (Number(meta['format-version']) === 1) {
					meta['schema'] = (meta['schemas'] as any[]).find(schema => Number(schema['schema-id']) === id);
				}

				break;
			}

			case 'add-spec': {
				const spec = structuredClone(update['spec']) as any;
				const specs = (meta['partition-specs'] ??= []) as any[];
				spec['spec-id'] ??= Math.max(-1, ...specs.map(item => Number(item['spec-id']))) + 1;
				specs.push(spec);
				meta['last-partition-id'] = Math.max(Number(meta['last-partition-id'] ?? 999), ...(spec.fields ?? []).map((field: any) => Number(field['field-id'] ?? 0)));
				lastAddedSpec = Number(spec['spec-id']);
				break;
			}

			case 'set-default-spec': {
				meta['default-spec-id'] = Number(update['spec-id']) === -1 ? lastAddedSpec : Number(update['spec-id']);
				break;
			}

			case 'add-sort-order': {
				const order = structuredClone(update['sort-order']) as any;
				const orders = (meta['sort-orders'] ??= []) as any[];
				order['order-id'] ??= Math.max(0, ...orders.map(item => Number(item['order-id']))) + 1;
				orders.push(order);
				lastAddedOrder = Number(order['order-id']);
				break;
			}

			case 'set-default-sort-order': {
				meta['default-sort-order-id'] = Number(update['sort-order-id']) === -1 ? lastAddedOrder : Number(update['sort-order-id']);
				break;
			}

			case 'add-snapshot': {
				const snapshot = structuredClone(update['snapshot']) as any;
				const id = idString(snapshot['snapshot-id']);
				const snapshots = (meta['snapshots'] ??= []) as any[];
				if (snapshots.some(item => idString(item['snapshot-id']) === id)) {
					throw new UnsupportedUpdateError(`snapshot ${id} already exists`);
				}

				snapshots.push(snapshot);
				if (snapshot['sequence-number'] !== undefined) {
					meta['last-sequence-number'] = Math.max(Number(meta['last-sequence-number'] ?? 0), Number(snapshot['sequence-number']));
				}

				addedSnapshots.set(id, Number(snapshot['timestamp-ms']));
				break;
			}

			case 'set-snapshot-ref': {
				const name = String(update['ref-name']);
				const id = idString(update['snapshot-id']);
				if (!((meta['snapshots'] ?? []) as any[]).some(item => idString(item['snapshot-id']) === id)) {
					throw new UnsupportedUpdateError(`cannot set ${name} to unknown snapshot ${id}`);
				}

				const ref: Record<string, unknown> = {'snapshot-id': idValue(id), type: update['type'] === 'tag' ? 'tag' : 'branch'};
				for (const key of ['max-ref-age-ms', 'max-snapshot-age-ms', 'min-snapshots-to-keep']) {
					if (update[key] !== undefined && update[key] !== null) {
						ref[key] = update[key];
					}
				}

				meta['refs'] = {...meta['refs'], [name]: ref};
				if (name === 'main') {
					meta['current-snapshot-id'] = idValue(id);
					((meta['snapshot-log'] ??= []) as any[]).push({'timestamp-ms': addedSnapshots.get(id) ?? now, 'snapshot-id': idValue(id)});
				}

				break;
			}

			case 'remove-snapshot-ref': {
				const name = String(update['ref-name']);
				if (meta['refs']?.[name]) {
					const refs = {...meta['refs']};
					delete refs[name];
					meta['refs'] = refs;
				}

				if (name === 'main') {
					meta['current-snapshot-id'] = Number(meta['format-version']) === 1 ? -1 : null;
				}

				break;
			}

			case 'remove-snapshots': {
				const remove = new Set(((update['snapshot-ids'] ?? []) as unknown[]).map(id => idString(id)));
				meta['snapshots'] = ((meta['snapshots'] ?? []) as any[]).filter(item => !remove.has(idString(item['snapshot-id'])));
				meta['snapshot-log'] = ((meta['snapshot-log'] ?? []) as any[]).filter(item => !remove.has(idString(item['snapshot-id'])));
				for (const [name, ref] of Object.entries((meta['refs'] ?? {}) as Record<string, any>)) {
					if (remove.has(idString(ref['snapshot-id']))) {
						delete meta['refs'][name];
					}
				}

				break;
			}

			case 'set-location': {
				meta['location'] = update['location'];
				break;
			}

			case 'set-properties': {
				meta['properties'] = {...meta['properties'], ...(update['updates'] as Record<string, string>)};
				break;
			}

			case 'remove-properties': {
				const properties = {...meta['properties']};
				for (const key of (update['removals'] ?? []) as string[]) {
					delete properties[key];
				}

				meta['properties'] = properties;
				break;
			}

			default: {
				throw new UnsupportedUpdateError(`unsupported update action '${update.action}'`);
			}
		}
	}

	meta['last-updated-ms'] = now;
	return meta;
}

/** Appends the metadata file being replaced to `metadata-log` (as Iceberg does on every commit). */
export function appendMetadataLog(meta: RawMetadata, previousFile: string, previousUpdatedMs: number): RawMetadata {
	meta['metadata-log'] = [...((meta['metadata-log'] ?? []) as any[]), {'timestamp-ms': previousUpdatedMs, 'metadata-file': previousFile}];
	return meta;
}
