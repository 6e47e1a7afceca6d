import {FileNotFoundError, type FileInfo} from '../../storage/file-store.js';
import {AvroRows, equalAt, selectionLeaves, type FieldSelection} from './avro.js';
import type {SnapshotInfo} from './metadata.js';
import type {OpenTable} from './table.js';

/** A file in a snapshot's live set (status ADDED or EXISTING in its manifest). */
export type LiveFile = {
	/** As written in the manifest. */
	readonly path: string;
	/** Relative to the table root, or undefined when outside the table location. */
	readonly relative?: string;
	/** 0 data, 1 position deletes (or deletion vectors), 2 equality deletes. */
	readonly content: number;
	readonly format: string;
	readonly records: number;
	readonly bytes: number;
};

/**
Where a manifest list's entries (indices into the scanner's table of manifests) or a manifest's live
entries (status ADDED or EXISTING: indices into its table of data and delete files, and each entry's
own numbers) are in the scanner's columns. LiveFile objects are made only when a live set is asked
for (restores), never for history.
*/
type Range = {readonly start: number; readonly end: number};
type ManifestRead = {readonly ok: true; readonly live: Range} | {readonly ok: false; readonly missing: boolean; readonly error: string};
type ListRead = {readonly ok: true; readonly manifests: Range} | {readonly ok: false; readonly missing: boolean; readonly error: string};

/** One manifest file (shared by every spelling of its path that maps to it), read at most once. */
type Manifest = {
	readonly path: string;
	/** Relative to the table root, undefined when outside the table location. */
	readonly relative?: string;
	pending?: Promise<ManifestRead>;
	read?: ManifestRead;
	/** How many of its live entries are missing from the listing, once known. */
	missing?: number;
};

/** A data or delete file named by manifests: decoded, mapped and looked up in the listing once. */
type DataFile = {readonly path: string; readonly relative?: string; present?: boolean};

const manifestListSelection: FieldSelection = {manifest_path: true};
const manifestSelection: FieldSelection = {status: true, data_file: {content: true, file_path: true, file_format: true, record_count: true, file_size_in_bytes: true, content_size_in_bytes: true}};
const [status, content, filePath, fileFormat, recordCount, fileSize, contentSize] = selectionLeaves(manifestSelection).map((_leaf, index) => index) as [number, number, number, number, number, number, number];

/** A small limiter: at most `limit` reads in flight. */
export function limiter(limit: number) {
	let active = 0;
	const queue: Array<() => void> = [];
	return async <T>(task: () => Promise<T>): Promise<T> => {
		if (active >= limit) {
			await new Promise<void>(resolve => {
				queue.push(resolve);
			});
		}

		active++;
		try {
			return await task();
		} finally {
			active--;
			queue.shift()?.();
		}
	};
}

export type SnapshotCheck = {
	readonly restorable: boolean;
	readonly reason?: string;
};

const restorable: SnapshotCheck = Object.freeze({restorable: true});
const shortList = (paths: readonly string[]) => paths.slice(0, 3).join(', ') + (paths.length > 3 ? ` (+${paths.length - 3} more)` : '');
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

let lastBuffer: ArrayBufferLike | undefined;
let lastView: DataView = new DataView(new ArrayBuffer(0));

/** A DataView over the whole ArrayBuffer under a Buffer (blocks come from one reused buffer: one view). */
function viewOf(buffer: Buffer): DataView {
	if (buffer.buffer !== lastBuffer) {
		lastBuffer = buffer.buffer;
		lastView = new DataView(buffer.buffer);
	}

	return lastView;
}

