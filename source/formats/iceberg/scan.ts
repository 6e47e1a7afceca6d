import {FileNotFoundError, type FileInfo} from '../../storage/file-store.js';
import {readAvro, type FieldSelection} from './avro.js';
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
/** A manifest list as indices into the scanner's manifest table (lists share most manifests: no object per entry is kept). */
type ListRead = {readonly ok: true; readonly manifests: Int32Array} | {readonly ok: false; readonly missing: boolean; readonly error: string};
type ManifestRef = {readonly path: string; readonly relative?: string};

const manifestListSelection: FieldSelection = {manifest_path: true};
const manifestSelection: FieldSelection = {status: true, data_file: {content: true, file_path: true, file_format: true, record_count: true, file_size_in_bytes: true, content_size_in_bytes: true}};

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

const shortList = (paths: readonly string[]) => paths.slice(0, 3).join(', ') + (paths.length > 3 ? ` (+${paths.length - 3} more)` : '');
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
Reads manifest lists and manifests of one table, each file once (manifests are shared between
snapshots), and answers per snapshot: is every file it needs in the listing, and which files are live.
*/
export class SnapshotScanner {
	private readonly table: OpenTable;
	private readonly limit: ReturnType<typeof limiter>;
	private readonly lists = new Map<string, Promise<ListRead>>();
	private readonly manifests = new Map<string, Promise<ManifestRead>>();
	private readonly manifestsDone = new Map<string, ManifestRead>();
	private readonly missingByManifest = new Map<string, readonly LiveFile[]>();
	private files: ReadonlyMap<string, FileInfo> | undefined;
	private readonly manifestIndex = new Map<string, number>();
	private readonly manifestTable: ManifestRef[] = [];

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

	private readList(relative: string): Promise<ListRead> {
		let pending = this.lists.get(relative);
		if (!pending) {
			pending = this.read(relative, bytes => {
				const {records} = readAvro(bytes, {selection: manifestListSelection, selectionKey: 'manifest-list', longs: 'number'});
				const indices = new Int32Array(records.length);
				for (const [position, record] of records.entries()) {
					const path = record.manifest_path as string;
					let index = this.manifestIndex.get(path);
					if (index === undefined) {
						index = this.manifestTable.length;
						this.manifestTable.push({path, relative: this.table.mapper.toRelative(path)});
						this.manifestIndex.set(path, index);
					}

					indices[position] = index;
				}

				return indices;
			}).then(read => read.ok ? {ok: true as const, manifests: read.value} : read);
			this.lists.set(relative, pending);
		}

		return pending;
	}

	private readManifest(relative: string): Promise<ManifestRead> {
		let pending = this.manifests.get(relative);
		if (!pending) {
			pending = this.read(relative, bytes => {
				const live: LiveFile[] = [];
				for (const record of readAvro(bytes, {selection: manifestSelection, selectionKey: 'manifest', longs: 'number'}).records) {
					if (record.status === 2) {
						continue;
					}

					const file = record.data_file;
					live.push({
						path: file.file_path,
						relative: this.table.mapper.toRelative(file.file_path),
						content: file.content ?? 0,
						format: String(file.file_format ?? ''),
						records: Number(file.record_count ?? 0),
						bytes: Number(file.content_size_in_bytes ?? file.file_size_in_bytes ?? 0),
					});
				}

				return live;
			}).then(read => {
				const result: ManifestRead = read.ok ? {ok: true, live: read.value} : read;
				this.manifestsDone.set(relative, result);
				return result;
			});
			this.manifests.set(relative, pending);
		}

		return pending;
	}

	/** The manifests a snapshot names (from its manifest list, or inline for old v1 writers). */
	private async manifestsOf(snapshot: SnapshotInfo): Promise<{manifests?: readonly ManifestRef[]; problem?: string}> {
		if (snapshot.manifestList !== undefined) {
			const relative = this.table.mapper.toRelative(snapshot.manifestList);
			if (relative === undefined) {
				return {problem: `manifest list ${snapshot.manifestList} is outside the table location`};
			}

			const read = await this.readList(relative);
			if (read.ok) {
				return {manifests: Array.from(read.manifests, index => this.manifestTable[index]!)};
			}

			return {problem: read.missing ? `missing manifest list ${relative}` : `unreadable manifest list ${relative}: ${read.error}`};
		}

		if (snapshot.manifests) {
			return {manifests: snapshot.manifests.map(manifest => ({path: manifest, relative: this.table.mapper.toRelative(manifest)}))};
		}

		return {problem: 'the snapshot names no manifest list'};
	}

	private async listing(): Promise<ReadonlyMap<string, FileInfo>> {
		this.files ??= await this.table.listing;
		return this.files;
	}

	private missingOf(relative: string, live: readonly LiveFile[], files: ReadonlyMap<string, FileInfo>): readonly LiveFile[] {
		let missing = this.missingByManifest.get(relative);
		if (!missing) {
			missing = live.filter(file => file.relative === undefined || !files.has(file.relative));
			this.missingByManifest.set(relative, missing);
		}

		return missing;
	}

	/** Restorable when the manifest list, every manifest and every live data and delete file exist. */
	async check(snapshot: SnapshotInfo): Promise<SnapshotCheck> {
		const {manifests, problem} = await this.manifestsOf(snapshot);
		if (!manifests) {
			return {restorable: false, reason: problem};
		}

		const pending: Array<Promise<ManifestRead>> = [];
		for (const manifest of manifests) {
			if (manifest.relative !== undefined && !this.manifestsDone.has(manifest.relative)) {
				pending.push(this.readManifest(manifest.relative));
			}
		}

		if (pending.length > 0) {
			await Promise.all(pending);
		}

		const files = await this.listing();
		const missingManifests: string[] = [];
		const unreadable: string[] = [];
		const missingData: string[] = [];
		const missingDeletes: string[] = [];
		const seen = new Set<string>();
		for (const manifest of manifests) {
			const read = manifest.relative === undefined ? undefined : this.manifestsDone.get(manifest.relative)!;
			if (!read || (!read.ok && read.missing)) {
				missingManifests.push(manifest.relative ?? manifest.path);
				continue;
			}

			if (!read.ok) {
				unreadable.push(`${manifest.relative}: ${read.error}`);
				continue;
			}

			for (const file of this.missingOf(manifest.relative!, read.live, files)) {
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

		return reasons.length > 0 ? {restorable: false, reason: reasons.join('; ')} : {restorable: true};
	}

	/** The snapshot's live files (data and delete files). Throws when a manifest cannot be read. */
	async liveFiles(snapshot: SnapshotInfo): Promise<LiveFile[]> {
		const {manifests, problem} = await this.manifestsOf(snapshot);
		if (!manifests) {
			throw new Error(`snapshot ${snapshot.id}: ${problem}`);
		}

		const reads = await Promise.all(manifests.map(async manifest => manifest.relative === undefined ? undefined : this.readManifest(manifest.relative)));
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
