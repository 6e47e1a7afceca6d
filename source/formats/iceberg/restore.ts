import {parquetMetadata} from 'hyparquet';
import {UserError, usageError} from '../../errors.js';
import {FileExistsError} from '../../storage/file-store.js';
import type {RestoreOptions, TableRef, TableRestorePlan, TableRestoreResult} from '../types.js';
import {ancestry, encodeMetadataBytes, idString, idValue, isGzipName, metadataVersion, nextMetadataName, schemaDifferences, type SnapshotInfo, type TableMetadata} from './metadata.js';
import {RestCatalogError} from './rest-client.js';
import {SnapshotScanner, summarize, type LiveFile} from './scan.js';
import {loadRest, openTable, type IcebergOptions, type OpenTable} from './table.js';
import {appendMetadataLog, applyUpdates, type TableRequirement, type TableUpdate} from './updates.js';

/** What an Iceberg restore writes: one catalog commit (REST, SQL catalog) or the next metadata file (path-based). */
export type IcebergCommit = {
	readonly kind: 'rest' | 'sql' | 'path';
	/** The metadata file the plan was made from (the commit's base). */
	readonly base: string;
	readonly requirements: readonly TableRequirement[];
	readonly updates: readonly TableUpdate[];
	/** The tag that keeps the replaced snapshot reachable. */
	readonly tag: string;
	/** Path-based and SQL catalog: the metadata file written (relative to the table), the hint updated. */
	readonly metadataFile?: string;
	readonly hint?: string;
	/** The snapshot-log entry appended (by the catalog for REST). */
	readonly snapshotLog: {readonly 'snapshot-id': string; readonly 'timestamp-ms': string};
};

const compactTime = (date: Date) => date.toISOString().replaceAll(/[-:]/g, '').replace(/\.\d{3}/, '');

/** Resolves `--to`: a snapshot id, an ISO timestamp (newest ancestor of main older than it) or a ref name. */
export function resolveTarget(metadata: TableMetadata, to: string, where: string): SnapshotInfo {
	const value = to.trim();
	if (/^-?\d+$/.test(value)) {
		const id = BigInt(value).toString();
		const snapshot = metadata.snapshots.get(id);
		if (!snapshot) {
			throw new UserError(`${where}: no snapshot ${id} (the table has ${metadata.snapshots.size} snapshots)`, {hint: 'run ilum-restore history to list them'});
		}

		return snapshot;
	}

	if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
		const time = Date.parse(value);
		if (Number.isNaN(time)) {
			throw usageError(`--to ${value}: not an ISO 8601 timestamp`, 'e.g. 2026-11-22T01:30:00Z');
		}

		const found = ancestry(metadata, metadata.mainSnapshotId).find(snapshot => snapshot.timestampMs < time);
		if (!found) {
			throw new UserError(`${where}: no snapshot of main is older than ${new Date(time).toISOString()}`, {hint: 'run ilum-restore history to see the oldest one'});
		}

		return found;
	}

	const ref = metadata.refs.find(item => item.name === value);
	if (ref) {
		return metadata.snapshots.get(ref.snapshotId)!;
	}

	throw usageError(`--to ${value}: not a snapshot id, an ISO timestamp or a ref of the table`);
}

const describeTable = (table: OpenTable) => table.source.kind === 'rest' ? `${table.ref.ref} ${table.ref.table}` : (table.source.kind === 'sql' ? `${table.source.database} ${table.ref.table}` : table.store.root);

