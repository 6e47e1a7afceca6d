import zlib from 'node:zlib';
import {parse, stringify, isInteger, isSafeNumber} from 'lossless-json';
import {UserError} from '../../errors.js';

/**
Iceberg table metadata (format v1, v2, v3), parsed without losing 64-bit ids: integers beyond 2^53
become BigInt, others stay numbers. Ids leave this module as decimal strings (`idString`).
*/
export type RawMetadata = Record<string, any>;

export type SnapshotRefInfo = {
	readonly name: string;
	readonly snapshotId: string;
	readonly type: 'branch' | 'tag';
};

export type SnapshotInfo = {
	readonly id: string;
	readonly parent?: string;
	readonly sequenceNumber?: string;
	readonly timestampMs: number;
	/** As written (v2+ always; v1 may list `manifests` instead). */
	readonly manifestList?: string;
	readonly manifests?: readonly string[];
	readonly operation: string;
	readonly summary: Readonly<Record<string, string>>;
	readonly schemaId?: number;
	/** Position in the metadata's `snapshots` array, for stable ordering. */
	readonly index: number;
};

export type SchemaField = {
	readonly id: number;
	readonly name: string;
	readonly type: string;
	readonly required: boolean;
};

export type TableMetadata = {
	readonly raw: RawMetadata;
	readonly formatVersion: number;
	readonly uuid?: string;
	readonly location: string;
	/** The snapshot `main` points at (refs.main, else current-snapshot-id); undefined for an empty table. */
	readonly mainSnapshotId?: string;
	readonly snapshots: ReadonlyMap<string, SnapshotInfo>;
	readonly refs: readonly SnapshotRefInfo[];
	readonly currentSchemaId?: number;
	readonly lastUpdatedMs?: number;
};

export const idString = (value: unknown): string => typeof value === 'bigint' ? value.toString() : String(value);

/** A 64-bit id as JSON wants it: a number when exact, a BigInt otherwise (lossless-json writes both exactly). */
export const idValue = (id: string): number | bigint => {
	const big = BigInt(id);
	return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
};

const parseNumber = (text: string): number | bigint => isInteger(text) && !isSafeNumber(text) ? BigInt(text) : Number(text);

const integerLiteral = /^-?\d+$/;
let sourceTextAccess: boolean | undefined;

const longInteger = /-?\d{16,}/g;
const isSpace = (code: number) => code === 0x20 || code === 0x0A || code === 0x0D || code === 0x09;

/** Replaces the markers `parseJson` put where integers beyond 2^53 were with BigInts. */
function reviveMarkers(value: any): any {
	if (typeof value === 'string') {
		return BigInt(value.slice(1));
	}

	if (Array.isArray(value)) {
		for (let index = 0; index < value.length; index++) {
			const item = value[index];
			if (typeof item === 'object' ? item !== null : typeof item === 'string' && item.charCodeAt(0) === 0) {
				value[index] = reviveMarkers(item);
			}
		}

		return value;
	}

	for (const key in value) {
		if (Object.hasOwn(value, key)) {
			const item = value[key];
			if (typeof item === 'object' ? item !== null : typeof item === 'string' && item.charCodeAt(0) === 0) {
				value[key] = reviveMarkers(item);
			}
		}
	}

	return value;
}

/**
Parses JSON that may carry 64-bit integers (metadata files, REST bodies): integers beyond 2^53
become BigInt from their source text, exactly. Fast path: integer literals of 16 digits or more
that stand as values (after `:`, `,` or `[`, before `,`, `}` or `]`) are turned into marker strings
before the runtime's JSON.parse, then into BigInts. A digit run inside a string that looks like a
value gets a quote inserted before a backslash, which is never valid JSON: that text, and text that
could hold a marker already, take the slow path, the runtime's JSON.parse with source text access
(else lossless-json).
*/
export function parseJson(text: string): any {
	if (!text.includes('\\u0000')) {
		let found = false;
		const marked = text.replace(longInteger, (digits: string, offset: number) => {
			let before = offset - 1;
			while (before >= 0 && isSpace(text.charCodeAt(before))) {
				before--;
			}

			const previous = before < 0 ? 0x3A : text.charCodeAt(before);
			if (previous !== 0x3A && previous !== 0x2C && previous !== 0x5B) {
				return digits;
			}

			let after = offset + digits.length;
			while (after < text.length && isSpace(text.charCodeAt(after))) {
				after++;
			}

			const next = after >= text.length ? 0x2C : text.charCodeAt(after);
			if ((next !== 0x2C && next !== 0x7D && next !== 0x5D) || Number.isSafeInteger(Number(digits))) {
				return digits;
			}

			found = true;
			return `"\\u0000${digits}"`;
		});
		let raw: unknown;
		try {
			raw = JSON.parse(marked);
		} catch {
			return parseJsonExactly(text);
		}

		return found ? reviveMarkers(raw) : raw;
	}

	return parseJsonExactly(text);
}

