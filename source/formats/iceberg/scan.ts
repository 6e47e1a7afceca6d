import {FileNotFoundError, type FileInfo} from '../../storage/file-store.js';
import {AvroRows, selectionLeaves, type FieldSelection} from './avro.js';
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

type ManifestRead = {readonly ok: true; readonly live: readonly LiveFile[]} | {readonly ok: false; readonly missing: boolean; readonly error: string};
type ListRead = {readonly ok: true; readonly manifests: Int32Array} | {readonly ok: false; readonly missing: boolean; readonly error: string};

/** One manifest file (shared by every spelling of its path that maps to it), read at most once. */
type Manifest = {
	readonly path: string;
	/** Relative to the table root, undefined when outside the table location. */
	readonly relative?: string;
	pending?: Promise<ManifestRead>;
	read?: ManifestRead;
	/** Its live files missing from the listing, once known. */
	missing?: readonly LiveFile[];
};

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

/**
Manifest paths by their bytes, so that the hundred thousand entries of a long history's manifest
lists (each list repeats most of its parent's) cost no string each: an open-addressing table keyed
by a hash of the path's last bytes (where the UUIDs are), checked byte for byte.
*/
class PathTable {
	private slots = new Int32Array(1024);
	private readonly keys: Buffer[] = [];
	private readonly hashes: number[] = [];

	get size(): number {
		return this.keys.length;
	}

	/** The index of these bytes, or -1. */
	find(buffer: Buffer, start: number, end: number): number {
		const hash = PathTable.hash(buffer, start, end);
		const mask = this.slots.length - 1;
		for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
			const entry = this.slots[slot]!;
			if (entry === 0) {
				return -1;
			}

			const index = entry - 1;
			if (this.hashes[index] === hash && PathTable.same(this.keys[index]!, buffer, start, end)) {
				return index;
			}
		}
	}

	/** Adds bytes not in the table (a copy is kept); returns their index. */
	add(buffer: Buffer, start: number, end: number): number {
		const index = this.keys.length;
		const hash = PathTable.hash(buffer, start, end);
		this.keys.push(Buffer.from(buffer.subarray(start, end)));
		this.hashes.push(hash);
		if (this.keys.length * 2 > this.slots.length) {
			this.slots = new Int32Array(this.slots.length * 4);
			for (const [known, knownHash] of this.hashes.entries()) {
				this.place(knownHash, known);
			}
		} else {
			this.place(hash, index);
		}

		return index;
	}

	private place(hash: number, index: number): void {
		const mask = this.slots.length - 1;
		let slot = hash & mask;
		while (this.slots[slot] !== 0) {
			slot = (slot + 1) & mask;
		}

		this.slots[slot] = index + 1;
	}

	/** Byte for byte, from the end (where paths differ); cheaper than a native call for short keys. */
	private static same(key: Buffer, buffer: Buffer, start: number, end: number): boolean {
		if (key.length !== end - start) {
			return false;
		}

		for (let index = key.length - 1; index >= 0; index--) {
			if (key[index] !== buffer[start + index]) {
				return false;
			}
		}

		return true;
	}

	private static hash(buffer: Buffer, start: number, end: number): number {
		let hash = 0x81_1C_9D_C5 ^ (end - start);
		for (let index = Math.max(start, end - 32); index < end; index++) {
			hash = Math.imul(hash ^ buffer[index]!, 0x01_00_01_93);
		}

		return hash >>> 0;
	}
}

/**
Reads manifest lists and manifests of one table, each file once (manifests are shared between
snapshots), and answers per snapshot: is every file it needs in the listing, and which files are live.
Manifest lists are read as indices into one table of manifests; only the manifest_path of their
entries is decoded, and of manifests only what a live set needs.
*/
export class SnapshotScanner {
	private readonly table: OpenTable;
	private readonly limit: ReturnType<typeof limiter>;
	private readonly lists = new Map<string, Promise<ListRead>>();
	private readonly paths = new PathTable();
	/** By path index (PathTable); two spellings of one file share the entry. */
	private readonly manifests: Manifest[] = [];
	private readonly byRelative = new Map<string, Manifest>();
	private scratch = new Int32Array(256);
	private files: ReadonlyMap<string, FileInfo> | undefined;

	/**
	Manifest lists and manifests are read directly (a read that finds nothing means the file is
	missing); data and delete files are checked against the table's one listing.
	*/
	constructor(table: OpenTable, concurrency = 32) {
		this.table = table;
		this.limit = limiter(concurrency);
	}

	private async read<T>(relative: string, decode: (bytes: Uint8Array) => T): Promise<{ok: true; value: T} | {ok: false; missing: boolean; error: string}> {
		return this.limit(async () => {
			try {
				return {ok: true as const, value: decode(await this.table.store.read(relative))};
			} catch (error) {
				if (error instanceof FileNotFoundError) {
					return {ok: false as const, missing: true, error: 'missing'};
				}

				return {ok: false as const, missing: false, error: (error as Error).message};
			}
		});
	}

