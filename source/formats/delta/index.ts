import {randomUUID} from 'node:crypto';
import {DeleteObjectCommand, GetObjectCommand} from '@aws-sdk/client-s3';
import {usageError} from '../../errors.js';
import {FileExistsError, type FileStore} from '../../storage/file-store.js';
import {LocalFileStore} from '../../storage/local-file-store.js';
import {S3FileStore} from '../../storage/s3-file-store.js';
import {storageError, type FormatEnvironment} from '../index.js';
import {intervalMs} from '../retention.js';
import type {HistoryEntry, RestoreOptions, TableFormat, TableHistory, TableRef, TableRestorePlan, TableRestoreResult, TableRetention} from '../types.js';
import {readDeltaLog, type DeltaLog, type VersionRecord} from './log.js';
import type {RangeReader} from './parquet.js';
import {executeDeltaRestore, planDeltaRestore, type ConditionalWrites} from './restore.js';

function reasonFor(record: VersionRecord): string | undefined {
	const notes: string[] = [];
	if (!record.known) {
		notes.push('the commits before this version were cleaned up and no checkpoint covers it: it cannot be reconstructed');
	}

	if (record.missingCount > 0) {
		const shown = record.missing.slice(0, 5).join(', ');
		notes.push(`${record.missingCount} file${record.missingCount === 1 ? '' : 's'} missing (vacuumed?): ${shown}${record.missingCount > 5 ? ` and ${record.missingCount - 5} more` : ''}`);
	}

	if (record.external.length > 0) {
		notes.push(`needs files outside the table's root, not checked: ${record.external.slice(0, 3).join(', ')}`);
	}

	if (record.timestampMs === undefined) {
		notes.push('the commit has no commitInfo time; the time shown is the file\'s');
	}

	return notes.length > 0 ? notes.join('; ') : undefined;
}

function summaryFor(record: VersionRecord): Record<string, string | number> {
	const summary: Record<string, string | number> = {liveFiles: record.liveFiles, liveBytes: record.liveBytes};
	for (const [key, value] of Object.entries(record.commitInfo?.operationMetrics ?? {})) {
		if (typeof value === 'string' || typeof value === 'number') {
			summary[key] = value;
		}
	}

	return summary;
}

/** History entries from a read log, oldest first. */
export function historyFromLog(log: DeltaLog, ref: string): TableHistory {
	const latest = log.versions.at(-1)!.version;
	const entries: HistoryEntry[] = log.versions.map(record => {
		const time = record.timestampMs ?? record.file.lastModified?.getTime();
		const reason = reasonFor(record);
		return {
			id: String(record.version),
			timestamp: time === undefined ? '' : new Date(time).toISOString(),
			operation: record.commitInfo?.operation ?? 'UNKNOWN',
			...(record.version > 0 ? {parent: String(record.version - 1)} : {}),
			current: record.version === latest,
			restorable: record.known && record.missingCount === 0 && record.external.length === 0,
			...(reason ? {reason} : {}),
			summary: summaryFor(record),
		};
	});
	return {format: 'delta', ref, current: String(latest), entries, retention: deltaRetention(log.current?.metadata?.configuration)};
}

/**
VACUUM removes files unreferenced for longer than `delta.deletedFileRetentionDuration` (default 1
week) and log cleanup drops commits older than `delta.logRetentionDuration` (default 30 days): a
version stays restorable for the shorter of the two.
*/
export function deltaRetention(configuration: Readonly<Record<string, string>> | undefined): TableRetention {
	const log = configuration?.['delta.logRetentionDuration'];
	const files = configuration?.['delta.deletedFileRetentionDuration'];
	const logMs = intervalMs(log) ?? 30 * 86_400_000;
	const filesMs = intervalMs(files) ?? 7 * 86_400_000;
	return {
		keepsMs: Math.min(logMs, filesMs),
		settings: {
			'delta.logRetentionDuration': log ?? 'interval 30 days (default)',
			'delta.deletedFileRetentionDuration': files ?? 'interval 1 week (default)',
		},
	};
}

/** Delta Lake behind the shared `TableFormat` interface; storage from `environment.openStore(ref.ref)`. */
export class DeltaFormat implements TableFormat {
	readonly name = 'delta' as const;
	private readonly environment: FormatEnvironment;

	constructor(environment: FormatEnvironment) {
		this.environment = environment;
	}

	async history(ref: TableRef): Promise<TableHistory> {
		const store = this.store(ref);
		const log = await this.guard(store, async () => readDeltaLog(store));
		return historyFromLog(log, ref.ref);
	}

	async plan(ref: TableRef, to: string, options?: RestoreOptions): Promise<TableRestorePlan> {
		const store = this.store(ref);
		return this.guard(store, async () => planDeltaRestore({store, ref, readRange: this.rangeReader(store)}, to, options));
	}

	async execute(plan: TableRestorePlan, options?: RestoreOptions): Promise<TableRestoreResult> {
		const store = this.store({ref: plan.ref});
		return this.guard(store, async () => executeDeltaRestore(store, plan, options, {probeConditionalWrites: async () => this.probeConditionalWrites(store), readRange: this.rangeReader(store)}));
	}

	/**
	Some S3-compatible servers accept `If-None-Match: *` and write anyway. Writing a probe twice under
	`_delta_log/.tmp/` (which readers ignore) tells; the probe is deleted after.
	*/
	private async probeConditionalWrites(store: FileStore): Promise<ConditionalWrites> {
		if (store instanceof LocalFileStore || !(store instanceof S3FileStore)) {
			return 'honoured';
		}

		const probe = `_delta_log/.tmp/.ilum-restore-probe-${randomUUID()}`;
		const prefix = store.root.slice(`s3://${store.bucket}`.length).replace(/^\/+/, '');
		const body = new TextEncoder().encode('probe\n');
		try {
			await store.putIfAbsent(probe, body);
		} catch (error) {
			const status = (error as {$metadata?: {httpStatusCode?: number}}).$metadata?.httpStatusCode;
			if (status === 501 || status === 400) {
				return 'rejected';
			}

			throw error;
		}

		let support: ConditionalWrites = 'ignored';
		try {
			await store.putIfAbsent(probe, body);
		} catch (error) {
			if (!(error instanceof FileExistsError)) {
				throw error;
			}

			support = 'honoured';
		} finally {
			await this.environment.s3().send(new DeleteObjectCommand({Bucket: store.bucket, Key: prefix === '' ? probe : `${prefix}/${probe}`})).catch(() => undefined);
		}

		return support;
	}

	/** S3 ranged GETs, so row counts from Parquet footers fetch footers, not whole files. */
	private rangeReader(store: FileStore): RangeReader | undefined {
		if (!(store instanceof S3FileStore)) {
			return undefined;
		}

		const prefix = store.root.slice(`s3://${store.bucket}`.length).replace(/^\/+/, '');
		return async (file, start, end) => {
			const response = await this.environment.s3().send(new GetObjectCommand({Bucket: store.bucket, Key: prefix === '' ? file : `${prefix}/${file}`, Range: `bytes=${start}-${end - 1}`}));
			return response.Body!.transformToByteArray();
		};
	}

	private store(ref: TableRef): FileStore {
		if (ref.table) {
			throw usageError('--table is for catalogs (DuckLake, Iceberg REST)', 'for a Delta table give its folder or s3://bucket/prefix alone');
		}

		return this.environment.openStore(ref.ref);
	}

	private async guard<T>(store: FileStore, work: () => Promise<T>): Promise<T> {
		try {
			return await work();
		} catch (error) {
			throw storageError(error, store.root, this.environment);
		}
	}
}