function parseJsonExactly(text: string): any {
	sourceTextAccess ??= (() => {
		let seen = false;
		JSON.parse('1', (_key, value, context?: {source?: string}) => {
			seen = context?.source === '1';
			return value;
		});
		return seen;
	})();
	if (!sourceTextAccess) {
		return parse(text, undefined, parseNumber);
	}

	return JSON.parse(text, (_key, value, context?: {source?: string}) => typeof value === 'number' && !Number.isSafeInteger(value) && context?.source !== undefined && integerLiteral.test(context.source) ? BigInt(context.source) : value);
}

/** Serializes JSON with BigInt written as exact digits. */
export function stringifyJson(value: unknown, indent?: number): string {
	return stringify(value, undefined, indent) ?? 'null';
}

/** Whether a metadata file name means gzip. */
export const isGzipName = (name: string) => name.endsWith('.gz.metadata.json') || name.endsWith('.metadata.json.gz');

/** Decodes a metadata file's bytes (gzip detected from the bytes, whatever the name says). */
export function decodeMetadataBytes(bytes: Uint8Array, file: string): RawMetadata {
	let data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
	if (data.length >= 2 && data[0] === 0x1F && data[1] === 0x8B) {
		try {
			data = zlib.gunzipSync(data);
		} catch (error) {
			throw new UserError(`${file}: corrupt gzip metadata file (${(error as Error).message})`);
		}
	}

	let raw: unknown;
	try {
		raw = parseJson(data.toString('utf8'));
	} catch (error) {
		throw new UserError(`${file}: not valid JSON (${(error as Error).message})`, {hint: 'the file is truncated or not Iceberg table metadata'});
	}

	if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
		throw new UserError(`${file}: not Iceberg table metadata (not a JSON object)`);
	}

	return raw as RawMetadata;
}

export function encodeMetadataBytes(raw: RawMetadata, gzip: boolean): Uint8Array {
	const text = Buffer.from(stringifyJson(raw, 2));
	return gzip ? zlib.gzipSync(text) : text;
}

/** Validates raw metadata and builds the typed view. Throws a one-line `UserError` naming `file`. */
export function readMetadata(raw: RawMetadata, file: string): TableMetadata {
	const formatVersion = Number(raw['format-version']);
	if (![1, 2, 3].includes(formatVersion)) {
		throw new UserError(`${file}: not Iceberg table metadata (format-version is ${raw['format-version'] === undefined ? 'missing' : JSON.stringify(String(raw['format-version']))})`);
	}

	if (typeof raw['location'] !== 'string') {
		throw new UserError(`${file}: not Iceberg table metadata (no location)`);
	}

	if (raw['snapshots'] !== undefined && !Array.isArray(raw['snapshots'])) {
		throw new UserError(`${file}: not Iceberg table metadata (snapshots is not a list)`);
	}

	const snapshots = new Map<string, SnapshotInfo>();
	for (const [index, snapshot] of ((raw['snapshots'] ?? []) as any[]).entries()) {
		if (!snapshot || snapshot['snapshot-id'] === undefined || snapshot['snapshot-id'] === null) {
			throw new UserError(`${file}: snapshot #${index + 1} has no snapshot-id`);
		}

		const id = idString(snapshot['snapshot-id']);
		const summary: Record<string, string> = {};
		for (const [key, value] of Object.entries(snapshot.summary ?? {})) {
			summary[key] = typeof value === 'string' ? value : idString(value);
		}

		snapshots.set(id, {
			id,
			parent: snapshot['parent-snapshot-id'] === undefined || snapshot['parent-snapshot-id'] === null ? undefined : idString(snapshot['parent-snapshot-id']),
			sequenceNumber: snapshot['sequence-number'] === undefined ? undefined : idString(snapshot['sequence-number']),
			timestampMs: Number(snapshot['timestamp-ms']),
			manifestList: typeof snapshot['manifest-list'] === 'string' ? snapshot['manifest-list'] : undefined,
			manifests: Array.isArray(snapshot.manifests) ? snapshot.manifests : undefined,
			operation: summary['operation'] ?? 'unknown',
			summary,
			schemaId: snapshot['schema-id'] === undefined ? undefined : Number(snapshot['schema-id']),
			index,
		});
	}

	const refs: SnapshotRefInfo[] = [];
	for (const [name, ref] of Object.entries((raw['refs'] ?? {}) as Record<string, any>)) {
		const snapshotId = ref?.['snapshot-id'] === undefined || ref?.['snapshot-id'] === null ? undefined : idString(ref['snapshot-id']);
		if (snapshotId === undefined || !snapshots.has(snapshotId)) {
			throw new UserError(`${file}: ref '${name}' points at snapshot ${snapshotId ?? '(none)'}, which is not in the table's snapshots`, {hint: 'the metadata is inconsistent; restore an older metadata file or fix the ref'});
		}

		refs.push({name, snapshotId, type: ref.type === 'tag' ? 'tag' : 'branch'});
	}

	const current = raw['current-snapshot-id'];
	const currentId = current === undefined || current === null || idString(current) === '-1' ? undefined : idString(current);
	if (currentId !== undefined && !snapshots.has(currentId)) {
		throw new UserError(`${file}: current-snapshot-id ${currentId} is not in the table's snapshots`, {hint: 'the metadata is inconsistent; restore an older metadata file'});
	}

	const main = refs.find(ref => ref.name === 'main');
	if (main && currentId !== undefined && main.snapshotId !== currentId) {
		throw new UserError(`${file}: refs.main (${main.snapshotId}) and current-snapshot-id (${currentId}) disagree`);
	}

	return {
		raw,
		formatVersion,
		uuid: typeof raw['table-uuid'] === 'string' ? raw['table-uuid'] : undefined,
		location: raw['location'],
		mainSnapshotId: main?.snapshotId ?? currentId,
		snapshots,
		refs,
		currentSchemaId: raw['current-schema-id'] === undefined ? undefined : Number(raw['current-schema-id']),
		lastUpdatedMs: raw['last-updated-ms'] === undefined ? undefined : Number(raw['last-updated-ms']),
	};
}

