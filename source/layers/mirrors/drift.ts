import type {FastS3Client, ObjectInfo} from '../../storage/fast-s3.js';
import {compareKeys} from '../../storage/key-order.js';

/**
The drift between two buckets (or bucket prefixes): a streaming merge of two sorted listings,
in the vocabulary of `rclone check`. Memory does not grow with the object count: only the current
key of each side (and the listers' bounded read-ahead) is held.

For the Mirrors pane (engineer G) and the restore plan:

```ts
import {bucketDrift, type DriftEntry, type DriftTotals} from '../layers/mirrors/drift.js';

for await (const entry of bucketDrift({client: provider, bucket: 'ilum-data'}, {client: mirror, bucket: 'ilum-backup', prefix: 'ilum-data/'}, {signal})) {
	entry.kind;   // '=' same, '+' only in source, '-' only in target, '*' differs, '?' unverifiable
	entry.key;    // relative to each side's prefix
	entry.totals; // running totals (the same object, updated in place: copy it to keep a snapshot)
}
```

`drift(sourceListing, targetListing)` is the same over any two sorted `AsyncIterable<ObjectInfo>`
(plain fixtures in tests). `summarizeDrift(...)` consumes it and returns the totals plus the first
N differing keys (for a detail view), also in constant memory.

Comparison (`compareObjects`): different sizes differ. Equal sizes: two single-part ETags
(an MD5 of the content, without KMS) compare directly; two multipart ETags (`"...-N"`) that are
equal are the same bytes cut the same way; otherwise (multipart against single-part, multipart
ETags that differ, a missing ETag) the ETags cannot tell: `?` unverifiable, never `*`. With
`checksums: true`, `bucketDrift` asks both sides for a full-object checksum (HEAD with
`x-amz-checksum-mode: ENABLED`) for such keys and turns `?` into `=` or `*` when both have one.
*/

/** `=` same, `+` only in source, `-` only in target, `*` differs, `?` same size but not comparable. */
export type DriftKind = '=' | '+' | '-' | '*' | '?';

export type DriftTotals = {
	same: number;
	onlySource: number;
	onlyTarget: number;
	differs: number;
	unverifiable: number;
	sourceObjects: number;
	sourceBytes: number;
	targetObjects: number;
	targetBytes: number;
	/** Bytes of source objects that are missing or differ in the target. */
	bytesToCopy: number;
};

export type DriftEntry = {
	readonly kind: DriftKind;
	/** The key relative to the side's prefix. */
	readonly key: string;
	readonly source?: ObjectInfo;
	readonly target?: ObjectInfo;
	/** Running totals up to and including this entry (one object, updated in place). */
	readonly totals: Readonly<DriftTotals>;
};

export type BucketSide = {
	readonly client: FastS3Client;
	readonly bucket: string;
	/** Only keys under this prefix; keys are compared relative to it. */
	readonly prefix?: string;
};

export const emptyTotals = (): DriftTotals => ({
	same: 0, onlySource: 0, onlyTarget: 0, differs: 0, unverifiable: 0, sourceObjects: 0, sourceBytes: 0, targetObjects: 0, targetBytes: 0, bytesToCopy: 0,
});

/** Whether an ETag is a multipart one (`"<hex>-<parts>"`). */
export const isMultipartEtag = (etag: string) => /-\d+"?$/.test(etag);

/** Compares two objects with the same key (see the file header). */
export function compareObjects(source: ObjectInfo, target: ObjectInfo): '=' | '*' | '?' {
	if (source.size !== target.size) {
		return '*';
	}

	if (!source.etag || !target.etag) {
		return '?';
	}

	const sourceMultipart = isMultipartEtag(source.etag);
	const targetMultipart = isMultipartEtag(target.etag);
	if (source.etag === target.etag) {
		return '=';
	}

	if (!sourceMultipart && !targetMultipart) {
		return '*';
	}

	return '?';
}