/**
Paths by their bytes, so that the hundred thousand entries of a long history's manifest lists (each
list repeats most of its parent's) and the entries manifests carry over from merged ones cost no
string each: an open-addressing table keyed by a hash of the path's last bytes (where the UUIDs
are), checked byte for byte against one arena holding the paths seen.
*/
export class PathTable {
	private slots: Int32Array = new Int32Array(1024);
	private arena = Buffer.allocUnsafeSlow(64 * 1024);
	private arenaView = new DataView(this.arena.buffer, this.arena.byteOffset, this.arena.byteLength);
	private used = 0;
	private starts: Int32Array = new Int32Array(256);
	private hashes: Int32Array = new Int32Array(256);
	private count = 0;

	/** How many distinct paths: an `intern` that returns `size - 1` afterwards added a new one. */
	get size(): number {
		return this.count;
	}

	/** The index of these bytes, added when new. */
	intern(buffer: Buffer, start: number, end: number): number {
		const hash = PathTable.hash(buffer, start, end);
		const mask = this.slots.length - 1;
		let slot = hash & mask;
		for (; ; slot = (slot + 1) & mask) {
			const entry = this.slots[slot]!;
			if (entry === 0) {
				break;
			}

			if (this.hashes[entry - 1] === hash && this.same(entry - 1, buffer, start, end)) {
				return entry - 1;
			}
		}

		const index = this.count++;
		if (index === this.starts.length) {
			this.starts = PathTable.grow(this.starts);
			this.hashes = PathTable.grow(this.hashes);
		}

		const length = end - start;
		if (this.used + length > this.arena.length) {
			const larger = Buffer.allocUnsafeSlow(Math.max(this.arena.length * 2, this.used + length));
			this.arena.copy(larger, 0, 0, this.used);
			this.arena = larger;
			this.arenaView = new DataView(larger.buffer, larger.byteOffset, larger.byteLength);
		}

		buffer.copy(this.arena, this.used, start, end);
		this.starts[index] = this.used;
		this.used += length;
		this.hashes[index] = hash;
		if (this.count * 2 > this.slots.length) {
			this.slots = new Int32Array(this.slots.length * 4);
			for (let known = 0; known < this.count; known++) {
				this.place(this.hashes[known]!, known);
			}
		} else {
			this.slots[slot] = index + 1;
		}

		return index;
	}

	/** The path at an index, as text. */
	text(index: number): string {
		return this.arena.toString('utf8', this.starts[index]!, this.end(index));
	}

	private end(index: number): number {
		return index + 1 === this.count ? this.used : this.starts[index + 1]!;
	}

	private place(hash: number, index: number): void {
		const mask = this.slots.length - 1;
		let slot = hash & mask;
		while (this.slots[slot] !== 0) {
			slot = (slot + 1) & mask;
		}

		this.slots[slot] = index + 1;
	}

	/** Byte for byte, four at a time from the end (where paths differ); cheaper than a native call for short keys. */
	private same(index: number, buffer: Buffer, start: number, end: number): boolean {
		const from = this.starts[index]!;
		const length = this.end(index) - from;
		if (length !== end - start) {
			return false;
		}

		const arena = this.arenaView;
		const view = viewOf(buffer);
		const base = buffer.byteOffset;
		let offset = length - 4;
		for (; offset >= 0; offset -= 4) {
			if (arena.getInt32(from + offset) !== view.getInt32(base + start + offset)) {
				return false;
			}
		}

		for (offset += 3; offset >= 0; offset--) {
			if (this.arena[from + offset] !== buffer[start + offset]) {
				return false;
			}
		}

		return true;
	}

	private static grow(array: Int32Array): Int32Array {
		const larger = new Int32Array(array.length * 2);
		larger.set(array);
		return larger;
	}

	private static hash(buffer: Buffer, start: number, end: number): number {
		let hash = 0x81_1C_9D_C5 ^ (end - start);
		if (end - start >= 32) {
			const view = viewOf(buffer);
			for (let offset = buffer.byteOffset + end - 32; offset < buffer.byteOffset + end; offset += 4) {
				hash = Math.imul(hash ^ view.getInt32(offset), 0x01_00_01_93);
				hash ^= hash >>> 15;
			}

			return hash;
		}

		for (let index = start; index < end; index++) {
			hash = Math.imul(hash ^ buffer[index]!, 0x01_00_01_93);
		}

		return hash;
	}
}

