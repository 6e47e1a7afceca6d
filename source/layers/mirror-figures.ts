/**
The Mirrors layer as the inventory and the console see it: the backup CronJob plus, per bucket,
objects and bytes on each side and the drift. The drift itself is computed by a streaming merge
of the two sorted listings (`source/layers/mirrors/drift.ts`); this file only holds its shape as
shown, and the adapter point (`BucketComparer`).
*/
import type {BackupCron} from './mirrors/cron.js';

export type SideFigures = {readonly objects: number; readonly bytes: number};

/** One differing key, as `rclone check` marks it: `+` only in the provider, `-` only on the mirror, `*` differs. */
export type DriftKey = {readonly key: string; readonly mark: '+' | '-' | '*'};

export type BucketFigures = {
	readonly bucket: string;
	readonly provider: SideFigures;
	readonly mirror: SideFigures;
	/** In the provider, not on the mirror (the next run copies them). */
	readonly missingOnMirror: number;
	/** On the mirror, gone from the provider (a run with `--remove` deletes them from the backup). */
	readonly missingInProvider: number;
	readonly changed: number;
	/** The comparison finished (otherwise the figures are still growing). */
	readonly done: boolean;
	/** When these figures were taken (epoch ms): shown as their age. */
	readonly at: number;
	/** The first differing keys (bounded), for the detail view. */
	readonly keys?: readonly DriftKey[];
	readonly error?: string;
};

/** Compares one bucket on both sides, yielding growing figures while it runs; the last one has `done`. */
export type BucketComparer = (bucket: string, signal?: AbortSignal) => AsyncIterable<BucketFigures>;

export type MirrorInventory = {
	readonly cron?: BackupCron;
	/** Why the CronJob could not be read, or that there is none. */
	readonly cronProblem?: string;
	/** Buckets compared (or being compared). */
	readonly buckets: readonly BucketFigures[];
	/** The provider's S3 endpoint, and whether it answered. */
	readonly provider?: {readonly endpoint?: string; readonly via?: string; readonly reachable: boolean; readonly error?: string};
	/** Why buckets could not be compared at all (no mirror endpoint, no credentials). */
	readonly compareProblem?: string;
	/** Whether RBAC lets this identity patch the CronJob (SelfSubjectAccessReview); undefined: not asked. */
	readonly canPatchCronJob?: boolean;
};

/** Drains a comparer, keeping only its last figures. */
export async function compareToEnd(compare: BucketComparer, bucket: string, signal?: AbortSignal): Promise<BucketFigures> {
	let last: BucketFigures | undefined;
	try {
		for await (const figures of compare(bucket, signal)) {
			last = figures;
		}
	} catch (error) {
		return {...emptyFigures(bucket), ...last, done: true, at: Date.now(), error: error instanceof Error ? error.message.split('\n')[0] : String(error)};
	}

	return last ?? {...emptyFigures(bucket), done: true, error: 'no figures'};
}

export const emptyFigures = (bucket: string): BucketFigures => ({bucket, provider: {objects: 0, bytes: 0}, mirror: {objects: 0, bytes: 0}, missingOnMirror: 0, missingInProvider: 0, changed: 0, done: false, at: Date.now()});
