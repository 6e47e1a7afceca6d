import {createHash, randomUUID} from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {setTimeout as sleep} from 'node:timers/promises';
import {header, metadataOf, type FastS3Client, type ObjectInfo, type StreamResponse} from '../../storage/fast-s3.js';
import {AdaptiveLimiter, IntegrityError, S3Error, isSlowDown, withRetry} from '../../storage/retry.js';
import {bucketDrift, isMultipartEtag, summarizeDrift, type BucketSide, type DriftEntry, type DriftTotals} from './drift.js';
import {resolveStateDir} from '../../restore/state-dir.js';
import {UploadJournal, UploadRecovery, sameLayout, uploadJournalFile, type UploadHandle, type UploadLayout, type UploadsReport} from './uploads.js';

/**
The mirror restore copy engine: walks the drift of each bucket pair (a streaming merge of the two
listings) and copies what the target lacks, straight from GET to PUT.

- Small objects (up to `smallObjectLimit`) are read into memory and PUT; larger ones stream from
  the GET into the PUT with `content-length` set; above `multipartThreshold` they go multipart
  with parts in parallel (each part its own GET: a Range, or the source's own `partNumber` so a
  multipart source keeps its exact part layout and ETag). No object is ever held whole in memory
  beyond `smallObjectLimit`.
- Metadata kept as `mc mirror --preserve` does: Content-Type, Content-Encoding, Cache-Control,
  Content-Disposition, Content-Language, Expires, `x-amz-meta-*`.
- Integrity: the PUT's ETag must equal the source ETag (single-part: both are the content MD5);
  a multipart copy with the source's part layout must reproduce the source's ETag. Copies whose
  ETag cannot be compared (a single-part source above the multipart threshold) are counted as
  `unverified`.
- Transient failures (resets, timeouts, truncated bodies, 5xx, SlowDown, integrity mismatches)
  retry the whole object (or part) from a new GET, with backoff; SlowDown halves the concurrency
  (AIMD, `AdaptiveLimiter`).
- Resumable by construction: a rerun re-diffs and copies only what is missing or different.
  With `uploadJournal` (a file in the state dir), multipart uploads are journalled as they go, and
  the next run finds the ones a kill interrupted: resumed (the parts in place are kept) or aborted,
  never someone else's (see uploads.ts); reported in `bucket-done`'s `uploads`.
- Listing runs only as far ahead as the copy can take (bounded read-ahead): memory stays flat.

Events: `progress` snapshots at most every `progressMs`, `retry` and `failed` per object, and one
`bucket-done` (with the verification drift when `verify`).
*/

export type MirrorPair = {
	/** A name for events and reports (the source bucket, usually). */
	readonly name: string;
	readonly source: BucketSide;
	readonly target: BucketSide;
};

export type CopyOptions = {
	/** Replace objects that differ (`*`). Default false: they are counted and left alone. */
	readonly overwriteChanged?: boolean;
	/** Delete what only the target has (`-`). Default false. */
	readonly remove?: boolean;
	/** Objects in flight. Default 32. */
	readonly concurrency?: number;
	/** Parts in flight per multipart object. Default 4. */
	readonly partConcurrency?: number;
	/** Objects above this go multipart. Default 8 MiB (as the AWS CLI). */
	readonly multipartThreshold?: number;
	/** Part size for objects cut by us. Default 8 MiB. */
	readonly partSize?: number;
	/** Objects up to this size are buffered (one GET, one PUT with a Buffer). Default 1 MiB. */
	readonly smallObjectLimit?: number;
	/** Attempts per object or part. Default 6. */
	readonly attempts?: number;
	/** Re-diff each bucket at the end. Default true. */
	readonly verify?: boolean;
	readonly progressMs?: number;
	readonly signal?: AbortSignal;
	/** Failed keys kept in memory (and reported) per bucket. Default 1,000. */
	readonly keepFailed?: number;
	/**
	The journal of multipart uploads (a JSON lines file, `uploadJournalFile(stateDir)`): lets the
	next run resume or abort the uploads a kill interrupted. Default: the one in the default state
	dir ($XDG_STATE_HOME/ilum-restore or ~/.local/state/ilum-restore); pass the file of the run's
	`--state-dir`. `false`: no journal (an interrupted multipart upload then stays on the target
	until a lifecycle rule removes it).
	*/
	readonly uploadJournal?: string | false;
};