/** Snapshots from `id` back through its parents (those still in the metadata), newest first. */
export function ancestry(metadata: TableMetadata, id: string | undefined): SnapshotInfo[] {
	const chain: SnapshotInfo[] = [];
	const seen = new Set<string>();
	let cursor = id === undefined ? undefined : metadata.snapshots.get(id);
	while (cursor && !seen.has(cursor.id)) {
		seen.add(cursor.id);
		chain.push(cursor);
		cursor = cursor.parent === undefined ? undefined : metadata.snapshots.get(cursor.parent);
	}

	return chain;
}

/** The table's schemas by id (v1 tables may only have `schema`). */
export function schemasOf(raw: RawMetadata): Map<number, SchemaField[]> {
	const schemas = new Map<number, SchemaField[]>();
	const list = Array.isArray(raw['schemas']) ? raw['schemas'] : (raw['schema'] ? [raw['schema']] : []);
	for (const schema of list as any[]) {
		const fields: SchemaField[] = [];
		collectFields(schema, '', fields);
		schemas.set(Number(schema['schema-id'] ?? 0), fields);
	}

	return schemas;
}

function typeName(type: any): string {
	if (typeof type === 'string') {
		return type;
	}

	if (type?.type === 'list') {
		return `list<${typeName(type.element)}>`;
	}

	if (type?.type === 'map') {
		return `map<${typeName(type.key)}, ${typeName(type.value)}>`;
	}

	return type?.type ?? 'unknown';
}

function collectFields(struct: any, prefix: string, into: SchemaField[]) {
	for (const field of (struct?.fields ?? []) as any[]) {
		const name = prefix + String(field.name);
		into.push({id: Number(field.id), name, type: typeName(field.type), required: Boolean(field.required)});
		if (field.type?.type === 'struct') {
			collectFields(field.type, name + '.', into);
		}
	}
}

/** Human lines describing how the current schema differs from the one a snapshot was written with. */
export function schemaDifferences(raw: RawMetadata, currentSchemaId: number | undefined, targetSchemaId: number | undefined): string[] {
	const schemas = schemasOf(raw);
	const lines = [`the table schema stays at schema ${currentSchemaId ?? 0}: a rollback moves main, it does not reset the schema`];
	if (targetSchemaId === undefined) {
		lines.push('the target snapshot records no schema id (old writer): columns cannot be compared');
		return lines;
	}

	if (targetSchemaId === currentSchemaId) {
		lines.push(`the target snapshot was written with the same schema (${targetSchemaId}): no column differences`);
		return lines;
	}

	const current = new Map((schemas.get(currentSchemaId ?? 0) ?? []).map(field => [field.id, field]));
	const target = new Map((schemas.get(targetSchemaId) ?? []).map(field => [field.id, field]));
	for (const [id, field] of current) {
		const old = target.get(id);
		if (!old) {
			lines.push(`column ${field.name} (id ${id}, ${field.type}) was added after the target snapshot: its rows read it as null`);
		} else {
			if (old.name !== field.name) {
				lines.push(`column ${field.name} (id ${id}) was named ${old.name} at the target snapshot`);
			}

			if (old.type !== field.type) {
				lines.push(`column ${field.name} (id ${id}) changed type ${old.type} -> ${field.type} since the target snapshot`);
			}
		}
	}

	for (const [id, field] of target) {
		if (!current.has(id)) {
			lines.push(`column ${field.name} (id ${id}, ${field.type}) existed at the target snapshot and is dropped now: its data stays in the files but the current schema does not read it`);
		}
	}

	if (lines.length === 1) {
		lines.push(`schemas ${targetSchemaId} and ${currentSchemaId ?? 0} have the same columns`);
	}

	return lines;
}

