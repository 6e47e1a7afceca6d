import process from 'node:process';
import type {V1PersistentVolumeClaim} from '@kubernetes/client-node';
import {MutationError, type VolumeRestoreCluster, type VolumeSnapshotObject} from '../../cluster/mutations.js';
import {
	bucketSummaryAnnotation, compareSummaries, formatDifference, parseBucketSummary, S3ProviderProbe, type BucketSummary, type ProviderProbe,
} from '../../restore/bucket-summary.js';
import {createS3Client} from '../../storage/s3-client.js';
import type {AccessRequirement, RestorePlan, Step, StepProgress} from '../../restore/plan.js';
import {describeUnfinished, listUnfinished} from '../../restore/journal.js';
import {createSession, type RestoreSession} from '../../restore/session.js';
import {findProviderClaim} from './volume-inventory.js';

/**
The PV snapshot path: put a VolumeSnapshot's data under the provider StatefulSet's fixed claim
name (`data-<sts>-0`), the swap DOMAIN.md describes, as a plan of typed steps.

`readVolumeRestoreFacts` reads the cluster once; `buildVolumeRestorePlan` turns those facts into
steps and is pure apart from the closures it returns, so a resumed run rebuilds the very same plan
from the facts in the journal instead of re-reading a cluster the restore has already changed.
*/

export const backupCronJobName = 'ilum-objectstorage-backup';
export const credentialsSecretName = 'ilum-objectstorage-credentials';
export const defaultBuckets = ['ilum-files', 'ilum-data', 'ilum-tables', 'ilum-mlflow', 'ilum-kestra', 'ilum-ducklake', 'ilum-langfuse'];

export type VolumeRestoreFacts = {
	readonly namespace: string;
	readonly plannedAt: string;
	readonly snapshot: {
		readonly name: string;
		readonly className?: string;
		readonly restoreSize?: string;
		readonly sourceClaim?: string;
		readonly createdAt?: string;
		/** What the provider held when the snapshot was cut, if recorded on it. */
		readonly summary?: BucketSummary;
	};
	readonly statefulSet: {readonly name: string; readonly replicas: number; readonly selector: string};
	readonly claim: {
		readonly name: string;
		readonly uid: string;
		readonly storageClassName?: string;
		readonly request: string;
		readonly accessModes: readonly string[];
		readonly volumeMode?: string;
		readonly labels?: Record<string, string>;
		readonly volumeName?: string;
	};
	readonly volume?: {readonly name: string; readonly reclaimPolicy: string; readonly driver?: string};
	/**
	Set when the source is a PersistentVolume (a retained or restored one) bound to the claim by
	`spec.volumeName` after its `claimRef` is cleared, instead of a snapshot. `snapshot.name` then
	holds the PV's name.
	*/
	readonly rebind?: {readonly volume: string; readonly capacity: string; readonly storageClassName?: string; readonly claimUid?: string};
	readonly bindingMode?: string;
	readonly cronJob: {readonly name: string; readonly exists: boolean; readonly suspended: boolean};
	readonly safety: {readonly enabled: boolean; readonly name: string; readonly className?: string};
	/** Where the provider's S3 answers for verification; undefined: verified by readiness only. */
	readonly s3Endpoint?: string;
	readonly expectedBuckets: readonly string[];
};

export type VolumeRestoreDeps = {
	readonly cluster: VolumeRestoreCluster;
	/** Built from the endpoint and the credentials Secret; undefined when no endpoint is known. */
	readonly probe?: ProviderProbe;
	/** Deadlines of the waits, in ms (tests shorten them). */
	readonly timeouts?: Partial<Record<'snapshot' | 'pods' | 'claim' | 'ready' | 'provider', number>>;
};

const units: Record<string, number> = {
	'': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6, m: 1e-3,
};