export type BucketProgress = {
	readonly bucket: string;
	/** Objects and bytes found to copy so far (grows while the listing runs). */
	readonly objectsTotal: number;
	readonly bytesTotal: number;
	readonly objectsDone: number;
	readonly bytesDone: number;
	readonly listingDone: boolean;
	readonly deleted: number;
	/** `=` and `?` objects left alone, plus `*` without overwrite and `-` without remove. */
	readonly skipped: number;
	readonly changedKept: number;
	readonly onlyTargetKept: number;
	readonly retries: number;
	readonly failed: number;
	readonly unverified: number;
	/** Bytes per second since the bucket started. */
	readonly rate: number;
	/** Estimated time left (ms), once the listing is done and bytes are moving. */
	readonly etaMs?: number;
	readonly concurrency: number;
	readonly elapsedMs: number;
};

export type VerifyResult = {
	readonly ok: boolean;
	readonly totals: DriftTotals;
	readonly differences: ReadonlyArray<{kind: string; key: string}>;
};

export type ProgressEvent =
	| {readonly type: 'bucket-start'; readonly bucket: string}
	| ({readonly type: 'progress'} & BucketProgress)
	| {readonly type: 'retry'; readonly bucket: string; readonly key: string; readonly attempt: number; readonly error: string}
	| {readonly type: 'failed'; readonly bucket: string; readonly key: string; readonly error: string}
	| {readonly type: 'verify-start'; readonly bucket: string}
	| ({readonly type: 'bucket-done'; readonly failedKeys: readonly string[]; readonly verify?: VerifyResult; readonly verifyMs?: number; readonly uploads?: UploadsReport} & BucketProgress);

const mib = 1024 * 1024;

/** Copies every pair in turn; see the file header. */
export async function * copyMirror(pairs: readonly MirrorPair[], options: CopyOptions = {}): AsyncGenerator<ProgressEvent> {
	for (const pair of pairs) {
		options.signal?.throwIfAborted();
		yield * copyBucket(pair, options);
	}
}

type Stats = {
	objectsTotal: number;
	bytesTotal: number;
	objectsDone: number;
	bytesDone: number;
	listingDone: boolean;
	deleted: number;
	skipped: number;
	changedKept: number;
	onlyTargetKept: number;
	retries: number;
	failed: number;
	unverified: number;
};

/** Copies one pair; see the file header. */
export async function * copyBucket(pair: MirrorPair, options: CopyOptions = {}): AsyncGenerator<ProgressEvent> {
	const spill = (options.verify ?? true) ? new ListingSpill() : undefined;
	// Stops the copy's background work when the consumer stops early.
	const local = new AbortController();
	const signal = options.signal ? AbortSignal.any([options.signal, local.signal]) : local.signal;
	try {
		yield * copyBucketWith(pair, {...options, signal}, spill);
	} finally {
		local.abort();
		spill?.dispose();
	}
}

