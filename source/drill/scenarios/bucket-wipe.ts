import {ilum} from '../seed/ilum.js';
import type {World} from '../world.js';
import {compareWithProvider, until, type Scenario} from './scenario.js';

type State = {
	/** ilum-data before the wipe (key -> ETag). */
	before: Record<string, string>;
	/** What the mirror held of it at the time of the wipe: what a mirror restore can bring back. */
	mirrored: Record<string, string>;
	wipedAt: string;
	nextBackup: string;
};

const bucket = 'ilum-data';
const jobName = 'cleanup-stale-exports';

const wipeScript = `set -e
mc alias set ilum http://ilum-objectstorage:9000 "$ACCESS_KEY" "$SECRET_KEY"
# meant to clean ilum-data/exports/tmp/, the prefix was lost in a refactoring
mc rm --recursive --force "ilum/${bucket}"
`;

/**
A runaway cleanup Job deletes everything in ilum-data through S3; the backup CronJob (with
--remove) is due in five minutes and would empty the mirror too. Recovery: hold the CronJob,
restore ilum-data from the mirror; objects written after the last mirror run are lost (the RPO).
*/
export const bucketWipe: Scenario<State> = {
	name: 'bucket-wipe',
	summary: 'A runaway job deleted everything in ilum-data; the mirror CronJob (--remove) runs in 5 minutes',
	briefing: {
		what: `The Job ${jobName} ran "mc rm --recursive --force" on the whole ilum-data bucket instead of a temporary prefix. Every object in ilum-data is gone from the provider. The backup CronJob ${ilum.backupCronJob} mirrors with --remove and is due in five minutes.`,
		success: 'ilum-data holds again every object the mirror had before the wipe, with the same checksums; the mirror itself is not emptied.',
		targetRtoMinutes: 15,
	},
	async inject(world: World) {
		const {store, clock, backupVolume} = world;
		const before = world.providerEndpoint.volume?.fingerprint()[bucket] ?? {};
		const mirrored = backupVolume.fingerprint()[bucket] ?? {};
		store.create('jobs', {
			apiVersion: 'batch/v1',
			kind: 'Job',
			metadata: {name: jobName, namespace: ilum.namespace, labels: {'app.kubernetes.io/name': 'data-housekeeping'}},
			spec: {
				backoffLimit: 0,
				template: {
					metadata: {labels: {'app.kubernetes.io/name': 'data-housekeeping'}},
					spec: {
						restartPolicy: 'Never',
						containers: [{
							name: 'cleanup',
							image: ilum.mcImage,
							command: ['/bin/sh', '-c', wipeScript],
							env: [
								{name: 'ACCESS_KEY', valueFrom: {secretKeyRef: {name: ilum.credentialsSecret, key: 'access-key'}}},
								{name: 'SECRET_KEY', valueFrom: {secretKeyRef: {name: ilum.credentialsSecret, key: 'secret-key'}}},
							],
						}],
					},
				},
			},
		});
		await until(() => (store.get('jobs', ilum.namespace, jobName)?.status?.conditions ?? []).some((condition: any) => (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True'), 'the cleanup job to finish');
		const wipedAt = clock.iso();
		const hour = 3_600_000;
		const next = Math.ceil((clock.now() + 1) / hour) * hour;
		const dueIn = 5 * 60_000;
		if (next - clock.now() > dueIn) {
			clock.advance(next - clock.now() - dueIn);
		}

		return {before, mirrored, wipedAt, nextBackup: clock.iso(next)};
	},
	async check(world, state) {
		const findings: string[] = [];
		if (!world.providerEndpoint.reachable) {
			findings.push('The provider is not serving: no ready replica behind ilum-objectstorage.');
		}

		const mirrored = compareWithProvider(world, {[bucket]: state.mirrored});
		const all = compareWithProvider(world, {[bucket]: state.before});
		const recovered = world.providerEndpoint.reachable && mirrored.missing === 0 && mirrored.differ === 0;
		const notInMirror = Object.keys(state.before).filter(key => state.mirrored[key] !== state.before[key]).length;
		findings.push(`${mirrored.checked - mirrored.missing - mirrored.differ} of ${mirrored.checked} mirrored objects are back in ${bucket}.`);
		if (notInMirror > 0) {
			findings.push(`${notInMirror} objects were written or changed after the last mirror run: no mirror can bring them back (the RPO of the mirror layer).`);
		}

		const mirrorNow = Object.keys(world.backupVolume.fingerprint()[bucket] ?? {}).length;
		if (mirrorNow < Object.keys(state.mirrored).length / 2) {
			findings.push(`Mistake: the mirror of ${bucket} now holds ${mirrorNow} of ${Object.keys(state.mirrored).length} objects: the backup CronJob ran with --remove after the wipe (it should have been suspended first).`);
		}

		const cronJob = world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob);
		if (cronJob && !cronJob.spec?.suspend && recovered) {
			findings.push('The backup CronJob is running again.');
		}

		return {recovered, lostObjects: all.missing + all.differ, checkedObjects: all.checked, findings};
	},
	recovery: () => [
		{argv: ['restore', 'mirror', '--bucket', bucket, '--yes'], why: 'copy ilum-data back from the mirror; the command holds the backup CronJob (--remove) for the duration'},
	],
};
