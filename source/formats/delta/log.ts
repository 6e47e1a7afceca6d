import {S3ServiceException} from '@aws-sdk/client-s3';
import {UserError} from '../../errors.js';
import {FileNotFoundError, type FileInfo, type FileStore} from '../../storage/file-store.js';
import {deletionVectorId, deletionVectorLocation, type DeletionVector} from './deletion-vector.js';
import {readParquetActions} from './parquet.js';

/**
Reading a Delta table's log (PROTOCOL.md): which files the log has, and the table's state at each
version, from ONE listing of the table plus the commit files (and a checkpoint only where the
commits before it are gone).
*/

export type Action = Record<string, any>;

export type AddFile = {
	readonly path: string;
	readonly partitionValues?: Record<string, string | null>;
	readonly size: number;
	readonly modificationTime?: number;
	readonly dataChange?: boolean;
	readonly stats?: string;
	readonly tags?: Record<string, string>;
	readonly deletionVector?: DeletionVector;
	readonly baseRowId?: number;
	readonly defaultRowCommitVersion?: number;
	readonly clusteringProvider?: string;
	readonly [key: string]: unknown;
};

export type Metadata = {
	readonly id: string;
	readonly schemaString: string;
	readonly partitionColumns?: readonly string[];
	readonly configuration?: Record<string, string>;
	readonly [key: string]: unknown;
};

export type Protocol = {
	readonly minReaderVersion: number;
	readonly minWriterVersion: number;
	readonly readerFeatures?: readonly string[];
	readonly writerFeatures?: readonly string[];
};

export type CommitInfo = {
	readonly timestamp?: number;
	readonly inCommitTimestamp?: number;
	readonly operation?: string;
	readonly operationParameters?: Record<string, unknown>;
	readonly operationMetrics?: Record<string, string>;
	readonly readVersion?: number;
	readonly isBlindAppend?: boolean;
	readonly engineInfo?: string;
	readonly [key: string]: unknown;
};

/** A file in the live set, keyed by path plus deletion vector id (PROTOCOL.md "Action Reconciliation"). */
export type LiveFile = {
	readonly key: string;
	/** The add action, as the log has it (checkpoint values normalized to the JSON shape). */
	readonly add: AddFile;
	/** Store-relative paths this file needs: the data file and its deletion vector file. */
	readonly needed: readonly string[];
	/** Absolute locations outside the table's root (cannot be checked from the table's listing). */
	readonly external: readonly string[];
	/** `numRecords` from a checkpoint's `stats_parsed` when `stats` is absent. */
	readonly parsedNumRecords?: number;
};

export type LogFiles = {
	/** Version -> the JSON commit file. */
	readonly commits: Map<number, FileInfo>;
	/** Version -> usable checkpoint candidates, best first. */
	readonly checkpoints: Map<number, CheckpointCandidate[]>;
	readonly compactions: ReadonlyArray<{readonly from: number; readonly to: number; readonly file: FileInfo}>;
	/** Every path in the listing (log and data), for existence checks. */
	readonly paths: ReadonlySet<string>;
	/** Every file in the listing by path. */
	readonly files: ReadonlyMap<string, FileInfo>;
	/** Highest version with a JSON commit. */
	readonly latest: number | undefined;
};

export type CheckpointCandidate =
	| {readonly kind: 'classic'; readonly files: readonly FileInfo[]}
	| {readonly kind: 'multi-part'; readonly files: readonly FileInfo[]}
	| {readonly kind: 'v2'; readonly files: readonly FileInfo[]; readonly format: 'json' | 'parquet'};

const logDirectory = '_delta_log/';
const commitPattern = /^(\d{20})\.json$/;
const classicCheckpointPattern = /^(\d{20})\.checkpoint\.parquet$/;
const multiPartPattern = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const v2CheckpointPattern = /^(\d{20})\.checkpoint\.([\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12})\.(json|parquet)$/i;
const compactionPattern = /^(\d{20})\.(\d{20})\.compacted\.json$/;

