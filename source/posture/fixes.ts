/**
The posture's fix actions as restore-engine plans: each shows what it changes and how it is
undone, asks for the permissions it needs, is journaled, audited and reported like a restore.
Facts are plain JSON (journaled, so a resumed run rebuilds the same plan); credentials are never
part of them.
*/
import type {MutationStep, RestorePlan, Step, WaitStep} from '../restore/plan.js';
import type {ProtectionWrites} from '../cluster/protection.js';
import type {VolumeRestoreCluster} from '../cluster/mutations.js';
import {bucketSummaryAnnotation, type BucketSummary, type ProviderProbe} from '../restore/bucket-summary.js';
import {managedBy, mirrorCronJob, snapshotSchedule, type MirrorCronOptions, type SnapshotScheduleOptions} from './manifests.js';

export type FixDeps = {
	readonly writes: ProtectionWrites;
	/** Snapshots, scaling and waits are the restore's own operations. */
	readonly cluster: VolumeRestoreCluster;
	/** Wait deadlines (ms); tests shorten them. */
	readonly timeoutMs?: number;
	/** Lists the provider's buckets (objects, bytes) for the summary a snapshot carries; absent: no S3 endpoint. */
	readonly probe?: ProviderProbe;
};

const snapshotGroup = 'snapshot.storage.k8s.io';
const minutes = (count: number) => count * 60_000;

export type SnapshotClassFacts = {readonly name: string; readonly driver: string; readonly deletionPolicy: 'Retain' | 'Delete'};

export function snapshotClassPlan(facts: SnapshotClassFacts, deps: FixDeps): RestorePlan {
	return {
		kind: 'snapshot-class',
		target: `volumesnapshotclass/${facts.name}`,
		summary: `Create VolumeSnapshotClass ${facts.name} for CSI driver ${facts.driver} (deletionPolicy ${facts.deletionPolicy})`,
		facts,
		blastRadius: ['none: adds a cluster-scoped class; nothing existing changes'],
		warnings: facts.deletionPolicy === 'Delete' ? ['deletionPolicy Delete: deleting a VolumeSnapshot deletes its data'] : [],
		access: [{verb: 'create', group: snapshotGroup, resource: 'volumesnapshotclasses'}],
		undo: [`kubectl delete volumesnapshotclass ${facts.name}`],
		steps: [
			{
				id: 'create-class', kind: 'mutation', title: `Create VolumeSnapshotClass ${facts.name}`, objects: [`VolumeSnapshotClass/${facts.name}`],
				changes: `adds VolumeSnapshotClass ${facts.name} (driver ${facts.driver})`,
				undo: `kubectl delete volumesnapshotclass ${facts.name}`,
				async check() {
					return Boolean(await deps.cluster.getVolumeSnapshotClass(facts.name));
				},
				async * run() {
					await deps.writes.createVolumeSnapshotClass({name: facts.name, driver: facts.driver, deletionPolicy: facts.deletionPolicy, labels: managedBy});
					yield {message: 'created', object: `VolumeSnapshotClass/${facts.name}`};
				},
			},
			{
				id: 'verify-class', kind: 'verify', title: `VolumeSnapshotClass ${facts.name} uses driver ${facts.driver}`,
				async * run() {
					const found = await deps.cluster.getVolumeSnapshotClass(facts.name);
					if (found?.driver !== facts.driver) {
						throw new Error(`VolumeSnapshotClass ${facts.name} ${found ? `uses driver ${found.driver}` : 'is missing'}`);
					}

					yield {message: `driver ${found.driver}, deletionPolicy ${found.deletionPolicy}`};
					return {detail: 'class in place'};
				},
			},
		],
	};
}

export type SnapshotCreateFacts = {
	readonly namespace: string;
	readonly name: string;
	readonly claim: string;
	readonly className?: string;
	/** Pause writes first by scaling the provider to 0, and scale it back after. */
	readonly quiesce?: {readonly statefulSet: string; readonly replicas: number; readonly selector: string};
	/** The provider's S3 endpoint: its buckets are listed just before the cut and the summary written on the snapshot. */
	readonly s3Endpoint?: string;
};

