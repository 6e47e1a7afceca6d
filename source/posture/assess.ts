/**
The protection posture: what each layer really protects today, measured from the live cluster
and storage, compared with the operator's objective. Pure: `assessPosture` turns facts (read by
`gather.ts`, or given by a test) into findings and gaps, each gap with its fix as a command.
*/
import type {V1CronJob} from '@kubernetes/client-node';
import type {MirrorInventory} from '../layers/mirror-figures.js';
import {scheduleIntervalMs} from '../layers/mirrors/cron.js';
import {formatBytes} from '../output.js';
import type {TableInventory} from '../layers/tables/table-inventory.js';
import type {VolumeInventory} from '../layers/volumes/volume-inventory.js';

export type Objective = {
	/** The most data the operator accepts to lose: the freshest recovery point must be younger. */
	readonly rpoMs: number;
	/** How far back each table must be restorable. */
	readonly keepMs: number;
};

export type LayerName = 'volumes' | 'mirror' | 'tables' | 'uncovered';

export type Gap = {
	readonly layer: LayerName;
	/** Stable id, e.g. `no-snapshot-schedule`, `table-short-history:<ref>`. */
	readonly id: string;
	/** What is not protected, one line. */
	readonly title: string;
	/** The fix, as a command. */
	readonly fix: string;
};

export type LayerPosture = {
	readonly layer: LayerName;
	/** ok: meets the objective; gap: at least one gap; unknown: could not be measured. */
	readonly status: 'ok' | 'gap' | 'unknown';
	/** Age of the freshest recovery point (the RPO this layer gives today), ms. */
	readonly rpoMs?: number;
	/** Estimated time to restore the whole layer, ms, and what it is based on. */
	readonly rtoMs?: number;
	readonly rtoBasis?: string;
	/** What was measured, for people. */
	readonly findings: readonly string[];
	readonly gaps: readonly Gap[];
	/** Only for `uncovered`: what no layer protects, and how to capture it (listed, not counted as gaps). */
	readonly uncovered?: ReadonlyArray<{readonly item: string; readonly capture: string}>;
};

/** One bucket setting not covered by any layer: policy, lifecycle rules, versioning. */
export type BucketSetting = {
	readonly bucket: string;
	readonly setting: 'policy' | 'lifecycle' | 'versioning';
	/** set: exists (must be captured); none: nothing to capture; unsupported: the provider does not implement the call; error: could not be read. */
	readonly state: 'set' | 'none' | 'unsupported' | 'error';
	readonly detail?: string;
};

export type PostureFacts = {
	readonly namespace: string;
	readonly now: number;
	readonly volumes?: VolumeInventory;
	readonly volumesError?: string;
	readonly mirrors: MirrorInventory;
	readonly tables: TableInventory;
	/** Every CronJob in the namespace (snapshot schedules are found among them). */
	readonly cronJobs: readonly V1CronJob[];
	readonly cronJobsError?: string;
	/** Buckets that exist in the provider; undefined when they could not be listed. */
	readonly providerBuckets?: readonly string[];
	readonly bucketSettings: readonly BucketSetting[];
	/** Secrets a restore depends on, and whether they exist. */
	readonly secrets: ReadonlyArray<{readonly name: string; readonly exists: boolean | undefined}>;
	/** Bytes per second measured by the last restore of each kind (from its report), if any. */
	readonly throughput?: Partial<Record<'volume' | 'mirror', {readonly bytesPerSecond: number; readonly from: string}>>;
};

export type Posture = {
	readonly objective: {readonly rpo: string; readonly keep: string};
	readonly ok: boolean;
	readonly layers: readonly LayerPosture[];
	/** Every gap of every layer, most important first. */
	readonly gaps: readonly Gap[];
};

/** The label a snapshot schedule installed by ilum-restore carries. */
export const snapshotScheduleLabel = 'ilum.cloud/snapshot-schedule';

/** A CronJob that takes VolumeSnapshots: ours by label, or any whose command creates VolumeSnapshots. */
export function isSnapshotSchedule(cronJob: V1CronJob): boolean {
	if (cronJob.metadata?.labels?.[snapshotScheduleLabel]) {
		return true;
	}

	const containers = cronJob.spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];
	return containers.some(container => /volumesnapshot/i.test([...container.command ?? [], ...container.args ?? []].join(' ')));
}

