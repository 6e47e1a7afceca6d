import {snapshotScheduleLabel} from '../../posture/assess.js';
import {ilum} from '../seed/ilum.js';
import type {World} from '../world.js';
import type {Scenario} from './scenario.js';

type State = {
	/** When the installation lost its protection: the mirror run that counts must come after it. */
	since: string;
};

const completed = (job: any) => (job.status?.conditions ?? []).some((condition: any) => condition.type === 'Complete' && condition.status === 'True');

/**
The installation as the chart leaves it: nothing backed up. No VolumeSnapshotClass for the
provider's driver, nothing taking snapshots on a schedule, no mirror CronJob. Nothing is lost
yet: the drill is to see it (`doctor`) and set every layer up before the incident, each fix
through the same engine and gates as a restore.
*/
export const unprotected: Scenario<State> = {
	name: 'unprotected',
	summary: 'A fresh install: no snapshot class, no snapshot schedule, no mirror; set the protection up before the incident',
	briefing: {
		what: `This installation has no protection layer: the VolumeSnapshotClass ${ilum.snapshotClass} is gone, nothing takes VolumeSnapshots on a schedule, and the backup CronJob ${ilum.backupCronJob} was never installed. Nothing is lost yet. ilum-restore doctor lists the gaps, each with its fix.`,
		success: 'A VolumeSnapshotClass with deletionPolicy Retain for the provider\'s driver, a snapshot schedule, and the mirror CronJob installed with a successful run after the drill began.',
		targetRtoMinutes: 20,
	},
	async inject(world: World) {
		world.store.delete('volumesnapshotclasses', undefined, ilum.snapshotClass);
		world.store.delete('cronjobs', ilum.namespace, ilum.backupCronJob);
		return {since: world.clock.iso()};
	},
	recovery: world => [
		{argv: ['snapshot', 'class', 'create', '--yes'], why: 'the runbook\'s class for the provider volume\'s CSI driver, deletionPolicy Retain'},
		{argv: ['snapshot', 'schedule', 'install', '--every', '1h', '--retain', '24', '--yes'], why: 'hourly snapshots, the 24 newest kept, under a least-privilege ServiceAccount'},
		{argv: ['mirror', 'install', '--destination', world.backup.endpoint, '--yes'], why: 'the runbook\'s mc mirror CronJob, to the backup S3 (its Secret still holds the keys)'},
		{argv: ['mirror', 'run', '--yes'], why: 'a first mirror now rather than at the top of the hour'},
	],
	async check(world, state) {
		const findings: string[] = [];
		const snapshotClass = world.store.get('volumesnapshotclasses', undefined, ilum.snapshotClass) ?? world.store.list('volumesnapshotclasses').items.find(item => item['driver'] === ilum.csiDriver);
		const classOk = snapshotClass?.['driver'] === ilum.csiDriver && snapshotClass['deletionPolicy'] === 'Retain';
		findings.push(classOk ? `VolumeSnapshotClass ${snapshotClass!.metadata.name} for ${ilum.csiDriver}, deletionPolicy Retain.` : `No VolumeSnapshotClass with deletionPolicy Retain for ${ilum.csiDriver}.`);
		const schedule = world.store.list('cronjobs', ilum.namespace).items.find(item => item.metadata.labels?.[snapshotScheduleLabel] && !item.spec?.suspend);
		findings.push(schedule ? `Snapshot schedule ${schedule.metadata.name} on '${String(schedule.spec?.schedule)}'.` : 'Nothing takes VolumeSnapshots on a schedule.');
		const mirror = world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob);
		const runs = world.store.list('jobs', ilum.namespace).items.filter(job => job.metadata.ownerReferences?.some(owner => owner.kind === 'CronJob' && owner.name === ilum.backupCronJob) && String(job.metadata.creationTimestamp) >= state.since);
		const mirrored = runs.some(job => completed(job));
		findings.push(mirror ? `Mirror CronJob ${ilum.backupCronJob} installed${mirror.spec?.suspend ? ' but suspended' : ''}; ${mirrored ? 'a run completed since the drill began' : 'no run has completed since the drill began'}.` : 'No mirror CronJob.');
		return {recovered: classOk && Boolean(schedule) && Boolean(mirror) && !mirror?.spec?.suspend && mirrored, lostObjects: 0, checkedObjects: 0, findings};
	},
};