/** The streaming merge of two sorted listings of relative keys (see the file header). */
export async function * drift(source: AsyncIterable<ObjectInfo>, target: AsyncIterable<ObjectInfo>, options: {signal?: AbortSignal; sourcePrefix?: string; targetPrefix?: string} = {}): AsyncGenerator<DriftEntry> {
	const totals = emptyTotals();
	const sourceCut = options.sourcePrefix?.length ?? 0;
	const targetCut = options.targetPrefix?.length ?? 0;
	const sourceIterator = source[Symbol.asyncIterator]();
	const targetIterator = target[Symbol.asyncIterator]();
	try {
		let [s, t] = await Promise.all([sourceIterator.next(), targetIterator.next()]);
		while (!s.done || !t.done) {
			options.signal?.throwIfAborted();
			const order = s.done ? 1 : (t.done ? -1 : compareKeys(s.value.key.slice(sourceCut), t.value.key.slice(targetCut)));
			if (order < 0) {
				const object = s.value as ObjectInfo;
				totals.sourceObjects++;
				totals.sourceBytes += object.size;
				totals.onlySource++;
				totals.bytesToCopy += object.size;
				yield {kind: '+', key: object.key.slice(sourceCut), source: object, totals};
				// eslint-disable-next-line no-await-in-loop
				s = await sourceIterator.next();
			} else if (order > 0) {
				const object = t.value as ObjectInfo;
				totals.targetObjects++;
				totals.targetBytes += object.size;
				totals.onlyTarget++;
				yield {kind: '-', key: object.key.slice(targetCut), target: object, totals};
				// eslint-disable-next-line no-await-in-loop
				t = await targetIterator.next();
			} else {
				const sourceObject = s.value as ObjectInfo;
				const targetObject = t.value as ObjectInfo;
				totals.sourceObjects++;
				totals.sourceBytes += sourceObject.size;
				totals.targetObjects++;
				totals.targetBytes += targetObject.size;
				const kind = compareObjects(sourceObject, targetObject);
				if (kind === '=') {
					totals.same++;
				} else if (kind === '*') {
					totals.differs++;
					totals.bytesToCopy += sourceObject.size;
				} else {
					totals.unverifiable++;
				}

				yield {kind, key: sourceObject.key.slice(sourceCut), source: sourceObject, target: targetObject, totals};
				// eslint-disable-next-line no-await-in-loop
				[s, t] = await Promise.all([sourceIterator.next(), targetIterator.next()]);
			}
		}
	} finally {
		await Promise.allSettled([sourceIterator.return?.(), targetIterator.return?.()]);
	}
}

export type BucketDriftOptions = {
	readonly signal?: AbortSignal;
	/** Resolve `?` with full-object checksums from HEAD where both sides have one. Default false. */
	readonly checksums?: boolean;
	/** Listing pages fetched ahead per side. Default 2. */
	readonly readAhead?: number;
	/** Use this listing for the source instead of listing it (e.g. a listing saved earlier, in key order). */
	readonly sourceListing?: AsyncIterable<ObjectInfo>;
};

/** The drift of two S3 buckets or prefixes (see the file header). */
export async function * bucketDrift(source: BucketSide, target: BucketSide, options: BucketDriftOptions = {}): AsyncGenerator<DriftEntry> {
	const sourceListing = options.sourceListing ?? source.client.list(source.bucket, {prefix: source.prefix, signal: options.signal, readAhead: options.readAhead});
	const targetListing = target.client.list(target.bucket, {prefix: target.prefix, signal: options.signal, readAhead: options.readAhead});
	for await (const entry of drift(sourceListing, targetListing, {signal: options.signal, sourcePrefix: source.prefix, targetPrefix: target.prefix})) {
		if (entry.kind === '?' && options.checksums) {
			const kind = await compareChecksums(source, target, entry);
			if (kind !== '?') {
				const totals = entry.totals as DriftTotals;
				totals.unverifiable--;
				if (kind === '=') {
					totals.same++;
				} else {
					totals.differs++;
					totals.bytesToCopy += entry.source!.size;
				}

				yield {...entry, kind};
				continue;
			}
		}

		yield entry;
	}
}

async function compareChecksums(source: BucketSide, target: BucketSide, entry: DriftEntry): Promise<DriftKind> {
	const [a, b] = await Promise.all([
		source.client.head(source.bucket, entry.source!.key, {checksums: true}),
		target.client.head(target.bucket, entry.target!.key, {checksums: true}),
	]);
	if (!a || !b || a.checksums['type'] !== 'FULL_OBJECT' || b.checksums['type'] !== 'FULL_OBJECT') {
		return '?';
	}

	for (const algorithm of ['crc64nvme', 'crc32c', 'crc32', 'sha256', 'sha1']) {
		const x = a.checksums[algorithm];
		const y = b.checksums[algorithm];
		if (x && y) {
			return x === y ? '=' : '*';
		}
	}

	return '?';
}

export type DriftSummary = {
	readonly totals: DriftTotals;
	/** The first `keep` entries that are not `=`, in key order. */
	readonly differences: ReadonlyArray<{kind: DriftKind; key: string; sourceSize?: number; targetSize?: number}>;
};

/** Runs a drift to the end; `onProgress` is called at most every `progressMs` with the running totals. */
export async function summarizeDrift(entries: AsyncIterable<DriftEntry>, options: {keep?: number; onProgress?: (totals: Readonly<DriftTotals>) => void; progressMs?: number} = {}): Promise<DriftSummary> {
	const keep = options.keep ?? 100;
	const differences: Array<{kind: DriftKind; key: string; sourceSize?: number; targetSize?: number}> = [];
	let totals = emptyTotals();
	let last = Date.now();
	for await (const entry of entries) {
		totals = entry.totals as DriftTotals;
		if (entry.kind !== '=' && differences.length < keep) {
			differences.push({kind: entry.kind, key: entry.key, sourceSize: entry.source?.size, targetSize: entry.target?.size});
		}

		if (options.onProgress && Date.now() - last >= (options.progressMs ?? 100)) {
			last = Date.now();
			options.onProgress(totals);
		}
	}

	return {totals: {...totals}, differences};
}