/** Strips a URI scheme (keeping the authority, e.g. an S3 bucket, as the first segment), `./` and doubled slashes. */
export function normalizeLocation(location: string): string {
	let value = location.trim();
	const match = /^([a-zA-Z][a-zA-Z\d+.-]+):(.*)$/.exec(value);
	if (match) {
		const scheme = match[1]!.toLowerCase();
		let rest = match[2]!;
		rest = scheme === 'file' ? rest.replace(/^\/\/[^/]*/, '') : rest.replace(/^\/\//, '');
		value = rest;
	}

	value = value.replaceAll(/\/+/g, '/');
	while (value.startsWith('./')) {
		value = value.slice(2);
	}

	return value.replace(/\/$/, '');
}

const hasScheme = (value: string) => /^[a-zA-Z][a-zA-Z\d+.-]+:/.test(value);

/**
Maps paths as engines wrote them onto the table's store: strips the table location as written
(absolute, relative, `file:`, `hdfs://`, `s3://`...). Relative paths that do not start with the
location are taken as relative to the table root. Returns undefined for a path outside the table.
*/
export class PathMapper {
	readonly location: string;
	private readonly normalized: string;
	/** The location as written with one trailing slash. */
	private readonly prefix: string;
	private readonly memo = new Map<string, string | undefined>();

	constructor(location: string) {
		this.location = location;
		this.normalized = normalizeLocation(location);
		this.prefix = location === location.trim() ? location.replace(/\/+$/, '') + '/' : '\u0000';
	}

	toRelative(path: string): string | undefined {
		// Most paths are the location as written, a slash and a clean rest: what normalizing would give.
		if (this.normalized !== '' && path.startsWith(this.prefix)) {
			const rest = path.slice(this.prefix.length);
			const last = rest.charCodeAt(rest.length - 1);
			if (last > 0x20 && last !== 0x2F && rest.charCodeAt(0) !== 0x2F && !rest.startsWith('./') && !rest.includes('//')) {
				return rest;
			}
		}

		if (this.memo.has(path)) {
			return this.memo.get(path);
		}

		const relative = this.map(path);
		if (this.memo.size < 1_000_000) {
			this.memo.set(path, relative);
		}

		return relative;
	}

	private map(path: string): string | undefined {
		const value = normalizeLocation(path);
		if (this.normalized === '') {
			return value.replace(/^\//, '');
		}

		if (value.startsWith(this.normalized + '/')) {
			return value.slice(this.normalized.length + 1);
		}

		if (!hasScheme(path) && !path.startsWith('/')) {
			return value;
		}

		return undefined;
	}

	/** A path under the table written the way this table writes them (its location as written, then `/rel`). */
	toWritten(relative: string): string {
		return this.location.replace(/\/+$/, '') + '/' + relative;
	}
}

/** Version number of a metadata file name (`v12.metadata.json`, `00012-<uuid>.metadata.json`, gzip variants). */
export function metadataVersion(name: string): number | undefined {
	const base = name.slice(name.lastIndexOf('/') + 1);
	const match = /^v(\d+)\./.exec(base) ?? /^(\d+)-/.exec(base);
	return match ? Number(match[1]) : undefined;
}

export const isMetadataFileName = (name: string) => /\.metadata\.json(\.gz)?$/.test(name) && !name.slice(name.lastIndexOf('/') + 1).startsWith('.');

/** The next metadata file name in the same naming scheme as `current`. */
export function nextMetadataName(current: string): string {
	const base = current.slice(current.lastIndexOf('/') + 1);
	const v = /^v(\d+)(\..*)$/.exec(base);
	if (v) {
		return `v${Number(v[1]) + 1}${v[2]}`;
	}

	const numbered = /^(\d+)-.*?((?:\.gz)?\.metadata\.json(?:\.gz)?)$/.exec(base);
	if (numbered) {
		return `${String(Number(numbered[1]) + 1).padStart(numbered[1]!.length, '0')}-${crypto.randomUUID()}${numbered[2]}`;
	}

	return `00000-${crypto.randomUUID()}.metadata.json`;
}
