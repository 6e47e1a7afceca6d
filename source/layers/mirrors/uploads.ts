import {randomUUID} from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {S3Error} from '../../storage/retry.js';
import type {MultipartUploadInfo} from '../../storage/fast-s3.js';
import type {BucketSide} from './drift.js';

/**
Multipart uploads interrupted by a kill, found and dealt with on the next run.

A multipart copy cut short (SIGKILL, power loss, a lost connection at the wrong moment) leaves an
incomplete upload on the provider: storage used, invisible to listings. So that the next run can
find the uploads *this tool* started (and never touch anyone else's), the copy engine writes a
journal before and while it uploads (JSON lines, append-only, in the state dir):

```
{"t":"start","id":"…","pid":123,"endpoint":"http://…","bucket":"b","key":"k","at":"<ISO>","sourceEtag":"\"…-3\"","size":25165824,"mode":"parts","count":3}
{"t":"upload","id":"…","uploadId":"…"}        after CreateMultipartUpload answered
{"t":"part","id":"…","n":2,"etag":"\"…\""}    after each UploadPart answered
{"t":"end","id":"…","how":"completed"}        completed, aborted, gone, expired
```

On the next run, `UploadRecovery.start` lists the multipart uploads of the target bucket (under
its prefix) when the journal has open entries for it:
- an upload whose id the journal holds is ours: it is offered to the copier for that key
  (`take`): if the source object is still the same (ETag, size, part layout), ListParts tells which
  parts are in place; those are kept (see `keepPart` in copy.ts: the journalled ETag when there is
  one) and only the others are uploaded. Otherwise the upload is aborted.
- a `start` without an upload id (killed between CreateMultipartUpload and its answer): an upload
  of that key initiated within 15 minutes of the journalled time whose id no journal entry holds is
  ours: aborted.
- an upload of ours that the copy did not take (the object is in place after all, or no longer in
  the mirror) is aborted when the bucket is done (`finish`).
- uploads of a process that is still running (another restore on this machine) are left alone;
  so is every upload the journal does not name.
*/

export type UploadLayout = {
	/** 'parts': the source's own parts (a multipart source); 'ranges': cut into `partSize` ranges. */
	readonly mode: 'parts' | 'ranges';
	readonly partSize?: number;
	readonly count: number;
	readonly sourceEtag: string;
	readonly size: number;
};

type StartRecord = {t: 'start'; id: string; pid: number; endpoint: string; bucket: string; key: string; at: string} & Omit<UploadLayout, 'partSize'> & {partSize?: number};
type JournalRecord =
	| StartRecord
	| {t: 'upload'; id: string; uploadId: string}
	| {t: 'part'; id: string; n: number; etag: string}
	| {t: 'end'; id: string; how: string};

/** An upload the journal holds as not finished. */
export type OpenUpload = StartRecord & {uploadId?: string; parts: Map<number, string>};

/** One upload's journal lines. */
export type UploadHandle = {
	readonly id: string;
	created(uploadId: string): void;
	part(partNumber: number, etag: string): void;
	end(how: 'completed' | 'aborted' | 'gone' | 'expired' | 'replaced'): void;
	/** Stopped on request: the upload stays open in the journal, for the next copy (in this process too) to resume. */
	suspend(): void;
};

/** Upload ids this process is working on (never recovered by another copy in the same process). */
const active = new Set<string>();

/** The journal file of multipart uploads (see the file header). */
export class UploadJournal {
	readonly file: string;

	constructor(file: string) {
		this.file = file;
	}

	/** The uploads started and not finished, oldest first. */
	open(): OpenUpload[] {
		let text: string;
		try {
			text = fs.readFileSync(this.file, 'utf8');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				return [];
			}

			throw error;
		}

		const entries = new Map<string, OpenUpload>();
		for (const line of text.split('\n')) {
			if (!line) {
				continue;
			}

			let record: JournalRecord;
			try {
				record = JSON.parse(line) as JournalRecord;
			} catch {
				// A line cut by a kill in the middle of a write.
				continue;
			}

			if (record.t === 'start') {
				entries.set(record.id, {...record, parts: new Map()});
			} else if (record.t === 'upload') {
				const entry = entries.get(record.id);
				if (entry) {
					entry.uploadId = record.uploadId;
				}
			} else if (record.t === 'part') {
				entries.get(record.id)?.parts.set(record.n, record.etag);
			} else if (record.t === 'end') {
				entries.delete(record.id);
			}
		}

