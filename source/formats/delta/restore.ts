import {randomUUID} from 'node:crypto';
import {UserError, refusal, usageError} from '../../errors.js';
import {FileExistsError, type FileStore} from '../../storage/file-store.js';
import type {LiveSetSide, RestoreOptions, TableRef, TableRestorePlan, TableRestoreResult} from '../types.js';
import {classifyListing, commitFileName, liveFileFromAdd, mapLimit, readDeltaLog, statsRows, type Action, type AddFile, type DeltaLog, type LiveFile, type Metadata, type TableState} from './log.js';
import {parquetRowCount, type RangeReader} from './parquet.js';
import {judgeFeatures, mergeIdentityHighWaterMarks, mergeProtocols, metadataDifferences} from './protocol.js';

/** What `plan.commit` holds for Delta: the file it creates and the actions, one JSON line each. */
export type DeltaCommit = {
	readonly file: string;
	readonly actions: readonly Action[];
};

const engineInfo = 'ilum-restore';
const maxNamed = 10;

/** `--to`: a version number, or an ISO 8601 time (the newest version committed at or before it, as Spark's RESTORE ... TIMESTAMP AS OF). */
export function parseTarget(to: string): {version: number} | {timestampMs: number; text: string} {
	const trimmed = to.trim();
	if (/^\d+$/.test(trimmed)) {
		return {version: Number(trimmed)};
	}

	// A time without an offset is UTC (as every time this tool prints), not the machine's zone.
	const zoned = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(trimmed) ? `${trimmed}Z` : trimmed;
	const timestampMs = Date.parse(zoned);
	if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed) || Number.isNaN(timestampMs)) {
		throw usageError(`--to '${to}' is neither a version number nor an ISO 8601 time`, 'give e.g. --to 3 or --to 2024-05-01T12:00:00Z');
	}

	return {timestampMs, text: trimmed};
}

function namesLine(names: readonly string[], total = names.length): string {
	const shown = names.slice(0, maxNamed).join(', ');
	return total > maxNamed ? `${shown} and ${total - maxNamed} more` : shown;
}

function missingOf(state: TableState): string[] {
	return [...state.missing.values()].flat();
}

/** Rows of a live set: stats where present, Parquet footers for the rest (NaN when a footer cannot be read). */
async function rowsOf(store: FileStore, files: readonly LiveFile[], footerCache: Map<string, number>, signal?: AbortSignal, readRange?: RangeReader): Promise<number> {
	let rows = 0;
	const needFooters: LiveFile[] = [];
	for (const file of files) {
		const fromStats = statsRows(file);
		if (fromStats === undefined) {
			needFooters.push(file);
		} else {
			rows += fromStats;
		}
	}

	const counts = await mapLimit(needFooters, 16, async file => {
		signal?.throwIfAborted();
		const dataPath = file.needed[0];
		if (dataPath === undefined) {
			return Number.NaN;
		}

		const cached = footerCache.get(dataPath);
		if (cached !== undefined) {
			return cached - (file.add.deletionVector?.cardinality ?? 0);
		}

		try {
			const count = await parquetRowCount(store, dataPath, file.add.size, readRange);
			footerCache.set(dataPath, count);
			return count - (file.add.deletionVector?.cardinality ?? 0);
		} catch {
			return Number.NaN;
		}
	});
	for (const count of counts) {
		rows += count;
	}

	return rows;
}

function side(state: TableState, rows: number): LiveSetSide {
	return {files: state.files.size, rows, bytes: state.bytes};
}

function removeAction(file: LiveFile, timestamp: number): Action {
	const add = file.add;
	const remove: Record<string, unknown> = {
		path: add.path,
		deletionTimestamp: timestamp,
		dataChange: true,
		extendedFileMetadata: true,
		partitionValues: add.partitionValues ?? {},
		size: add.size,
	};
	for (const key of ['tags', 'deletionVector', 'baseRowId', 'defaultRowCommitVersion', 'stats'] as const) {
		if (add[key] !== undefined) {
			remove[key] = add[key];
		}
	}

	return {remove};
}

function addAction(file: LiveFile): Action {
	return {add: {...file.add, dataChange: true} satisfies AddFile};
}

const ictKeys = ['delta.enableInCommitTimestamps', 'delta.inCommitTimestampEnablementVersion', 'delta.inCommitTimestampEnablementTimestamp'] as const;