const noSummary = `a restore from it cannot verify that every bucket came back (annotation ${bucketSummaryAnnotation})`;

/** Steps that scale the provider back to what it was (shared by the plan and the interruption path). */
export function resumeWritersSteps(facts: SnapshotCreateFacts & {quiesce: NonNullable<SnapshotCreateFacts['quiesce']>}, deps: FixDeps): Step[] {
	const {namespace: ns, quiesce} = facts;
	const timeout = deps.timeoutMs ?? minutes(10);
	return [
		{
			id: 'resume-writers', kind: 'mutation', title: `Scale StatefulSet ${quiesce.statefulSet} back to ${quiesce.replicas}`, objects: [`StatefulSet/${ns}/${quiesce.statefulSet}`],
			changes: `restores ${quiesce.replicas} replica${quiesce.replicas === 1 ? '' : 's'}: writes resume`,
			undo: 'none needed',
			async check() {
				return (await deps.cluster.getStatefulSet(ns, quiesce.statefulSet))?.spec?.replicas === quiesce.replicas;
			},
			async * run() {
				await deps.cluster.scaleStatefulSet(ns, quiesce.statefulSet, quiesce.replicas);
				yield {message: `replicas ${quiesce.replicas}`};
			},
		} satisfies MutationStep,
		{
			id: 'writers-ready', kind: 'wait', title: `Wait until ${quiesce.statefulSet} is ready`, timeoutMs: timeout, objects: [`StatefulSet/${ns}/${quiesce.statefulSet}`],
			async check() {
				return ((await deps.cluster.getStatefulSet(ns, quiesce.statefulSet))?.status?.readyReplicas ?? 0) >= quiesce.replicas;
			},
			async * run(context) {
				yield * deps.cluster.waitForStatefulSetReady(ns, quiesce.statefulSet, quiesce.replicas, {timeoutMs: timeout, signal: context.signal});
			},
		} satisfies WaitStep,
	];
}