async function * copyBucketWith(pair: MirrorPair, options: CopyOptions, spill: ListingSpill | undefined): AsyncGenerator<ProgressEvent> {
	const started = Date.now();
	const signal = options.signal;
	const limiter = new AdaptiveLimiter(options.concurrency ?? 32);
	const keepFailed = options.keepFailed ?? 1000;
	const stats: Stats = {objectsTotal: 0, bytesTotal: 0, objectsDone: 0, bytesDone: 0, listingDone: false, deleted: 0, skipped: 0, changedKept: 0, onlyTargetKept: 0, retries: 0, failed: 0, unverified: 0};
	const queue: ProgressEvent[] = [];
	const failedKeys: string[] = [];
	const snapshot = (): BucketProgress => {
		const elapsedMs = Date.now() - started;
		const rate = elapsedMs > 0 ? Math.round(stats.bytesDone * 1000 / elapsedMs) : 0;
		const etaMs = stats.listingDone && rate > 0 ? Math.round((stats.bytesTotal - stats.bytesDone) * 1000 / rate) : undefined;
		return {bucket: pair.name, ...stats, rate, etaMs, concurrency: limiter.limit, elapsedMs};
	};

	yield {type: 'bucket-start', bucket: pair.name};
	const journalFile = options.uploadJournal ?? uploadJournalFile(resolveStateDir());
	const journal = journalFile ? new UploadJournal(journalFile) : undefined;
	const recovery = journal ? await UploadRecovery.start(journal, pair.target, {signal}) : undefined;
	const copier = new ObjectCopier(pair, options, limiter, {
		onRetry(key, attempt, error) {
			stats.retries++;
			if (queue.length < 10_000) {
				queue.push({type: 'retry', bucket: pair.name, key, attempt, error: messageOf(error)});
			}
		},
	}, journal ? {journal, recovery} : undefined);
	const work = (async () => {
		const inflight = new Set<Promise<void>>();
		let deletions: string[] = [];
		const flushDeletions = async () => {
			const keys = deletions;
			deletions = [];
			const failed = await pair.target.client.deleteObjects(pair.target.bucket, keys, {signal});
			stats.deleted += keys.length - failed.length;
			for (const key of failed) {
				fail(key, new Error('delete failed'));
			}
		};

		const fail = (key: string, error: unknown) => {
			stats.failed++;
			if (failedKeys.length < keepFailed) {
				failedKeys.push(key);
			}

			if (queue.length < 10_000) {
				queue.push({type: 'failed', bucket: pair.name, key, error: messageOf(error)});
			}
		};

		try {
			for await (const entry of bucketDrift(pair.source, pair.target, {signal, readAhead: 2})) {
				if (entry.source) {
					spill?.add(entry.source);
				}

				const copy = entry.kind === '+' || (entry.kind === '*' && options.overwriteChanged);
				if (copy) {
					const object = entry.source!;
					stats.objectsTotal++;
					stats.bytesTotal += object.size;
					// eslint-disable-next-line no-await-in-loop
					await limiter.acquire();
					if (signal?.aborted) {
						limiter.release();
						break;
					}

					const task = copier.copy(entry).then(result => {
						stats.objectsDone++;
						stats.bytesDone += object.size;
						if (!result.verified) {
							stats.unverified++;
						}
					}, error => {
						// A copy cut short by a stop is not a failure: the next run copies it.
						if (!signal?.aborted) {
							fail(entry.key, error);
						}
					}).finally(() => {
						limiter.release();
						inflight.delete(task);
					});
					inflight.add(task);
				} else if (entry.kind === '-') {
					if (options.remove) {
						deletions.push(entry.target!.key);
						if (deletions.length >= 1000) {
							// eslint-disable-next-line no-await-in-loop
							await flushDeletions();
						}
					} else {
						stats.onlyTargetKept++;
						stats.skipped++;
					}
				} else {
					if (entry.kind === '*') {
						stats.changedKept++;
					}

					stats.skipped++;
				}
			}

		} finally {
			// Never leave copies running behind a failure or an abort.
			await Promise.allSettled(inflight);
		}

		stats.listingDone = true;
		await Promise.all(inflight);
		if (deletions.length > 0 && !signal?.aborted) {
			await flushDeletions();
		}

		if (!signal?.aborted) {
			// The interrupted uploads the copy did not take: their objects are in place, or gone from the mirror.
			await recovery?.finish();
		}
	})();
	let finished = false;
	let failure: unknown;
	work.then(() => {
		finished = true;
	}, error => {
		finished = true;
		failure = error;
	});
	const progressMs = options.progressMs ?? 250;
	while (!finished) {
		// eslint-disable-next-line no-await-in-loop
		await Promise.race([work.catch(() => undefined), sleep(progressMs, undefined, {ref: false})]);
		while (queue.length > 0) {
			yield queue.shift()!;
		}

		if (!finished) {
			yield {type: 'progress', ...snapshot()};
		}
	}

	while (queue.length > 0) {
		yield queue.shift()!;
	}

	if (failure !== undefined) {
		throw failure;
	}

	signal?.throwIfAborted();
	const copied = snapshot();
	let verify: VerifyResult | undefined;
	const verifyStarted = Date.now();
	if (spill) {
		yield {type: 'verify-start', bucket: pair.name};
		// The source as it was listed at the start (the mirror does not change while its CronJob is
		// suspended) against a fresh listing of the target: one listing instead of two.
		const summary = await summarizeDrift(bucketDrift(pair.source, pair.target, {signal, checksums: true, sourceListing: await spill.replay()}), {keep: 20});
		const t = summary.totals;
		const ok = t.onlySource === 0 && (!options.overwriteChanged || t.differs === 0) && (!options.remove || t.onlyTarget === 0);
		verify = {ok, totals: t, differences: summary.differences};
	}

	yield {type: 'bucket-done', ...copied, failedKeys, verify, verifyMs: spill ? Date.now() - verifyStarted : undefined, uploads: recovery?.report};
}

