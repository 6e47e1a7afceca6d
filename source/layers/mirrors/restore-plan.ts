import {refusal, UserError} from '../../errors.js';
import {S3Error} from '../../storage/retry.js';
import {bucketDrift, drift, type DriftTotals} from './drift.js';
import type {MirrorPair} from './copy.js';

/**
The plan of a mirror restore, per bucket pair (mirror -> provider), from the drift:
- copy: only on the mirror (missing in the provider);
- overwrite: differs, only with `overwriteChanged` (else counted as `changedKept`);
- delete: only in the provider, only with `remove` (off by default; else `onlyTargetKept`);
- skipped: the same, or not comparable by ETag (`unverifiable`, see drift.ts).

`planBucket` streams the drift (constant memory) and returns counts and bytes. `preflightPairs`
holds the checks that refuse before anything is planned or changed (exit 3).
*/

export type PlanCount = {objects: number; bytes: number};

export type BucketPlan = {
	readonly bucket: string;
	readonly source: string;
	readonly target: string;
	readonly createBucket: boolean;
	readonly copy: PlanCount;
	readonly overwrite: PlanCount;
	readonly delete: PlanCount;
	readonly skipped: PlanCount;
	readonly changedKept: PlanCount;
	readonly onlyTargetKept: PlanCount;
	readonly unverifiable: number;
	readonly sourceTotals: PlanCount;
	readonly targetTotals: PlanCount;
};

export type PlanOptions = {
	readonly overwriteChanged?: boolean;
	readonly remove?: boolean;
	readonly signal?: AbortSignal;
	/** Running totals while the listings are merged. */
	readonly onProgress?: (bucket: string, totals: Readonly<DriftTotals>) => void;
};

const zero = (): PlanCount => ({objects: 0, bytes: 0});
const add = (count: PlanCount, size: number) => {
	count.objects++;
	count.bytes += size;
};

export const describeSide = (side: MirrorPair['source']) => `${side.client.endpoint.endpoint}/${side.bucket}${side.prefix ? '/' + side.prefix : ''}`;

/** The plan of one pair (a full merge of both listings). `targetExists: false` plans a bucket creation and an empty target. */
export async function planBucket(pair: MirrorPair, options: PlanOptions & {targetExists?: boolean} = {}): Promise<BucketPlan> {
	const copy = zero();
	const overwrite = zero();
	const deletion = zero();
	const skipped = zero();
	const changedKept = zero();
	const onlyTargetKept = zero();
	let unverifiable = 0;
	let totals: Readonly<DriftTotals> | undefined;
	let last = 0;
	const stream = options.targetExists === false ? onlySource(pair, options.signal) : bucketDrift(pair.source, pair.target, {signal: options.signal});
	for await (const entry of stream) {
		totals = entry.totals;
		switch (entry.kind) {
			case '+': {
				add(copy, entry.source!.size);
				break;
			}

			case '*': {
				if (options.overwriteChanged) {
					add(overwrite, entry.source!.size);
				} else {
					add(changedKept, entry.source!.size);
					add(skipped, entry.source!.size);
				}

				break;
			}

			case '-': {
				if (options.remove) {
					add(deletion, entry.target!.size);
				} else {
					add(onlyTargetKept, entry.target!.size);
					add(skipped, entry.target!.size);
				}

				break;
			}

			case '?': {
				unverifiable++;
				add(skipped, entry.source!.size);
				break;
			}

			default: {
				add(skipped, entry.source!.size);
			}
		}

		if (options.onProgress && Date.now() - last > 200) {
			last = Date.now();
			options.onProgress(pair.name, totals);
		}
	}

	return {
		bucket: pair.name,
		source: describeSide(pair.source),
		target: describeSide(pair.target),
		createBucket: options.targetExists === false,
		copy,
		overwrite,
		delete: deletion,
		skipped,
		changedKept,
		onlyTargetKept,
		unverifiable,
		sourceTotals: {objects: totals?.sourceObjects ?? 0, bytes: totals?.sourceBytes ?? 0},
		targetTotals: {objects: totals?.targetObjects ?? 0, bytes: totals?.targetBytes ?? 0},
	};
}

/** The drift against a bucket that does not exist yet: everything is `+`. */
async function * onlySource(pair: MirrorPair, signal?: AbortSignal) {
	yield * drift(pair.source.client.list(pair.source.bucket, {prefix: pair.source.prefix, signal}), (async function * () {})(), {signal, sourcePrefix: pair.source.prefix});
}

export type PairState = {
	readonly pair: MirrorPair;
	readonly targetExists: boolean;
};

/**
The checks before a plan: the source bucket exists; refuses (exit 3) when the source has no object
while the target has some (a wrong mirror, or a mirror emptied by a `--remove` run: restoring it
would change nothing, and with `remove` would empty the provider).
*/
export async function preflightPairs(pairs: readonly MirrorPair[], options: {signal?: AbortSignal} = {}): Promise<PairState[]> {
	const states: PairState[] = [];
	for (const pair of pairs) {
		// eslint-disable-next-line no-await-in-loop
		const [sourceExists, targetExists, sourceEmpty] = await Promise.all([
			pair.source.client.bucketExists(pair.source.bucket, {signal: options.signal}),
			pair.target.client.bucketExists(pair.target.bucket, {signal: options.signal}),
			// A missing bucket is reported below, with its name.
			isEmpty(pair.source, options.signal).catch((error: unknown) => {
				if (error instanceof S3Error && error.status === 404) {
					return true;
				}

				throw error;
			}),
		]);
		if (!sourceExists) {
			throw new UserError(`The mirror has no bucket ${describeSide(pair.source)}`, {hint: 'check --bucket and the mirror endpoint (--mirror-endpoint, --mirror-root)'});
		}

		// eslint-disable-next-line no-await-in-loop
		const targetEmpty = targetExists ? await isEmpty(pair.target, options.signal) : true;
		if (sourceEmpty && !targetEmpty) {
			throw refusal(`The mirror ${describeSide(pair.source)} is empty while the provider ${describeSide(pair.target)} is not`, 'check that the mirror endpoint and bucket are right; nothing was changed');
		}

		states.push({pair, targetExists});
	}

	return states;
}

async function isEmpty(side: MirrorPair['source'], signal?: AbortSignal): Promise<boolean> {
	const listing = side.client.list(side.bucket, {prefix: side.prefix, pageSize: 1, readAhead: 1, signal});
	for await (const _object of listing) {
		await listing.return(undefined);
		return false;
	}

	return true;
}