export function snapshotCreatePlan(facts: SnapshotCreateFacts, deps: FixDeps): RestorePlan {
	const {namespace: ns, quiesce} = facts;
	const timeout = deps.timeoutMs ?? minutes(15);
	const steps: Step[] = [{
		id: 'claim-bound', kind: 'precondition', title: `Claim ${facts.claim} is Bound`, objects: [`PersistentVolumeClaim/${ns}/${facts.claim}`],
		async evaluate() {
			const claim = await deps.cluster.getPersistentVolumeClaim(ns, facts.claim);
			return claim?.status?.phase === 'Bound'
				? {ok: true, detail: `claim ${facts.claim} is Bound to ${claim.spec?.volumeName ?? '?'}`}
				: {ok: false, detail: `claim ${facts.claim} is ${claim ? claim.status?.phase ?? 'not bound' : 'missing'}`, hint: 'check the namespace (-n) and the provider'};
		},
	}];
	if (facts.className) {
		const className = facts.className;
		steps.push({
			id: 'class-present', kind: 'precondition', title: `VolumeSnapshotClass ${className} exists`, objects: [`VolumeSnapshotClass/${className}`],
			async evaluate() {
				return await deps.cluster.getVolumeSnapshotClass(className)
					? {ok: true, detail: `VolumeSnapshotClass ${className} exists`}
					: {ok: false, detail: `VolumeSnapshotClass ${className} is missing`, hint: `ilum-restore snapshot class create -n ${ns} --yes`};
			},
		});
	}

	const probe = facts.s3Endpoint ? deps.probe : undefined;
	if (probe) {
		// Just before the cut (and before a pause, which takes the provider offline): what the
		// snapshot will hold, for a later restore to verify against. Unreachable: the snapshot is
		// still taken, without it, and the step says so.
		steps.push({
			id: 'bucket-summary', kind: 'verify', title: `Record what the provider holds (objects and bytes per bucket, via ${probe.endpoint})`,
			async * run(context) {
				yield {message: 'listing buckets', kind: 'wait'};
				let summary: BucketSummary;
				try {
					summary = await probe.summarize(context.signal);
				} catch (error) {
					const why = error instanceof Error ? error.message.split('\n')[0]! : String(error);
					yield {message: `the provider does not answer at ${probe.endpoint} (${why}): the snapshot carries no bucket summary; ${noSummary}`, kind: 'warning'};
					return {detail: `no summary: the provider does not answer at ${probe.endpoint}`};
				}

				const total = Object.values(summary.buckets).reduce((sum, bucket) => sum + bucket.objects, 0);
				yield {message: `${Object.keys(summary.buckets).length} buckets, ${total} objects`, current: total, unit: 'objects'};
				return {detail: `${Object.keys(summary.buckets).length} buckets, ${total} objects`, summary};
			},
		});
	}

	if (quiesce) {
		steps.push({
			id: 'quiesce', kind: 'mutation', title: `Pause writes: scale StatefulSet ${quiesce.statefulSet} to 0`, objects: [`StatefulSet/${ns}/${quiesce.statefulSet}`],
			changes: 'the object storage is offline until the snapshot is cut',
			undo: `kubectl -n ${ns} scale statefulset ${quiesce.statefulSet} --replicas=${quiesce.replicas}`,
			dangerous: {confirmText: quiesce.statefulSet, reason: 'takes the object storage offline for every Ilum service'},
			async check() {
				return (await deps.cluster.getStatefulSet(ns, quiesce.statefulSet))?.spec?.replicas === 0;
			},
			async * run() {
				await deps.cluster.scaleStatefulSet(ns, quiesce.statefulSet, 0);
				yield {message: 'replicas 0'};
			},
		}, {
			id: 'writers-gone', kind: 'wait', title: `Wait until the pods of ${quiesce.statefulSet} are gone`, timeoutMs: deps.timeoutMs ?? minutes(10), objects: [`Pod/${ns}/${quiesce.statefulSet}-0`],
			async check() {
				return (await deps.cluster.listPods(ns, quiesce.selector)).length === 0;
			},
			async * run(context) {
				yield * deps.cluster.waitForPodsGone(ns, quiesce.selector, {timeoutMs: deps.timeoutMs ?? minutes(10), signal: context.signal});
			},
		});
	}

	steps.push({
		id: 'create-snapshot', kind: 'mutation', title: `Take VolumeSnapshot ${facts.name} of claim ${facts.claim}`, objects: [`VolumeSnapshot/${ns}/${facts.name}`],
		changes: `creates VolumeSnapshot ${facts.name}${quiesce ? ' (application-consistent: writes paused)' : ' (crash-consistent)'}`,
		undo: `kubectl -n ${ns} delete volumesnapshot ${facts.name}`,
		async check() {
			return Boolean(await deps.cluster.getVolumeSnapshot(ns, facts.name));
		},
		async * run(context) {
			const summary = (context.results.get('bucket-summary') as {summary?: BucketSummary} | undefined)?.summary;
			await deps.cluster.createVolumeSnapshot(ns, {
				name: facts.name,
				claim: facts.claim,
				...(facts.className ? {className: facts.className} : {}),
				annotations: {
					'ilum.cloud/taken-by': `ilum-restore snapshot create${quiesce ? ' --quiesce' : ''}`,
					...(summary ? {[bucketSummaryAnnotation]: JSON.stringify(summary)} : {}),
				},
				labels: managedBy,
			});
			yield {message: 'created', object: `VolumeSnapshot/${facts.name}`};
		},
	}, {
		id: 'snapshot-ready', kind: 'wait', title: `Wait until ${facts.name} is ready to use`, timeoutMs: timeout, objects: [`VolumeSnapshot/${ns}/${facts.name}`],
		async check() {
			return (await deps.cluster.getVolumeSnapshot(ns, facts.name))?.status?.readyToUse === true;
		},
		async * run(context) {
			const snapshot = yield * deps.cluster.waitForSnapshotReady(ns, facts.name, {timeoutMs: timeout, signal: context.signal});
			return {restoreSize: snapshot.status?.restoreSize};
		},
	});
	if (quiesce) {
		steps.push(...resumeWritersSteps({...facts, quiesce}, deps));
	}

	steps.push({
		id: 'verify-snapshot', kind: 'verify', title: `VolumeSnapshot ${facts.name} is ready${quiesce ? ` and ${quiesce.statefulSet} runs ${quiesce.replicas} replica${quiesce.replicas === 1 ? '' : 's'} again` : ''}`,
		async * run() {
			const snapshot = await deps.cluster.getVolumeSnapshot(ns, facts.name);
			if (snapshot?.status?.readyToUse !== true) {
				throw new Error(`VolumeSnapshot ${facts.name} is not ready${snapshot?.status?.error?.message ? `: ${snapshot.status.error.message}` : ''}`);
			}

			if (quiesce && (await deps.cluster.getStatefulSet(ns, quiesce.statefulSet))?.spec?.replicas !== quiesce.replicas) {
				throw new Error(`StatefulSet ${quiesce.statefulSet} does not run ${quiesce.replicas} replicas`);
			}

			yield {message: `ready, restoreSize ${snapshot.status.restoreSize ?? '?'}`};
			return {detail: `snapshot ${facts.name} ready`};
		},
	});
	return {
		kind: 'snapshot',
		target: `snapshot/${ns}/${facts.claim}`,
		summary: `Take VolumeSnapshot ${facts.name} of ${facts.claim}${quiesce ? ' with writes paused' : ''}`,
		facts,
		blastRadius: quiesce ? [`the object storage (StatefulSet ${quiesce.statefulSet}) is offline from the pause until the snapshot is cut and the pods are ready again`] : ['none: the provider keeps serving (the snapshot is crash-consistent)'],
		warnings: probe ? [] : [`no S3 endpoint for the provider (--s3-endpoint, AWS_ENDPOINT_URL, or a port-forward through the API server): the snapshot carries no bucket summary; ${noSummary}`],
		access: [
			{verb: 'create', group: snapshotGroup, resource: 'volumesnapshots', namespace: ns},
			...(quiesce ? [{verb: 'patch', group: 'apps', resource: 'statefulsets', subresource: 'scale', namespace: ns, name: quiesce.statefulSet}] : []),
		],
		undo: [`kubectl -n ${ns} delete volumesnapshot ${facts.name}`],
		steps,
	};
}