/**
The source listing saved to a temporary file as the copy walks it (JSON lines, in key order), so
the verification can replay it instead of listing the source again. Constant memory.
*/
class ListingSpill {
	private readonly file = path.join(os.tmpdir(), `ilum-restore-listing-${process.pid}-${randomUUID()}.jsonl`);
	private readonly fd: number;
	private buffer = '';
	private closed = false;

	constructor() {
		this.fd = fs.openSync(this.file, 'w', 0o600);
	}

	add(object: ObjectInfo): void {
		this.buffer += JSON.stringify([object.key, object.size, object.etag]) + '\n';
		if (this.buffer.length >= 256 * 1024) {
			this.flush();
		}
	}

	async replay(): Promise<AsyncIterable<ObjectInfo>> {
		this.flush();
		fs.closeSync(this.fd);
		this.closed = true;
		const file = this.file;
		return (async function * () {
			const lines = readline.createInterface({input: fs.createReadStream(file, {encoding: 'utf8', highWaterMark: 256 * 1024}), crlfDelay: Infinity});
			for await (const line of lines) {
				if (line) {
					const [key, size, etag] = JSON.parse(line) as [string, number, string];
					yield {key, size, etag};
				}
			}
		})();
	}

	dispose(): void {
		if (!this.closed) {
			fs.closeSync(this.fd);
			this.closed = true;
		}

		fs.rmSync(this.file, {force: true});
	}

	private flush(): void {
		if (this.buffer) {
			fs.writeSync(this.fd, this.buffer);
			this.buffer = '';
		}
	}
}

export type CopyResult = {readonly verified: boolean};

/** Copies single objects of one pair (see the file header); the unit the engine retries. */
export class ObjectCopier {
	private readonly pair: MirrorPair;
	private readonly options: CopyOptions;
	private readonly limiter: AdaptiveLimiter;
	private readonly hooks: {onRetry(key: string, attempt: number, error: unknown): void};
	private readonly threshold: number;
	private readonly partSize: number;
	private readonly smallLimit: number;
	private readonly uploads: {journal: UploadJournal; recovery?: UploadRecovery} | undefined;

	constructor(pair: MirrorPair, options: CopyOptions, limiter: AdaptiveLimiter, hooks: {onRetry(key: string, attempt: number, error: unknown): void}, uploads?: {journal: UploadJournal; recovery?: UploadRecovery}) {
		this.pair = pair;
		this.uploads = uploads;
		this.options = options;
		this.limiter = limiter;
		this.hooks = hooks;
		this.threshold = options.multipartThreshold ?? 8 * mib;
		this.partSize = options.partSize ?? 8 * mib;
		this.smallLimit = Math.min(options.smallObjectLimit ?? mib, this.threshold);
	}

