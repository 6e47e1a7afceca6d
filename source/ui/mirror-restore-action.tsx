import React from 'react';
import type {BucketFigures} from '../layers/mirror-figures.js';
import type {ActionContext, ItemAction} from './actions.js';
import {MirrorRestoreScreen} from './wizard/mirror-restore-wizard.js';

/** The buckets of the Mirrors pane a restore of "all" covers: those compared without an error. */
const restorable = (context: ActionContext) => (context.live.getSnapshot().mirrors.value?.buckets ?? []).filter(bucket => !bucket.error && bucket.mirror.objects > 0).map(bucket => bucket.bucket);

/**
`R` on a bucket row in the Mirrors pane restores that bucket from the mirror; `A` restores every
bucket the pane compares. Both open the mirror restore wizard: the plan per bucket (copy,
overwrite, delete, skip), the preflight (bucket-init Jobs, empty mirror, RBAC), the typed gate,
then per-bucket bars, the verification and the report. The backup CronJob is held for the
duration. Changing and dangerous: gone under `--read-only`.

`J` (one bucket) and `I` (every compared bucket) are the same wizard with `where: 'in-cluster'`:
the copy step runs one Kubernetes Job per bucket (`restore mirror --in-cluster`: the runbook's
`minio/mc` image, `mc mirror --preserve`), for buckets too big to pull through this machine; the
wizard shows each Job, its pod's phase, its last log lines, mc's total and why it failed.
*/
export function mirrorRestoreAction(scope: 'bucket' | 'all', where: 'here' | 'in-cluster' = 'here'): ItemAction {
	const inCluster = where === 'in-cluster';
	const bucketsOf = (item: unknown, context: ActionContext) => scope === 'bucket' ? [(item as BucketFigures).bucket] : restorable(context);
	const why = (item: unknown, context: ActionContext): string | undefined => {
		if (context.readOnly) {
			return 'read-only mode: restores are not available';
		}

		// The session comes from the connection (connectLayers offers it with a mirror); the screen from the console.
		if (!context.live.sources.prepareMirrorRestore || !context.openScreen) {
			return `the restore wizard is not available with this connection (${context.live.sources.compareProblem ?? 'no mirror'}; use ilum-restore restore mirror --dry-run)`;
		}

		if (scope === 'bucket') {
			const figures = item as BucketFigures;
			if (figures.error) {
				return `${figures.bucket} could not be compared: ${figures.error}`;
			}

			if (figures.mirror.objects === 0 && figures.done) {
				return `the mirror holds nothing of ${figures.bucket}`;
			}
		} else if (bucketsOf(item, context).length === 0) {
			return 'no bucket with objects on the mirror';
		}

		return undefined;
	};

	const key = inCluster ? (scope === 'bucket' ? 'J' : 'I') : (scope === 'bucket' ? 'R' : 'A');
	return {
		id: `${scope === 'bucket' ? 'restore-mirror-bucket' : 'restore-mirror-all'}${inCluster ? '-jobs' : ''}`,
		keys: [key],
		label: key,
		description: inCluster
			? (scope === 'bucket'
				? 'Restore this bucket from the mirror with a Kubernetes Job in the cluster (mc mirror --preserve; as R, the Job\'s pod, log and outcome shown)'
				: 'Restore every compared bucket from the mirror with Kubernetes Jobs in the cluster (one per bucket, in parallel; as J)')
			: (scope === 'bucket'
				? 'Restore this bucket from the mirror (guided: plan, checks, confirmation, per-bucket progress, verification)'
				: 'Restore every compared bucket from the mirror (guided, as R)'),
		panes: ['mirrors'],
		changes: true,
		dangerous: true,
		disabledReason: why,
		async run(item, context) {
			const reason = why(item, context);
			if (reason) {
				return reason;
			}

			const buckets = bucketsOf(item, context);
			// The screen opens at once: counting big buckets takes a while, and Esc must stop it. The
			// console re-reads the layers when it closes.
			const handle = context.openScreen!(<MirrorRestoreScreen prepare={context.live.sources.prepareMirrorRestore!} buckets={buckets} {...(inCluster ? {inCluster: true} : {})} onExit={() => {
				handle.close();
			}}/>);
			return undefined;
		},
	};
}

export const restoreMirrorBucketAction = mirrorRestoreAction('bucket');
export const restoreMirrorAllAction = mirrorRestoreAction('all');
export const restoreMirrorBucketJobsAction = mirrorRestoreAction('bucket', 'in-cluster');
export const restoreMirrorAllJobsAction = mirrorRestoreAction('all', 'in-cluster');