export function commitFileName(version: number): string {
	return `${logDirectory}${String(version).padStart(20, '0')}.json`;
}

/** Sorts a table's listing into commits, checkpoints and compactions; `.crc`, temp files and subfolders of `_delta_log/` are ignored. */
export function classifyListing(listing: readonly FileInfo[]): LogFiles {
	const commits = new Map<number, FileInfo>();
	const checkpoints = new Map<number, CheckpointCandidate[]>();
	const compactions: Array<{from: number; to: number; file: FileInfo}> = [];
	const multiParts = new Map<string, FileInfo[]>();
	const paths = new Set<string>();
	const files = new Map<string, FileInfo>();
	const addCandidate = (version: number, candidate: CheckpointCandidate) => {
		const list = checkpoints.get(version) ?? [];
		list.push(candidate);
		checkpoints.set(version, list);
	};

	for (const file of listing) {
		paths.add(file.path);
		files.set(file.path, file);
		if (!file.path.startsWith(logDirectory)) {
			continue;
		}

		const name = file.path.slice(logDirectory.length);
		if (name.includes('/')) {
			continue;
		}

		let match = commitPattern.exec(name);
		if (match) {
			commits.set(Number(match[1]), file);
			continue;
		}

		match = classicCheckpointPattern.exec(name);
		if (match) {
			addCandidate(Number(match[1]), {kind: 'classic', files: [file]});
			continue;
		}

		match = multiPartPattern.exec(name);
		if (match) {
			const key = `${match[1]}/${Number(match[3])}`;
			const parts = multiParts.get(key) ?? [];
			parts.push(file);
			multiParts.set(key, parts);
			continue;
		}

		match = v2CheckpointPattern.exec(name);
		if (match) {
			addCandidate(Number(match[1]), {kind: 'v2', files: [file], format: match[3]!.toLowerCase() as 'json' | 'parquet'});
			continue;
		}

		match = compactionPattern.exec(name);
		if (match) {
			compactions.push({from: Number(match[1]), to: Number(match[2]), file});
		}
	}

	for (const [key, parts] of multiParts) {
		const [version, count] = key.split('/').map(Number) as [number, number];
		const numbers = new Set(parts.map(part => Number(multiPartPattern.exec(part.path.slice(logDirectory.length))![2])));
		// An incomplete set (a writer that died half way) is not a checkpoint.
		if (numbers.size === count && [...numbers].every(number => number >= 1 && number <= count)) {
			addCandidate(version, {kind: 'multi-part', files: parts.sort((a, b) => a.path < b.path ? -1 : 1)});
		}
	}

	// V2 first (a table with the v2Checkpoint feature must use them), then classic, then multi-part.
	const rank = {v2: 0, classic: 1, 'multi-part': 2} as const;
	for (const list of checkpoints.values()) {
		list.sort((a, b) => rank[a.kind] - rank[b.kind]);
	}

	let latest: number | undefined;
	for (const version of commits.keys()) {
		latest = latest === undefined || version > latest ? version : latest;
	}

	return {
		commits,
		checkpoints,
		compactions,
		paths,
		files,
		latest,
	};
}