/** The target's metadata as the restore writes it: identity high-water marks merged; In-Commit Timestamps never switched back off. */
function restoredMetadata(target: Metadata, current: Metadata | undefined, warnings: string[]): Metadata {
	const schemaString = mergeIdentityHighWaterMarks(target.schemaString, current?.schemaString);
	let configuration = target.configuration;
	if (current?.configuration?.['delta.enableInCommitTimestamps'] === 'true' && target.configuration?.['delta.enableInCommitTimestamps'] !== 'true') {
		configuration = {...target.configuration};
		for (const key of ictKeys) {
			if (current.configuration[key] !== undefined) {
				configuration[key] = current.configuration[key];
			}
		}

		warnings.push('In-Commit Timestamps stay on (the target version predates them; commit times must keep increasing)');
	}

	return {...target, schemaString, ...(configuration === undefined ? {} : {configuration})};
}

function lastInCommitTimestamp(log: DeltaLog): number | undefined {
	for (let index = log.versions.length - 1; index >= 0; index--) {
		const value = log.versions[index]!.commitInfo?.inCommitTimestamp;
		if (typeof value === 'number') {
			return value;
		}
	}

	return undefined;
}

export type PlanContext = {
	readonly store: FileStore;
	/** Ranged reads for Parquet footers (S3), so only footers are fetched. */
	readonly readRange?: RangeReader;
	readonly ref: TableRef;
	readonly now?: () => number;
};

/** Computes the RESTORE commit for `to` and everything the dry run shows. Changes nothing. */
export async function planDeltaRestore(context: PlanContext, to: string, options: RestoreOptions = {}): Promise<TableRestorePlan> {
	const {store, ref} = context;
	const wanted = parseTarget(to);
	let targetVersion: number | undefined;
	let resolveError: UserError | undefined;
	const log = await readDeltaLog(store, {
		signal: options.signal,
		capture(commits) {
			const latest = commits.at(-1)!.version;
			if ('version' in wanted) {
				targetVersion = wanted.version;
			} else {
				const atOrBefore = commits.filter(commit => commit.timestampMs !== undefined && commit.timestampMs <= wanted.timestampMs);
				targetVersion = atOrBefore.at(-1)?.version;
				if (targetVersion === undefined) {
					const first = commits.find(commit => commit.timestampMs !== undefined);
					resolveError = usageError(`no version of ${store.root} was committed at or before ${wanted.text}`, first ? `the oldest kept is version ${first.version} at ${new Date(first.timestampMs!).toISOString()}` : 'see ilum-restore history');
				}
			}

			return targetVersion === undefined ? [latest] : [targetVersion, latest];
		},
	});
	if (resolveError) {
		throw resolveError;
	}

	const latest = log.versions.at(-1)!.version;
	const target = targetVersion!;
	const record = log.versions.find(entry => entry.version === target);
	if (!record) {
		const first = log.versions[0]!.version;
		throw usageError(`version ${target} is not in the log of ${store.root}`, `versions ${first} to ${latest} are (see ilum-restore history)`);
	}

	if (target === latest) {
		throw refusal(`version ${target} is already the current version of ${store.root}`, 'nothing to restore');
	}

	const current = log.captured.get(latest);
	if (!current?.metadata || !current.protocol) {
		throw new UserError(`cannot reconstruct the current version ${latest} of ${store.root} (no metadata or protocol found)`, {hint: 'the log is damaged; check it with ilum-restore history'});
	}

	const warnings: string[] = [];
	const refusals: string[] = [];
	const targetState = log.captured.get(target);
	if (!targetState?.metadata || !targetState.protocol) {
		throw refusal(`version ${target} of ${store.root} cannot be reconstructed: the commits before it were cleaned up and no checkpoint covers it`, 'pick a later version (see ilum-restore history)');
	}

	const missing = missingOf(targetState);
	if (missing.length > 0) {
		refusals.push(`not all files of version ${target} exist (vacuumed?): ${namesLine(missing)} missing`);
	}

	const external = [...targetState.external.values()].flat();
	if (external.length > 0) {
		refusals.push(`version ${target} needs files outside the table's root, which cannot be checked: ${namesLine(external)}`);
	}

	const newProtocol = mergeProtocols(targetState.protocol, current.protocol);
	const verdict = judgeFeatures(newProtocol);
	warnings.push(...verdict.warnings);
	if (verdict.refusal) {
		refusals.push(verdict.refusal);
	}

	if (verdict.unknown.length > 0) {
		if (options.force) {
			warnings.push(`writer features this tool does not know: ${verdict.unknown.join(', ')} (--force)`);
		} else {
			refusals.push(`the table uses writer features this tool does not know: ${verdict.unknown.join(', ')} (--force to restore anyway)`);
		}
	}

	const returning = [...targetState.files.values()].filter(file => !current.files.has(file.key));
	const leaving = [...current.files.values()].filter(file => !targetState.files.has(file.key));
	if (leaving.length > 0 && current.metadata.configuration?.['delta.appendOnly'] === 'true') {
		refusals.push('the table is append-only (delta.appendOnly=true): a restore that removes files is not allowed');
	}

	const now = context.now?.() ?? Date.now();
	const metadata = restoredMetadata(targetState.metadata, current.metadata, warnings);
	const restoredBytes = returning.reduce((sum, file) => sum + (file.add.size ?? 0), 0);
	const removedBytes = leaving.reduce((sum, file) => sum + (file.add.size ?? 0), 0);
	const commitInfo: Record<string, unknown> = {};
	if (metadata.configuration?.['delta.enableInCommitTimestamps'] === 'true') {
		commitInfo['inCommitTimestamp'] = Math.max(now, (lastInCommitTimestamp(log) ?? 0) + 1);
	}

	Object.assign(commitInfo, {
		timestamp: now,
		operation: 'RESTORE',
		// Spark writes operationParameters as raw JSON values (`"statsOnLoad":false`, `"description":null`
		// in the fixtures): RESTORE's version is a number, the one not given is null.
		operationParameters: 'version' in wanted ? {version: target, timestamp: null} : {version: null, timestamp: wanted.text},
		readVersion: latest,
		isolationLevel: 'Serializable',
		isBlindAppend: false,
		operationMetrics: {
			numRestoredFiles: String(returning.length),
			restoredFilesSize: String(restoredBytes),
			numRemovedFiles: String(leaving.length),
			removedFilesSize: String(removedBytes),
			numOfFilesAfterRestore: String(targetState.files.size),
			tableSizeAfterRestore: String(targetState.bytes),
		},
		engineInfo,
		txnId: randomUUID(),
	});
	// Spark's commitLarge order: commitInfo, metaData, the file actions, protocol.
	const actions: Action[] = [
		{commitInfo},
		{metaData: metadata},
		...returning.map(file => addAction(file)),
		...leaving.map(file => removeAction(file, now)),
		{protocol: newProtocol},
	];
	const footerCache = new Map<string, number>();
	const [rowsBefore, rowsAfter] = [
		await rowsOf(store, [...current.files.values()], footerCache, options.signal, context.readRange),
		await rowsOf(store, [...targetState.files.values()], footerCache, options.signal, context.readRange),
	];
	const commit: DeltaCommit = {file: commitFileName(latest + 1), actions};
	return {
		format: 'delta',
		ref: ref.ref,
		table: ref.table,
		target: String(target),
		from: String(latest),
		before: side(current, rowsBefore),
		after: side(targetState, rowsAfter),
		filesReturning: returning.map(file => file.add.path),
		filesLeaving: leaving.map(file => file.add.path),
		schemaChanges: metadataDifferences(current.metadata, metadata, current.protocol, newProtocol),
		commit,
		checks: [
			`before writing: version ${latest} is still the newest commit and every file of version ${target} still exists (one listing)`,
			`${commit.file} is created only if absent (put-if-absent), so a concurrent writer makes the restore fail instead of being overwritten`,
			`the commit read back is byte-for-byte what was written`,
			`the live set at version ${latest + 1} equals version ${target}'s (${targetState.files.size} files)`,
			`the row count at version ${latest + 1} (Parquet footers) equals version ${target}'s${Number.isNaN(rowsAfter) ? '' : ` (${rowsAfter})`}`,
		],
		...(refusals.length > 0 ? {refusal: refusals.join('; ')} : {}),
		warnings,
	};
}

