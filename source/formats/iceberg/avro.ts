import zlib from 'node:zlib';
import avro from 'avsc';

/**
Avro object container files as Iceberg writes them (manifest lists, manifests), read and written
with avsc. Longs are BigInt on the way in (snapshot ids are 64-bit) and BigInt or integer numbers on
the way out. The container framing is done here, synchronously, so that a file already in memory
(from a FileStore) decodes without streams; records are decoded by avsc.
*/
const longType = avro.types.LongType.__with({
	fromBuffer: (buffer: Buffer) => buffer.readBigInt64LE(),
	toBuffer(value: bigint | number) {
		const buffer = Buffer.alloc(8);
		buffer.writeBigInt64LE(BigInt(value));
		return buffer;
	},
	fromJSON: (value: unknown) => BigInt(value as string),
	toJSON: (value: bigint) => Number(value),
	isValid: (value: unknown) => typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value)),
	compare: (a: bigint, b: bigint) => a === b ? 0 : (a < b ? -1 : 1),
});

/** Parses an Avro schema with 64-bit longs as BigInt. A fresh registry each time: named types must not clash across files. */
export function avroType(schema: unknown): avro.Type {
	return avro.Type.forSchema(schema as avro.Schema, {registry: {long: longType} as any});
}

/** Parses an Avro schema with longs as numbers (avsc refuses values beyond 2^53): for counts and sizes, never ids. */
function numberType(schema: unknown): avro.Type {
	return avro.Type.forSchema(schema as avro.Schema);
}

const magic = Buffer.from([0x4F, 0x62, 0x6A, 0x01]);

class Cursor {
	position = 0;
	readonly buffer: Buffer;

	constructor(buffer: Buffer) {
		this.buffer = buffer;
	}

	long(): number {
		let result = 0;
		let multiplier = 1;
		let byte: number;
		do {
			if (this.position >= this.buffer.length) {
				throw new Error('truncated Avro file');
			}

			byte = this.buffer[this.position++]!;
			result += (byte & 0x7F) * multiplier;
			multiplier *= 128;
		} while (byte & 0x80);
		// Zig-zag decoding without 32-bit overflow.
		return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
	}

	bytes(): Buffer {
		const length = this.long();
		if (length < 0 || this.position + length > this.buffer.length) {
			throw new Error('truncated Avro file');
		}

		const value = this.buffer.subarray(this.position, this.position + length);
		this.position += length;
		return value;
	}
}

export type AvroHeader = {
	readonly schemaText: string;
	readonly codec: string;
	readonly meta: Readonly<Record<string, string>>;
};

type Compiled = {readonly reader: avro.Type; readonly resolver: any};
/** By selection, then by the writer schema's text: files of one table share a few schemas. */
const compiledCache = new Map<string, Map<string, Compiled>>();

const recentSchemas: Array<{key: string; bytes: Buffer; text: string; compiled?: Compiled}> = [];

/**
Which fields to decode: `true` keeps a field whole, an object keeps some fields of a record field.
Everything else is skipped by the resolver without being materialized.
*/
export type FieldSelection = {readonly [field: string]: true | FieldSelection};

function prune(schema: any, selection: FieldSelection): any {
	if (schema && typeof schema === 'object' && !Array.isArray(schema) && schema.type === 'record') {
		const fields = [];
		for (const field of schema.fields as any[]) {
			const keep = selection[field.name];
			if (keep === true) {
				fields.push(field);
			} else if (keep) {
				fields.push({...field, type: pruneType(field.type, keep)});
			}
		}

		return {...schema, fields};
	}

	return schema;
}

function pruneType(type: any, selection: FieldSelection): any {
	if (Array.isArray(type)) {
		return type.map(branch => pruneType(branch, selection));
	}

	return prune(type, selection);
}

function compile(schemaText: string, selection: FieldSelection | undefined, key: string, longs: 'bigint' | 'number'): Compiled {
	const typeOf = longs === 'bigint' ? avroType : numberType;
	let bySchema = compiledCache.get(key);
	if (!bySchema) {
		bySchema = new Map();
		compiledCache.set(key, bySchema);
	}

	let compiled = bySchema.get(schemaText);
	if (!compiled) {
		const schema = JSON.parse(schemaText);
		const writer = typeOf(schema);
		if (selection) {
			const reader = typeOf(prune(schema, selection));
			compiled = {reader, resolver: reader.createResolver(writer)};
		} else {
			compiled = {reader: writer, resolver: undefined};
		}

		if (bySchema.size > 64) {
			bySchema.clear();
		}

		bySchema.set(schemaText, compiled);
	}

	return compiled;
}

function decompress(codec: string, block: Buffer): Buffer {
	switch (codec) {
		case 'null': {
			return block;
		}

		case 'deflate': {
			return zlib.inflateRawSync(block);
		}

		case 'snappy': {
			// Avro appends a 4-byte CRC32 of the uncompressed data.
			return snappyDecompress(block.subarray(0, block.length - 4));
		}

		case 'zstandard': {
			const zstd = (zlib as any).zstdDecompressSync as ((data: Buffer) => Buffer) | undefined;
			if (!zstd) {
				throw new Error('zstandard-compressed Avro needs Node.js 23.8 or newer');
			}

			return zstd(block);
		}

		default: {
			throw new Error(`unsupported Avro codec '${codec}'`);
		}
	}
}