/** A Kubernetes quantity ('10Gi', '1.5G', '512', '1e9') in bytes; NaN when unreadable. */
export function quantityBytes(quantity: string | undefined): number {
	const match = /^([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([KMGTPE]i|[kMGTPEm])?$/.exec(quantity?.trim() ?? '');
	if (!match) {
		return Number.NaN;
	}

	return Number(match[1]) * units[match[2] ?? '']!;
}

/** The size to ask for: the old claim's request, or the snapshot's restoreSize when larger. */
export function claimSize(facts: VolumeRestoreFacts): string {
	const request = quantityBytes(facts.claim.request);
	const restore = quantityBytes(facts.snapshot.restoreSize);
	return Number.isFinite(restore) && !(restore <= request) ? facts.snapshot.restoreSize! : facts.claim.request;
}

const stamp = (iso: string) => iso.replaceAll(/[-:]/g, '').replace(/\.\d+Z$/, '').replace('T', '-').toLowerCase();

const snapshotReason = (snapshot: VolumeSnapshotObject | undefined) => snapshot?.status?.error?.message;

function selectorOf(labels: Record<string, string> | undefined): string {
	return Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`).join(',');
}

/**
Reads what the plan needs. Throws `MutationError` when the snapshot or the provider cannot be
found at all (nothing to plan); everything else becomes a precondition that explains itself.
*/
export async function readVolumeRestoreFacts(cluster: VolumeRestoreCluster, options: {namespace: string; snapshot: string; safetySnapshot: boolean; s3Endpoint?: string; now?: Date; fromVolume?: boolean}): Promise<VolumeRestoreFacts> {
	const {namespace} = options;
	const source = options.fromVolume ? await cluster.getPersistentVolume(options.snapshot) : undefined;
	if (options.fromVolume && !source) {
		throw new MutationError(`No PersistentVolume '${options.snapshot}'`);
	}

	// A volume source looks like a snapshot of the claim it was bound to, for finding the provider.
	const snapshot: VolumeSnapshotObject | undefined = source
		? {metadata: {name: options.snapshot}, spec: {source: {...(source.spec?.claimRef?.name ? {persistentVolumeClaimName: source.spec.claimRef.name} : {})}}, status: {readyToUse: true}}
		: await cluster.getVolumeSnapshot(namespace, options.snapshot);
	if (!snapshot) {
		const names = (await cluster.listVolumeSnapshots(namespace)).map(item => item.metadata.name).filter(Boolean);
		throw new MutationError(`No VolumeSnapshot '${options.snapshot}' in namespace ${namespace} (there are: ${names.join(', ') || 'none'})`);
	}

	const statefulSets = await cluster.listStatefulSets(namespace);
	// The StatefulSet whose claim the snapshot was taken of, else the provider found by its labels.
	let statefulSet = statefulSets.find(set => (set.spec?.volumeClaimTemplates ?? []).some(template => snapshot.spec.source.persistentVolumeClaimName === `${template.metadata?.name}-${set.metadata?.name}-0`));
	let claimName = statefulSet ? snapshot.spec.source.persistentVolumeClaimName : undefined;
	if (!statefulSet) {
		const claims = await Promise.all(statefulSets.flatMap(set => (set.spec?.volumeClaimTemplates ?? []).map(async template => cluster.getPersistentVolumeClaim(namespace, `${template.metadata?.name}-${set.metadata?.name}-0`))));
		const found = findProviderClaim({claims: claims.filter(claim => claim !== undefined), statefulSets});
		statefulSet = found.statefulSet;
		claimName = found.claim?.metadata?.name ?? (statefulSet ? `${statefulSet.spec?.volumeClaimTemplates?.[0]?.metadata?.name ?? 'data'}-${statefulSet.metadata?.name}-0` : undefined);
	}

	if (!statefulSet || !claimName) {
		throw new MutationError(`No object-storage provider StatefulSet found in namespace ${namespace} (looked for the StatefulSet of claim '${snapshot.spec.source.persistentVolumeClaimName ?? '?'}' and for app.kubernetes.io/name=rustfs|minio)`);
	}

	const claim = await cluster.getPersistentVolumeClaim(namespace, claimName);
	if (!claim) {
		throw new MutationError(`The provider's claim ${namespace}/${claimName} does not exist: nothing to swap (create it by scaling the StatefulSet ${statefulSet.metadata?.name} up first)`);
	}

	const volume = claim.spec?.volumeName ? await cluster.getPersistentVolume(claim.spec.volumeName) : undefined;
	const storageClassName = claim.spec?.storageClassName;
	const storageClass = storageClassName ? await cluster.getStorageClass(storageClassName) : undefined;
	const cronJob = await cluster.getCronJob(namespace, backupCronJobName);
	const plannedAt = (options.now ?? new Date()).toISOString();
	const stsName = statefulSet.metadata!.name!;
	const safetyClass = snapshot.spec.volumeSnapshotClassName ?? (await cluster.listVolumeSnapshotClasses()).find(item => item.driver === volume?.spec?.csi?.driver)?.metadata.name;
	return {
		namespace,
		plannedAt,
		snapshot: {
			name: options.snapshot,
			...(snapshot.spec.volumeSnapshotClassName ? {className: snapshot.spec.volumeSnapshotClassName} : {}),
			...(snapshot.status?.restoreSize ? {restoreSize: String(snapshot.status.restoreSize)} : {}),
			...(snapshot.spec.source.persistentVolumeClaimName ? {sourceClaim: snapshot.spec.source.persistentVolumeClaimName} : {}),
			...(snapshot.status?.creationTime ? {createdAt: String(snapshot.status.creationTime)} : {}),
			...(parseBucketSummary(snapshot.metadata.annotations?.[bucketSummaryAnnotation]) ? {summary: parseBucketSummary(snapshot.metadata.annotations?.[bucketSummaryAnnotation])} : {}),
		},
		statefulSet: {name: stsName, replicas: Math.max(1, statefulSet.spec?.replicas ?? 1), selector: selectorOf(statefulSet.spec?.selector?.matchLabels)},
		claim: {
			name: claimName,
			uid: claim.metadata?.uid ?? '',
			...(storageClassName ? {storageClassName} : {}),
			request: String(claim.spec?.resources?.requests?.['storage'] ?? claim.status?.capacity?.['storage'] ?? '1Gi'),
			accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
			...(claim.spec?.volumeMode ? {volumeMode: claim.spec.volumeMode} : {}),
			...(claim.metadata?.labels ? {labels: claim.metadata.labels} : {}),
			...(claim.spec?.volumeName ? {volumeName: claim.spec.volumeName} : {}),
		},
		...(volume ? {volume: {name: volume.metadata!.name!, reclaimPolicy: volume.spec?.persistentVolumeReclaimPolicy ?? 'Delete', ...(volume.spec?.csi?.driver ? {driver: volume.spec.csi.driver} : {})}} : {}),
		...(storageClass?.volumeBindingMode ? {bindingMode: storageClass.volumeBindingMode} : {}),
		cronJob: {name: backupCronJobName, exists: Boolean(cronJob), suspended: cronJob?.spec?.suspend === true},
		safety: {
			enabled: options.safetySnapshot,
			name: `${claimName}-pre-restore-${stamp(plannedAt)}`.slice(0, 253),
			...(safetyClass ? {className: safetyClass} : {}),
		},
		...(source ? {rebind: {
			volume: options.snapshot,
			capacity: String(source.spec?.capacity?.['storage'] ?? claim.spec?.resources?.requests?.['storage'] ?? '1Gi'),
			...(source.spec?.storageClassName ? {storageClassName: source.spec.storageClassName} : {}),
			...(source.spec?.claimRef?.uid ? {claimUid: source.spec.claimRef.uid} : {}),
		}} : {}),
		...(options.s3Endpoint ? {s3Endpoint: options.s3Endpoint} : {}),
		expectedBuckets: defaultBuckets,
	};
}

/**
Journaled facts for a resumed run, with the S3 endpoint given now (a port-forward or a drill world
may have moved). Only when the plan had one: a plan without an endpoint has no baseline step, and a
resume must walk the very same steps.
*/
export const withEndpoint = (facts: VolumeRestoreFacts, endpoint: string | undefined): VolumeRestoreFacts => facts.s3Endpoint && endpoint ? {...facts, s3Endpoint: endpoint} : facts;

/** The name of what is restored: the snapshot, or the volume that is bound again. */
export const restoreSourceName = (facts: VolumeRestoreFacts) => facts.rebind?.volume ?? facts.snapshot.name;

/** The plan. Steps read the cluster in `check` so that a resumed run skips what is done. */
export function buildVolumeRestorePlan(facts: VolumeRestoreFacts, deps: VolumeRestoreDeps): RestorePlan {
	const {cluster, probe} = deps;
	const ns = facts.namespace;
	const sts = facts.statefulSet.name;
	const claimName = facts.claim.name;
	const snap = facts.snapshot.name;
	const {rebind} = facts;
	const sourceLabel = rebind ? `PersistentVolume ${rebind.volume}` : `VolumeSnapshot ${snap}`;
	const timeout = (name: keyof NonNullable<VolumeRestoreDeps['timeouts']>, fallback: number) => deps.timeouts?.[name] ?? fallback;
	const suspendBackup = facts.cronJob.exists && !facts.cronJob.suspended;
	const size = rebind ? rebind.capacity : claimSize(facts);
	const immediate = facts.bindingMode !== 'WaitForFirstConsumer';
	const oldVolume = facts.claim.volumeName;
	const steps: Step[] = [];

	// Preconditions: everything that would make the swap fail half-way is checked first.
	if (rebind) {
		steps.push({
			id: 'source-volume', kind: 'precondition', title: `PersistentVolume ${rebind.volume} is free to be bound to claim ${claimName}`, objects: [`PersistentVolume/${rebind.volume}`],
			async evaluate() {
				const pv = await cluster.getPersistentVolume(rebind.volume);
				if (!pv) {
					return {ok: false, detail: `PersistentVolume ${rebind.volume} no longer exists`, hint: 'pick another source'};
				}

				if (pv.spec?.claimRef?.uid && pv.spec.claimRef.uid === facts.claim.uid) {
					return {ok: false, detail: `PersistentVolume ${rebind.volume} is the one claim ${claimName} uses now`, hint: 'nothing to restore from it'};
				}

				const phase = pv.status?.phase ?? 'unknown';
				if (phase !== 'Released' && phase !== 'Available') {
					return {ok: false, detail: `PersistentVolume ${rebind.volume} is ${phase}${pv.spec?.claimRef?.name ? ` (claim ${pv.spec.claimRef.namespace ?? ''}/${pv.spec.claimRef.name})` : ''}`, hint: 'only a Released or Available volume can be bound again'};
				}

				if (pv.spec?.persistentVolumeReclaimPolicy !== 'Retain') {
					return {ok: false, detail: `PersistentVolume ${rebind.volume} has reclaim policy ${pv.spec?.persistentVolumeReclaimPolicy ?? '?'}`, hint: `set it to Retain first (kubectl patch pv ${rebind.volume} --type merge -p '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}')`};
				}

				if ((pv.spec?.storageClassName ?? '') !== (facts.claim.storageClassName ?? '')) {
					return {ok: false, detail: `PersistentVolume ${rebind.volume} is of StorageClass '${pv.spec?.storageClassName ?? ''}', claim ${claimName} of '${facts.claim.storageClassName ?? ''}'`, hint: 'the claim is recreated with the volume\'s class: the StatefulSet\'s template must agree'};
				}

				return {ok: true, detail: `PersistentVolume ${rebind.volume} is ${phase}, ${rebind.capacity}, Retain`};
			},
		});
	}

	if (!rebind) {
		steps.push({
			id: 'snapshot-ready', kind: 'precondition', title: `VolumeSnapshot ${snap} is ready to use`, objects: [`VolumeSnapshot/${ns}/${snap}`],
			async evaluate() {
				const snapshot = await cluster.getVolumeSnapshot(ns, snap);
				if (!snapshot) {
					return {ok: false, detail: `VolumeSnapshot ${ns}/${snap} no longer exists`, hint: 'pick another recovery point'};
				}

				if (snapshot.status?.readyToUse !== true) {
					const reason = snapshotReason(snapshot);
					return {ok: false, detail: `VolumeSnapshot ${snap} is not ready to use${reason ? ` (${reason})` : ''}`, hint: reason ? 'this snapshot cannot be restored: pick another' : 'wait until it is ready, or pick another'};
				}

				if (!snapshot.status.restoreSize) {
					return {ok: false, detail: `VolumeSnapshot ${snap} has no restoreSize`, hint: 'the snapshot controller has not finished with it: wait, or pick another'};
				}

				return {ok: true, detail: `VolumeSnapshot ${snap} is ready (restoreSize ${snapshot.status.restoreSize})`};
			},
		});
		steps.push({
			id: 'snapshot-class', kind: 'precondition', title: 'The snapshot\'s VolumeSnapshotClass exists and fits the volume\'s driver', objects: facts.snapshot.className ? [`VolumeSnapshotClass/${facts.snapshot.className}`] : [],
			async evaluate() {
				const name = facts.snapshot.className;
				const candidate = name ? await cluster.getVolumeSnapshotClass(name) : (await cluster.listVolumeSnapshotClasses()).find(item => item.metadata.annotations?.['snapshot.storage.kubernetes.io/is-default-class'] === 'true');
				if (!candidate) {
					return {ok: false, detail: name ? `VolumeSnapshotClass ${name} does not exist` : 'the snapshot names no VolumeSnapshotClass and there is no default one', hint: 'create the class (see the runbook), then try again'};
				}

				if (facts.volume?.driver && candidate.driver !== facts.volume.driver) {
					return {ok: false, detail: `VolumeSnapshotClass ${candidate.metadata.name} is for driver ${candidate.driver}, the provider's volume uses ${facts.volume.driver}`, hint: 'a snapshot can only be restored by its own driver'};
				}

				return {ok: true, detail: `VolumeSnapshotClass ${candidate.metadata.name} (driver ${candidate.driver}, deletionPolicy ${candidate.deletionPolicy})`};
			},
		});
		steps.push({
			id: 'storage-class', kind: 'precondition', title: `StorageClass ${facts.claim.storageClassName ?? '(default)'} exists; the new claim asks for ${size}`, objects: facts.claim.storageClassName ? [`StorageClass/${facts.claim.storageClassName}`] : [],
			async evaluate() {
				const restore = quantityBytes(facts.snapshot.restoreSize);
				if (!Number.isFinite(restore)) {
					return {ok: false, detail: `the snapshot's restoreSize '${facts.snapshot.restoreSize ?? ''}' cannot be read`, hint: 'check the VolumeSnapshot'};
				}

				if (facts.claim.storageClassName && !await cluster.getStorageClass(facts.claim.storageClassName)) {
					return {ok: false, detail: `StorageClass ${facts.claim.storageClassName} of claim ${claimName} does not exist`, hint: 'the new claim must use the same class: create it first'};
				}

				return {ok: true, detail: `StorageClass ${facts.claim.storageClassName ?? '(default)'} present; ${size} >= restoreSize ${facts.snapshot.restoreSize}${immediate ? '' : ' (WaitForFirstConsumer: bound when the provider starts)'}`};
			},
		});
	}
	steps.push({
		id: 'provider-claim', kind: 'precondition', title: `Claim ${claimName} of StatefulSet ${sts} is the one being replaced`, objects: [`StatefulSet/${ns}/${sts}`, `PersistentVolumeClaim/${ns}/${claimName}`],
		async evaluate() {
			const claim = await cluster.getPersistentVolumeClaim(ns, claimName);
			if (!claim || claim.metadata?.uid !== facts.claim.uid) {
				return {ok: false, detail: `claim ${claimName} changed since the plan was made`, hint: 'run the command again for a fresh plan'};
			}

			if (!oldVolume) {
				return {ok: false, detail: `claim ${claimName} is not bound to a volume (phase ${claim.status?.phase ?? 'unknown'})`, hint: 'nothing would be kept to undo with: bind it first'};
			}

			if (!await cluster.getStatefulSet(ns, sts)) {
				return {ok: false, detail: `StatefulSet ${sts} no longer exists`, hint: 'run the command again for a fresh plan'};
			}

			return {ok: true, detail: `claim ${claimName} is bound to ${oldVolume} (reclaim policy ${facts.volume?.reclaimPolicy ?? 'unknown'})`};
		},
	});
	if (facts.cronJob.exists) {
		steps.push({
			id: 'no-backup-running', kind: 'precondition', title: `No run of the backup CronJob ${facts.cronJob.name} is in progress`, objects: [`CronJob/${ns}/${facts.cronJob.name}`],
			async evaluate() {
				const cron = await cluster.getCronJob(ns, facts.cronJob.name);
				const active = cron?.status?.active ?? [];
				return active.length > 0
					? {ok: false, detail: `the backup Job ${active.map(job => job.name).join(', ')} is running now: stopping the provider under it would leave a partial mirror`, hint: `wait for it to finish (kubectl -n ${ns} get jobs), then try again`}
					: {ok: true, detail: `no backup Job running${facts.cronJob.suspended ? ' (the CronJob is suspended)' : ''}`};
			},
		});
	}

	if (suspendBackup) {
		steps.push({
			id: 'suspend-backup', kind: 'mutation', title: `Suspend the backup CronJob ${facts.cronJob.name}`, objects: [`CronJob/${ns}/${facts.cronJob.name}`],
			changes: `CronJob ${facts.cronJob.name}: spec.suspend false -> true (its mirror with --remove would copy the pre-restore state over the backup)`,
			undo: `kubectl -n ${ns} patch cronjob ${facts.cronJob.name} --type merge -p '{"spec":{"suspend":false}}'`,
			async check() {
				return (await cluster.getCronJob(ns, facts.cronJob.name))?.spec?.suspend === true;
			},
			async * run() {
				await cluster.setCronJobSuspended(ns, facts.cronJob.name, true);
				yield {message: 'suspended', object: `CronJob/${facts.cronJob.name}`};
			},
		});
	}

	if (probe) {
		steps.push({
			id: 'baseline', kind: 'verify', title: `Record what the provider holds now (objects and bytes per bucket, via ${probe.endpoint})`,
			async * run(context) {
				yield {message: 'listing buckets', kind: 'wait'};
				const summary = await probe.summarize(context.signal);
				const total = Object.values(summary.buckets).reduce((sum, bucket) => sum + bucket.objects, 0);
				yield {message: `${Object.keys(summary.buckets).length} buckets, ${total} objects`, current: total, unit: 'objects'};
				return summary;
			},
		});
	}

	if (facts.safety.enabled) {
		steps.push({
			id: 'safety-snapshot', kind: 'mutation', title: `Take a safety VolumeSnapshot ${facts.safety.name} of claim ${claimName}`, objects: [`VolumeSnapshot/${ns}/${facts.safety.name}`],
			changes: `creates VolumeSnapshot ${facts.safety.name} of the current data`,
			undo: `kubectl -n ${ns} delete volumesnapshot ${facts.safety.name} (when no longer needed)`,
			async check() {
				// Ours only: of this claim and marked as taken by ilum-restore (else creating it fails with AlreadyExists).
				const existing = await cluster.getVolumeSnapshot(ns, facts.safety.name);
				return existing?.spec.source.persistentVolumeClaimName === claimName && Boolean(existing.metadata.annotations?.['ilum.cloud/taken-by']);
			},
			async * run(context) {
				const baseline = context.results.get('baseline') as BucketSummary | undefined;
				await cluster.createVolumeSnapshot(ns, {
					name: facts.safety.name,
					claim: claimName,
					...(facts.safety.className ? {className: facts.safety.className} : {}),
					annotations: {
						'ilum.cloud/taken-by': 'ilum-restore restore volume (safety snapshot)',
						...(baseline ? {[bucketSummaryAnnotation]: JSON.stringify(baseline)} : {}),
					},
					labels: {'app.kubernetes.io/managed-by': 'ilum-restore'},
				});
				yield {message: 'created', object: `VolumeSnapshot/${facts.safety.name}`};
			},
		});
		steps.push({
			id: 'safety-snapshot-ready', kind: 'wait', title: `Wait until ${facts.safety.name} is ready to use`, timeoutMs: timeout('snapshot', 15 * 60_000), objects: [`VolumeSnapshot/${ns}/${facts.safety.name}`],
			async check() {
				return (await cluster.getVolumeSnapshot(ns, facts.safety.name))?.status?.readyToUse === true;
			},
			async * run(context) {
				const snapshot = yield * cluster.waitForSnapshotReady(ns, facts.safety.name, {timeoutMs: timeout('snapshot', 15 * 60_000), signal: context.signal});
				return {detail: `ready, restoreSize ${snapshot.status?.restoreSize ?? '?'}`};
			},
		});
	}

	steps.push({
		id: 'scale-down', kind: 'mutation', title: `Scale StatefulSet ${sts} to 0`, objects: [`StatefulSet/${ns}/${sts}`],
		changes: `StatefulSet ${sts}: replicas ${facts.statefulSet.replicas} -> 0 (object storage offline from here until the provider is ready again)`,
		undo: `kubectl -n ${ns} scale statefulset ${sts} --replicas=${facts.statefulSet.replicas}`,
		async check() {
			return (await cluster.getStatefulSet(ns, sts))?.spec?.replicas === 0;
		},
		async * run() {
			await cluster.scaleStatefulSet(ns, sts, 0);
			yield {message: 'replicas set to 0', object: `StatefulSet/${sts}`};
		},
	});
	steps.push({
		id: 'pods-gone', kind: 'wait', title: `Wait until the pods of ${sts} are gone`, timeoutMs: timeout('pods', 10 * 60_000), objects: [`Pod/${ns}/${sts}-0`],
		async check() {
			return (await cluster.listPods(ns, facts.statefulSet.selector)).length === 0;
		},
		async * run(context) {
			yield * cluster.waitForPodsGone(ns, facts.statefulSet.selector, {timeoutMs: timeout('pods', 10 * 60_000), signal: context.signal, names: Array.from({length: facts.statefulSet.replicas}, (_, index) => `${sts}-${index}`)});
		},
	});
	if (oldVolume && facts.volume?.reclaimPolicy !== 'Retain') {
		steps.push({
			id: 'retain-old-volume', kind: 'mutation', title: `Keep the old volume ${oldVolume}: reclaim policy Retain`, objects: [`PersistentVolume/${oldVolume}`],
			changes: `PersistentVolume ${oldVolume}: persistentVolumeReclaimPolicy ${facts.volume?.reclaimPolicy ?? '?'} -> Retain (deleting the claim then keeps the data)`,
			undo: `kubectl patch pv ${oldVolume} --type merge -p '{"spec":{"persistentVolumeReclaimPolicy":"${facts.volume?.reclaimPolicy ?? 'Delete'}"}}' (deletes the old data once it is released)`,
			async check() {
				return (await cluster.getPersistentVolume(oldVolume))?.spec?.persistentVolumeReclaimPolicy === 'Retain';
			},
			async * run() {
				await cluster.setReclaimPolicy(oldVolume, 'Retain');
				yield {message: 'reclaim policy Retain', object: `PersistentVolume/${oldVolume}`};
			},
		});
	}

	const isOldClaim = (claim: V1PersistentVolumeClaim | undefined) => Boolean(claim) && claim!.metadata?.uid === facts.claim.uid;
	steps.push({
		id: 'delete-claim', kind: 'mutation', title: `Delete claim ${claimName} (the old volume ${oldVolume ?? ''} is kept)`, objects: [`PersistentVolumeClaim/${ns}/${claimName}`],
		changes: `deletes PersistentVolumeClaim ${claimName}; the provider's current data stays on the retained volume ${oldVolume ?? '?'}`,
		undo: rebindUndo(facts),
		dangerous: {confirmText: claimName, reason: `deletes the claim the provider's data is on (the volume ${oldVolume ?? ''} is kept, reclaim policy Retain)`},
		async check() {
			const claim = await cluster.getPersistentVolumeClaim(ns, claimName);
			return !isOldClaim(claim) || Boolean(claim?.metadata?.deletionTimestamp);
		},
		async * run() {
			await cluster.deletePersistentVolumeClaim(ns, claimName);
			yield {message: 'deleted', object: `PersistentVolumeClaim/${claimName}`};
		},
	});
	steps.push({
		id: 'claim-gone', kind: 'wait', title: `Wait until the old claim ${claimName} is gone`, timeoutMs: timeout('claim', 5 * 60_000), objects: [`PersistentVolumeClaim/${ns}/${claimName}`],
		async check() {
			return !isOldClaim(await cluster.getPersistentVolumeClaim(ns, claimName));
		},
		async * run(context) {
			// The new claim has the same name: wait only for the old one (by uid) to go.
			if (!isOldClaim(await cluster.getPersistentVolumeClaim(ns, claimName))) {
				return;
			}

			yield * cluster.waitForClaimGone(ns, claimName, {timeoutMs: timeout('claim', 5 * 60_000), signal: context.signal});
		},
	});
	const isNewClaim = (claim: V1PersistentVolumeClaim | undefined) => Boolean(claim) && !isOldClaim(claim) && (rebind ? claim!.spec?.volumeName === rebind.volume : claim!.spec?.dataSource?.name === snap) && !claim!.metadata?.deletionTimestamp;
	if (rebind) {
		steps.push({
			id: 'release-volume', kind: 'mutation', title: `Make PersistentVolume ${rebind.volume} bindable (clear its claimRef)`, objects: [`PersistentVolume/${rebind.volume}`],
			changes: `PersistentVolume ${rebind.volume}: spec.claimRef cleared (Released -> Available)`,
			undo: 'nothing to undo: the volume is bound to the new claim next',
			async check() {
				const pv = await cluster.getPersistentVolume(rebind.volume);
				const reference = pv?.spec?.claimRef;
				return !reference || (reference.uid !== undefined && reference.uid !== rebind.claimUid && reference.uid !== facts.claim.uid);
			},
			async * run() {
				await cluster.clearClaimRef(rebind.volume);
				yield {message: 'claimRef cleared', object: `PersistentVolume/${rebind.volume}`};
			},
		});
	}

	steps.push({
		id: 'create-claim', kind: 'mutation', title: `Create claim ${claimName} from ${sourceLabel} (${size}, class ${facts.claim.storageClassName ?? 'default'})`, objects: [`PersistentVolumeClaim/${ns}/${claimName}`],
		changes: rebind
			? `creates PersistentVolumeClaim ${claimName} bound to PersistentVolume ${rebind.volume} (spec.volumeName), ${size}, StorageClass ${facts.claim.storageClassName ?? '(default)'}`
			: `creates PersistentVolumeClaim ${claimName} with dataSource VolumeSnapshot ${snap}, ${size}, StorageClass ${facts.claim.storageClassName ?? '(default)'}`,
		undo: rebindUndo(facts),
		async check() {
			return isNewClaim(await cluster.getPersistentVolumeClaim(ns, claimName));
		},
		async * run() {
			const existing = await cluster.getPersistentVolumeClaim(ns, claimName);
			if (existing && !isNewClaim(existing)) {
				throw new MutationError(`a claim ${claimName} exists that is neither the old one nor restored from ${sourceLabel} (created by ${existing.metadata?.managedFields?.[0]?.manager ?? 'someone'}); the StatefulSet may have been scaled up by someone else: scale it to 0, delete that claim, then resume`);
			}

			await cluster.createPersistentVolumeClaim(ns, newClaim(facts, size));
			yield {message: 'created', object: `PersistentVolumeClaim/${claimName}`};
		},
	});
	const waitBound: Step = {
		id: 'claim-bound', kind: 'wait', title: `Wait until claim ${claimName} is Bound`, timeoutMs: timeout('claim', 10 * 60_000), objects: [`PersistentVolumeClaim/${ns}/${claimName}`],
		async check() {
			const claim = await cluster.getPersistentVolumeClaim(ns, claimName);
			return isNewClaim(claim) && claim?.status?.phase === 'Bound';
		},
		async * run(context) {
			const claim = yield * cluster.waitForClaimBound(ns, claimName, {timeoutMs: timeout('claim', 10 * 60_000), signal: context.signal});
			return {detail: `bound to ${claim.spec?.volumeName ?? '?'}`, volume: claim.spec?.volumeName};
		},
	};
	if (immediate) {
		steps.push(waitBound);
	}

	steps.push({
		id: 'scale-up', kind: 'mutation', title: `Scale StatefulSet ${sts} back to ${facts.statefulSet.replicas}`, objects: [`StatefulSet/${ns}/${sts}`],
		changes: `StatefulSet ${sts}: replicas 0 -> ${facts.statefulSet.replicas}`,
		undo: `kubectl -n ${ns} scale statefulset ${sts} --replicas=0`,
		async check() {
			return (await cluster.getStatefulSet(ns, sts))?.spec?.replicas === facts.statefulSet.replicas;
		},
		async * run() {
			await cluster.scaleStatefulSet(ns, sts, facts.statefulSet.replicas);
			yield {message: `replicas set to ${facts.statefulSet.replicas}`, object: `StatefulSet/${sts}`};
		},
	});
	if (!immediate) {
		steps.push(waitBound);
	}

	steps.push({
		id: 'provider-ready', kind: 'wait', title: `Wait until ${sts} is ready`, timeoutMs: timeout('ready', 10 * 60_000), objects: [`StatefulSet/${ns}/${sts}`],
		async check() {
			const set = await cluster.getStatefulSet(ns, sts);
			return (set?.status?.readyReplicas ?? 0) >= facts.statefulSet.replicas && (set?.status?.observedGeneration ?? 0) >= (set?.metadata?.generation ?? 0);
		},
		async * run(context) {
			yield * cluster.waitForStatefulSetReady(ns, sts, facts.statefulSet.replicas, {timeoutMs: timeout('ready', 10 * 60_000), signal: context.signal});
		},
	});
	steps.push({
		id: 'verify-data', kind: 'verify',
		title: probe ? `Verify: the provider answers at ${probe.endpoint}, the default buckets exist, the contents match ${facts.snapshot.summary ? 'the summary recorded on the snapshot' : 'expectations (see limitations)'}` : 'Verify: the claim is bound to a volume restored from the snapshot (no S3 endpoint: contents not checked)',
		async * run(context) {
			return yield * verify(facts, deps, context.results.get('baseline') as BucketSummary | undefined, context.signal);
		},
	});
	if (suspendBackup) {
		steps.push({
			id: 'resume-backup', kind: 'mutation', title: `Resume the backup CronJob ${facts.cronJob.name} (it was active)`, objects: [`CronJob/${ns}/${facts.cronJob.name}`],
			changes: `CronJob ${facts.cronJob.name}: spec.suspend true -> false`,
			undo: `kubectl -n ${ns} patch cronjob ${facts.cronJob.name} --type merge -p '{"spec":{"suspend":true}}'`,
			async check() {
				return (await cluster.getCronJob(ns, facts.cronJob.name))?.spec?.suspend === false;
			},
			async * run() {
				await cluster.setCronJobSuspended(ns, facts.cronJob.name, false);
				yield {message: 'resumed', object: `CronJob/${facts.cronJob.name}`};
			},
		});
	}

	const warnings: string[] = [];
	if (!probe) {
		warnings.push('no S3 endpoint for the provider (pass --s3-endpoint, e.g. after kubectl port-forward svc/ilum-objectstorage 9000): the contents are not verified, only that the provider runs on the restored claim');
	} else if (!facts.snapshot.summary) {
		warnings.push(`${sourceLabel} carries no record of what it held (annotation ${bucketSummaryAnnotation}; ilum-restore writes it on the snapshots it takes): verification checks that the provider answers and the default buckets exist, and reports how each bucket changed against the pre-restore listing; it cannot prove every object of the snapshot came back`);
	}

	if (!facts.safety.enabled) {
		warnings.push('--no-safety-snapshot: the current data is kept only on the retained volume');
	}

	if (suspendBackup) {
		warnings.push(`when the backup CronJob ${facts.cronJob.name} runs again with --remove, the mirror loses objects written after the snapshot was cut; copy what you need from the mirror first (restore mirror), or keep it suspended`);
	}

	if (facts.cronJob.exists && facts.cronJob.suspended) {
		warnings.push(`the backup CronJob ${facts.cronJob.name} is suspended now and stays suspended`);
	}

	return {
		kind: 'volume',
		target: `volume/${ns}/${claimName}`,
		summary: `restore claim ${ns}/${claimName} of StatefulSet ${sts} from ${sourceLabel}`,
		facts,
		blastRadius: [
			`object storage offline: StatefulSet ${sts} at 0 replicas from step scale-down until provider-ready (every Ilum service using S3 fails meanwhile)`,
			`claim ${claimName} is replaced: the provider then serves the data of ${sourceLabel}${facts.snapshot.createdAt ? ` (cut ${facts.snapshot.createdAt})` : ''}; everything written after it is no longer served`,
			`the current data is kept: on the retained volume ${oldVolume ?? '?'}${facts.safety.enabled ? ` and in the safety snapshot ${facts.safety.name}` : ''}`,
		],
		warnings,
		access: accessFor(facts, suspendBackup),
		steps,
		undo: [
			...(facts.safety.enabled ? [`restore the previous data from the safety snapshot: ilum-restore restore volume ${facts.safety.name} -n ${ns} --yes`] : []),
			`or rebind the retained volume: ${rebindUndo(facts)}`,
		],
	};
}

function rebindUndo(facts: VolumeRestoreFacts): string {
	const ns = facts.namespace;
	const volume = facts.claim.volumeName ?? '<old volume>';
	return `ilum-restore restore volume --from-volume ${volume} -n ${ns} --yes (by hand: scale ${facts.statefulSet.name} to 0, delete claim ${facts.claim.name}, kubectl patch pv ${volume} --type merge -p '{"spec":{"claimRef":null}}', create claim ${facts.claim.name} in ${ns} with spec.volumeName=${volume}, scale back to ${facts.statefulSet.replicas})`;
}

function newClaim(facts: VolumeRestoreFacts, size: string): V1PersistentVolumeClaim {
	return {
		apiVersion: 'v1',
		kind: 'PersistentVolumeClaim',
		metadata: {
			name: facts.claim.name,
			namespace: facts.namespace,
			...(facts.claim.labels ? {labels: facts.claim.labels} : {}),
			annotations: {'ilum.cloud/restored-from': restoreSourceName(facts), 'ilum.cloud/restored-at': facts.plannedAt},
		},
		spec: {
			accessModes: [...facts.claim.accessModes],
			...(facts.claim.storageClassName ? {storageClassName: facts.claim.storageClassName} : {}),
			...(facts.claim.volumeMode ? {volumeMode: facts.claim.volumeMode} : {}),
			resources: {requests: {storage: size}},
			...(facts.rebind
				? {volumeName: facts.rebind.volume}
				: {dataSource: {apiGroup: 'snapshot.storage.k8s.io', kind: 'VolumeSnapshot', name: facts.snapshot.name}}),
		},
	};
}

function accessFor(facts: VolumeRestoreFacts, suspendBackup: boolean): AccessRequirement[] {
	const ns = facts.namespace;
	return [
		...(facts.safety.enabled ? [{verb: 'create', group: 'snapshot.storage.k8s.io', resource: 'volumesnapshots', namespace: ns}] : []),
		...(suspendBackup ? [{verb: 'patch', group: 'batch', resource: 'cronjobs', namespace: ns, name: facts.cronJob.name}] : []),
		{verb: 'patch', group: 'apps', resource: 'statefulsets', subresource: 'scale', namespace: ns, name: facts.statefulSet.name},
		...(facts.claim.volumeName && facts.volume?.reclaimPolicy !== 'Retain' ? [{verb: 'patch', group: '', resource: 'persistentvolumes', name: facts.claim.volumeName}] : []),
		...(facts.rebind ? [{verb: 'patch', group: '', resource: 'persistentvolumes', name: facts.rebind.volume}] : []),
		{verb: 'delete', group: '', resource: 'persistentvolumeclaims', namespace: ns, name: facts.claim.name},
		{verb: 'create', group: '', resource: 'persistentvolumeclaims', namespace: ns},
		...(facts.s3Endpoint ? [{verb: 'get', group: '', resource: 'secrets', namespace: ns, name: credentialsSecretName}] : []),
	];
}

type Verification = {
	readonly detail: string;
	readonly claimVolume?: string;
	readonly restoredFrom?: string;
	readonly provider?: BucketSummary;
	readonly baseline?: BucketSummary;
	readonly reference?: 'snapshot-summary' | 'baseline-only';
	readonly changes?: ReadonlyArray<{bucket: string; before?: {objects: number; bytes: number}; after?: {objects: number; bytes: number}}>;
	readonly limitation?: string;
};

async function * verify(facts: VolumeRestoreFacts, deps: VolumeRestoreDeps, baseline: BucketSummary | undefined, signal: AbortSignal): AsyncGenerator<StepProgress, Verification> {
	const {cluster, probe} = deps;
	const claim = await cluster.getPersistentVolumeClaim(facts.namespace, facts.claim.name);
	const fromSource = facts.rebind ? claim?.spec?.volumeName === facts.rebind.volume : claim?.spec?.dataSource?.name === facts.snapshot.name;
	if (!claim || claim.metadata?.uid === facts.claim.uid || !fromSource) {
		throw new MutationError(`claim ${facts.claim.name} is not the one restored from ${restoreSourceName(facts)}`);
	}

	if (claim.status?.phase !== 'Bound') {
		throw new MutationError(`claim ${facts.claim.name} is ${claim.status?.phase ?? 'Pending'}, not Bound`);
	}

	yield {message: `claim ${facts.claim.name} bound to ${claim.spec?.volumeName ?? '?'} (restored from ${restoreSourceName(facts)})`};
	if (!probe) {
		return {detail: `claim bound to ${claim.spec?.volumeName ?? '?'}; contents not verified (no S3 endpoint)`, claimVolume: claim.spec?.volumeName, restoredFrom: restoreSourceName(facts), limitation: 'no S3 endpoint'};
	}

	// The provider may take a moment to answer after it reports ready: retry until the deadline.
	const deadline = Date.now() + (deps.timeouts?.provider ?? 2 * 60_000);
	let summary: BucketSummary | undefined;
	let lastError = '';
	for (let attempt = 1; !summary; attempt++) {
		try {
			// eslint-disable-next-line no-await-in-loop
			summary = await probe.summarize(signal);
		} catch (error) {
			lastError = error instanceof Error ? error.message : String(error);
			if (Date.now() > deadline || signal.aborted) {
				throw new MutationError(`the provider does not answer at ${probe.endpoint}: ${lastError}`);
			}

			yield {message: `provider not answering yet (${lastError})`, kind: 'wait'};
			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => setTimeout(resolve, Math.min(2000, 200 * attempt)));
		}
	}

	const total = Object.values(summary.buckets).reduce((sum, bucket) => sum + bucket.objects, 0);
	yield {message: `provider answers: ${Object.keys(summary.buckets).length} buckets, ${total} objects`, current: total, unit: 'objects'};
	const missing = facts.expectedBuckets.filter(bucket => !summary.buckets[bucket] && (baseline?.buckets[bucket] ?? facts.snapshot.summary?.buckets[bucket]));
	if (missing.length > 0) {
		throw new MutationError(`the provider answers but default bucket(s) ${missing.join(', ')} are missing`);
	}

	const changes = [...new Set([...Object.keys(baseline?.buckets ?? {}), ...Object.keys(summary.buckets)])].sort().flatMap(bucket => {
		const before = baseline?.buckets[bucket];
		const after = summary.buckets[bucket];
		return before?.objects === after?.objects && before?.bytes === after?.bytes ? [] : [{bucket, ...(before ? {before} : {}), ...(after ? {after} : {})}];
	});
	for (const change of changes) {
		yield {message: `${change.bucket}: ${change.before?.objects ?? 0} -> ${change.after?.objects ?? 0} objects`};
	}

	if (facts.snapshot.summary) {
		const differences = compareSummaries(facts.snapshot.summary, summary);
		if (differences.length > 0) {
			throw new MutationError(`the provider does not hold what ${facts.snapshot.name} held: ${differences.map(difference => formatDifference(difference)).join('; ')}`);
		}

		return {detail: `every bucket matches the summary recorded on ${facts.snapshot.name} (${total} objects)`, claimVolume: claim.spec?.volumeName, restoredFrom: restoreSourceName(facts), provider: summary, ...(baseline ? {baseline} : {}), reference: 'snapshot-summary', changes};
	}

	return {
		detail: `provider answers, default buckets present, ${total} objects; ${changes.length} bucket(s) changed against the pre-restore listing`,
		claimVolume: claim.spec?.volumeName,
		restoredFrom: restoreSourceName(facts),
		provider: summary,
		...(baseline ? {baseline} : {}),
		reference: 'baseline-only',
		changes,
		limitation: `the snapshot carries no record of its contents (${bucketSummaryAnnotation}), so they cannot be compared object by object`,
	};
}

