import type {V1CronJob} from '@kubernetes/client-node';
import type {MirrorCopyRequest, MirrorCopyStrategy} from '../../restore/mirror-plan.js';
import type {ProgressEvent} from './copy.js';
import {InClusterAborted, describeEvent, findRun, isObjectLine, labels, runMirrorJobs, type InClusterEvent, type JobCluster, type SecretKeys} from './in-cluster.js';

/**
The in-cluster Jobs as the copy step of the mirror restore plan (`restore/mirror-plan.ts`'s
`MirrorCopyStrategy` seam): the other steps (bucket-init check, bucket creation, CronJob hold and
resume, the gates, the verification from here, the journal) stay the engine's.

Job events become the copy engine's `ProgressEvent`s: a Job created or followed is `bucket-start`;
each object mc reports copied counts towards `progress` (totals from the plan); a Job that
succeeded is `bucket-done` (verified by the plan's verify step, from here); a failed Job throws
(the step fails with the Job's reason and last log line; `--resume` retries it). Every Job event
also goes to `onEvent` (the CLI prints pod phases and log lines; the console may show them).
*/
export type InClusterCopyOptions = {
	/** Where the Jobs run (the plan's namespace; for the access review). */
	readonly namespace: string;
	/** Built when the step runs (the kube context). */
	readonly cluster: () => Promise<JobCluster>;
	/** The backup CronJob (where the Jobs' env comes from, its image). */
	readonly cronJob?: () => Promise<V1CronJob | undefined>;
	readonly image?: string;
	/** The Secrets' key names (see `mirrorEnvironment`); may refuse when a Secret is missing. */
	readonly secretKeys?: () => Promise<SecretKeys>;
	readonly keepOnAbort?: boolean;
	readonly pollMs?: number;
	readonly progressMs?: number;
	readonly onEvent?: (event: InClusterEvent) => void;
	/** Ctrl-C: which Jobs were deleted or left running (the engine words the step's failure itself). */
	readonly onStopped?: (line: string) => void;
};

/** mc's line for one copied object: "`backup/b/k` -> `ilum/b/k`", or with `--json` a line with source, target and size. */
function copiedObject(line: string): {size?: number} | undefined {
	if (isObjectLine(line)) {
		return {};
	}

	if (line.startsWith('{')) {
		try {
			const parsed = JSON.parse(line) as {status?: string; source?: string; target?: string; size?: number};
			if (parsed.status === 'success' && parsed.source && parsed.target) {
				return {size: typeof parsed.size === 'number' ? parsed.size : undefined};
			}
		} catch {}
	}

	return undefined;
}

export function inClusterCopy(options: InClusterCopyOptions): MirrorCopyStrategy {
	return {
		name: 'in-cluster',
		title: 'Copy the mirror into the provider with Kubernetes Jobs in the cluster (one per bucket, minio/mc mirror --preserve)',
		changes: 'creates one Job per bucket (label app.kubernetes.io/managed-by=ilum-restore) whose mc mirror writes the missing objects into the provider; the Jobs are kept a day (ttlSecondsAfterFinished), deleted on Ctrl-C unless --keep-jobs',
		access: [
			{verb: 'create', group: 'batch', resource: 'jobs', namespace: options.namespace},
			{verb: 'delete', group: 'batch', resource: 'jobs', namespace: options.namespace},
			{verb: 'patch', group: 'batch', resource: 'jobs', namespace: options.namespace},
			{verb: 'list', group: '', resource: 'pods', namespace: options.namespace},
			{verb: 'get', group: '', resource: 'pods', subresource: 'log', namespace: options.namespace},
		],
		objects: ['Job/ilum-restore-mirror-*'],
		copy: request => copyWithJobs(request, options),
	};
}