/** Reads an Avro object container file: its header and records (only the selected fields, when a selection is given). */
export function readAvro(data: Uint8Array, options: {selection?: FieldSelection; selectionKey?: string; longs?: 'bigint' | 'number'} = {}): {header: AvroHeader; records: any[]} {
	const longs = options.longs ?? 'bigint';
	const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	if (buffer.length < 4 || !buffer.subarray(0, 4).equals(magic)) {
		throw new Error('not an Avro file');
	}

	const cursor = new Cursor(buffer);
	cursor.position = 4;
	const meta: Record<string, string> = {};
	let schemaBytes: Buffer | undefined;
	for (;;) {
		let count = cursor.long();
		if (count === 0) {
			break;
		}

		if (count < 0) {
			count = -count;
			cursor.long();
		}

		for (let index = 0; index < count; index++) {
			const key = cursor.bytes().toString('utf8');
			const value = cursor.bytes();
			if (key === 'avro.schema') {
				schemaBytes = value;
			} else {
				meta[key] = value.toString('utf8');
			}
		}
	}

	const sync = buffer.subarray(cursor.position, cursor.position + 16);
	cursor.position += 16;
	if (!schemaBytes) {
		throw new Error('Avro file without a schema');
	}

	// Files of one table share their schema: find it by its bytes, decode the text only once.
	const selectionKey = `${longs}:${options.selectionKey ?? (options.selection ? JSON.stringify(options.selection) : '')}`;
	let known = recentSchemas.find(item => item.key === selectionKey && item.bytes.equals(schemaBytes));
	if (!known) {
		known = {key: selectionKey, bytes: Buffer.from(schemaBytes), text: schemaBytes.toString('utf8')};
		recentSchemas.unshift(known);
		recentSchemas.length = Math.min(recentSchemas.length, 16);
	}

	const schemaText = known.text;
	meta['avro.schema'] = schemaText;

	const codec = meta['avro.codec'] ?? 'null';
	known.compiled ??= compile(schemaText, options.selection, selectionKey, longs);
	const {reader, resolver} = known.compiled;
	const records: any[] = [];
	while (cursor.position < buffer.length) {
		const count = cursor.long();
		const block = decompress(codec, cursor.bytes());
		if (!buffer.subarray(cursor.position, cursor.position + 16).equals(sync)) {
			throw new Error('corrupt Avro file (sync marker mismatch)');
		}

		cursor.position += 16;
		let position = 0;
		for (let index = 0; index < count; index++) {
			const {value, offset} = reader.decode(block, position, resolver);
			if (offset < 0) {
				throw new Error('truncated Avro block');
			}

			records.push(value);
			position = offset;
		}
	}

	return {header: {schemaText, codec, meta}, records};
}

function zigzag(value: number): Buffer {
	let n = value >= 0 ? value * 2 : (-value * 2) - 1;
	const bytes: number[] = [];
	do {
		let byte = n % 128;
		n = Math.floor(n / 128);
		if (n > 0) {
			byte |= 0x80;
		}

		bytes.push(byte);
	} while (n > 0);
	return Buffer.from(bytes);
}

function avroBytes(value: Buffer): Buffer {
	return Buffer.concat([zigzag(value.length), value]);
}

/** Writes an Avro object container file with one block. `schema` keeps Iceberg's `field-id` attributes as given. */
export function writeAvro(schema: unknown, records: readonly unknown[], options: {meta?: Record<string, string>; codec?: 'null' | 'deflate'} = {}): Uint8Array {
	const codec = options.codec ?? 'deflate';
	const type = avroType(schema);
	const meta: Record<string, string> = {...options.meta, 'avro.schema': JSON.stringify(schema), 'avro.codec': codec};
	const parts: Buffer[] = [magic];
	const entries = Object.entries(meta);
	parts.push(zigzag(entries.length));
	for (const [key, value] of entries) {
		parts.push(avroBytes(Buffer.from(key)), avroBytes(Buffer.from(value)));
	}

	parts.push(zigzag(0));
	const sync = Buffer.from(Array.from({length: 16}, () => Math.floor(Math.random() * 256)));
	parts.push(sync);
	if (records.length > 0) {
		const raw = Buffer.concat(records.map(record => type.toBuffer(record)));
		const block = codec === 'deflate' ? zlib.deflateRawSync(raw) : raw;
		parts.push(zigzag(records.length), avroBytes(block), sync);
	}

	return Buffer.concat(parts);
}

/** Snappy raw-format decompression (Avro's `snappy` codec), small enough to keep here. */
export function snappyDecompress(input: Uint8Array): Buffer {
	let position = 0;
	let length = 0;
	let shift = 0;
	for (;;) {
		const byte = input[position++]!;
		length += (byte & 0x7F) * (2 ** shift);
		if (byte < 0x80) {
			break;
		}

		shift += 7;
	}

	const output = Buffer.alloc(length);
	let out = 0;
	while (position < input.length) {
		const tag = input[position++]!;
		const kind = tag & 3;
		if (kind === 0) {
			let literal = tag >>> 2;
			if (literal >= 60) {
				const size = literal - 59;
				literal = 0;
				for (let index = 0; index < size; index++) {
					literal += input[position++]! * (2 ** (8 * index));
				}
			}

			literal += 1;
			output.set(input.subarray(position, position + literal), out);
			position += literal;
			out += literal;
			continue;
		}

		let copy: number;
		let offset: number;
		if (kind === 1) {
			copy = ((tag >>> 2) & 7) + 4;
			offset = ((tag >>> 5) << 8) | input[position++]!;
		} else if (kind === 2) {
			copy = (tag >>> 2) + 1;
			offset = input[position]! | (input[position + 1]! << 8);
			position += 2;
		} else {
			copy = (tag >>> 2) + 1;
			offset = (input[position]! | (input[position + 1]! << 8) | (input[position + 2]! << 16)) + (input[position + 3]! * 0x1000000);
			position += 4;
		}

		if (offset === 0 || offset > out) {
			throw new Error('corrupt snappy block');
		}

		for (let index = 0; index < copy; index++) {
			output[out] = output[out - offset]!;
			out++;
		}
	}

	return output;
}