/** Runs `fn` over `items` with at most `limit` at once, keeping the order of results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
	const results: R[] = Array.from({length: items.length});
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const index = next++;
			// eslint-disable-next-line no-await-in-loop
			results[index] = await fn(items[index]!, index);
		}
	};

	await Promise.all(Array.from({length: Math.min(limit, items.length)}, async () => worker()));
	return results;
}

const decoder = new TextDecoder();

/** Parses newline-delimited JSON actions; a bad line is a one-line error naming the file and line. */
export function parseActions(bytes: Uint8Array, uri: string): Action[] {
	const text = decoder.decode(bytes);
	// Fast path: the whole file as one JSON array (one parse call); per line only to find a bad line.
	const body = text.trim();
	if (body !== '' && !body.includes('\r')) {
		try {
			const all = JSON.parse(`[${body.replaceAll('\n', ',')}]`) as unknown[];
			if (all.every(action => action && typeof action === 'object' && !Array.isArray(action))) {
				return all as Action[];
			}
		} catch {}
	}

	const actions: Action[] = [];
	let start = 0;
	let line = 0;
	while (start < text.length) {
		let end = text.indexOf('\n', start);
		if (end === -1) {
			end = text.length;
		}

		line++;
		const content = text.slice(start, end).trim();
		start = end + 1;
		if (content === '') {
			continue;
		}

		let action: unknown;
		try {
			action = JSON.parse(content);
		} catch {
			throw new UserError(`${uri}: line ${line} is not valid JSON (truncated or corrupt commit)`, {hint: 'the table\'s log is damaged; nothing was written. Restore the file from a mirror or snapshot'});
		}

		if (!action || typeof action !== 'object' || Array.isArray(action)) {
			throw new UserError(`${uri}: line ${line} is not a Delta action`, {hint: 'the table\'s log is damaged; nothing was written. Restore the file from a mirror or snapshot'});
		}

		actions.push(action as Action);
	}

	return actions;
}