/** A growing column of numbers, appended to by one file's decoding at a time (read `values` afresh after an await). */
class Column<T extends Int32Array | Uint8Array | Uint16Array | Float64Array> {
	values: T;
	length = 0;
	private readonly make: (length: number) => T;

	constructor(make: (length: number) => T) {
		this.make = make;
		this.values = make(1024);
	}

	push(value: number): void {
		if (this.length === this.values.length) {
			const larger = this.make(this.length * 2);
			larger.set(this.values);
			this.values = larger;
		}

		this.values[this.length++] = value;
	}
}

/**
Reads manifest lists and manifests of one table, each file once (manifests are shared between
snapshots), and answers per snapshot: is every file it needs in the listing, and which files are live.
Manifest lists become indices into one table of manifests (only their manifest_path is decoded),
manifests become columns of indices into one table of data files (only what a live set needs).
*/
export class SnapshotScanner {
	private readonly table: OpenTable;
	private readonly limit: ReturnType<typeof limiter>;
	private readonly concurrency: number;
	private readonly lists = new Map<string, Promise<ListRead>>();
	private readonly manifestPaths = new PathTable();
	/** By path index; two spellings of one file share the entry. */
	private readonly manifests: Manifest[] = [];
	private readonly byRelative = new Map<string, Manifest>();
	private readonly dataPaths = new PathTable();
	private readonly dataFiles: DataFile[] = [];
	private readonly formats: string[] = [];
	private readonly inline = new Map<string, Range>();
	private readonly columns = {
		list: new Column(length => new Int32Array(length)),
		files: new Column(length => new Int32Array(length)),
		content: new Column(length => new Uint8Array(length)),
		format: new Column(length => new Uint16Array(length)),
		records: new Column(length => new Float64Array(length)),
		bytes: new Column(length => new Float64Array(length)),
	};

	private files: ReadonlyMap<string, FileInfo> | undefined;

	/**
	Manifest lists and manifests are read directly (a read that finds nothing means the file is
	missing); data and delete files are checked against the table's one listing.
	*/
	constructor(table: OpenTable, concurrency = 32) {
		this.table = table;
		this.concurrency = concurrency;
		this.limit = limiter(concurrency);
	}

	/** Reads and decodes one file; `decode` makes the result, a failed read or decode becomes one. */
	private async read<T>(relative: string, decode: (bytes: Uint8Array) => T): Promise<T | {readonly ok: false; readonly missing: boolean; readonly error: string}> {
		return this.limit(async () => {
			try {
				return decode(await this.table.store.read(relative));
			} catch (error) {
				if (error instanceof FileNotFoundError) {
					return {ok: false as const, missing: true, error: 'missing'};
				}

				return {ok: false as const, missing: false, error: (error as Error).message};
			}
		});
	}

	/** The index of a manifest path (bytes of a decoded block), added when new. */
	private manifestIndex(buffer: Buffer, start: number, end: number): number {
		const index = this.manifestPaths.intern(buffer, start, end);
		if (index === this.manifests.length) {
			const path = this.manifestPaths.text(index);
			const relative = this.table.mapper.toRelative(path);
			let manifest = relative === undefined ? undefined : this.byRelative.get(relative);
			if (!manifest) {
				manifest = {path, relative};
				if (relative !== undefined) {
					this.byRelative.set(relative, manifest);
				}
			}

			this.manifests.push(manifest);
		}

		return index;
	}

	private dataIndex(buffer: Buffer, start: number, end: number): number {
		const index = this.dataPaths.intern(buffer, start, end);
		if (index === this.dataFiles.length) {
			const path = this.dataPaths.text(index);
			this.dataFiles.push({path, relative: this.table.mapper.toRelative(path)});
		}

		return index;
	}

