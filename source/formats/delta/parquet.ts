import fs from 'node:fs/promises';
import path from 'node:path';
import {parquetMetadata, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer} from 'hyparquet';
import type {FileStore} from '../../storage/file-store.js';
import {LocalFileStore} from '../../storage/local-file-store.js';

/**
Turns hyparquet's values into what the JSON log would hold: bigints as numbers, absent fields
dropped (a null struct field is an absent one), but null map values kept: a partition value can
be null and its key must stay.
*/
export function normalizeParquetValue(value: unknown, keepNulls = false): unknown {
	if (typeof value === 'bigint') {
		return Number(value);
	}

	if (value instanceof Date) {
		return value.toISOString();
	}

	if (Array.isArray(value)) {
		return value.map(item => normalizeParquetValue(item));
	}

	if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
		const result: Record<string, unknown> = {};
		for (const [key, item] of Object.entries(value)) {
			if (item !== null && item !== undefined) {
				result[key] = normalizeParquetValue(item, key === 'partitionValues');
			} else if (keepNulls) {
				result[key] = null;
			}
		}

		return result;
	}

	return value;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
	return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
Reads the action columns of a checkpoint (or sidecar) Parquet file: one object per non-empty
action, e.g. `{add: {...}}`, in the JSON log's shape. Only the top-level columns that exist are read.
*/
export async function readParquetActions(bytes: Uint8Array, wanted: readonly string[]): Promise<Array<Record<string, any>>> {
	const file = toArrayBuffer(bytes);
	const metadata = parquetMetadata(file);
	const topLevel = new Set<string>();
	let index = 1;
	const schema = metadata.schema;
	const rootChildren = schema[0]?.num_children ?? 0;
	for (let child = 0; child < rootChildren && index < schema.length; child++) {
		topLevel.add(schema[index]!.name);
		index = skipSubtree(schema, index);
	}

	const columns = wanted.filter(name => topLevel.has(name));
	if (columns.length === 0 || Number(metadata.num_rows) === 0) {
		return [];
	}

	const rows = await parquetReadObjects({file, metadata, columns});
	const actions: Array<Record<string, any>> = [];
	for (const row of rows) {
		for (const column of columns) {
			const value = row[column];
			if (value !== null && value !== undefined) {
				actions.push({[column]: normalizeParquetValue(value)});
			}
		}
	}

	return actions;
}

function skipSubtree(schema: ReadonlyArray<{num_children?: number}>, index: number): number {
	const children = schema[index]?.num_children ?? 0;
	let next = index + 1;
	for (let child = 0; child < children; child++) {
		next = skipSubtree(schema, next);
	}

	return next;
}

/** Reads bytes [start, end) of a file (an S3 ranged GET). */
export type RangeReader = (file: string, start: number, end: number) => Promise<Uint8Array>;

/** Range reads where the store allows them (local files, or `readRange`); otherwise the whole file. */
async function asyncBufferFor(store: FileStore, file: string, size: number, readRange?: RangeReader): Promise<{buffer: AsyncBuffer; close: () => Promise<void>}> {
	if (readRange && size > 0 && !(store instanceof LocalFileStore)) {
		return {
			buffer: {
				byteLength: size,
				async slice(start: number, end?: number) {
					return toArrayBuffer(await readRange(file, start, end ?? size));
				},
			},
			close: async () => {},
		};
	}

	if (store instanceof LocalFileStore) {
		const handle = await fs.open(path.join(store.directory, file), 'r');
		const stat = await handle.stat();
		return {
			buffer: {
				byteLength: stat.size,
				async slice(start: number, end?: number) {
					const length = (end ?? stat.size) - start;
					const target = Buffer.alloc(length);
					await handle.read(target, 0, length, start);
					return toArrayBuffer(target);
				},
			},
			close: async () => handle.close(),
		};
	}

	const bytes = await store.read(file);
	const buffer = toArrayBuffer(bytes);
	return {
		buffer: {byteLength: buffer.byteLength, slice: (start: number, end?: number) => buffer.slice(start, end)},
		close: async () => {},
	};
}

/** The row count in a Parquet file's footer (only the footer is read where ranges can be). */
export async function parquetRowCount(store: FileStore, file: string, size: number, readRange?: RangeReader): Promise<number> {
	const {buffer, close} = await asyncBufferFor(store, file, size, readRange);
	try {
		const metadata = await parquetMetadataAsync(buffer);
		return Number(metadata.num_rows);
	} finally {
		await close();
	}
}