export function snapshotSchedulePlan(facts: SnapshotScheduleOptions, deps: FixDeps): RestorePlan {
	const ns = facts.namespace;
	const manifests = snapshotSchedule(facts);
	const ensure = (id: string, kind: string, title: string, apply: () => Promise<void>, exists: () => Promise<boolean>): MutationStep => ({
		id, kind: 'mutation', title, objects: [`${kind}/${ns}/${facts.name}`],
		changes: `creates or replaces ${kind} ${facts.name}`,
		undo: `kubectl -n ${ns} delete ${kind.toLowerCase()} ${facts.name}`,
		check: exists,
		async * run() {
			await apply();
			yield {message: 'in place', object: `${kind}/${facts.name}`};
		},
	});
	return {
		kind: 'snapshot-schedule',
		target: `snapshot-schedule/${ns}/${facts.name}`,
		summary: `Install the snapshot schedule ${facts.name}: a VolumeSnapshot of ${facts.claim} on '${facts.schedule}', keeping ${facts.retain}`,
		facts,
		blastRadius: [`the schedule deletes its own oldest snapshots beyond ${facts.retain} (only those labelled ilum.cloud/snapshot-schedule=${facts.name})`],
		warnings: [],
		access: [
			{verb: 'create', group: '', resource: 'serviceaccounts', namespace: ns},
			{verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'roles', namespace: ns},
			{verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace: ns},
			{verb: 'create', group: 'batch', resource: 'cronjobs', namespace: ns},
		],
		undo: [`kubectl -n ${ns} delete cronjob,rolebinding,role,serviceaccount ${facts.name}`],
		steps: [
			ensure('service-account', 'ServiceAccount', `ServiceAccount ${facts.name}`, async () => deps.writes.ensureServiceAccount(ns, manifests.account), async () => false),
			ensure('role', 'Role', `Role ${facts.name}: create, get, list, delete volumesnapshots only`, async () => deps.writes.ensureRole(ns, manifests.role), async () => false),
			ensure('role-binding', 'RoleBinding', `RoleBinding ${facts.name}`, async () => deps.writes.ensureRoleBinding(ns, manifests.binding), async () => false),
			ensure('cronjob', 'CronJob', `CronJob ${facts.name} on '${facts.schedule}'`, async () => deps.writes.ensureCronJob(ns, manifests.cronJob), async () => false),
			{
				id: 'verify-schedule', kind: 'verify', title: `CronJob ${facts.name} is scheduled and not suspended`,
				async * run() {
					const cronJob = await deps.writes.getCronJob(ns, facts.name);
					if (!cronJob || cronJob.spec?.suspend || cronJob.spec?.schedule !== facts.schedule) {
						throw new Error(`CronJob ${facts.name} ${cronJob ? 'is not as installed' : 'is missing'}`);
					}

					yield {message: `schedule ${cronJob.spec.schedule}`};
					return {detail: 'schedule in place'};
				},
			},
		],
	};
}