export async function planRestore(table: OpenTable, to: string, options: RestoreOptions & {concurrency?: number; now?: Date} = {}): Promise<TableRestorePlan> {
	const {metadata} = table;
	const where = describeTable(table);
	const target = resolveTarget(metadata, to, where);
	const from = metadata.mainSnapshotId;
	const warnings: string[] = [...table.notes];
	let refusal: string | undefined;
	const scanner = new SnapshotScanner(table, options.concurrency);
	const check = await scanner.check(target);
	const mainLine = ancestry(metadata, from);
	if (from === target.id) {
		refusal = `snapshot ${target.id} is already the current snapshot of main: nothing to restore`;
	} else if (!check.restorable) {
		refusal = `snapshot ${target.id} cannot be restored: ${check.reason}`;
	} else if (from !== undefined && !mainLine.some(snapshot => snapshot.id === target.id)) {
		if (options.force) {
			warnings.push(`snapshot ${target.id} is not an ancestor of main (${from}): setting it anyway (--force), as set_current_snapshot does`);
		} else {
			refusal = `snapshot ${target.id} is not an ancestor of main (${from}): a rollback only goes back along main; add --force to set it anyway`;
		}
	}

	if (table.source.kind === 'path' && table.source.pinned) {
		refusal ??= 'the table was named by one metadata file: name the table folder (or its catalog) to restore it';
	}

	const targetFiles = check.restorable ? await scanner.liveFiles(target) : [];
	const currentSnapshot = from === undefined ? undefined : metadata.snapshots.get(from);
	let currentFiles: LiveFile[] = [];
	if (currentSnapshot) {
		try {
			currentFiles = await scanner.liveFiles(currentSnapshot);
		} catch (error) {
			warnings.push(`the current snapshot's files cannot all be read (${(error as Error).message}): the before side is incomplete`);
		}
	}

	const before = summarize(currentFiles);
	const after = summarize(targetFiles);
	if (after.equalityDeleteFiles > 0 || before.equalityDeleteFiles > 0) {
		warnings.push('equality delete files are live: row counts are data rows minus position deletes, before equality deletes');
	}

	const now = options.now ?? new Date();
	let tag = `ilum-restore-${compactTime(now)}`;
	for (let suffix = 2; metadata.refs.some(ref => ref.name === tag); suffix++) {
		tag = `ilum-restore-${compactTime(now)}-${suffix}`;
	}

	const requirements: TableRequirement[] = [{type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': from ?? null}, {type: 'assert-ref-snapshot-id', ref: tag, 'snapshot-id': null}];
	if (metadata.uuid) {
		requirements.unshift({type: 'assert-table-uuid', uuid: metadata.uuid});
	}

	const updates: TableUpdate[] = [];
	if (from !== undefined) {
		updates.push({action: 'set-snapshot-ref', 'ref-name': tag, type: 'tag', 'snapshot-id': from});
	}

	updates.push({action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': target.id});
	const kind = table.source.kind;
	const metadataFile = kind === 'rest' ? undefined : `metadata/${nextMetadataName(table.metadataFile)}`;
	const commit: IcebergCommit = {
		kind,
		base: table.metadataLocation,
		requirements,
		updates,
		tag,
		...(metadataFile ? {metadataFile} : {}),
		...(kind === 'path' && table.source.hint ? {hint: table.source.hint} : {}),
		snapshotLog: {'snapshot-id': target.id, 'timestamp-ms': '<commit time>'},
	};
	if (kind === 'path' && metadataFile && metadataVersion(metadataFile) !== undefined && !/^metadata\/v\d+\./.test(metadataFile)) {
		warnings.push(`this table names metadata files <version>-<uuid>: a concurrent writer would not collide on the name, so the restore lists metadata/ after writing to detect a race`);
	}

	const returning = [...after.paths].filter(file => !before.paths.has(file)).sort();
	const leaving = [...before.paths].filter(file => !after.paths.has(file)).sort();
	const checks = [
		`main points at ${target.id}`,
		from === undefined ? 'no tag (the table had no current snapshot)' : `tag ${tag} points at ${from}`,
		`the live files equal the target's (${after.files} files)`,
		`rows equal ${after.rows} (manifests) and the Parquet footers of the live data files agree`,
	];
	return {
		format: 'iceberg',
		ref: table.ref.ref,
		...(table.ref.table ? {table: table.ref.table} : {}),
		target: target.id,
		from: from ?? '',
		before: {files: before.files, rows: before.rows, bytes: before.bytes},
		after: {files: after.files, rows: after.rows, bytes: after.bytes},
		filesReturning: returning,
		filesLeaving: leaving,
		schemaChanges: schemaDifferences(metadata.raw, metadata.currentSchemaId, target.schemaId),
		commit,
		checks,
		...(refusal ? {refusal} : {}),
		warnings,
	};
}

/** REST wants ids as JSON numbers: turn the plan's decimal strings into exact numbers. */
function wire<T>(items: readonly T[]): T[] {
	return items.map(item => {
		const copy: Record<string, unknown> = {...item as Record<string, unknown>};
		if (typeof copy['snapshot-id'] === 'string') {
			copy['snapshot-id'] = idValue(copy['snapshot-id']);
		}

		return copy as T;
	});
}

type Written = {readonly stateUnknown?: string};

async function commitRest(table: OpenTable, commit: IcebergCommit, plan: TableRestorePlan): Promise<Written> {
	if (table.source.kind !== 'rest') {
		throw new Error('not a REST table');
	}

	const {client, namespace, table: name} = table.source;
	try {
		await client.commit(namespace, name, {requirements: wire(commit.requirements), updates: wire(commit.updates)});
		return {};
	} catch (error) {
		if (!(error instanceof RestCatalogError)) {
			throw error;
		}

		const reloaded = await loadRest(client, namespace, name, table.ref).catch(() => undefined);
		const main = reloaded ? reloadedMain(reloaded.metadata) : undefined;
		const now = reloaded ? `main now points at ${main ?? '(nothing)'}` : 'the table could not be reloaded either';
		if (error.status === 409) {
			throw new UserError(`${describeTable(table)}: someone else committed first (409 ${error.type}: ${error.message}); reloaded: ${now}; nothing was written`, {hint: 'run history and plan the restore again'});
		}

		if (error.status === 0 || error.status >= 500) {
			const tagged = reloaded?.metadata['refs']?.[commit.tag];
			if (main === plan.target && tagged && idString(tagged['snapshot-id']) === plan.from) {
				return {stateUnknown: `the catalog answered ${error.status === 0 ? 'nothing' : `HTTP ${error.status}`} (${error.type}: ${error.message}); reloaded: main points at ${plan.target} and tag ${commit.tag} exists: the commit took effect (not retried)`};
			}

			throw new UserError(`${describeTable(table)}: commit state unknown: the catalog answered ${error.status === 0 ? 'nothing' : `HTTP ${error.status}`} (${error.type}: ${error.message}); reloaded: ${now}${main === plan.from ? ', so the restore did not take effect' : ''}; not retried`, {hint: 'check the catalog, then run history and restore again if needed'});
		}

		throw new UserError(`${describeTable(table)}: the catalog refused the commit (HTTP ${error.status} ${error.type}: ${error.message}); nothing was written`);
	}
}

function reloadedMain(raw: Record<string, any>): string | undefined {
	const main = raw['refs']?.['main']?.['snapshot-id'] ?? raw['current-snapshot-id'];
	return main === undefined || main === null || idString(main) === '-1' ? undefined : idString(main);
}

async function commitFile(table: OpenTable, commit: IcebergCommit, now: number): Promise<Written> {
	const {metadata} = table;
	const next = appendMetadataLog(applyUpdates(metadata.raw, commit.updates, now), table.metadataLocation, metadata.lastUpdatedMs ?? now);
	const file = commit.metadataFile!;
	const bytes = encodeMetadataBytes(next, isGzipName(file) || isGzipName(table.metadataFile));
	try {
		await table.store.putIfAbsent(file, bytes);
	} catch (error) {
		if (error instanceof FileExistsError) {
			throw new UserError(`${table.store.root}/${file}: another writer committed this version first; nothing was changed`, {hint: 'run history and plan the restore again'});
		}

		throw error;
	}

	const version = metadataVersion(file);
	if (table.source.kind === 'path' && version !== undefined && !/^metadata\/v\d+\./.test(file)) {
		const rivals = (await table.store.list('metadata/')).filter(item => item.path !== file && metadataVersion(item.path) === version);
		if (rivals.length > 0) {
			throw new UserError(`${table.store.root}: a concurrent writer also wrote version ${version} (${rivals.map(item => item.path).join(', ')}); the table's current version is ambiguous`, {hint: `inspect metadata/ and remove ${file} if the other commit should win`});
		}
	}

	if (table.source.kind === 'path' && commit.hint) {
		await table.store.put(commit.hint, Buffer.from(String(version ?? '') + '\n'));
	}

	if (table.source.kind === 'sql') {
		const {DatabaseSync} = await import('node:sqlite');
		const db = new DatabaseSync(table.source.database);
		try {
			const written = table.metadataLocation.slice(0, table.metadataLocation.lastIndexOf('/') + 1) + file.slice('metadata/'.length);
			const result = db.prepare('UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?')
				.run(written, table.metadataLocation, table.source.catalog, table.source.namespace, table.source.table, table.metadataLocation);
			if (Number(result.changes) !== 1) {
				throw new UserError(`${table.source.database}: someone else committed ${table.ref.table} first; the catalog was not changed (${file} was written but is not referenced)`, {hint: 'run history and plan the restore again'});
			}
		} finally {
			db.close();
		}
	}

	return {};
}

async function footerRows(table: OpenTable, files: readonly LiveFile[]): Promise<{rows: number; checked: number} | {skipped: string}> {
	const data = files.filter(file => file.content === 0);
	const total = data.reduce((sum, file) => sum + file.bytes, 0);
	if (data.some(file => file.format.toLowerCase() !== 'parquet')) {
		return {skipped: 'not every data file is Parquet'};
	}

	if (total > 512 * 1024 * 1024) {
		return {skipped: `${Math.round(total / 1024 / 1024)} MiB of data files: footers not read`};
	}

	let rows = 0;
	for (const file of data) {
		// eslint-disable-next-line no-await-in-loop
		const bytes = await table.store.read(file.relative!);
		const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
		rows += Number(parquetMetadata(buffer).num_rows);
	}

	return {rows, checked: data.length};
}

export async function executeRestore(plan: TableRestorePlan, options: RestoreOptions & IcebergOptions = {}): Promise<TableRestoreResult> {
	if (plan.refusal) {
		throw new UserError(`refused: ${plan.refusal}`, {exitCode: 3});
	}

	const commit = plan.commit as IcebergCommit;
	const ref: TableRef = {ref: plan.ref, ...(plan.table ? {table: plan.table} : {})};
	const table = await openTable(ref, options);
	const where = describeTable(table);
	if ((table.metadata.mainSnapshotId ?? '') !== plan.from) {
		throw new UserError(`${where}: the table moved since the plan (main is ${table.metadata.mainSnapshotId ?? '(nothing)'}, the plan expected ${plan.from}); nothing was written`, {hint: 'plan the restore again'});
	}

	if (table.metadataLocation !== commit.base) {
		throw new UserError(`${where}: the table changed since the plan (current metadata is ${table.metadataLocation}, the plan was made from ${commit.base}); nothing was written`, {hint: 'plan the restore again'});
	}

	const target = table.metadata.snapshots.get(plan.target);
	if (!target) {
		throw new UserError(`${where}: snapshot ${plan.target} is gone since the plan; nothing was written`);
	}

	const scanner = new SnapshotScanner(table, options.concurrency);
	const check = await scanner.check(target);
	if (!check.restorable) {
		throw new UserError(`${where}: snapshot ${plan.target} cannot be restored any more: ${check.reason}; nothing was written`, {exitCode: 3});
	}

	const expected = summarize(await scanner.liveFiles(target));
	options.signal?.throwIfAborted();
	const now = Date.now();
	const written = commit.kind === 'rest' ? await commitRest(table, commit, plan) : await commitFile(table, commit, now);

	// Verify by reading back, from scratch.
	const after = await openTable(ref, options);
	const checks: Array<{name: string; ok: boolean; detail: string}> = [];
	if (written.stateUnknown) {
		checks.push({name: 'commit state', ok: true, detail: written.stateUnknown});
	}

	const main = after.metadata.mainSnapshotId;
	checks.push({name: 'main', ok: main === plan.target, detail: `main points at ${main ?? '(nothing)'}${main === plan.target ? '' : ` (expected ${plan.target})`}`});
	if (plan.from) {
		const tag = after.metadata.refs.find(item => item.name === commit.tag);
		checks.push({name: 'tag', ok: tag?.snapshotId === plan.from && tag.type === 'tag', detail: tag ? `tag ${commit.tag} points at ${tag.snapshotId}` : `tag ${commit.tag} is missing`});
	}

	const log = after.metadata.raw['snapshot-log'] as any[] | undefined;
	const lastLog = log?.at(-1);
	checks.push({name: 'snapshot-log', ok: lastLog !== undefined && idString(lastLog['snapshot-id']) === plan.target, detail: lastLog ? `last snapshot-log entry: ${idString(lastLog['snapshot-id'])} at ${new Date(Number(lastLog['timestamp-ms'])).toISOString()}` : 'no snapshot-log'});
	const current = main === undefined ? undefined : after.metadata.snapshots.get(main);
	const afterScanner = new SnapshotScanner(after, options.concurrency);
	const liveFiles = current ? await afterScanner.liveFiles(current) : [];
	const live = summarize(liveFiles);
	const same = live.paths.size === expected.paths.size && [...live.paths].every(file => expected.paths.has(file));
	checks.push({name: 'live files', ok: same, detail: same ? `${live.files} live files, as at snapshot ${plan.target}` : `${live.files} live files, differing from the target's ${expected.files}`});
	checks.push({name: 'rows', ok: live.rows === plan.after.rows, detail: `${live.rows} rows by the manifests (plan: ${plan.after.rows})`});
	const footers = await footerRows(after, liveFiles);
	if ('skipped' in footers) {
		checks.push({name: 'parquet footers', ok: true, detail: `skipped: ${footers.skipped}`});
	} else {
		checks.push({name: 'parquet footers', ok: footers.rows === live.dataRows, detail: `${footers.rows} rows in the footers of ${footers.checked} data files (manifests: ${live.dataRows})`});
	}

	return {plan, newVersion: main ?? '', verified: checks.every(item => item.ok), checks};
}