export function formatDuration(ms: number): string {
	const minutes = Math.round(ms / 60_000);
	if (minutes < 120) {
		return `${minutes}m`;
	}

	const hours = Math.round(ms / 3_600_000);
	return hours < 72 ? `${hours}h` : `${Math.round(ms / 86_400_000)}d`;
}

/** `90m`, `24h`, `7d`, `1w`, or plain milliseconds. */
export function parseDuration(text: string): number | undefined {
	const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(text.trim());
	if (!match) {
		return undefined;
	}

	const units: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000};
	return Number(match[1]) * units[match[2] ?? 'ms']!;
}

const parseQuantity = (quantity: string | undefined): number | undefined => {
	const match = /^(\d+(?:\.\d+)?)([KMGTP]i?)?$/.exec(quantity ?? '');
	if (!match) {
		return undefined;
	}

	const powers: Record<string, number> = {K: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50};
	return Number(match[1]) * (match[2] ? powers[match[2]]! : 1);
};

function rto(bytes: number | undefined, measured: {bytesPerSecond: number; from: string} | undefined): Pick<LayerPosture, 'rtoMs' | 'rtoBasis'> {
	if (bytes === undefined) {
		return {rtoBasis: 'unknown: the data size could not be read'};
	}

	if (!measured || measured.bytesPerSecond <= 0) {
		return {rtoBasis: 'unknown: no restore measured on this cluster yet (run a drill: ilum-restore drill run <scenario> --auto)'};
	}

	return {rtoMs: Math.round(bytes / measured.bytesPerSecond * 1000), rtoBasis: `${formatBytes(bytes)} at ${formatBytes(measured.bytesPerSecond)}/s measured by ${measured.from}`};
}


function assessVolumes(facts: PostureFacts, objective: Objective): LayerPosture {
	const {volumes, namespace, now} = facts;
	if (!volumes) {
		return {layer: 'volumes', status: 'unknown', findings: [facts.volumesError ?? 'the volume layer could not be read'], gaps: []};
	}

	const gaps: Gap[] = [];
	const findings: string[] = [];
	const classCheck = volumes.checks.find(check => check.id === 'snapshot-class');
	if (classCheck && !classCheck.ok) {
		gaps.push({layer: 'volumes', id: 'no-snapshot-class', title: `No VolumeSnapshotClass for the provider's CSI driver (${classCheck.detail})`, fix: `ilum-restore snapshot class create -n ${namespace} --yes`});
	}

	for (const check of volumes.checks.filter(check => !check.ok && check.id !== 'snapshot-class')) {
		if (check.warning) {
			findings.push(`${check.title}: ${check.detail}`);
		} else {
			gaps.push({layer: 'volumes', id: `check-${check.id}`, title: `${check.title}: ${check.detail}`, fix: check.fix ?? 'see ilum-restore inventory'});
		}
	}

	const deletionPolicy = volumes.checks.find(check => check.id === 'deletion-policy');
	if (deletionPolicy && !deletionPolicy.ok) {
		gaps.push({layer: 'volumes', id: 'snapshot-class-delete', title: deletionPolicy.detail, fix: deletionPolicy.fix ?? 'use deletionPolicy: Retain'});
	}

	const schedules = facts.cronJobs.filter(cronJob => isSnapshotSchedule(cronJob));
	if (facts.cronJobsError) {
		findings.push(`CronJobs could not be read: ${facts.cronJobsError}`);
	} else if (schedules.length === 0) {
		gaps.push({layer: 'volumes', id: 'no-snapshot-schedule', title: 'Nothing takes VolumeSnapshots on a schedule (no CronJob creates them)', fix: `ilum-restore snapshot schedule install -n ${namespace} --every 1h --retain 24 --yes`});
	} else {
		findings.push(`snapshot schedule: ${schedules.map(cronJob => `${cronJob.metadata?.name} (${cronJob.spec?.schedule}${cronJob.spec?.suspend ? ', suspended' : ''})`).join(', ')}`);
		for (const cronJob of schedules.filter(candidate => candidate.spec?.suspend)) {
			gaps.push({layer: 'volumes', id: 'snapshot-schedule-suspended', title: `The snapshot schedule ${cronJob.metadata?.name} is suspended`, fix: `kubectl -n ${namespace} patch cronjob ${cronJob.metadata?.name} -p '{"spec":{"suspend":false}}'`});
		}
	}

	const own = volumes.snapshots.filter(snapshot => snapshot.ofProvider);
	const ready = own.filter(snapshot => snapshot.ready && snapshot.createdAt).sort((a, b) => Date.parse(b.createdAt!) - Date.parse(a.createdAt!));
	const failed = own.filter(snapshot => snapshot.error);
	for (const snapshot of failed) {
		gaps.push({layer: 'volumes', id: `snapshot-failed:${snapshot.name}`, title: `VolumeSnapshot ${snapshot.name} failed: ${snapshot.error}`, fix: `kubectl -n ${namespace} describe volumesnapshot ${snapshot.name}; then delete it and take a new one: ilum-restore snapshot create -n ${namespace} --yes`});
	}

	const newest = ready[0];
	const rpoMs = newest ? now - Date.parse(newest.createdAt!) : undefined;
	findings.push(newest ? `${ready.length} ready snapshot${ready.length === 1 ? '' : 's'} of ${volumes.provider?.claim ?? 'the provider'}; newest ${newest.name}, ${formatDuration(rpoMs!)} old` : `no ready snapshot of ${volumes.provider?.claim ?? 'the provider claim'}`);
	if (volumes.provider && (rpoMs === undefined || rpoMs > objective.rpoMs)) {
		gaps.push({layer: 'volumes', id: 'snapshot-stale', title: newest ? `The newest ready snapshot is ${formatDuration(rpoMs!)} old, over the objective of ${formatDuration(objective.rpoMs)}` : 'No ready VolumeSnapshot of the provider volume exists', fix: `ilum-restore snapshot create -n ${namespace} --yes`});
	}

	const size = parseQuantity(newest?.restoreSize) ?? parseQuantity(volumes.provider?.capacity);
	return {layer: 'volumes', status: gaps.length > 0 ? 'gap' : 'ok', ...(rpoMs === undefined ? {} : {rpoMs}), ...rto(size, facts.throughput?.volume), findings, gaps};
}

