import {ilum} from '../seed/ilum.js';
import type {World} from '../world.js';
import {compareWithProvider, type Fingerprint, type Scenario} from './scenario.js';

type State = {
	/** Every bucket before the incident (key -> ETag). */
	before: Fingerprint;
	/** The newest ready VolumeSnapshot before the incident: the right recovery point. */
	lastGood: string;
	lastGoodTime: string;
	lastGoodData: Fingerprint;
	/** What the mirror holds: the provider as of its last successful run, two days ago. */
	mirrored: Fingerprint;
	lastMirrorSuccess: string;
	incidentAt: string;
	deleted: number;
};

const bucket = 'ilum-files';
const day = 24 * 3_600_000;
const minute = 60_000;

const failedLog = [
	'Added `src` successfully.',
	'mc: <ERROR> Unable to initialize new alias from the provided credentials. The Access Key Id you provided does not exist in our records.',
];

/**
The backup CronJob has failed every run for two days (the target's access key was rotated, the
Secret `ilum-backup-credentials` was not): the mirror still holds the buckets as they were two
days ago, and nothing alerted. Then someone deletes everything in `ilum-files`. The mirror looks
like the obvious path (one bucket, one command) but its recovery point is two days old; the newest
VolumeSnapshot is minutes old. Recovery: restore the volume from that snapshot (writes after it
are lost in every bucket: minutes of them), not the mirror (two days of `ilum-files` lost).
*/
export const mirrorStale: Scenario<State> = {
	name: 'mirror-stale',
	summary: 'ilum-files was emptied; the mirror looks fine but its last good run was two days ago: pick the right recovery point',
	briefing: {
		what: `A cleanup script ran "aws s3 rm --recursive s3://${bucket}/" against production instead of staging: ${bucket} is empty. The team's runbook says: restore the bucket from the mirror (CronJob ${ilum.backupCronJob}). Before you choose, look at how old each recovery point really is.`,
		success: `${bucket} holds again every object of the newest recovery point taken before the incident, with the same checksums, and no more data is lost than that recovery point implies.`,
		targetRtoMinutes: 20,
	},
	async inject(world: World) {
		const {store, clock, data} = world;
		const volume = world.providerEndpoint.volume;
		if (!volume) {
			throw new Error('mirror-stale: the provider is not serving; start the drill from a healthy world');
		}

		const now = clock.now();
		const lastMirrorSuccess = clock.iso(Math.floor((now - (2 * day)) / (60 * minute)) * 60 * minute + 40_000);
		const staleSince = Date.parse(lastMirrorSuccess);

		// Two days of failed runs: the target's access key was rotated, the Secret still holds the old one.
		store.mutate('secrets', ilum.namespace, ilum.backupSecret, secret => {
			secret.data = {...secret.data, 'access-key': Buffer.from(`${world.backup.accessKeyId.slice(0, -4)}0ld1`).toString('base64')};
		});
		const runs = store.list('jobs', ilum.namespace).items.filter(job => (job.metadata.ownerReferences ?? []).some((owner: any) => owner.kind === 'CronJob' && owner.name === ilum.backupCronJob));
		for (const job of runs) {
			const started = String(job.status?.startTime ?? clock.iso());
			const finished = clock.iso(Date.parse(started) + 4000);
			const condition = (type: string) => ({type, status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: finished, lastTransitionTime: finished});
			store.mutate('jobs', ilum.namespace, job.metadata.name, object => {
				object.status = {startTime: started, failed: 3, active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {}, conditions: [condition('FailureTarget'), condition('Failed')]};
			}, {subresource: 'status'});
			for (const pod of store.list('pods', ilum.namespace).items.filter(item => (item.metadata.ownerReferences ?? []).some((owner: any) => owner.kind === 'Job' && owner.name === job.metadata.name))) {
				store.mutate('pods', ilum.namespace, pod.metadata.name, object => {
					object.status = {...object.status, phase: 'Failed', containerStatuses: (object.status?.containerStatuses ?? []).map((status: any) => ({...status, state: {terminated: {...status.state?.terminated, exitCode: 1, reason: 'Error', finishedAt: finished}}}))};
				}, {subresource: 'status'});
				data.podLogs.set(`${ilum.namespace}/${pod.metadata.name}`, [...failedLog]);
			}
		}

		store.mutate('cronjobs', ilum.namespace, ilum.backupCronJob, object => {
			object.status = {...object.status, lastSuccessfulTime: lastMirrorSuccess};
		}, {subresource: 'status'});

		// The mirror as the last successful run left it: only what the provider held unchanged since then.
		const provider = volume.fingerprint();
		for (const name of world.backupVolume.bucketNames()) {
			for (const [key, object] of [...world.backupVolume.objects(name)]) {
				const source = volume.objects(name).get(key);
				if (!source || source.etag !== object.etag || source.lastModified.getTime() > staleSince) {
					world.backupVolume.delete(name, key);
				}
			}
		}

		const snapshots = store.list('volumesnapshots', ilum.namespace).items
			.filter(snapshot => snapshot.status?.readyToUse === true && snapshot.spec?.source?.persistentVolumeClaimName === ilum.claim)
			.sort((a, b) => String(b.status.creationTime).localeCompare(String(a.status.creationTime)));
		const lastGood = snapshots[0];
		if (!lastGood) {
			throw new Error('mirror-stale: no ready VolumeSnapshot of the provider claim');
		}

		const content = store.get('volumesnapshotcontents', undefined, lastGood.status.boundVolumeSnapshotContentName);
		const lastGoodData = data.snapshots.get(String(content?.status?.snapshotHandle ?? ''))?.fingerprint() ?? {};

		// The incident.
		let deleted = 0;
		for (const key of [...volume.objects(bucket).keys()]) {
			volume.delete(bucket, key);
			deleted++;
		}

		return {
			before: provider,
			lastGood: lastGood.metadata.name,
			lastGoodTime: String(lastGood.status.creationTime),
			lastGoodData,
			mirrored: world.backupVolume.fingerprint(),
			lastMirrorSuccess,
			incidentAt: clock.iso(),
			deleted,
		};
	},
	async check(world, state) {
		const findings: string[] = [];
		if (!world.providerEndpoint.reachable) {
			findings.push('The provider is not serving: no ready replica behind ilum-objectstorage.');
		}

		const actual = world.providerEndpoint.volume?.fingerprint()[bucket] ?? {};
		const wanted = Object.entries(state.lastGoodData[bucket] ?? {});
		const back = wanted.filter(([key, etag]) => actual[key] === etag || actual[key] === state.before[bucket]?.[key]).length;
		const recovered = world.providerEndpoint.reachable && back === wanted.length;
		const all = compareWithProvider(world, state.before);
		const lost = all.missing + all.differ;
		// The age of each recovery point is its RPO for ilum-files: what each loses of the bucket, from the state before.
		const before = Object.entries(state.before[bucket] ?? {});
		const snapshotLoss = before.filter(([key, etag]) => state.lastGoodData[bucket]?.[key] !== etag).length;
		const mirrorLoss = before.filter(([key, etag]) => state.mirrored[bucket]?.[key] !== etag).length;
		const lostHere = before.filter(([key, etag]) => actual[key] !== etag).length;
		const age = (iso: string) => {
			const minutes = Math.round((Date.parse(state.incidentAt) - Date.parse(iso)) / minute);
			return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
		};

		findings.push(`${back} of ${wanted.length} objects of ${bucket} in ${state.lastGood} are back; the incident deleted ${state.deleted}.`);
		findings.push(`Recovery points for ${bucket}: ${state.lastGood}, ${age(state.lastGoodTime)} old at the incident (loses ${snapshotLoss} of its objects; being a whole-volume restore, it also rolls back the other buckets' later writes); the mirror, last successful run ${state.lastMirrorSuccess}, ${age(state.lastMirrorSuccess)} old (loses ${mirrorLoss}).`);
		findings.push(`${lostHere} objects of ${bucket} as it was before the incident are lost for good (the RPO achieved there).`);
		if (lostHere > snapshotLoss) {
			findings.push(`Mistake: wrong recovery point: ${lostHere} objects of ${bucket} are lost where ${state.lastGood} would have lost ${snapshotLoss}. The mirror's last successful run was ${state.lastMirrorSuccess}: its RPO was two days, not one hour (check the CronJob's last success, not its schedule).`);
		}

		const secret = world.store.get('secrets', ilum.namespace, ilum.backupSecret);
		const key = Buffer.from(String(secret?.data?.['access-key'] ?? ''), 'base64').toString('utf8');
		if (key !== world.backup.accessKeyId) {
			findings.push(`The backup still fails: Secret ${ilum.backupSecret} holds a rotated-out access key (its Jobs fail with InvalidAccessKeyId). Fix it after the recovery, and alert on the CronJob's last successful time.`);
		}

		const safety = world.store.list('volumesnapshots', ilum.namespace).items.some(snapshot => snapshot.metadata.creationTimestamp >= state.incidentAt);
		if (!safety && recovered) {
			findings.push('No snapshot of the volume was taken before the restore: there was no way back had the wrong snapshot been picked.');
		}

		return {recovered, lostObjects: lost, checkedObjects: all.checked, findings};
	},
	recovery: (_world, state) => [
		{argv: ['inventory'], why: 'compare the recovery points: the mirror CronJob\'s last success is two days old, the newest VolumeSnapshot minutes'},
		{argv: ['restore', 'volume', state.lastGood, '--yes'], why: 'put the newest snapshot from before the incident under the provider claim (after a safety snapshot of the current volume)'},
	],
};
