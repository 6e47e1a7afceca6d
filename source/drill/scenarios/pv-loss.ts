import {ilum} from '../seed/ilum.js';
import {Rng} from '../seed/rng.js';
import {objectRecord} from '../s3/object-record.js';
import type {World} from '../world.js';
import {compareWithProvider, type Scenario} from './scenario.js';

type State = {
	/** Every bucket before the corruption (key -> ETag). */
	before: Record<string, Record<string, string>>;
	/** The newest ready VolumeSnapshot at the time: the last good recovery point. */
	lastGood: string;
	lastGoodData: Record<string, Record<string, string>>;
	corruptedAt: string;
	garbled: number;
	unreadable: number;
};

/**
The provider's volume is corrupted (a storage fault, not an S3 client): a third of the objects
come back garbled, a few are gone. Recovery: restore the claim from the last good VolumeSnapshot
(scale to 0, keep the old volume, claim again from the snapshot, scale up); writes made after that
snapshot are lost.
*/
export const pvLoss: Scenario<State> = {
	name: 'pv-loss',
	summary: 'The provider volume is corrupted (objects garbled or missing); restore from the last good VolumeSnapshot',
	briefing: {
		what: `Users report checksum errors and missing files in every bucket. The disk behind ${ilum.claim} was corrupted by a storage fault: objects read back garbled or not at all.`,
		success: 'The provider serves, for every object, the content of the last good VolumeSnapshot; the corrupted volume is kept (not deleted) for analysis.',
		targetRtoMinutes: 30,
	},
	async inject(world: World) {
		const {store, clock} = world;
		const volume = world.providerEndpoint.volume;
		if (!volume) {
			throw new Error('pv-loss: the provider is not serving; start the drill from a healthy world');
		}

		const snapshots = store.list('volumesnapshots', ilum.namespace).items
			.filter(snapshot => snapshot.status?.readyToUse === true && snapshot.spec?.source?.persistentVolumeClaimName === ilum.claim)
			.sort((a, b) => String(b.status.creationTime).localeCompare(String(a.status.creationTime)));
		const lastGood = snapshots[0];
		if (!lastGood) {
			throw new Error('pv-loss: no ready VolumeSnapshot of the provider claim to recover from');
		}

		const content = store.get('volumesnapshotcontents', undefined, lastGood.status.boundVolumeSnapshotContentName);
		const lastGoodData = world.data.snapshots.get(String(content?.status?.snapshotHandle ?? ''))?.fingerprint() ?? {};
		const before = volume.fingerprint();
		const rng = new Rng(`pv-loss:${world.seed}`);
		let garbled = 0;
		let unreadable = 0;
		for (const bucket of volume.bucketNames()) {
			for (const object of [...volume.objects(bucket).values()]) {
				const roll = rng.next();
				if (roll < 0.05) {
					volume.delete(bucket, object.key);
					unreadable++;
				} else if (roll < 0.35) {
					volume.put(bucket, {...objectRecord({key: object.key, body: rng.poolBytes(object.contentLength), contentType: object.contentType, metadata: object.metadata, lastModified: object.lastModified}), cacheControl: object.cacheControl});
					garbled++;
				}
			}
		}

		return {before, lastGood: lastGood.metadata.name, lastGoodData, corruptedAt: clock.iso(), garbled, unreadable};
	},
	async check(world, state) {
		const findings: string[] = [];
		if (!world.providerEndpoint.reachable) {
			findings.push('The provider is not serving: no ready replica behind ilum-objectstorage.');
		}

		const fromSnapshot = compareWithProvider(world, state.lastGoodData);
		const all = compareWithProvider(world, state.before);
		const recovered = world.providerEndpoint.reachable && fromSnapshot.missing === 0 && fromSnapshot.differ === 0;
		findings.push(`${fromSnapshot.checked - fromSnapshot.missing - fromSnapshot.differ} of ${fromSnapshot.checked} objects match the last good snapshot ${state.lastGood}.`);
		findings.push(`The corruption garbled ${state.garbled} objects and lost ${state.unreadable}.`);
		const laterWrites = Object.entries(state.before).reduce((sum, [bucket, objects]) => sum + Object.entries(objects).filter(([key, etag]) => state.lastGoodData[bucket]?.[key] !== etag).length, 0);
		if (laterWrites > 0) {
			findings.push(`${laterWrites} objects written after ${state.lastGood} cannot come back from it (the RPO of the snapshot layer).`);
		}

		const safety = world.store.list('volumesnapshots', ilum.namespace).items.some(snapshot => snapshot.metadata.creationTimestamp >= state.corruptedAt);
		if (!safety) {
			findings.push('Mistake: no snapshot of the corrupted volume was taken before the restore (keep evidence, and a way back).');
		}

		return {recovered, lostObjects: all.missing + all.differ, checkedObjects: all.checked, findings};
	},
	recovery: (_world, state) => [
		{argv: ['restore', 'volume', state.lastGood, '--yes'], why: 'put the last good VolumeSnapshot under the provider claim, after a safety snapshot of the corrupted volume'},
	],
};