function assessMirror(facts: PostureFacts, objective: Objective): LayerPosture {
	const {mirrors, namespace, now} = facts;
	const cron = mirrors.cron;
	if (!cron) {
		const missing = !mirrors.cronProblem || /no backup CronJob/.test(mirrors.cronProblem);
		return {
			layer: 'mirror',
			status: missing ? 'gap' : 'unknown',
			findings: [mirrors.cronProblem ?? 'no backup CronJob'],
			gaps: missing ? [{layer: 'mirror', id: 'no-mirror', title: 'No off-cluster mirror: nothing survives losing the cluster', fix: `ilum-restore mirror install -n ${namespace} --destination https://BACKUP-S3-ENDPOINT --yes`}] : [],
		};
	}

	const gaps: Gap[] = [];
	const findings: string[] = [`CronJob ${cron.name}: ${cron.schedule}${cron.suspended ? ', suspended' : ''}, ${cron.tool}${cron.remove ? ' with --remove' : ' (append-only)'}`];
	if (cron.suspended) {
		gaps.push({layer: 'mirror', id: 'mirror-suspended', title: `The backup CronJob ${cron.name} is suspended: no new data reaches the mirror`, fix: `kubectl -n ${namespace} patch cronjob ${cron.name} -p '{"spec":{"suspend":false}}'`});
	}

	const lastSuccess = cron.lastSuccessfulTime ? Date.parse(cron.lastSuccessfulTime) : undefined;
	const rpoMs = lastSuccess === undefined ? undefined : now - lastSuccess;
	const interval = scheduleIntervalMs(cron.schedule);
	const allowed = Math.max(objective.rpoMs, interval ? interval * 2 : 0);
	findings.push(lastSuccess === undefined ? 'no successful run recorded' : `last successful run ${formatDuration(rpoMs!)} ago`);
	const failedRuns = cron.runs.filter(run => run.outcome === 'failed');
	if (rpoMs === undefined || rpoMs > allowed) {
		gaps.push({
			layer: 'mirror',
			id: 'mirror-stale',
			title: rpoMs === undefined ? 'The mirror has never completed a run' : `The mirror's last successful run was ${formatDuration(rpoMs)} ago (objective ${formatDuration(objective.rpoMs)}${failedRuns.length > 0 ? `; ${failedRuns.length} failed run${failedRuns.length === 1 ? '' : 's'} since` : ''})`,
			fix: `ilum-restore mirror run -n ${namespace} --yes${failedRuns[0] ? ` (and read why ${failedRuns[0].name} failed: kubectl -n ${namespace} logs job/${failedRuns[0].name})` : ''}`,
		});
	}

	if (cron.destination.secretProblem) {
		gaps.push({layer: 'mirror', id: 'mirror-credentials', title: `The mirror's credentials cannot be read: ${cron.destination.secretProblem}`, fix: `kubectl -n ${namespace} create secret generic ${cron.destination.secretName} --from-literal=endpoint=... --from-literal=access-key=... --from-literal=secret-key=...`});
	}

	const unreachable = mirrors.buckets.filter(bucket => bucket.error && /mirror|backup|destination/i.test(bucket.error));
	if (mirrors.compareProblem) {
		findings.push(`mirror not compared: ${mirrors.compareProblem}`);
	} else if (unreachable.length > 0) {
		gaps.push({layer: 'mirror', id: 'mirror-unreachable', title: `The mirror could not be read: ${unreachable[0]!.error}`, fix: `check the endpoint and keys in Secret ${cron.destination.secretName}`});
	}

	if (facts.providerBuckets && cron.buckets.length > 0) {
		const uncovered = facts.providerBuckets.filter(bucket => !cron.buckets.includes(bucket));
		if (uncovered.length > 0) {
			gaps.push({layer: 'mirror', id: 'mirror-uncovered-buckets', title: `Buckets the mirror does not copy: ${uncovered.join(', ')}`, fix: `ilum-restore mirror install -n ${namespace} --destination ${cron.destination.endpoint ?? 'https://BACKUP-S3-ENDPOINT'} --yes (repairs the CronJob to cover every bucket)`});
		}
	}

	if (cron.remove) {
		findings.push('--remove copies a deletion into the backup at the next run: suspend the CronJob first in an incident');
	}

	const behind = mirrors.buckets.reduce((sum, bucket) => sum + bucket.missingOnMirror + bucket.changed, 0);
	if (mirrors.buckets.length > 0) {
		findings.push(`${behind} object${behind === 1 ? '' : 's'} in the provider not yet on the mirror`);
	}

	const bytes = mirrors.buckets.length > 0 ? mirrors.buckets.reduce((sum, bucket) => sum + bucket.mirror.bytes, 0) : undefined;
	return {layer: 'mirror', status: gaps.length > 0 ? 'gap' : 'ok', ...(rpoMs === undefined ? {} : {rpoMs}), ...rto(bytes, facts.throughput?.mirror), findings, gaps};
}