function normalizeUri(uri: string): string {
	const replaced = uri.replace(/^s3[an]:\/\//, 's3://');
	if (replaced.startsWith('file:')) {
		try {
			return new URL(replaced).href;
		} catch {
			return replaced;
		}
	}

	return replaced;
}

function safeDecode(path: string): string {
	if (!path.includes('%')) {
		return path;
	}

	try {
		return decodeURIComponent(path);
	} catch {
		return path;
	}
}

/**
Maps a path as the log writes it (a relative URI-encoded path, or an absolute URI) onto the store:
`{relative}` inside the table's root, `{external}` elsewhere.
*/
export function resolveLogPath(path: string, root: string): {relative: string} | {external: string} {
	if (path.includes(':') && /^[a-z][a-z\d+.-]*:/i.test(path)) {
		const absolute = normalizeUri(path);
		const base = normalizeUri(root).replace(/\/+$/, '') + '/';
		if (absolute.startsWith(base)) {
			return {relative: safeDecode(absolute.slice(base.length))};
		}

		return {external: path};
	}

	if (path.startsWith('/')) {
		return resolveLogPath(`file://${path}`, root);
	}

	return {relative: safeDecode(path)};
}

export function fileKey(add: {path: string; deletionVector?: DeletionVector | null}): string {
	return `${add.path}\u0000${deletionVectorId(add.deletionVector)}`;
}

export function liveFileFromAdd(add: AddFile, root: string, parsedNumRecords?: number): LiveFile {
	const needed: string[] = [];
	const external: string[] = [];
	const place = (location: {relative: string} | {external: string}) => {
		if ('relative' in location) {
			needed.push(location.relative);
		} else {
			external.push(location.external);
		}
	};

	place(resolveLogPath(add.path, root));
	if (add.deletionVector) {
		const location = deletionVectorLocation(add.deletionVector);
		if (location.kind === 'relative') {
			place(resolveLogPath(location.path, root));
		} else if (location.kind === 'absolute') {
			place(resolveLogPath(location.uri, root));
		}
	}

	return {key: fileKey(add), add, needed, external, parsedNumRecords};
}

/** Rows a live file contributes: `numRecords` from its stats minus its deletion vector's cardinality; undefined without stats. */
export function statsRows(file: LiveFile): number | undefined {
	let records = file.parsedNumRecords;
	if (records === undefined && typeof file.add.stats === 'string') {
		try {
			const stats = JSON.parse(file.add.stats) as {numRecords?: number};
			records = typeof stats.numRecords === 'number' ? stats.numRecords : undefined;
		} catch {
			records = undefined;
		}
	}

	if (records === undefined) {
		return undefined;
	}

	return records - (file.add.deletionVector?.cardinality ?? 0);
}

/** The table at one version. Mutated in place during replay; `clone()` to keep one. */
export class TableState {
	readonly files = new Map<string, LiveFile>();
	metadata?: Metadata;
	protocol?: Protocol;
	bytes = 0;
	/** Live files with a needed file absent from the listing, and what is absent. */
	readonly missing = new Map<string, readonly string[]>();
	/** Live files that need something outside the table's root, and what. */
	readonly external = new Map<string, readonly string[]>();

	clone(): TableState {
		const copy = new TableState();
		for (const [key, file] of this.files) {
			copy.files.set(key, file);
		}

		for (const [key, names] of this.missing) {
			copy.missing.set(key, names);
		}

		for (const [key, names] of this.external) {
			copy.external.set(key, names);
		}

		copy.metadata = this.metadata;
		copy.protocol = this.protocol;
		copy.bytes = this.bytes;
		return copy;
	}
}

/** What the history needs to know about one version. */
export type VersionRecord = {
	readonly version: number;
	readonly file: FileInfo;
	readonly commitInfo?: CommitInfo;
	/** Milliseconds: `inCommitTimestamp`, else `commitInfo.timestamp`; undefined when the commit has neither. */
	readonly timestampMs?: number;
	/** False when the commits before it are gone and no checkpoint covers it. */
	readonly known: boolean;
	/** How the state at this version was reached (for notes). */
	readonly source: 'replay' | 'checkpoint' | 'unknown';
	readonly liveFiles: number;
	readonly liveBytes: number;
	/** Needed files absent from the listing (up to 20 names) and how many. */
	readonly missing: readonly string[];
	readonly missingCount: number;
	/** Files outside the table root this version needs (not checked). */
	readonly external: readonly string[];
};

export type ReadLogOptions = {
	/** The table's listing, when the caller already has it. */
	readonly listing?: readonly FileInfo[];
	/**
	Versions whose full state to keep (restore plans): called once every commit is read, with each
	version's commit time, before the replay.
	*/
	readonly capture?: (commits: ReadonlyArray<{readonly version: number; readonly timestampMs?: number}>) => Iterable<number>;
	/** Concurrent reads (default 64 local, 32 otherwise). */
	readonly concurrency?: number;
	readonly signal?: AbortSignal;
};

export type DeltaLog = {
	readonly store: FileStore;
	readonly files: LogFiles;
	readonly versions: readonly VersionRecord[];
	/** State at each captured version that could be reconstructed. */
	readonly captured: ReadonlyMap<number, TableState>;
	/** State at the latest version (undefined when it cannot be reconstructed). */
	readonly current?: TableState;
	/** Checkpoints that were read (notes), and ones that could not be. */
	readonly notes: readonly string[];
};

function noteMissing(state: TableState, file: LiveFile, paths: ReadonlySet<string>) {
	const absent = file.needed.filter(path => !paths.has(path));
	if (absent.length > 0) {
		state.missing.set(file.key, absent);
	}

	if (file.external.length > 0) {
		state.external.set(file.key, file.external);
	}
}

function applyAdd(state: TableState, add: AddFile, root: string, paths: ReadonlySet<string>, parsedNumRecords?: number) {
	const file = liveFileFromAdd(add, root, parsedNumRecords);
	const previous = state.files.get(file.key);
	if (previous) {
		state.bytes -= previous.add.size ?? 0;
		state.missing.delete(file.key);
		state.external.delete(file.key);
	}

	state.files.set(file.key, file);
	state.bytes += add.size ?? 0;
	noteMissing(state, file, paths);
}

function applyRemove(state: TableState, remove: {path: string; deletionVector?: DeletionVector}) {
	const key = fileKey(remove);
	const previous = state.files.get(key);
	if (previous) {
		state.files.delete(key);
		state.bytes -= previous.add.size ?? 0;
		state.missing.delete(key);
		state.external.delete(key);
	}
}

function applyActions(state: TableState, actions: readonly Action[], root: string, paths: ReadonlySet<string>) {
	for (const action of actions) {
		if (action['add']) {
			applyAdd(state, action['add'] as AddFile, root, paths);
		} else if (action['remove']) {
			applyRemove(state, action['remove'] as {path: string; deletionVector?: DeletionVector});
		} else if (action['metaData']) {
			state.metadata = action['metaData'] as Metadata;
		} else if (action['protocol']) {
			state.protocol = action['protocol'] as Protocol;
		}
	}
}

const checkpointColumns = ['add', 'metaData', 'protocol', 'sidecar', 'checkpointMetadata'] as const;

async function readCheckpointActions(store: FileStore, candidate: CheckpointCandidate, files: LogFiles): Promise<Action[]> {
	const actions: Action[] = [];
	for (const file of candidate.files) {
		// eslint-disable-next-line no-await-in-loop
		const bytes = await store.read(file.path);
		// eslint-disable-next-line no-await-in-loop
		const part = candidate.kind === 'v2' && candidate.format === 'json' ? parseActions(bytes, `${store.root}/${file.path}`) : await readParquetActions(bytes, checkpointColumns);
		// A loop, not push(...part): a checkpoint can hold more actions than a call takes arguments.
		for (const action of part) {
			actions.push(action);
		}
	}

	const sidecars = actions.filter(action => action['sidecar']).map(action => action['sidecar'] as {path: string});
	if (sidecars.length > 0) {
		const parts = await mapLimit(sidecars, 8, async sidecar => {
			const location = /^[a-z][a-z\d+.-]*:/i.test(sidecar.path) ? resolveLogPath(sidecar.path, store.root) : {relative: `${logDirectory}_sidecars/${safeDecode(sidecar.path)}`};
			if ('external' in location) {
				throw new Error(`sidecar ${sidecar.path} is outside the table`);
			}

			if (!files.paths.has(location.relative)) {
				throw new FileNotFoundError(`${store.root}/${location.relative}`);
			}

			return readParquetActions(await store.read(location.relative), ['add']);
		});
		for (const part of parts) {
			for (const action of part) {
				actions.push(action);
			}
		}
	}

	return actions;
}

async function loadCheckpoint(store: FileStore, version: number, files: LogFiles, notes: string[]): Promise<TableState | undefined> {
	for (const candidate of files.checkpoints.get(version) ?? []) {
		try {
			// eslint-disable-next-line no-await-in-loop
			const actions = await readCheckpointActions(store, candidate, files);
			const state = new TableState();
			for (const action of actions) {
				if (action['add']) {
					const add = action['add'] as AddFile & {stats_parsed?: {numRecords?: number}; partitionValues_parsed?: unknown};
					const {stats_parsed: statsParsed, partitionValues_parsed: _partitionValuesParsed, ...rest} = add;
					applyAdd(state, rest as AddFile, store.root, files.paths, typeof rest.stats === 'string' ? undefined : statsParsed?.numRecords);
				} else if (action['metaData']) {
					state.metadata = action['metaData'] as Metadata;
				} else if (action['protocol']) {
					state.protocol = action['protocol'] as Protocol;
				}
			}

			notes.push(`version ${version}: state read from its ${candidate.kind} checkpoint`);
			return state;
		} catch (error) {
			// A damaged or incomplete checkpoint is skipped (another may do); storage failing is not a damaged checkpoint.
			if (isStorageFailure(error) || !(error instanceof Error)) {
				throw error;
			}

			notes.push(`version ${version}: ${candidate.kind} checkpoint unusable (${error.message})`);
		}
	}

	return undefined;
}

/** An error from the storage itself (denied, unreachable, throttled), as opposed to a bad file. */
function isStorageFailure(error: unknown): boolean {
	for (let current = error, depth = 0; current && depth < 4; current = (current as Error).cause, depth++) {
		if (current instanceof S3ServiceException) {
			return true;
		}

		const code = (current as NodeJS.ErrnoException).code;
		if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && code !== 'ENOENT') {
			return true;
		}
	}

	return false;
}