		return [...entries.values()];
	}

	/** Journals the start of an upload (before CreateMultipartUpload is sent). */
	begin(target: {endpoint: string; bucket: string; key: string}, layout: UploadLayout): UploadHandle {
		const id = randomUUID();
		this.append({t: 'start', id, pid: process.pid, endpoint: target.endpoint, bucket: target.bucket, key: target.key, at: new Date().toISOString(), ...layout});
		return this.handle(id);
	}

	/** The handle of an upload started earlier (a resumed one). */
	handle(id: string, uploadId?: string): UploadHandle {
		let current = uploadId;
		if (current) {
			active.add(current);
		}

		return {
			id,
			created: uploadId => {
				current = uploadId;
				active.add(uploadId);
				this.append({t: 'upload', id, uploadId});
			},
			part: (n, etag) => {
				this.append({t: 'part', id, n, etag});
			},
			end: how => {
				if (current) {
					active.delete(current);
				}

				this.append({t: 'end', id, how});
			},
			suspend() {
				if (current) {
					active.delete(current);
				}
			},
		};
	}

	/** Rewrites the file with only the open entries (when nothing is open, removes it); not while another process writes to it. */
	compact(): void {
		const open = this.open();
		if (open.some(entry => isRunning(entry.pid))) {
			return;
		}

		if (open.length === 0) {
			fs.rmSync(this.file, {force: true});
			return;
		}

		const lines = open.flatMap(entry => {
			const {uploadId, parts, ...start} = entry;
			return [
				JSON.stringify(start),
				...(uploadId ? [JSON.stringify({t: 'upload', id: entry.id, uploadId})] : []),
				...[...parts].map(([n, etag]) => JSON.stringify({t: 'part', id: entry.id, n, etag})),
			];
		});
		const temporary = `${this.file}.${process.pid}.tmp`;
		fs.writeFileSync(temporary, lines.join('\n') + '\n', {mode: 0o600});
		fs.renameSync(temporary, this.file);
	}

	private append(record: JournalRecord): void {
		fs.mkdirSync(path.dirname(this.file), {recursive: true});
		fs.appendFileSync(this.file, JSON.stringify(record) + '\n', {mode: 0o600});
	}
}

/** What the recovery found and did for one bucket. */
export type UploadsReport = {
	/** Interrupted uploads of ours found on the target. */
	found: number;
	/** Continued: their parts in place were kept. */
	resumed: number;
	/** Parts kept (not uploaded again) in the resumed uploads. */
	partsReused: number;
	/** Aborted: the object is in place, the source changed, or the upload could not be resumed. */
	aborted: number;
	/** Left alone: another running process's, or on another endpoint. */
	kept: number;
	/** Why something could not be checked (e.g. the endpoint does not list uploads). */
	notes: string[];
};

/** An interrupted upload offered to the copier for its key. */
export type RecoveredUpload = {readonly entry: OpenUpload; readonly uploadId: string};

const windowMs = 15 * 60 * 1000;
const expireMs = 7 * 24 * 60 * 60 * 1000;

const isRunning = (pid: number) => {
	if (pid === process.pid) {
		return false;
	}

	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
};

/** The recovery of one target bucket's interrupted uploads (see the file header). */
export class UploadRecovery {
	readonly journal: UploadJournal;
	readonly report: UploadsReport = {found: 0, resumed: 0, partsReused: 0, aborted: 0, kept: 0, notes: []};
	private readonly target: BucketSide;
	private readonly candidates = new Map<string, RecoveredUpload>();

	private constructor(journal: UploadJournal, target: BucketSide) {
		this.journal = journal;
		this.target = target;
	}

	/** Finds the target's interrupted uploads of ours; aborts those that cannot be resumed. */
	static async start(journal: UploadJournal, target: BucketSide, options: {signal?: AbortSignal} = {}): Promise<UploadRecovery> {
		const recovery = new UploadRecovery(journal, target);
		try {
			await recovery.scan(options.signal);
		} catch (error) {
			options.signal?.throwIfAborted();
			// Not a reason to fail the copy (e.g. no permission to list uploads): said, and left for a later run.
			recovery.report.notes.push(`could not check the interrupted uploads of ${target.bucket}: ${error instanceof Error ? error.message : String(error)}`);
		}

		return recovery;
	}

	/** The interrupted upload of ours for a target key, if any (taken once). */
	take(targetKey: string): RecoveredUpload | undefined {
		const found = this.candidates.get(targetKey);
		this.candidates.delete(targetKey);
		return found;
	}