function assessTables(facts: PostureFacts, objective: Objective): LayerPosture {
	const {tables, now} = facts;
	const gaps: Gap[] = [];
	const findings: string[] = [...tables.errors];
	for (const table of tables.tables) {
		if (table.error) {
			findings.push(`${table.name}: ${table.error}`);
			continue;
		}

				const oldest = table.oldestRestorableAt ? Date.parse(table.oldestRestorableAt) : undefined;
		const reach = oldest === undefined ? 0 : now - oldest;
		findings.push(`${table.format} ${table.name}: ${table.versions ?? 0} versions, back to ${table.oldestRestorableAt ?? 'nothing restorable'}`);
		const keeps = table.retention?.keepsMs;
		if (keeps !== undefined && keeps < objective.keepMs) {
			gaps.push({
				layer: 'tables',
				id: `table-retention:${table.ref}${table.table ? `#${table.table}` : ''}`,
				title: `${table.format} table ${table.name}: its settings keep ${formatDuration(keeps)} of history (${Object.entries(table.retention!.settings).map(([key, value]) => `${key} = ${value}`).join(', ')}), less than the objective of ${formatDuration(objective.keepMs)}`,
				fix: retentionFix(table.format, table.name, objective.keepMs),
			});
		}

		// A table younger than the objective cannot be expected to reach further back than its birth.
		const lostHistory = (table.versions ?? 0) > (table.points?.length ?? 0);
		if (reach < objective.keepMs && lostHistory) {
			gaps.push({
				layer: 'tables',
				id: `table-short-history:${table.ref}${table.table ? `#${table.table}` : ''}`,
				title: `${table.format} table ${table.name} can only go back ${formatDuration(reach)} (objective ${formatDuration(objective.keepMs)}): older versions lost their files`,
				fix: retentionFix(table.format, table.name, objective.keepMs),
			});
		}
	}

	return {layer: 'tables', status: gaps.length > 0 ? 'gap' : (tables.tables.length === 0 && tables.errors.length > 0 ? 'unknown' : 'ok'), findings, gaps};
}

