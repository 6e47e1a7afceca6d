import type {MirrorInventory} from './mirror-figures.js';
import {scheduleIntervalMs} from './mirrors/cron.js';
import type {VolumeInventory} from './volumes/volume-inventory.js';

export type Hazard = {
	readonly id: 'remove-will-delete-backup' | 'no-recent-snapshot' | 'snapshot-not-ready' | 'mirror-stale' | 'mirror-failing' | 'provider-unreachable' | 'snapshots-impossible';
	readonly severity: 'critical' | 'warning';
	readonly layer: 'volumes' | 'mirrors' | 'tables';
	/** What is wrong, one line. */
	readonly title: string;
	/** What to do, one line (a command where there is one). */
	readonly fix: string;
};

export type HazardInput = {
	readonly volumes?: VolumeInventory;
	readonly mirrors?: MirrorInventory;
	readonly now: number;
	/** Raise "no snapshot" when the newest ready provider snapshot is older than this. Default 24. */
	readonly maxSnapshotAgeHours?: number;
};

const hours = (ms: number) => `${Math.round(ms / 3_600_000)} h`;

/** The dangers an operator must see first, each with its fix. Pure. Most urgent first. */
export function findHazards(input: HazardInput): Hazard[] {
	const hazards: Hazard[] = [];
	const {volumes, mirrors, now} = input;
	const cron = mirrors?.cron;
	const namespace = cron?.namespace ?? volumes?.namespace ?? 'ilum';
	if (cron?.remove && !cron.suspended) {
		const losing = (mirrors?.buckets ?? []).filter(bucket => bucket.missingInProvider > 0);
		if (losing.length > 0) {
			const count = losing.reduce((sum, bucket) => sum + bucket.missingInProvider, 0);
			hazards.push({
				id: 'remove-will-delete-backup',
				severity: 'critical',
				layer: 'mirrors',
				title: `The next run of CronJob ${cron.name} (--remove) deletes ${count} object${count === 1 ? '' : 's'} from the backup that the provider lost (${losing.map(bucket => bucket.bucket).join(', ')})`,
				fix: `suspend it now: kubectl -n ${namespace} patch cronjob ${cron.name} -p '{"spec":{"suspend":true}}'`,
			});
		}
	}

	if (mirrors?.provider && !mirrors.provider.reachable) {
		hazards.push({
			id: 'provider-unreachable',
			severity: 'critical',
			layer: 'mirrors',
			// Through a port-forward the local port means nothing to the reader: name the forward instead.
			title: `The provider${mirrors.provider.via?.startsWith('port-forward') ? ` through ${mirrors.provider.via}` : (mirrors.provider.endpoint ? ` at ${mirrors.provider.endpoint}` : '')} does not answer${mirrors.provider.error ? ` (${mirrors.provider.error})` : ''}`,
			fix: `check the provider pods: kubectl -n ${namespace} get pods -l app.kubernetes.io/name=rustfs; restore its volume if the data is gone`,
		});
	}

	if (volumes) {
		const failed = volumes.checks.filter(check => !check.ok && !check.warning);
		if (failed.length > 0 && volumes.provider) {
			hazards.push({id: 'snapshots-impossible', severity: 'warning', layer: 'volumes', title: `Volume snapshots cannot be taken: ${failed[0]!.title}: ${failed[0]!.detail}`, fix: failed[0]!.fix ?? 'see the Volume snapshots pane'});
		}

		const own = volumes.snapshots.filter(snapshot => snapshot.ofProvider);
		// A snapshot being cut is not ready for a while: a hazard once it failed or is still not ready after 10 minutes.
		const notReady = own.filter(snapshot => !snapshot.ready && (snapshot.error || !snapshot.createdAt || now - Date.parse(snapshot.createdAt) > 600_000));
		for (const snapshot of notReady.slice(0, 3)) {
			hazards.push({
				id: 'snapshot-not-ready',
				severity: 'warning',
				layer: 'volumes',
				title: `Snapshot ${snapshot.name} is not ready${snapshot.error ? `: ${snapshot.error}` : ''}`,
				fix: `kubectl -n ${snapshot.namespace} describe volumesnapshot ${snapshot.name}; check the snapshot controller and the CSI driver`,
			});
		}

		if (volumes.provider) {
			const limit = (input.maxSnapshotAgeHours ?? 24) * 3_600_000;
			const newest = own.filter(snapshot => snapshot.ready && snapshot.createdAt).map(snapshot => Date.parse(snapshot.createdAt!)).sort((a, b) => b - a)[0];
			if (newest === undefined || now - newest > limit) {
				hazards.push({
					id: 'no-recent-snapshot',
					severity: 'warning',
					layer: 'volumes',
					title: newest === undefined ? `No ready snapshot of ${volumes.provider.claim}` : `No snapshot of ${volumes.provider.claim} in the last ${hours(limit)} (newest ${hours(now - newest)} ago)`,
					fix: `take one: a VolumeSnapshot with source.persistentVolumeClaimName: ${volumes.provider.claim}, and schedule them`,
				});
			}
		}
	}

	if (cron) {
		const interval = scheduleIntervalMs(cron.schedule);
		const last = cron.lastSuccessfulTime ? Date.parse(cron.lastSuccessfulTime) : undefined;
		const lastRun = cron.runs[0];
		if (interval !== undefined && (last === undefined || now - last > interval * 1.5)) {
			hazards.push({
				id: 'mirror-stale',
				severity: 'critical',
				layer: 'mirrors',
				title: last === undefined
					? `The mirror CronJob ${cron.name} has never succeeded${cron.suspended ? ' (suspended)' : ''}`
					: `The last mirror is ${hours(now - last)} old, its schedule (${cron.schedule}) promises ${hours(interval)}${cron.suspended ? ' (suspended)' : ''}`,
				fix: cron.suspended
					? `resume it once safe: kubectl -n ${namespace} patch cronjob ${cron.name} -p '{"spec":{"suspend":false}}'`
					: `read why it fails: kubectl -n ${namespace} logs job/${lastRun?.name ?? cron.name}`,
			});
		} else if (lastRun?.outcome === 'failed') {
			hazards.push({id: 'mirror-failing', severity: 'warning', layer: 'mirrors', title: `The last mirror run ${lastRun.name} failed`, fix: `kubectl -n ${namespace} logs job/${lastRun.name}`});
		}
	}

	const rank = {critical: 0, warning: 1} as const;
	return hazards.sort((a, b) => rank[a.severity] - rank[b.severity]);
}
