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

	/** Moves past a length-prefixed value; returns where it starts. */
	skipBytes(): number {
		const length = this.long();
		if (length < 0 || this.position + length > this.buffer.length) {
			throw new Error('truncated Avro file');
		}

		const start = this.position;
		this.position += length;
		return start;
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

/**
Raw inflate of many small blocks without a new zlib stream each (`inflateRawSync` builds one per
call, which costs more than inflating a manifest): one zlib handle, reset between blocks, writing
into one growing buffer. Node's handle API is internal, so it is checked once against
`inflateRawSync` and not used when it does not behave; any error is rethrown by `inflateRawSync`.
The result is valid until the next call.

Inflating stays on the main thread on purpose. Measured on the 2,000-snapshot bench table (4,026
blocks, 5.3 MB inflating to 13.2 MB, median of 9): this handle takes 28 ms of main-thread CPU;
handing each block to libuv's thread pool (two reused handles' asynchronous `write`, 32 files in
flight) took 59 ms of main-thread CPU and 149 ms in all, since the blocks are small (1.3 KB on
average) and each hand-off and callback costs more than inflating the block. `zlib.inflateRaw`
(a stream per block) costs more still, and a worker thread costs 40 to 50 ms of CPU to start.
*/
class ReusedInflater {
	private readonly handle: any;
	private readonly state: Uint32Array;
	private output = Buffer.allocUnsafe(64 * 1024);
	private failed: string | undefined;

	constructor() {
		const stream = zlib.createInflateRaw() as any;
		this.handle = stream._handle;
		this.state = stream._writeState;
		if (typeof this.handle?.writeSync !== 'function' || typeof this.handle.reset !== 'function' || !(this.state instanceof Uint32Array)) {
			throw new Error('no zlib handle');
		}

		this.handle.onerror = (message: string) => {
			this.failed = message;
		};
	}

	inflate(input: Buffer): Buffer {
		this.handle.reset();
		let written = 0;
		let offset = 0;
		let available = input.length;
		for (;;) {
			this.handle.writeSync(zlib.constants.Z_FINISH, input, offset, available, this.output, written, this.output.length - written);
			if (this.failed !== undefined) {
				this.failed = undefined;
				throw new Error('inflate failed');
			}

			const outLeft = this.state[0]!;
			const inLeft = this.state[1]!;
			written = this.output.length - outLeft;
			offset += available - inLeft;
			available = inLeft;
			if (outLeft !== 0) {
				return this.output.subarray(0, written);
			}

			const larger = Buffer.allocUnsafe(this.output.length * 2);
			this.output.copy(larger, 0, 0, written);
			this.output = larger;
		}
	}
}

let inflater: ReusedInflater | undefined | false;

/** Inflates an Avro deflate block; with `shared`, into a buffer that the next call overwrites. */
function inflateRaw(block: Buffer, shared: boolean): Buffer {
	if (shared && inflater === undefined) {
		try {
			const probe = Buffer.from('avro '.repeat(30_000));
			const fast = new ReusedInflater();
			inflater = fast.inflate(zlib.deflateRawSync(probe)).equals(probe) ? new ReusedInflater() : false;
		} catch {
			inflater = false;
		}
	}

	if (shared && inflater) {
		try {
			return inflater.inflate(block);
		} catch {
			// A corrupt block: zlib's own error below. The handle is not reused after an error.
			inflater = undefined;
		}
	}

	return zlib.inflateRawSync(block);
}

function decompress(codec: string, block: Buffer, shared = false): Buffer {
	switch (codec) {
		case 'null': {
			return block;
		}

		case 'deflate': {
			return inflateRaw(block, shared);
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

type ParsedHeader = {
	readonly buffer: Buffer;
	/** Metadata entries as offsets: key start, key end, value start, value end. */
	readonly entries: readonly number[];
	readonly codec: string;
	readonly schemaBytes: Buffer;
	readonly sync: Buffer;
	readonly cursor: Cursor;
};

const schemaKey = Buffer.from('avro.schema');
const codecKey = Buffer.from('avro.codec');
const knownCodecs = ['deflate', 'null', 'snappy', 'zstandard'].map(name => ({name, bytes: Buffer.from(name)}));
/** Whether `buffer[start, end)` holds `expected` (short keys: a loop beats a native call). */
export function equalAt(buffer: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
	if (end - start !== expected.length) {
		return false;
	}

	for (let index = 0; index < expected.length; index++) {
		if (buffer[start + index] !== expected[index]) {
			return false;
		}
	}

	return true;
}

/** The header of an object container file; metadata stays bytes (Iceberg's hold whole schemas) until asked for. */
function parseHeader(data: Uint8Array): ParsedHeader {
	const buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
	if (buffer.length < 4 || buffer[0] !== 0x4F || buffer[1] !== 0x62 || buffer[2] !== 0x6A || buffer[3] !== 0x01) {
		throw new Error('not an Avro file');
	}

	const cursor = new Cursor(buffer);
	cursor.position = 4;
	const entries: number[] = [];
	let schema = -1;
	let codec = -1;
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
			const keyStart = cursor.skipBytes();
			const keyEnd = cursor.position;
			const valueStart = cursor.skipBytes();
			const valueEnd = cursor.position;
			if (equalAt(buffer, keyStart, keyEnd, schemaKey)) {
				schema = entries.length;
			} else if (equalAt(buffer, keyStart, keyEnd, codecKey)) {
				codec = entries.length;
			}

			entries.push(keyStart, keyEnd, valueStart, valueEnd);
		}
	}

	if (cursor.position + 16 > buffer.length) {
		throw new Error('truncated Avro file');
	}

	const sync = buffer.subarray(cursor.position, cursor.position + 16);
	cursor.position += 16;
	if (schema === -1) {
		throw new Error('Avro file without a schema');
	}

	let codecName = 'null';
	if (codec !== -1) {
		const [start, end] = [entries[codec + 2]!, entries[codec + 3]!];
		codecName = knownCodecs.find(known => equalAt(buffer, start, end, known.bytes))?.name ?? buffer.toString('utf8', start, end);
	}

	return {buffer, entries, codec: codecName, schemaBytes: buffer.subarray(entries[schema + 2], entries[schema + 3]), sync, cursor};
}

function metaStrings(header: ParsedHeader): Record<string, string> {
	const meta: Record<string, string> = {};
	const {buffer, entries} = header;
	for (let index = 0; index < entries.length; index += 4) {
		const key = buffer.toString('utf8', entries[index], entries[index + 1]);
		if (key !== 'avro.schema') {
			meta[key] = buffer.toString('utf8', entries[index + 2], entries[index + 3]);
		}
	}

	return meta;
}

/** Reads an Avro object container file: its header and records (only the selected fields, when a selection is given). */
export function readAvro(data: Uint8Array, options: {selection?: FieldSelection; selectionKey?: string; longs?: 'bigint' | 'number'} = {}): {header: AvroHeader; records: any[]} {
	const longs = options.longs ?? 'bigint';
	const header = parseHeader(data);
	const {schemaBytes, sync, cursor} = header;
	const meta = metaStrings(header);
	const {buffer} = cursor;

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

/*
Projections: the selected leaves of each record read straight from the decompressed block, every
other field skipped by functions compiled once per writer schema (parsed by avsc, which resolves
named types). No object per record: history reads a hundred thousand manifest-list entries of
which a few thousand differ.
*/

// The block being read and the position in it: module state, set by `AvroRows.next()` (decoding is synchronous).
const emptyBlock = Buffer.alloc(0);
let data: Buffer = emptyBlock;
let at = 0;
let end = 0;

type Op = () => void;

function readLong(): number {
	let byte = data[at++]!;
	let value = byte & 0x7F;
	if (byte < 0x80) {
		return (value >>> 1) ^ -(value & 1);
	}

	let multiplier = 128;
	do {
		byte = data[at++]!;
		value += (byte & 0x7F) * multiplier;
		multiplier *= 128;
	} while (byte & 0x80);
	return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
}

function skipVarints(count: number): Op {
	if (count === 1) {
		return () => {
			while (data[at++]! & 0x80) {
				// A varint ends at a byte without the high bit (or past the end: caught after the record).
			}
		};
	}

	return () => {
		for (let index = 0; index < count; index++) {
			while (data[at++]! & 0x80) {
				// As above.
			}
		}
	};
}

function skipBytes(): void {
	const length = readLong();
	if (length < 0) {
		throw new Error('corrupt Avro block (negative length)');
	}

	at += length;
}

function checkBounds(): void {
	if (at > end) {
		throw new Error('truncated Avro block');
	}
}

type Step = {readonly kind: 'varints'; readonly size: number} | {readonly kind: 'fixed'; readonly size: number} | {readonly kind: 'op'; readonly op: Op};

/** Runs steps in order, consecutive varints and fixed-size skips merged. */
function sequence(steps: readonly Step[]): Op {
	const merged: Step[] = [];
	for (const step of steps) {
		const last = merged.at(-1);
		if (last && step.kind !== 'op' && last.kind === step.kind) {
			merged[merged.length - 1] = {kind: step.kind, size: last.size + step.size} as Step;
		} else {
			merged.push(step);
		}
	}

	const ops = merged.map(step => {
		if (step.kind === 'varints') {
			return skipVarints(step.size);
		}

		if (step.kind === 'fixed') {
			const {size} = step;
			return () => {
				at += size;
			};
		}

		return step.op;
	});
	if (ops.length === 0) {
		return () => undefined;
	}

	if (ops.length === 1) {
		return ops[0]!;
	}

	if (ops.length === 2) {
		const [first, second] = ops as [Op, Op];
		return () => {
			first();
			second();
		};
	}

	return () => {
		for (const op of ops) {
			op();
		}
	};
}

function skipStep(type: any, cache: Map<unknown, Step>): Step {
	const known = cache.get(type);
	if (known) {
		return known;
	}

	const name: string = type.typeName;
	switch (name) {
		case 'null': {
			return {kind: 'fixed', size: 0};
		}

		case 'boolean': {
			return {kind: 'fixed', size: 1};
		}

		case 'float': {
			return {kind: 'fixed', size: 4};
		}

		case 'double': {
			return {kind: 'fixed', size: 8};
		}

		case 'fixed': {
			return {kind: 'fixed', size: type.size as number};
		}

		case 'int':
		case 'long':
		case 'enum': {
			return {kind: 'varints', size: 1};
		}

		case 'string':
		case 'bytes': {
			return {kind: 'op', op: skipBytes};
		}

		case 'array':
		case 'map': {
			const item = toOp(skipStep(name === 'array' ? type.itemsType : type.valuesType, cache));
			const entry = name === 'array' ? item : () => {
				skipBytes();
				item();
			};
			return {kind: 'op', op() {
				for (;;) {
					let count = readLong();
					if (count === 0) {
						return;
					}

					if (count < 0) {
						// A block with its size in bytes: skipped whole.
						count = -count;
						const size = readLong();
						if (size >= 0) {
							at += size;
							continue;
						}
					}

					for (let index = 0; index < count && at <= end; index++) {
						entry();
					}

					checkBounds();
				}
			}};
		}

		case 'union:unwrapped':
		case 'union:wrapped': {
			const branches = (type.types as any[]).map(branch => toOp(skipStep(branch, cache)));
			return {kind: 'op', op() {
				const branch = branches[readLong()];
				if (!branch) {
					throw new Error('corrupt Avro block (union branch out of range)');
				}

				branch();
			}};
		}

		case 'record':
		case 'error': {
			// Recursive types refer to themselves: a trampoline until the fields are compiled.
			let compiled: Op = () => undefined;
			const step: Step = {kind: 'op', op: () => compiled()};
			cache.set(type, step);
			compiled = sequence((type.fields as any[]).map(field => skipStep(field.type, cache)));
			return step;
		}

		default: {
			if (name.startsWith('logical:')) {
				return skipStep(type.underlyingType, cache);
			}

			throw new Error(`unsupported Avro type '${name}'`);
		}
	}
}

function toOp(step: Step): Op {
	return sequence([step]);
}

/** Reads one selected leaf: numbers (int, long, enum, boolean, float, double) as numbers, strings and bytes as a span of the block. */
function leafStep(type: any, leaf: number, values: Array<number | undefined>, ends: number[], cache: Map<unknown, Step>): Step {
	const name: string = type.typeName;
	switch (name) {
		case 'null': {
			return {kind: 'op', op() {
				values[leaf] = undefined;
			}};
		}

		case 'int':
		case 'long':
		case 'enum': {
			return {kind: 'op', op() {
				values[leaf] = readLong();
			}};
		}

		case 'boolean': {
			return {kind: 'op', op() {
				values[leaf] = data[at++];
			}};
		}

		case 'float': {
			return {kind: 'op', op() {
				values[leaf] = at + 4 <= end ? data.readFloatLE(at) : Number.NaN;
				at += 4;
			}};
		}

		case 'double': {
			return {kind: 'op', op() {
				values[leaf] = at + 8 <= end ? data.readDoubleLE(at) : Number.NaN;
				at += 8;
			}};
		}

		case 'string':
		case 'bytes': {
			return {kind: 'op', op() {
				const length = readLong();
				if (length < 0) {
					throw new Error('corrupt Avro block (negative length)');
				}

				values[leaf] = at;
				at += length;
				ends[leaf] = at;
			}};
		}

		case 'fixed': {
			const size = type.size as number;
			return {kind: 'op', op() {
				values[leaf] = at;
				at += size;
				ends[leaf] = at;
			}};
		}

		case 'union:unwrapped':
		case 'union:wrapped': {
			const branches = (type.types as any[]).map(branch => toOp(leafStep(branch, leaf, values, ends, cache)));
			return {kind: 'op', op() {
				const branch = branches[readLong()];
				if (!branch) {
					throw new Error('corrupt Avro block (union branch out of range)');
				}

				branch();
			}};
		}

		default: {
			if (name.startsWith('logical:')) {
				return leafStep(type.underlyingType, leaf, values, ends, cache);
			}

			throw new Error(`a projection reads only primitive fields, not '${name}'`);
		}
	}
}

/** The selection's leaves, depth first: `data_file.file_path`. */
export function selectionLeaves(selection: FieldSelection, prefix = ''): string[] {
	return Object.entries(selection).flatMap(([name, keep]) => keep === true ? [prefix + name] : selectionLeaves(keep, `${prefix}${name}.`));
}

function recordStep(type: any, selection: FieldSelection, prefix: string, leaves: readonly string[], values: Array<number | undefined>, ends: number[], cache: Map<unknown, Step>): Step {
	const steps: Step[] = [];
	for (const field of type.fields as any[]) {
		const keep = selection[field.name];
		if (keep === true) {
			steps.push(leafStep(field.type, leaves.indexOf(prefix + field.name), values, ends, cache));
		} else if (keep) {
			steps.push(nestedStep(field.type, keep, `${prefix}${field.name}.`, leaves, values, ends, cache));
		} else {
			steps.push(skipStep(field.type, cache));
		}
	}

	return {kind: 'op', op: sequence(steps)};
}

function nestedStep(type: any, selection: FieldSelection, prefix: string, leaves: readonly string[], values: Array<number | undefined>, ends: number[], cache: Map<unknown, Step>): Step {
	const name: string = type.typeName;
	if (name === 'record' || name === 'error') {
		return recordStep(type, selection, prefix, leaves, values, ends, cache);
	}

	if (name.startsWith('union:')) {
		const branches = (type.types as any[]).map(branch => toOp(nestedStep(branch, selection, prefix, leaves, values, ends, cache)));
		return {kind: 'op', op() {
			const branch = branches[readLong()];
			if (!branch) {
				throw new Error('corrupt Avro block (union branch out of range)');
			}

			branch();
		}};
	}

	// Selected sub-fields of something that is not a record (a null branch): nothing to read there.
	return skipStep(type, cache);
}

/**
The same reading compiled to one function per schema and selection: straight-line code with the
varints inlined, no call per field. Only numbers from the schema (sizes, leaf and branch indices)
go into the code. Recursive schemas (no straight line) keep the closures above.
*/
class ReaderSource {
	private readonly onStack = new Set<unknown>();
	private readonly leaves: readonly string[];

	constructor(leaves: readonly string[]) {
		this.leaves = leaves;
	}

	static long(target: string): string {
		return `{let b=d[a++];let x=b&127;if(b>127){let m=128;do{b=d[a++];x+=(b&127)*m;m*=128;}while(b&128);}${target}=x%2===0?x/2:-(x+1)/2;}`;
	}

	skip(type: any): string {
		const name: string = type.typeName;
		switch (name) {
			case 'null': {
				return '';
			}

			case 'boolean': {
				return 'a+=1;';
			}

			case 'float': {
				return 'a+=4;';
			}

			case 'double': {
				return 'a+=8;';
			}

			case 'fixed': {
				return `a+=${Number(type.size) | 0};`;
			}

			case 'int':
			case 'long':
			case 'enum': {
				return 'while(d[a++]&128);';
			}

			case 'string':
			case 'bytes': {
				return `{let l;${ReaderSource.long('l')}if(l<0)throw C("negative length");a+=l;}`;
			}

			case 'array':
			case 'map': {
				const item = name === 'array' ? this.skip(type.itemsType) : this.skip({typeName: 'string'}) + this.skip(type.valuesType);
				return `for(;;){let c;${ReaderSource.long('c')}if(c===0)break;if(c<0){c=-c;let s;${ReaderSource.long('s')}if(s>=0){a+=s;continue;}}for(let k=0;k<c&&a<=n;k++){${item}}if(a>n)throw T();}`;
			}

			case 'union:unwrapped':
			case 'union:wrapped': {
				return this.union((type.types as any[]).map(branch => this.skip(branch)));
			}

			case 'record':
			case 'error': {
				return this.inRecord(type, () => (type.fields as any[]).map(field => this.skip(field.type)).join(''));
			}

			default: {
				if (name.startsWith('logical:')) {
					return this.skip(type.underlyingType);
				}

				throw new Error(`unsupported Avro type '${name}'`);
			}
		}
	}

	leaf(type: any, leaf: number): string {
		const name: string = type.typeName;
		const value = `v[${leaf}]`;
		switch (name) {
			case 'null': {
				return `${value}=undefined;`;
			}

			case 'int':
			case 'long':
			case 'enum': {
				return `{let r;${ReaderSource.long('r')}${value}=r;}`;
			}

			case 'boolean': {
				return `${value}=d[a++];`;
			}

			case 'float': {
				return `${value}=a+4<=n?d.readFloatLE(a):NaN;a+=4;`;
			}

			case 'double': {
				return `${value}=a+8<=n?d.readDoubleLE(a):NaN;a+=8;`;
			}

			case 'string':
			case 'bytes': {
				return `{let l;${ReaderSource.long('l')}if(l<0)throw C("negative length");${value}=a;a+=l;e[${leaf}]=a;}`;
			}

			case 'fixed': {
				return `${value}=a;a+=${Number(type.size) | 0};e[${leaf}]=a;`;
			}

			case 'union:unwrapped':
			case 'union:wrapped': {
				return this.union((type.types as any[]).map(branch => this.leaf(branch, leaf)));
			}

			default: {
				if (name.startsWith('logical:')) {
					return this.leaf(type.underlyingType, leaf);
				}

				throw new Error(`a projection reads only primitive fields, not '${name}'`);
			}
		}
	}

	record(type: any, selection: FieldSelection, prefix: string): string {
		return this.inRecord(type, () => (type.fields as any[]).map(field => {
			const keep = selection[field.name];
			if (keep === true) {
				return this.leaf(field.type, this.leaves.indexOf(prefix + field.name));
			}

			return keep ? this.nested(field.type, keep, `${prefix}${field.name}.`) : this.skip(field.type);
		}).join(''));
	}

	private nested(type: any, selection: FieldSelection, prefix: string): string {
		const name: string = type.typeName;
		if (name === 'record' || name === 'error') {
			return this.record(type, selection, prefix);
		}

		if (name.startsWith('union:')) {
			return this.union((type.types as any[]).map(branch => this.nested(branch, selection, prefix)));
		}

		return this.skip(type);
	}

	private union(branches: readonly string[]): string {
		return `{let i;${ReaderSource.long('i')}switch(i){${branches.map((code, index) => `case ${index}:{${code}}break;`).join('')}default:throw C("union branch out of range");}}`;
	}

	private inRecord(type: unknown, body: () => string): string {
		if (this.onStack.has(type)) {
			throw new Error('recursive schema');
		}

		this.onStack.add(type);
		try {
			return body();
		} finally {
			this.onStack.delete(type);
		}
	}
}

const corrupt = (kind: string) => new Error(`corrupt Avro block (${kind})`);
const truncated = () => new Error('truncated Avro block');

/** The compiled reader of a record type for a selection, or undefined when it has to stay closures. */
function compiledReader(type: any, selection: FieldSelection, leaves: readonly string[], values: Array<number | undefined>, ends: number[]): Op | undefined {
	let source: string;
	try {
		source = new ReaderSource(leaves).record(type, selection, '');
	} catch (error) {
		if ((error as Error).message === 'recursive schema') {
			return undefined;
		}

		throw error;
	}

	// eslint-disable-next-line no-new-func, @typescript-eslint/no-implied-eval
	const read = new Function('d', 'a', 'n', 'v', 'e', 'C', 'T', `${source}return a;`) as (d: Buffer, a: number, n: number, v: Array<number | undefined>, e: number[], C: typeof corrupt, T: typeof truncated) => number;
	return () => {
		at = read(data, at, end, values, ends, corrupt, truncated);
	};
}

type Projection = {readonly read: Op; readonly values: Array<number | undefined>; readonly ends: number[]; readonly leaves: readonly string[]};
const projections = new Map<string, Array<{bytes: Buffer; projection: Projection}>>();

function projection(schemaBytes: Buffer, selection: FieldSelection, key: string): Projection {
	let known = projections.get(key);
	if (!known) {
		known = [];
		projections.set(key, known);
	}

	const found = known.find(item => item.bytes.length === schemaBytes.length && item.bytes.equals(schemaBytes));
	if (found) {
		return found.projection;
	}

	const type: any = numberType(JSON.parse(schemaBytes.toString('utf8')));
	if (type.typeName !== 'record') {
		throw new Error(`a projection needs records, not '${type.typeName}'`);
	}

	const leaves = selectionLeaves(selection);
	const values: Array<number | undefined> = leaves.map(() => undefined);
	const ends: number[] = leaves.map(() => 0);
	const read = compiledReader(type, selection, leaves, values, ends) ?? toOp(recordStep(type, selection, '', leaves, values, ends, new Map()));
	const made: Projection = {read, values, ends, leaves};
	known.unshift({bytes: Buffer.from(schemaBytes), projection: made});
	known.length = Math.min(known.length, 16);
	return made;
}

/**
The records of an Avro file, one at a time, reduced to the selection's leaves (numbered as
`selectionLeaves` lists them): `number(leaf)`, `text(leaf)`, or `span(leaf)` for the raw bytes of a
string. Absent or null leaves are undefined. `key` names the selection for the compiled-schema cache.
*/
export class AvroRows {
	readonly codec: string;
	/** The current block (decompressed, valid until the next `next()`): `start`/`end` positions point into it. */
	block: Buffer = emptyBlock;
	private readonly cursor: Cursor;
	private readonly sync: Buffer;
	private readonly header: ParsedHeader;
	private readonly projection: Projection;
	private readonly values: Array<number | undefined>;
	private position = 0;
	private remaining = 0;

	constructor(bytes: Uint8Array, selection: FieldSelection, key: string) {
		const header = parseHeader(bytes);
		this.header = header;
		this.codec = header.codec;
		this.cursor = header.cursor;
		this.sync = header.sync;
		this.projection = projection(header.schemaBytes, selection, key);
		this.values = this.projection.values;
	}

	/** The file's metadata (without the schema). */
	get meta(): Readonly<Record<string, string>> {
		return metaStrings(this.header);
	}

	/** Moves to the next record; false at the end of the file. */
	next(): boolean {
		while (this.remaining === 0) {
			if (!this.nextBlock()) {
				return false;
			}
		}

		const {values} = this;
		for (let index = 0; index < values.length; index++) {
			values[index] = undefined;
		}

		data = this.block;
		at = this.position;
		end = this.block.length;
		this.projection.read();
		checkBounds();
		this.position = at;
		this.remaining--;
		return true;
	}

	number(leaf: number): number | undefined {
		return this.values[leaf];
	}

	text(leaf: number): string | undefined {
		const start = this.values[leaf];
		return start === undefined ? undefined : this.block.toString('utf8', start, this.projection.ends[leaf]);
	}

	/** Start and end of a string leaf in `block` (start undefined when absent). */
	start(leaf: number): number | undefined {
		return this.values[leaf];
	}

	end(leaf: number): number {
		return this.projection.ends[leaf]!;
	}

	private nextBlock(): boolean {
		const {cursor} = this;
		if (cursor.position >= cursor.buffer.length) {
			return false;
		}

		const count = cursor.long();
		if (count < 0) {
			throw new Error('corrupt Avro file (negative block count)');
		}

		this.block = decompress(this.codec, cursor.bytes(), true);
		if (cursor.position + 16 > cursor.buffer.length || cursor.buffer.compare(this.sync, 0, 16, cursor.position, cursor.position + 16) !== 0) {
			throw new Error('corrupt Avro file (sync marker mismatch)');
		}

		cursor.position += 16;
		this.position = 0;
		this.remaining = count;
		return true;
	}
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