/**
A restore of the provider's volume ready for a front end (the console's wizard): the plan from
fresh facts, or, when an unfinished restore of this namespace's provider is journaled, that run's
plan rebuilt from its journal (the wizard then offers to resume it). Throws `MutationError` when
the unfinished run is from another snapshot (finish or abandon it first).
*/
export async function prepareVolumeRestore(options: {
	cluster: VolumeRestoreCluster;
	namespace: string;
	snapshot: string;
	stateDir: string;
	s3Endpoint?: string;
	/** Builds the S3 probe for an endpoint (credentials from the Secret); undefined: contents not verified. */
	probeFor?: (endpoint: string) => Promise<ProviderProbe | undefined>;
	safetySnapshot?: boolean;
	readOnly?: boolean;
	/** `snapshot` names a PersistentVolume to bind again instead of a VolumeSnapshot. */
	fromVolume?: boolean;
}): Promise<RestoreSession> {
	const unfinished = listUnfinished(options.stateDir).find(state => state.begin.kind === 'volume' && (state.begin.facts as VolumeRestoreFacts).namespace === options.namespace);
	if (unfinished && restoreSourceName(unfinished.begin.facts as VolumeRestoreFacts) !== options.snapshot) {
		const other = restoreSourceName(unfinished.begin.facts as VolumeRestoreFacts);
		throw new MutationError(`${describeUnfinished(unfinished)}, from ${other}: finish it (restore volume ${other} --resume) or discard it (--abandon) first`);
	}

	const facts = unfinished ? withEndpoint(unfinished.begin.facts as VolumeRestoreFacts, options.s3Endpoint) : await readVolumeRestoreFacts(options.cluster, {
		namespace: options.namespace,
		snapshot: options.snapshot,
		safetySnapshot: options.safetySnapshot ?? true,
		...(options.s3Endpoint ? {s3Endpoint: options.s3Endpoint} : {}),
		...(options.fromVolume ? {fromVolume: true} : {}),
	});
	const probe = facts.s3Endpoint && options.probeFor ? await options.probeFor(facts.s3Endpoint) : undefined;
	return createSession({
		plan: buildVolumeRestorePlan(facts, {cluster: options.cluster, ...(probe ? {probe} : {})}),
		stateDir: options.stateDir,
		identity: options.cluster.identity,
		checkAccess: async items => options.cluster.reviewAccess(items),
		readOnly: options.readOnly ?? false,
		...(unfinished ? {resume: unfinished} : {}),
	});
}

/**
An S3 probe of the provider at `endpoint`, with the credentials from its Secret (else the AWS
variables). `name`: how steps and messages name the way to it (a port-forward's description
rather than its local port); the endpoint by default.
*/
export async function providerProbe(cluster: VolumeRestoreCluster, namespace: string, endpoint: string, name = endpoint): Promise<ProviderProbe> {
	const secret = await cluster.readSecret(namespace, credentialsSecretName).catch(() => undefined);
	const accessKey = secret?.['access-key'] ?? secret?.['root-user'] ?? secret?.['RUSTFS_ACCESS_KEY'] ?? process.env['AWS_ACCESS_KEY_ID'];
	const secretKey = secret?.['secret-key'] ?? secret?.['root-password'] ?? secret?.['RUSTFS_SECRET_KEY'] ?? process.env['AWS_SECRET_ACCESS_KEY'];
	const env = {...process.env, ...(accessKey && secretKey ? {AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: secretKey} : {})};
	return new S3ProviderProbe(createS3Client({endpoint, env}), name);
}