export type MirrorInstallFacts = MirrorCronOptions & {
	/** The destination, without credentials. */
	readonly endpoint: string;
	/** Whether new credentials are written into the backup Secret (their values stay out of the facts). */
	readonly writeSecret: boolean;
};

export function mirrorInstallPlan(facts: MirrorInstallFacts, deps: FixDeps, secret?: {accessKey: string; secretKey: string}): RestorePlan {
	const ns = facts.namespace;
	const steps: Step[] = [];
	if (facts.writeSecret) {
		steps.push({
			id: 'backup-secret', kind: 'mutation', title: `Secret ${facts.backupSecret}: the mirror's endpoint and keys`, objects: [`Secret/${ns}/${facts.backupSecret}`],
			changes: `creates or replaces Secret ${facts.backupSecret} (endpoint ${facts.endpoint})`,
			undo: `restore the previous Secret from your own copy (its old keys are not kept)`,
			async check() {
				return false;
			},
			async * run() {
				if (!secret) {
					throw new Error('the mirror\'s access key and secret key are not set: export MIRROR_ACCESS_KEY_ID and MIRROR_SECRET_ACCESS_KEY and run again with --resume');
				}

				await deps.writes.ensureSecret(ns, facts.backupSecret, {endpoint: facts.endpoint, 'access-key': secret.accessKey, 'secret-key': secret.secretKey}, managedBy);
				yield {message: 'written (values not shown)', object: `Secret/${facts.backupSecret}`};
			},
		});
	}

	steps.push({
		id: 'mirror-cronjob', kind: 'mutation', title: `CronJob ${facts.name}: mc mirror --preserve${facts.remove ? ' --remove' : ''} of ${facts.buckets.length} buckets on '${facts.schedule}'`, objects: [`CronJob/${ns}/${facts.name}`],
		changes: `creates or replaces CronJob ${facts.name}`,
		undo: `kubectl -n ${ns} delete cronjob ${facts.name}`,
		async check() {
			return false;
		},
		async * run() {
			await deps.writes.ensureCronJob(ns, mirrorCronJob(facts));
			yield {message: 'in place', object: `CronJob/${facts.name}`};
		},
	}, {
		id: 'verify-mirror', kind: 'verify', title: `CronJob ${facts.name} covers ${facts.buckets.join(', ')}`,
		async * run() {
			const cronJob = await deps.writes.getCronJob(ns, facts.name);
			const script = cronJob?.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args?.join(' ') ?? '';
			const missing = facts.buckets.filter(bucket => !script.includes(bucket));
			if (!cronJob || cronJob.spec?.suspend || missing.length > 0) {
				throw new Error(`CronJob ${facts.name} ${cronJob ? `does not cover ${missing.join(', ') || 'the buckets (or is suspended)'}` : 'is missing'}`);
			}

			yield {message: `schedule ${cronJob.spec?.schedule}`};
			return {detail: 'mirror CronJob in place'};
		},
	});
	return {
		kind: 'mirror-install',
		target: `mirror/${ns}/${facts.name}`,
		summary: `Install the off-cluster mirror: ${facts.buckets.length} buckets to ${facts.endpoint} on '${facts.schedule}'${facts.remove ? ' (with --remove)' : ' (append-only)'}`,
		facts,
		blastRadius: facts.remove ? ['with --remove a deletion in the provider reaches the backup at the next run: suspend the CronJob first in an incident'] : ['append-only: deletions never reach the backup (it only grows)'],
		warnings: [],
		access: [
			{verb: 'create', group: 'batch', resource: 'cronjobs', namespace: ns},
			...(facts.writeSecret ? [{verb: 'create', group: '', resource: 'secrets', namespace: ns}] : []),
		],
		undo: [`kubectl -n ${ns} delete cronjob ${facts.name}`],
		steps,
	};
}