	private formatIndex(name: string): number {
		const index = this.formats.indexOf(name);
		return index === -1 ? this.formats.push(name) - 1 : index;
	}

	private readList(relative: string): Promise<ListRead> {
		let pending = this.lists.get(relative);
		if (!pending) {
			pending = this.read(relative, bytes => {
				const rows = new AvroRows(bytes, manifestListSelection, 'manifest-list');
				const {list} = this.columns;
				const first = list.length;
				try {
					while (rows.next()) {
						const start = rows.start(0);
						if (start === undefined) {
							throw new Error('an entry without manifest_path');
						}

						list.push(this.manifestIndex(rows.block, start, rows.end(0)));
					}
				} catch (error) {
					list.length = first;
					throw error;
				}

				return {ok: true as const, manifests: {start: first, end: list.length}};
			});
			this.lists.set(relative, pending);
		}

		return pending;
	}

	private decodeManifest(bytes: Uint8Array): Range {
		const rows = new AvroRows(bytes, manifestSelection, 'manifest');
		const columns = this.columns;
		const first = columns.files.length;
		let lastFormat: Buffer = Buffer.alloc(0);
		let lastFormatIndex = -1;
		try {
			while (rows.next()) {
				if (rows.number(status) === 2) {
					continue;
				}

				const start = rows.start(filePath);
				if (start === undefined) {
					throw new Error('an entry without data_file.file_path');
				}

				columns.files.push(this.dataIndex(rows.block, start, rows.end(filePath)));
				columns.content.push(rows.number(content) ?? 0);
				// Every entry names its format: decoded only when it differs from the one before.
				const formatStart = rows.start(fileFormat);
				if (lastFormatIndex === -1 || formatStart === undefined || !equalAt(rows.block, formatStart, rows.end(fileFormat), lastFormat)) {
					const name = rows.text(fileFormat) ?? '';
					lastFormat = Buffer.from(name);
					lastFormatIndex = this.formatIndex(name);
				}

				columns.format.push(lastFormatIndex);
				columns.records.push(rows.number(recordCount) ?? 0);
				columns.bytes.push(rows.number(contentSize) ?? rows.number(fileSize) ?? 0);
			}
		} catch (error) {
			for (const column of [columns.files, columns.content, columns.format, columns.records, columns.bytes]) {
				column.length = first;
			}

			throw error;
		}

		return {start: first, end: columns.files.length};
	}

	private load(manifest: Manifest): Promise<ManifestRead> {
		manifest.pending ??= this.read(manifest.relative!, bytes => ({ok: true as const, live: this.decodeManifest(bytes)})).then(read => {
			manifest.read = read;
			return read;
		});
		return manifest.pending;
	}

	/** The manifests a snapshot names, as indices (from its manifest list, or inline for old v1 writers). */
	private async manifestsOf(snapshot: SnapshotInfo): Promise<{manifests?: Range; problem?: string}> {
		if (snapshot.manifestList !== undefined) {
			const relative = this.table.mapper.toRelative(snapshot.manifestList);
			if (relative === undefined) {
				return {problem: `manifest list ${snapshot.manifestList} is outside the table location`};
			}

			const read = await this.readList(relative);
			if (read.ok) {
				return {manifests: read.manifests};
			}

			return {problem: read.missing ? `missing manifest list ${relative}` : `unreadable manifest list ${relative}: ${read.error}`};
		}

		if (snapshot.manifests) {
			let range = this.inline.get(snapshot.id);
			if (!range) {
				const {list} = this.columns;
				const start = list.length;
				for (const path of snapshot.manifests) {
					const bytes = Buffer.from(path);
					list.push(this.manifestIndex(bytes, 0, bytes.length));
				}

				range = {start, end: list.length};
				this.inline.set(snapshot.id, range);
			}

			return {manifests: range};
		}

		return {problem: 'the snapshot names no manifest list'};
	}