function commitTimestamp(info: CommitInfo | undefined): number | undefined {
	if (!info) {
		return undefined;
	}

	if (typeof info.inCommitTimestamp === 'number') {
		return info.inCommitTimestamp;
	}

	return typeof info.timestamp === 'number' ? info.timestamp : undefined;
}

/**
Reads the whole log: one listing of the table, every JSON commit (in parallel), and a checkpoint
only where the commits before a version are gone. Versions are every JSON commit, oldest first.
*/
export async function readDeltaLog(store: FileStore, options: ReadLogOptions = {}): Promise<DeltaLog> {
	const listing = options.listing ?? await store.list('');
	const files = classifyListing(listing);
	const notes: string[] = [];
	const versions = [...files.commits.keys()].sort((a, b) => a - b);
	if (versions.length === 0) {
		throw new UserError(`${store.root}: _delta_log/ holds no commits`, {hint: 'point at the table\'s root folder (the one holding _delta_log/)'});
	}

	const concurrency = options.concurrency ?? (store.root.startsWith('file:') ? 64 : 32);
	const commitActions = await mapLimit(versions, concurrency, async version => {
		options.signal?.throwIfAborted();
		const file = files.commits.get(version)!;
		let bytes: Uint8Array;
		try {
			bytes = await store.read(file.path);
		} catch (error) {
			if (error instanceof FileNotFoundError) {
				throw new UserError(`${store.root}/${file.path}: vanished while reading the log`, {hint: 'someone is cleaning up the log right now; try again'});
			}

			throw error;
		}

		return parseActions(bytes, `${store.root}/${file.path}`);
	});

	const commitInfos = commitActions.map(actions => actions.find(action => action['commitInfo'])?.['commitInfo'] as CommitInfo | undefined);
	const capture = new Set(options.capture?.(versions.map((version, index) => ({version, timestampMs: commitTimestamp(commitInfos[index])}))) ?? []);
	const records: VersionRecord[] = [];
	const captured = new Map<number, TableState>();
	let state: TableState | undefined;
	let stateVersion = -1;
	for (const [index, version] of versions.entries()) {
		const actions = commitActions[index]!;
		// Replayed once: let it go (a long log is otherwise held twice, as text and as objects).
		commitActions[index] = [];
		let source: VersionRecord['source'] = 'replay';
		if (state && stateVersion === version - 1) {
			applyActions(state, actions, store.root, files.paths);
		} else if (version === 0) {
			state = new TableState();
			applyActions(state, actions, store.root, files.paths);
		} else {
			// The commits before this one are gone (log cleanup): a checkpoint must bridge the gap.
			// eslint-disable-next-line no-await-in-loop
			const before = files.checkpoints.has(version - 1) ? await loadCheckpoint(store, version - 1, files, notes) : undefined;
			if (before) {
				state = before;
				applyActions(state, actions, store.root, files.paths);
				source = 'checkpoint';
			} else {
				// eslint-disable-next-line no-await-in-loop
				state = files.checkpoints.has(version) ? await loadCheckpoint(store, version, files, notes) : undefined;
				source = state ? 'checkpoint' : 'unknown';
			}
		}

		stateVersion = state ? version : -1;
		const commitInfo = commitInfos[index];
		const external = state ? [...state.external.values()].flat() : [];
		const missing: string[] = [];
		let missingCount = 0;
		if (state) {
			for (const names of state.missing.values()) {
				missingCount += names.length;
				for (const name of names) {
					if (missing.length < 20) {
						missing.push(name);
					}
				}
			}
		}

		records.push({
			version,
			file: files.commits.get(version)!,
			commitInfo,
			timestampMs: commitTimestamp(commitInfo),
			known: state !== undefined,
			source,
			liveFiles: state?.files.size ?? 0,
			liveBytes: state?.bytes ?? 0,
			missing,
			missingCount,
			external: external.slice(0, 20),
		});
		if (state && capture.has(version)) {
			captured.set(version, state.clone());
		}
	}

	return {store, files, versions: records, captured, current: state, notes};
}