	/** The index of a manifest path (bytes of a decoded block), added when new. */
	private indexOf(buffer: Buffer, start: number, end: number): number {
		const found = this.paths.find(buffer, start, end);
		if (found >= 0) {
			return found;
		}

		const index = this.paths.add(buffer, start, end);
		const path = buffer.toString('utf8', start, end);
		const relative = this.table.mapper.toRelative(path);
		let manifest = relative === undefined ? undefined : this.byRelative.get(relative);
		if (!manifest) {
			manifest = {path, relative};
			if (relative !== undefined) {
				this.byRelative.set(relative, manifest);
			}
		}

		this.manifests[index] = manifest;
		return index;
	}

	private readList(relative: string): Promise<ListRead> {
		let pending = this.lists.get(relative);
		if (!pending) {
			pending = this.read(relative, bytes => {
				const rows = new AvroRows(bytes, manifestListSelection, 'manifest-list');
				let count = 0;
				while (rows.next()) {
					const start = rows.start(0);
					if (start === undefined) {
						throw new Error('an entry without manifest_path');
					}

					if (count === this.scratch.length) {
						const larger = new Int32Array(count * 2);
						larger.set(this.scratch);
						this.scratch = larger;
					}

					this.scratch[count++] = this.indexOf(rows.block, start, rows.end(0));
				}

				return this.scratch.slice(0, count);
			}).then(read => read.ok ? {ok: true as const, manifests: read.value} : read);
			this.lists.set(relative, pending);
		}

		return pending;
	}

	private decodeManifest(bytes: Uint8Array): LiveFile[] {
		const live: LiveFile[] = [];
		const rows = new AvroRows(bytes, manifestSelection, 'manifest');
		while (rows.next()) {
			if (rows.number(status) === 2) {
				continue;
			}

			const path = rows.text(filePath);
			if (path === undefined) {
				throw new Error('an entry without data_file.file_path');
			}

			live.push({
				path,
				relative: this.table.mapper.toRelative(path),
				content: rows.number(content) ?? 0,
				format: rows.text(fileFormat) ?? '',
				records: rows.number(recordCount) ?? 0,
				bytes: rows.number(contentSize) ?? rows.number(fileSize) ?? 0,
			});
		}

		return live;
	}

	private load(manifest: Manifest): Promise<ManifestRead> {
		manifest.pending ??= this.read(manifest.relative!, bytes => this.decodeManifest(bytes)).then(read => {
			manifest.read = read.ok ? {ok: true, live: read.value} : read;
			return manifest.read;
		});
		return manifest.pending;
	}

	/** The manifests a snapshot names, as indices (from its manifest list, or inline for old v1 writers). */
	private async manifestsOf(snapshot: SnapshotInfo): Promise<{manifests?: Int32Array; problem?: string}> {
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
			return {manifests: Int32Array.from(snapshot.manifests, path => {
				const bytes = Buffer.from(path);
				return this.indexOf(bytes, 0, bytes.length);
			})};
		}

		return {problem: 'the snapshot names no manifest list'};
	}

	private missingOf(manifest: Manifest, live: readonly LiveFile[], files: ReadonlyMap<string, FileInfo>): readonly LiveFile[] {
		manifest.missing ??= live.filter(file => file.relative === undefined || !files.has(file.relative));
		return manifest.missing;
	}

	/** Restorable when the manifest list, every manifest and every live data and delete file exist. */
	async check(snapshot: SnapshotInfo): Promise<SnapshotCheck> {
		const {manifests: indices, problem} = await this.manifestsOf(snapshot);
		if (!indices) {
			return {restorable: false, reason: problem};
		}

		let pending: Array<Promise<ManifestRead>> | undefined;
		for (const index of indices) {
			const manifest = this.manifests[index]!;
			if (manifest.read === undefined && manifest.relative !== undefined) {
				(pending ??= []).push(this.load(manifest));
			}
		}

		if (pending) {
			await Promise.all(pending);
		}

		const files = this.files ?? (this.files = await this.table.listing);
		let clean = true;
		for (const index of indices) {
			const manifest = this.manifests[index]!;
			const {read} = manifest;
			if (!read?.ok || (manifest.missing ?? this.missingOf(manifest, read.live, files)).length > 0) {
				clean = false;
				break;
			}
		}

		return clean ? restorable : this.problems(indices, files);
	}

	private problems(indices: Int32Array, files: ReadonlyMap<string, FileInfo>): SnapshotCheck {
		const missingManifests: string[] = [];
		const unreadable: string[] = [];
		const missingData: string[] = [];
		const missingDeletes: string[] = [];
		const seen = new Set<string>();
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

			for (const file of this.missingOf(manifest, read.live, files)) {
				const name = file.relative ?? file.path;
				if (!seen.has(name)) {
					seen.add(name);
					(file.content === 0 ? missingData : missingDeletes).push(name);
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
		const {manifests: indices, problem} = await this.manifestsOf(snapshot);
		if (!indices) {
			throw new Error(`snapshot ${snapshot.id}: ${problem}`);
		}

		const manifests = Array.from(indices, index => this.manifests[index]!);
		const reads = await Promise.all(manifests.map(async manifest => manifest.relative === undefined ? undefined : this.load(manifest)));
		const files: LiveFile[] = [];
		for (const [index, read] of reads.entries()) {
			const manifest = manifests[index]!;
			if (!read || !read.ok) {
				throw new Error(`snapshot ${snapshot.id}: ${read && !read.missing ? `unreadable manifest ${manifest.relative}: ${read.error}` : `missing manifest ${manifest.relative ?? manifest.path}`}`);
			}

			files.push(...read.live);
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