	private present(index: number, files: ReadonlyMap<string, FileInfo>): boolean {
		const file = this.dataFiles[index]!;
		file.present ??= file.relative !== undefined && files.has(file.relative);
		return file.present;
	}

	/** How many live entries of a manifest name files missing from the listing. */
	private missingOf(manifest: Manifest, live: Range, files: ReadonlyMap<string, FileInfo>): number {
		if (manifest.missing === undefined) {
			let missing = 0;
			const indices = this.columns.files.values;
			for (let entry = live.start; entry < live.end; entry++) {
				if (!this.present(indices[entry]!, files)) {
					missing++;
				}
			}

			manifest.missing = missing;
		}

		return manifest.missing;
	}

	/**
	`check` for many snapshots at once, as fast as storage allows: every manifest list is asked for at
	once (reads queue behind the concurrency limit, so storage never waits for decoding), each
	manifest as soon as a list names it, and the listing is waited for only at the end.
	*/
	async checkAll(snapshots: readonly SnapshotInfo[]): Promise<SnapshotCheck[]> {
		// A window of lists in flight (twice the reads allowed at once, so storage never waits for
		// decoding) rather than a promise per snapshot: few objects live at once, little GC.
		const found: Array<{manifests?: Range; problem?: string}> = Array.from({length: snapshots.length});
		const loads: Array<Promise<ManifestRead>> = [];
		let next = 0;
		await Promise.all(Array.from({length: Math.min(this.concurrency * 2, snapshots.length)}, async () => {
			while (next < snapshots.length) {
				const index = next++;
				// eslint-disable-next-line no-await-in-loop
				const result = await this.manifestsOf(snapshots[index]!);
				found[index] = result;
				if (result.manifests) {
					const indices = this.columns.list.values;
					for (let position = result.manifests.start; position < result.manifests.end; position++) {
						const manifest = this.manifests[indices[position]!]!;
						if (manifest.pending === undefined && manifest.relative !== undefined) {
							loads.push(this.load(manifest));
						}
					}
				}
			}
		}));
		await Promise.all(loads);
		// The listing is waited for only when some snapshot names manifests to check against it.
		const files = found.some(result => result.manifests) ? this.files ?? (this.files = await this.table.listing) : new Map<string, FileInfo>();
		return found.map(({manifests: range, problem}) => {
			if (!range) {
				return {restorable: false, reason: problem};
			}

			const indices = this.columns.list.values;
			for (let position = range.start; position < range.end; position++) {
				const manifest = this.manifests[indices[position]!]!;
				const {read} = manifest;
				if (!read?.ok || (manifest.missing ?? this.missingOf(manifest, read.live, files)) > 0) {
					return this.problems(indices.subarray(range.start, range.end), files);
				}
			}

			return restorable;
		});
	}

	/** Restorable when the manifest list, every manifest and every live data and delete file exist. */
	async check(snapshot: SnapshotInfo): Promise<SnapshotCheck> {
		return (await this.checkAll([snapshot]))[0]!;
	}

