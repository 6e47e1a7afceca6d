/**
What tests of restores on the drill world ask of it: what a VolumeSnapshot holds in the data plane,
how many objects a bucket serves through S3, and a wait for the hourly backup Job to be over (a
restore rightly refuses while it runs).
*/
import {ListObjectsV2Command, type S3Client} from '@aws-sdk/client-s3';
import type {World} from '../../source/drill/world.js';
import type {VolumeData} from '../../source/drill/s3/volume-data.js';
import {waitFor} from './drill-world.js';

/** The data copy a VolumeSnapshot of the world stands for (snapshot -> content -> handle). */
export function snapshotData(world: World, name: string, namespace = 'ilum'): VolumeData {
	const snapshot = world.store.get('volumesnapshots', namespace, name)!;
	const content = world.store.get('volumesnapshotcontents', undefined, String((snapshot as any).status.boundVolumeSnapshotContentName))!;
	return world.data.snapshots.get(String((content as any).status.snapshotHandle))!;
}

/** How many objects a bucket lists through S3 (every page). */
export async function countObjects(s3: S3Client, bucket: string): Promise<number> {
	let total = 0;
	let token: string | undefined;
	do {
		// eslint-disable-next-line no-await-in-loop
		const page = await s3.send(new ListObjectsV2Command({Bucket: bucket, ContinuationToken: token}));
		total += page.KeyCount ?? 0;
		token = page.IsTruncated ? page.NextContinuationToken : undefined;
	} while (token);

	return total;
}

/** Waits until the backup CronJob has no Job running. */
export async function noBackupRunning(world: World): Promise<void> {
	await waitFor(() => ((world.store.get('cronjobs', 'ilum', 'ilum-objectstorage-backup') as any)?.status?.active ?? []).length === 0, 'no backup Job running', 300_000);
}