async function * copyWithJobs(request: MirrorCopyRequest, options: InClusterCopyOptions): AsyncGenerator<ProgressEvent> {
	const cluster = await options.cluster();
	const cronJob = await options.cronJob?.();
	const secretKeys = await options.secretKeys?.();
	const names = request.buckets.map(bucket => bucket.name);
	const mirrorOptions = {remove: false, overwrite: request.overwriteChanged};
	const found = await findRun(cluster, {namespace: request.namespace, buckets: names, options: mirrorOptions});
	const targets = request.buckets.map(bucket => ({
		bucket: bucket.name,
		source: {bucket: bucket.source.bucket, prefix: bucket.source.prefix},
		// The facts' prefixes already hold --prefix on both sides.
		prefix: bucket.target.prefix,
	}));
	// The source prefix of the facts includes --prefix; the Job adds `prefix` to both sides, so strip it from the source.
	for (const target of targets) {
		if (target.prefix && target.source.prefix?.endsWith(target.prefix)) {
			target.source.prefix = target.source.prefix.slice(0, -target.prefix.length) || undefined;
		}
	}

	const state = new Map(request.buckets.map(bucket => [bucket.name, {
		objectsDone: 0,
		bytesDone: 0,
		objectsTotal: bucket.plan.copy.objects + (request.overwriteChanged ? bucket.plan.overwrite.objects : 0),
		bytesTotal: bucket.plan.copy.bytes + (request.overwriteChanged ? bucket.plan.overwrite.bytes : 0),
		skipped: bucket.plan.skipped.objects,
		changedKept: request.overwriteChanged ? 0 : bucket.plan.changedKept.objects,
		onlyTargetKept: bucket.plan.onlyTargetKept.objects,
		startedAt: Date.now(),
		lastProgress: 0,
	}]));
	const figures = (bucket: string) => {
		const item = state.get(bucket)!;
		const elapsedMs = Date.now() - item.startedAt;
		return {
			bucket,
			objectsTotal: Math.max(item.objectsTotal, item.objectsDone),
			bytesTotal: item.bytesTotal,
			objectsDone: item.objectsDone,
			bytesDone: item.bytesDone,
			listingDone: true,
			deleted: 0,
			skipped: item.skipped,
			changedKept: item.changedKept,
			onlyTargetKept: item.onlyTargetKept,
			retries: 0,
			failed: 0,
			unverified: 0,
			rate: elapsedMs > 0 ? Math.round(item.bytesDone / (elapsedMs / 1000)) : 0,
			concurrency: 1,
			elapsedMs,
		};
	};

	try {
		for await (const event of runMirrorJobs(cluster, targets, {
			namespace: request.namespace,
			runId: found.runId,
			options: mirrorOptions,
			cronJob,
			...(secretKeys ? {secretKeys} : {}),
			image: options.image ?? cronJobImage(cronJob),
			existing: found.jobs,
			signal: request.signal,
			keepOnAbort: options.keepOnAbort,
			pollMs: options.pollMs,
		})) {
			options.onEvent?.(event);
			const item = state.get(event.bucket);
			if (!item) {
				continue;
			}

			switch (event.type) {
				case 'job-created':
				case 'job-followed': {
					item.startedAt = Date.now();
					yield {type: 'bucket-start', bucket: event.bucket};
					break;
				}

				case 'log': {
					const copied = copiedObject(event.line);
					if (copied) {
						item.objectsDone++;
						item.bytesDone += copied.size ?? 0;
						if (Date.now() - item.lastProgress >= (options.progressMs ?? 500)) {
							item.lastProgress = Date.now();
							yield {type: 'progress', ...figures(event.bucket)};
						}
					}

					break;
				}

				case 'job-succeeded': {
					if (item.bytesDone === 0 && item.objectsDone >= item.objectsTotal) {
						// mc's plain lines carry no sizes: what was planned is what was copied.
						item.bytesDone = item.bytesTotal;
					}

					yield {type: 'bucket-done', failedKeys: [], ...figures(event.bucket), ...(event.elapsedMs === undefined ? {} : {elapsedMs: event.elapsedMs})};
					break;
				}

				case 'job-failed': {
					throw new Error(describeEvent(event));
				}

				default: {
					break;
				}
			}
		}
	} catch (error) {
		if (error instanceof InClusterAborted) {
			const line = error.deleted.length > 0
				? `interrupted: deleted the Jobs ${error.deleted.join(', ')}`
				: `interrupted: the Jobs ${error.left.join(', ')} are left running (kubectl -n ${request.namespace} get jobs -l ${labels.run}=${found.runId}); --resume follows them`;
			options.onStopped?.(line);
			throw new Error(line);
		}

		throw error;
	}
}

export function cronJobImage(cronJob: V1CronJob | undefined): string | undefined {
	const images = (cronJob?.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []).map(container => container.image ?? '');
	return images.find(image => /(^|\/)mc[:@]|minio\/mc|minio-client/.test(image)) || undefined;
}