function encodeCommit(actions: readonly Action[]): Uint8Array {
	return new TextEncoder().encode(actions.map(action => JSON.stringify(action)).join('\n') + '\n');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/** Writes the planned commit (put-if-absent), then verifies by reading the table back. */
/** How a store treats put-if-absent: honoured (412 on a second write), ignored (writes anyway), rejected (an error). */
export type ConditionalWrites = 'honoured' | 'ignored' | 'rejected';

export type ExecuteHooks = {
	/**
	Whether the storage honours put-if-absent (S3 `If-None-Match: *`); checked before writing on
	stores where it is not guaranteed. When it does not, the race is only detected afterwards.
	*/
	readonly probeConditionalWrites?: () => Promise<ConditionalWrites>;
	/** Ranged reads for Parquet footers (S3). */
	readonly readRange?: RangeReader;
};

export async function executeDeltaRestore(store: FileStore, plan: TableRestorePlan, options: RestoreOptions = {}, hooks: ExecuteHooks = {}): Promise<TableRestoreResult> {
	if (plan.refusal) {
		throw refusal(`restore of ${plan.ref} to version ${plan.target} refused: ${plan.refusal}`);
	}

	const commit = plan.commit as DeltaCommit;
	const from = Number(plan.from);
	const newVersion = from + 1;
	const listing = await store.list('');
	const files = classifyListing(listing);
	if (files.latest !== from) {
		throw refusal(`${plan.ref} moved since the plan: version ${files.latest} is now the newest commit (the plan was made at version ${from}); nothing was written`, 'run the restore again to plan against the new version');
	}

	const absent: string[] = [];
	for (const action of commit.actions) {
		const add = action['add'] as AddFile | undefined;
		if (add) {
			for (const path of liveFileFromAdd(add, store.root).needed) {
				if (!files.paths.has(path)) {
					absent.push(path);
				}
			}
		}
	}

	if (absent.length > 0) {
		throw refusal(`restore of ${plan.ref} refused: files of version ${plan.target} disappeared since the plan: ${namesLine(absent)}; nothing was written`);
	}

	options.signal?.throwIfAborted();
	const support = await (hooks.probeConditionalWrites?.() ?? Promise.resolve('honoured' as const));
	const conditional = support === 'honoured';
	const body = encodeCommit(commit.actions);
	try {
		if (support === 'rejected') {
			// The server refuses If-None-Match outright: check, write plainly, and rely on the read-back.
			if (await store.exists(commit.file)) {
				throw new FileExistsError(`${store.root}/${commit.file}`);
			}

			await store.put(commit.file, body);
		} else {
			await store.putIfAbsent(commit.file, body);
		}
	} catch (error) {
		if (error instanceof FileExistsError) {
			throw refusal(`another writer committed version ${newVersion} of ${plan.ref} first; ilum-restore wrote nothing`, 'run the restore again to plan against the new version');
		}

		throw error;
	}

	const checks: Array<{name: string; ok: boolean; detail: string}> = [];
	const readBack = await store.read(commit.file);
	if (!equalBytes(readBack, body)) {
		throw new UserError(`${store.root}/${commit.file} holds another writer's commit, not the restore: the storage did not honour the conditional write (If-None-Match: *) and the two writes raced`, {hint: 'check the table with ilum-restore history; the restore did not take effect'});
	}

	checks.push({name: 'commit', ok: true, detail: `${commit.file} read back identical (${body.length} bytes)`});
	if (!conditional) {
		checks.push({name: 'conditional write', ok: true, detail: `the storage ${support === 'rejected' ? 'rejects' : 'ignores'} If-None-Match: * (put-if-absent): a writer racing in the same instant is detected only by this read-back and the listing below`});
	}

	const log = await readDeltaLog(store, {signal: options.signal, capture: () => [Number(plan.target), newVersion]});
	const restored = log.captured.get(newVersion);
	const target = log.captured.get(Number(plan.target));
	const newest = log.versions.at(-1)?.version;
	if (newest !== newVersion) {
		checks.push({name: 'newest', ok: false, detail: `version ${newest} was committed right after the restore`});
	}

	if (!conditional) {
		const again = await store.read(commit.file);
		if (!equalBytes(again, body)) {
			throw new UserError(`${store.root}/${commit.file} was overwritten by another writer right after the restore: the storage ignores If-None-Match: *`, {hint: 'check the table with ilum-restore history; the restore did not take effect'});
		}
	}

	if (restored && target) {
		const extra = [...restored.files.keys()].filter(key => !target.files.has(key));
		const lacking = [...target.files.keys()].filter(key => !restored.files.has(key));
		const same = extra.length === 0 && lacking.length === 0;
		checks.push({
			name: 'live set',
			ok: same,
			detail: same ? `version ${newVersion} has the same ${restored.files.size} live files as version ${plan.target}` : `differs from version ${plan.target}: ${extra.length} extra, ${lacking.length} lacking`,
		});
		const rows = await rowsFromFooters(store, [...restored.files.values()], options.signal, hooks.readRange);
		const expected = plan.after.rows;
		const rowsOk = Number.isNaN(expected) ? !Number.isNaN(rows) : rows === expected;
		checks.push({name: 'rows', ok: rowsOk, detail: `${rows} rows in the Parquet footers (minus deletion vectors) at version ${newVersion}; version ${plan.target} has ${Number.isNaN(expected) ? 'an unknown count' : expected}`});
	} else {
		checks.push({name: 'live set', ok: false, detail: `could not reconstruct version ${restored ? plan.target : newVersion} to compare`});
	}

	return {plan, newVersion: String(newVersion), verified: checks.every(check => check.ok), checks};
}

async function rowsFromFooters(store: FileStore, files: readonly LiveFile[], signal?: AbortSignal, readRange?: RangeReader): Promise<number> {
	const counts = await mapLimit(files, 16, async file => {
		signal?.throwIfAborted();
		try {
			return await parquetRowCount(store, file.needed[0]!, file.add.size, readRange) - (file.add.deletionVector?.cardinality ?? 0);
		} catch {
			return Number.NaN;
		}
	});
	return counts.reduce((sum, count) => sum + count, 0);
}