	async copy(entry: DriftEntry): Promise<CopyResult> {
		const object = entry.source!;
		const targetKey = (this.pair.target.prefix ?? '') + entry.key;
		const result = await this.retrying(object.key, async () => {
			if (object.size <= this.smallLimit) {
				return this.copySmall(object, targetKey);
			}

			if (isMultipartEtag(object.etag)) {
				return this.copyByParts(object, targetKey);
			}

			if (object.size <= this.threshold) {
				return this.copyStream(object, targetKey);
			}

			return this.copyByRanges(object, targetKey);
		});
		this.limiter.success();
		return result;
	}

	private async retrying<T>(key: string, task: () => Promise<T>): Promise<T> {
		return withRetry(task, {
			attempts: this.options.attempts ?? 6,
			signal: this.options.signal,
			onRetry: (error, attempt) => {
				if (isSlowDown(error)) {
					this.limiter.slowDown();
				}

				this.hooks.onRetry(key, attempt, error);
			},
		});
	}

	private async copySmall(object: ObjectInfo, targetKey: string): Promise<CopyResult> {
		const {source, target} = this.pair;
		const signal = this.options.signal;
		const response = await source.client.get(source.bucket, object.key, {signal});
		const length = Number(header(response.headers, 'content-length') ?? response.body.length);
		if (response.body.length !== length) {
			throw new IntegrityError(`${source.bucket}/${object.key}: got ${response.body.length} of ${length} bytes`);
		}

		const sourceEtag = header(response.headers, 'etag') ?? '';
		const etag = await target.client.put(target.bucket, targetKey, response.body, response.body.length, metadataOf(response.headers), {signal});
		if (sourceEtag && !isMultipartEtag(sourceEtag) && etag !== sourceEtag) {
			// Which side is wrong? The bytes we hold tell: if they match the source ETag, the target's
			// ETag is not an MD5 (SSE-KMS): nothing to compare. Otherwise the GET was damaged.
			const md5 = `"${createHash('md5').update(response.body).digest('hex')}"`;
			if (md5 !== sourceEtag) {
				throw new IntegrityError(`${source.bucket}/${object.key}: the bytes read do not match the source ETag`);
			}

			// The bytes sent were the source's: the target's ETag is simply not a content MD5
			// (SSE-KMS, SSE-C): counted as unverified, not retried.
			return {verified: false};
		}

		return {verified: Boolean(sourceEtag) && !isMultipartEtag(sourceEtag)};
	}

	private async copyStream(object: ObjectInfo, targetKey: string): Promise<CopyResult> {
		const {source, target} = this.pair;
		const signal = this.options.signal;
		const response = await source.client.getStream(source.bucket, object.key, {signal});
		try {
			const length = Number(header(response.headers, 'content-length'));
			const sourceEtag = header(response.headers, 'etag') ?? '';
			const etag = await target.client.put(target.bucket, targetKey, response.body, length, metadataOf(response.headers), {signal});
			if (sourceEtag && !isMultipartEtag(sourceEtag) && etag !== sourceEtag) {
				throw new IntegrityError(`${target.bucket}/${targetKey}: the PUT returned ETag ${etag}, the source has ${sourceEtag}`);
			}

			return {verified: Boolean(sourceEtag) && !isMultipartEtag(sourceEtag)};
		} finally {
			response.body.destroy();
		}
	}

