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

type ManifestRead = {readonly ok: true; readonly live: readonly LiveFile[]; readonly missing: readonly LiveFile[]} | {readonly ok: false; readonly error: string};
type ListRead = {readonly ok: true; readonly manifests: ReadonlyArray<{readonly path: string; readonly relative?: string}>} | {readonly ok: false; readonly error: string};

const manifestListSelection: FieldSelection = {manifest_path: true, content: true};
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

	constructor(table: OpenTable, concurrency = 16) {
		this.table = table;
		this.limit = limiter(concurrency);
	}

	private has(relative: string | undefined): boolean {
		return relative !== undefined && this.table.files.has(relative);
	}

	private readList(relative: string): Promise<ListRead> {
		let pending = this.lists.get(relative);
		if (!pending) {
			pending = this.limit(async () => {
				try {
					const {records} = readAvro(await this.table.store.read(relative), {selection: manifestListSelection, selectionKey: 'manifest-list'});
					return {ok: true as const, manifests: records.map(record => ({path: record.manifest_path as string, relative: this.table.mapper.toRelative(record.manifest_path)}))};
				} catch (error) {
					return {ok: false as const, error: (error as Error).message};
				}
			});
			this.lists.set(relative, pending);
		}

		return pending;
	}

	private readManifest(relative: string): Promise<ManifestRead> {
		let pending = this.manifests.get(relative);
		if (!pending) {
			pending = this.limit(async () => {
				try {
					const {records} = readAvro(await this.table.store.read(relative), {selection: manifestSelection, selectionKey: 'manifest'});
					const live: LiveFile[] = [];
					const missing: LiveFile[] = [];
					for (const record of records) {
						if (record.status === 2) {
							continue;
						}

						const file = record.data_file;
						const mapped = this.table.mapper.toRelative(file.file_path);
						const entry: LiveFile = {
							path: file.file_path,
							relative: mapped,
							content: file.content ?? 0,
							format: String(file.file_format ?? ''),
							records: Number(file.record_count ?? 0),
							bytes: Number(file.content_size_in_bytes ?? file.file_size_in_bytes ?? 0),
						};
						live.push(entry);
						if (!this.has(mapped)) {
							missing.push(entry);
						}
					}

					const read = {ok: true as const, live, missing};
					this.manifestsDone.set(relative, read);
					return read;
				} catch (error) {
					const read = {ok: false as const, error: (error as Error).message};
					this.manifestsDone.set(relative, read);
					return read;
				}
			});
			this.manifests.set(relative, pending);
		}

		return pending;
	}

	/** The manifests a snapshot names (from its manifest list, or inline for old v1 writers). */
	private async manifestsOf(snapshot: SnapshotInfo): Promise<{manifests?: ReadonlyArray<{path: string; relative?: string}>; problem?: string}> {
		if (snapshot.manifestList !== undefined) {
			const relative = this.table.mapper.toRelative(snapshot.manifestList);
			if (!this.has(relative)) {
				return {problem: relative === undefined ? `manifest list ${snapshot.manifestList} is outside the table location` : `missing manifest list ${relative}`};
			}

			const read = await this.readList(relative!);
			return read.ok ? {manifests: read.manifests} : {problem: `unreadable manifest list ${relative}: ${read.error}`};
		}

		if (snapshot.manifests) {
			return {manifests: snapshot.manifests.map(manifest => ({path: manifest, relative: this.table.mapper.toRelative(manifest)}))};
		}

		return {problem: 'the snapshot names no manifest list'};
	}

	/** Restorable when the manifest list, every manifest and every live data and delete file exist. */
	async check(snapshot: SnapshotInfo): Promise<SnapshotCheck> {
		const {manifests, problem} = await this.manifestsOf(snapshot);
		if (!manifests) {
			return {restorable: false, reason: problem};
		}

		const missingManifests: string[] = [];
		const unreadable: string[] = [];
		const missingData: string[] = [];
		const missingDeletes: string[] = [];
		const pending: Array<Promise<ManifestRead>> = [];
		for (const manifest of manifests) {
			if (this.has(manifest.relative) && !this.manifestsDone.has(manifest.relative!)) {
				pending.push(this.readManifest(manifest.relative!));
			}
		}

		if (pending.length > 0) {
			await Promise.all(pending);
		}

		const seen = new Set<string>();
		for (const manifest of manifests) {
			if (!this.has(manifest.relative)) {
				missingManifests.push(manifest.relative ?? manifest.path);
				continue;
			}

			const read = this.manifestsDone.get(manifest.relative!)!;
			if (!read.ok) {
				unreadable.push(`${manifest.relative}: ${read.error}`);
				continue;
			}

			for (const file of read.missing) {
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

	/** The snapshot's live files (data and delete files), each path once. Throws when a manifest cannot be read. */
	async liveFiles(snapshot: SnapshotInfo): Promise<LiveFile[]> {
		const {manifests, problem} = await this.manifestsOf(snapshot);
		if (!manifests) {
			throw new Error(`snapshot ${snapshot.id}: ${problem}`);
		}

		const files: LiveFile[] = [];
		for (const manifest of manifests) {
			if (!this.has(manifest.relative)) {
				throw new Error(`snapshot ${snapshot.id}: missing manifest ${manifest.relative ?? manifest.path}`);
			}

			// eslint-disable-next-line no-await-in-loop
			const read = await this.readManifest(manifest.relative!);
			if (!read.ok) {
				throw new Error(`snapshot ${snapshot.id}: unreadable manifest ${manifest.relative}: ${read.error}`);
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