	/** Aborts an upload of ours (the copier decided not to resume it, or it was not needed). */
	async abort(upload: RecoveredUpload, how: 'aborted' | 'replaced' = 'aborted'): Promise<void> {
		await this.target.client.abortMultipartUpload(this.target.bucket, upload.entry.key, upload.uploadId);
		this.journal.handle(upload.entry.id).end(how);
		this.report.aborted++;
	}

	/** Aborts the uploads of ours that the copy did not take (their objects are in place, or gone from the mirror). */
	async finish(): Promise<void> {
		for (const upload of this.candidates.values()) {
			try {
				// eslint-disable-next-line no-await-in-loop
				await this.abort(upload);
			} catch (error) {
				// Left in the journal: the next run tries again.
				this.report.notes.push(`could not abort the interrupted upload of ${upload.entry.key}: ${error instanceof Error ? error.message : String(error)}`);
			}
		}

		this.candidates.clear();
		try {
			this.journal.compact();
		} catch {
			// Compaction is housekeeping: a failure leaves a longer file, nothing wrong.
		}
	}

	private async scan(signal?: AbortSignal): Promise<void> {
		const {client, bucket} = this.target;
		const prefix = this.target.prefix ?? '';
		const mine = this.journal.open().filter(entry => entry.bucket === bucket && entry.key.startsWith(prefix));
		const entries = mine.filter(entry => {
			if (isRunning(entry.pid) || (entry.uploadId !== undefined && active.has(entry.uploadId))) {
				this.report.kept++;
				return false;
			}

			return true;
		});
		if (entries.length === 0) {
			return;
		}

		let listed: MultipartUploadInfo[] | undefined;
		try {
			listed = await client.listMultipartUploads(bucket, {prefix: prefix || undefined, signal});
		} catch (error) {
			if (!(error instanceof S3Error && (error.code === 'NotImplemented' || error.status === 501 || error.status === 405))) {
				throw error;
			}

			this.report.notes.push(`${client.endpoint.endpoint} does not list multipart uploads: only the journalled upload ids were checked`);
		}

		const journalled = new Set(this.journal.open().flatMap(entry => entry.uploadId ? [entry.uploadId] : []));
		const sameEndpoint = (entry: OpenUpload) => entry.endpoint === client.endpoint.endpoint;
		const close = (entry: OpenUpload) => {
			const old = Date.now() - Date.parse(entry.at) > expireMs;
			if (sameEndpoint(entry) || old) {
				this.journal.handle(entry.id).end(old && !sameEndpoint(entry) ? 'expired' : 'gone');
			} else {
				// Perhaps another provider with the same bucket name: left for a run against it.
				this.report.kept++;
			}
		};

		// Newest first: when two entries name the same key, the newest upload is the one to resume.
		for (const entry of [...entries].reverse()) {
			if (entry.uploadId) {
				const present = listed
					? listed.some(upload => upload.uploadId === entry.uploadId && upload.key === entry.key)
					// eslint-disable-next-line no-await-in-loop
					: (await client.listParts(bucket, entry.key, entry.uploadId, {signal})) !== undefined;
				if (!present) {
					close(entry);
					continue;
				}

				this.report.found++;
				const upload = {entry, uploadId: entry.uploadId};
				if (this.candidates.has(entry.key)) {
					// eslint-disable-next-line no-await-in-loop
					await this.abort(upload, 'replaced');
				} else {
					this.candidates.set(entry.key, upload);
				}

				continue;
			}

			// Started, but the upload id never reached the journal: find it by key and time.
			if (!listed) {
				close(entry);
				continue;
			}

			const at = Date.parse(entry.at);
			const strays = listed.filter(upload => upload.key === entry.key && !journalled.has(upload.uploadId)
				&& upload.initiated !== undefined && Math.abs(Date.parse(upload.initiated) - at) <= windowMs);
			for (const stray of strays) {
				this.report.found++;
				// eslint-disable-next-line no-await-in-loop
				await client.abortMultipartUpload(bucket, stray.key, stray.uploadId);
				this.report.aborted++;
				journalled.add(stray.uploadId);
			}

			close(entry);
		}
	}
}

/** Whether an interrupted upload was cut the same way from the same source object. */
export function sameLayout(entry: OpenUpload, layout: UploadLayout): boolean {
	return entry.mode === layout.mode && entry.count === layout.count && entry.sourceEtag === layout.sourceEtag
		&& entry.size === layout.size && (layout.mode === 'parts' || entry.partSize === layout.partSize);
}

/** The default journal file in a state dir. */
export const uploadJournalFile = (stateDir: string) => path.join(stateDir, 'mirror-uploads.jsonl');