	/** A multipart source: copy part by part with the source's own part numbers, so the ETag is reproduced. */
	private async copyByParts(object: ObjectInfo, targetKey: string): Promise<CopyResult> {
		const {source} = this.pair;
		const signal = this.options.signal;
		const first = await source.client.getStream(source.bucket, object.key, {partNumber: 1, signal});
		const count = Number(header(first.headers, 'x-amz-mp-parts-count') ?? 0);
		if (first.status !== 206 || !(count > 0)) {
			// The server does not serve parts: cut our own.
			first.body.destroy();
			return this.copyByRanges(object, targetKey);
		}

		const sourceEtag = header(first.headers, 'etag') ?? object.etag;
		const layout: UploadLayout = {mode: 'parts', count, sourceEtag, size: object.size};
		const result = await this.multipart(targetKey, first, layout, async partNumber => source.client.getStream(source.bucket, object.key, {partNumber, ifMatch: sourceEtag, signal}));
		if (result !== sourceEtag) {
			throw new IntegrityError(`${this.pair.target.bucket}/${targetKey}: the multipart copy has ETag ${result}, the source has ${sourceEtag}`);
		}

		return {verified: true};
	}

	/** Cut into ranges of `partSize` (a single-part source too big for one PUT). The ETag cannot be compared. */
	private async copyByRanges(object: ObjectInfo, targetKey: string): Promise<CopyResult> {
		const {source} = this.pair;
		const signal = this.options.signal;
		const partSize = Math.max(this.partSize, Math.ceil(object.size / 10_000));
		const range = (partNumber: number): [number, number] => [(partNumber - 1) * partSize, Math.min(object.size, partNumber * partSize) - 1];
		const count = Math.max(1, Math.ceil(object.size / partSize));
		const first = await source.client.getStream(source.bucket, object.key, {range: range(1), signal});
		const sourceEtag = header(first.headers, 'etag') ?? object.etag;
		const total = Number((header(first.headers, 'content-range') ?? '').split('/')[1] ?? object.size);
		if (total !== object.size) {
			first.body.destroy();
			throw new IntegrityError(`${source.bucket}/${object.key}: the object changed since it was listed`);
		}

		const layout: UploadLayout = {mode: 'ranges', partSize, count, sourceEtag, size: object.size};
		await this.multipart(targetKey, first, layout, async partNumber => source.client.getStream(source.bucket, object.key, {range: range(partNumber), ifMatch: sourceEtag, signal}));
		return {verified: false};
	}

	/**
	Creates the upload with the first part's metadata (or continues an interrupted one of ours, see
	uploads.ts), uploads every part not yet in place (the first one already fetched), completes.
	*/
	private async multipart(targetKey: string, first: StreamResponse, layout: UploadLayout, fetchPart: (partNumber: number) => Promise<StreamResponse>): Promise<string> {
		const {target} = this.pair;
		const signal = this.options.signal;
		const {count} = layout;
		const etags: string[] = Array.from({length: count});
		let uploadId: string | undefined;
		let handle: UploadHandle | undefined;
		try {
			const resumed = await this.resume(targetKey, layout);
			if (resumed) {
				uploadId = resumed.uploadId;
				handle = resumed.handle;
				for (const [partNumber, etag] of resumed.parts) {
					etags[partNumber - 1] = etag;
				}
			} else {
				handle = this.uploads?.journal.begin({endpoint: target.client.endpoint.endpoint, bucket: target.bucket, key: targetKey}, layout);
				uploadId = await target.client.createMultipartUpload(target.bucket, targetKey, metadataOf(first.headers), {signal});
				handle?.created(uploadId);
			}
		} catch (error) {
			first.body.destroy();
			throw error;
		}

		const upload = uploadId;
		try {
			const uploadOne = async (partNumber: number, response: StreamResponse) => {
				try {
					const length = Number(header(response.headers, 'content-length'));
					const etag = await target.client.uploadPart(target.bucket, targetKey, upload, partNumber, response.body, length, {signal});
					etags[partNumber - 1] = etag;
					handle?.part(partNumber, etag);
				} finally {
					response.body.destroy();
				}
			};

			const partRetrying = async (partNumber: number, firstTry?: StreamResponse) => {
				let pending = firstTry;
				await this.retrying(targetKey + `#${partNumber}`, async () => {
					const response = pending ?? await fetchPart(partNumber);
					pending = undefined;
					await uploadOne(partNumber, response);
				});
			};

			const missing: number[] = [];
			for (let partNumber = 2; partNumber <= count; partNumber++) {
				if (etags[partNumber - 1] === undefined) {
					missing.push(partNumber);
				}
			}

			const workers: Array<Promise<void>> = [];
			if (etags[0] === undefined) {
				workers.push(partRetrying(1, first));
			} else {
				first.body.destroy();
			}

			let next = 0;
			const lanes = Math.min(missing.length, this.options.partConcurrency ?? 4);
			for (let lane = 0; lane < lanes; lane++) {
				workers.push((async () => {
					while (next < missing.length) {
						const partNumber = missing[next++]!;
						// eslint-disable-next-line no-await-in-loop
						await partRetrying(partNumber);
					}
				})());
			}

			await Promise.all(workers);
			const etag = await target.client.completeMultipartUpload(target.bucket, targetKey, upload, etags.map((etag, index) => ({partNumber: index + 1, etag})), {signal});
			handle?.end('completed');
			return etag;
		} catch (error) {
			if (signal?.aborted) {
				// Stopped on request: the upload stays for the next run to resume (journalled).
				if (handle) {
					handle.suspend();
				} else {
					await target.client.abortMultipartUpload(target.bucket, targetKey, upload).catch(() => undefined);
				}

				throw error;
			}

			try {
				await target.client.abortMultipartUpload(target.bucket, targetKey, upload);
				handle?.end('aborted');
			} catch {
				// Left open in the journal: the next run aborts it.
			}

			throw error;
		}
	}