/** The setting that keeps a table's history at least `keepMs`, per format. */
export function retentionFix(format: string, name: string, keepMs: number): string {
	const days = Math.ceil(keepMs / 86_400_000);
	switch (format) {
		case 'delta': {
			return `ALTER TABLE ${name} SET TBLPROPERTIES ('delta.deletedFileRetentionDuration'='interval ${days} days', 'delta.logRetentionDuration'='interval ${Math.max(days, 30)} days') and VACUUM with at least that retention`;
		}

		case 'iceberg': {
			return `ALTER TABLE ${name} SET TBLPROPERTIES ('history.expire.max-snapshot-age-ms'='${days * 86_400_000}') and expire_snapshots with older_than at least ${days} days`;
		}

		default: {
			return `CALL ducklake_set_option('expire_older_than', '${days} days') and keep ducklake_cleanup_old_files to files older than that`;
		}
	}
}

function assessUncovered(facts: PostureFacts): LayerPosture {
	const uncovered: Array<{readonly item: string; readonly capture: string}> = [];
	const findings: string[] = [];
	const set = facts.bucketSettings.filter(setting => setting.state === 'set');
	const unsupported = facts.bucketSettings.filter(setting => setting.state === 'unsupported');
	const errors = facts.bucketSettings.filter(setting => setting.state === 'error');
	if (set.length > 0) {
		uncovered.push({item: `bucket settings: ${set.map(setting => `${setting.bucket} ${setting.setting}`).join(', ')}`, capture: `ilum-restore buckets export -n ${facts.namespace} --out ./bucket-settings`});
	} else if (facts.bucketSettings.length > 0) {
		findings.push('no bucket policy, lifecycle rule or versioning setting is set: nothing to capture');
	}

	if (unsupported.length > 0) {
		const calls = [...new Set(unsupported.map(setting => setting.setting))];
		findings.push(`the provider does not implement: ${calls.join(', ')} (reported, nothing to capture there)`);
	}

	for (const setting of errors.slice(0, 3)) {
		findings.push(`${setting.bucket} ${setting.setting}: ${setting.detail ?? 'could not be read'}`);
	}

	const secrets = facts.secrets.filter(secret => secret.exists);
	if (secrets.length > 0) {
		uncovered.push({item: `Secrets a restore depends on: ${secrets.map(secret => secret.name).join(', ')}`, capture: `kubectl -n ${facts.namespace} get secret ${secrets.map(secret => secret.name).join(' ')} -o yaml > ilum-secrets.yaml (store it encrypted, off the cluster)`});
	}

	uncovered.push({item: 'IAM users and OIDC client registrations set directly on the provider', capture: 'export them with the provider\'s admin tool (mc admin user list / rustfs admin) and keep them with the backup'});
	return {layer: 'uncovered', status: 'ok', findings, gaps: [], uncovered};
}

/**
Measures each layer against the objective. A gap is something an operator can fix before the
incident; `fix` says how.
*/
export function assessPosture(facts: PostureFacts, objective: Objective, options: {readonly acknowledged?: ReadonlySet<string>} = {}): Posture {
	const layers = [assessVolumes(facts, objective), assessMirror(facts, objective), assessTables(facts, objective), assessUncovered(facts)];
	const acknowledged = options.acknowledged ?? new Set<string>();
	const gaps = layers.flatMap(layer => layer.gaps).filter(gap => !acknowledged.has(gap.id));
	return {
		objective: {rpo: formatDuration(objective.rpoMs), keep: formatDuration(objective.keepMs)},
		ok: gaps.length === 0,
		layers,
		gaps,
	};
}