	private problems(indices: Int32Array, files: ReadonlyMap<string, FileInfo>): SnapshotCheck {
		const missingManifests: string[] = [];
		const unreadable: string[] = [];
		const missingData: string[] = [];
		const missingDeletes: string[] = [];
		const seen = new Set<number>();
		const reported = new Set<Manifest>();
		for (const index of indices) {
			const manifest = this.manifests[index]!;
			if (reported.has(manifest)) {
				continue;
			}

			reported.add(manifest);
			const {read} = manifest;
			if (!read || (!read.ok && read.missing)) {
				missingManifests.push(manifest.relative ?? manifest.path);
				continue;
			}

			if (!read.ok) {
				unreadable.push(`${manifest.relative}: ${read.error}`);
				continue;
			}

			const {live} = read;
			const {files: fileColumn, content: contentColumn} = this.columns;
			for (let entry = live.start; entry < live.end; entry++) {
				const file = fileColumn.values[entry]!;
				if (!seen.has(file) && !this.present(file, files)) {
					seen.add(file);
					const {relative, path} = this.dataFiles[file]!;
					(contentColumn.values[entry] === 0 ? missingData : missingDeletes).push(relative ?? path);
				}
			}
		}

		const reasons: string[] = [];
		if (missingManifests.length > 0) {
			reasons.push(`missing ${plural(missingManifests.length, 'manifest')}: ${shortList(missingManifests)}`);
		}

		if (unreadable.length > 0) {
			reasons.push(`unreadable ${plural(unreadable.length, 'manifest')}: ${shortList(unreadable)}`);
		}

		if (missingData.length > 0) {
			reasons.push(`missing ${plural(missingData.length, 'data file')}: ${shortList(missingData)}`);
		}

		if (missingDeletes.length > 0) {
			reasons.push(`missing ${plural(missingDeletes.length, 'delete file')}: ${shortList(missingDeletes)}`);
		}

		return reasons.length > 0 ? {restorable: false, reason: reasons.join('; ')} : restorable;
	}

	/** The snapshot's live files (data and delete files). Throws when a manifest cannot be read. */
	async liveFiles(snapshot: SnapshotInfo): Promise<LiveFile[]> {
		const {manifests: range, problem} = await this.manifestsOf(snapshot);
		if (!range) {
			throw new Error(`snapshot ${snapshot.id}: ${problem}`);
		}

		const manifests = Array.from(this.columns.list.values.subarray(range.start, range.end), index => this.manifests[index]!);
		const reads = await Promise.all(manifests.map(async manifest => manifest.relative === undefined ? undefined : this.load(manifest)));
		const files: LiveFile[] = [];
		for (const [index, read] of reads.entries()) {
			const manifest = manifests[index]!;
			if (!read || !read.ok) {
				throw new Error(`snapshot ${snapshot.id}: ${read && !read.missing ? `unreadable manifest ${manifest.relative}: ${read.error}` : `missing manifest ${manifest.relative ?? manifest.path}`}`);
			}

			const {live} = read;
			const columns = this.columns;
			for (let entry = live.start; entry < live.end; entry++) {
				const {path, relative} = this.dataFiles[columns.files.values[entry]!]!;
				files.push({path, relative, content: columns.content.values[entry]!, format: this.formats[columns.format.values[entry]!]!, records: columns.records.values[entry]!, bytes: columns.bytes.values[entry]!});
			}
		}

		return files;
	}
}

export type LiveSummary = {
	readonly files: number;
	readonly rows: number;
	readonly bytes: number;
	readonly paths: ReadonlySet<string>;
	readonly dataRows: number;
	readonly positionDeletes: number;
	readonly equalityDeleteFiles: number;
};

/** Counts a live set: files once per path; rows = data rows minus position deletes. */
export function summarize(files: readonly LiveFile[]): LiveSummary {
	const paths = new Set<string>();
	let bytes = 0;
	let dataRows = 0;
	let positionDeletes = 0;
	let equalityDeleteFiles = 0;
	const sizedPaths = new Set<string>();
	for (const file of files) {
		const key = file.relative ?? file.path;
		if (file.content === 0) {
			dataRows += file.records;
		} else if (file.content === 1) {
			positionDeletes += file.records;
		} else if (!paths.has(key)) {
			equalityDeleteFiles++;
		}

		paths.add(key);
		if (file.format.toLowerCase() === 'puffin') {
			bytes += file.bytes;
		} else if (!sizedPaths.has(key)) {
			sizedPaths.add(key);
			bytes += file.bytes;
		}
	}

	return {files: paths.size, rows: dataRows - positionDeletes, bytes, paths, dataRows, positionDeletes, equalityDeleteFiles};
}