export type MirrorRunFacts = {readonly namespace: string; readonly cronJob: string; readonly job: string};

export function mirrorRunPlan(facts: MirrorRunFacts, deps: FixDeps): RestorePlan {
	const ns = facts.namespace;
	const timeout = deps.timeoutMs ?? minutes(120);
	return {
		kind: 'mirror-run',
		target: `mirror-run/${ns}/${facts.cronJob}`,
		summary: `Run the mirror now: Job ${facts.job} from CronJob ${facts.cronJob}`,
		facts,
		blastRadius: ['the mirror copies what is in the provider now; with --remove it also deletes on the backup what the provider lost'],
		warnings: [],
		access: [{verb: 'create', group: 'batch', resource: 'jobs', namespace: ns}],
		undo: ['none: the mirror holds the provider\'s current state'],
		steps: [
			{
				id: 'cronjob-present', kind: 'precondition', title: `CronJob ${facts.cronJob} exists`, objects: [`CronJob/${ns}/${facts.cronJob}`],
				async evaluate() {
					return await deps.writes.getCronJob(ns, facts.cronJob)
						? {ok: true, detail: `CronJob ${facts.cronJob} exists`}
						: {ok: false, detail: `CronJob ${facts.cronJob} is missing`, hint: `ilum-restore mirror install -n ${ns} --destination URL --yes`};
				},
			},
			{
				id: 'create-job', kind: 'mutation', title: `Create Job ${facts.job} from CronJob ${facts.cronJob}`, objects: [`Job/${ns}/${facts.job}`],
				changes: `starts Job ${facts.job}`,
				undo: `kubectl -n ${ns} delete job ${facts.job} (stops it)`,
				async check() {
					return Boolean(await deps.writes.getJob(ns, facts.job));
				},
				async * run() {
					await deps.writes.createJobFromCronJob(ns, facts.cronJob, facts.job);
					yield {message: 'created', object: `Job/${facts.job}`};
				},
			},
			{
				id: 'job-done', kind: 'wait', title: `Wait until Job ${facts.job} finishes`, timeoutMs: timeout, objects: [`Job/${ns}/${facts.job}`],
				async check() {
					const job = await deps.writes.getJob(ns, facts.job);
					return Boolean(job?.status?.conditions?.some(condition => (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True'));
				},
				async * run(context) {
					const outcome = yield * deps.writes.waitForJob(ns, facts.job, {timeoutMs: timeout, signal: context.signal});
					return {outcome};
				},
			},
			{
				id: 'verify-job', kind: 'verify', title: `Job ${facts.job} completed`,
				async * run() {
					const job = await deps.writes.getJob(ns, facts.job);
					if (!job?.status?.conditions?.some(condition => condition.type === 'Complete' && condition.status === 'True')) {
						throw new Error(`Job ${facts.job} failed: kubectl -n ${ns} logs job/${facts.job}`);
					}

					yield {message: 'complete'};
					return {detail: 'the mirror is current'};
				},
			},
		],
	};
}