	/**
	The interrupted upload of ours for this key, when it was cut the same way from the same source
	object: its upload id and the parts in place whose ETag is the one journalled when they were
	uploaded. Otherwise it is aborted, and the copy starts a new upload.
	*/
	private async resume(targetKey: string, layout: UploadLayout): Promise<{uploadId: string; handle: UploadHandle; parts: Map<number, string>} | undefined> {
		const recovery = this.uploads?.recovery;
		const previous = recovery?.take(targetKey);
		if (!recovery || !previous) {
			return undefined;
		}

		const {target} = this.pair;
		if (sameLayout(previous.entry, layout)) {
			const listed = await target.client.listParts(target.bucket, targetKey, previous.uploadId, {signal: this.options.signal});
			if (listed) {
				const parts = new Map<number, string>();
				for (const part of listed) {
					if (part.partNumber >= 1 && part.partNumber <= layout.count && keepPart(previous.entry.parts.get(part.partNumber), part, layout)) {
						parts.set(part.partNumber, part.etag);
					}
				}

				recovery.report.resumed++;
				recovery.report.partsReused += parts.size;
				return {uploadId: previous.uploadId, handle: recovery.journal.handle(previous.entry.id, previous.uploadId), parts};
			}

			// Gone since the scan (completed or aborted by someone else).
			recovery.journal.handle(previous.entry.id).end('gone');
			return undefined;
		}

		await recovery.abort(previous, 'replaced');
		return undefined;
	}
}

/**
Whether a part found in an interrupted upload of ours can stay: its ETag is the one journalled
when it was uploaded; or (stored, but the kill came before the answer was journalled) for a
multipart source, any part (the completed object's ETag must equal the source's, else the copy is
retried from scratch), for ranges, a part of exactly the range's length (sent with that
content-length from a GET of the same source ETag).
*/
function keepPart(journalled: string | undefined, part: {partNumber: number; etag: string; size: number}, layout: UploadLayout): boolean {
	if (journalled !== undefined) {
		return journalled === part.etag;
	}

	if (layout.mode === 'parts') {
		return true;
	}

	const partSize = layout.partSize ?? 0;
	const expected = Math.min(layout.size, part.partNumber * partSize) - ((part.partNumber - 1) * partSize);
	return partSize > 0 && part.size === expected;
}

function messageOf(error: unknown): string {
	if (error instanceof S3Error || error instanceof IntegrityError) {
		return error.message;
	}

	if (error instanceof Error) {
		const code = (error as {code?: string}).code;
		return code ? `${code}: ${error.message}` : error.message;
	}

	return String(error);
}
