import type {FauxObject} from '../s3/fauxqs.js';
import type {VolumeData} from '../s3/volume-data.js';
import {bucketCounts, defaultBuckets, generateLargeObjects, generateObject, modifiedObject, setSizeScale} from './objects.js';
import type {Seeder} from './context.js';
import type {Rng} from './rng.js';

/**
The seven default buckets filled with realistic objects (sizes from bytes to tens of MiB, content
types, user metadata, Cache-Control, nested prefixes), then a day of small changes between the
hourly snapshots (new objects, rewritten ones, deletions), and a few changes after the last backup
run (what the mirror does not have yet).
*/
export const objectsSeeder: Seeder = {
	name: 'objects',
	seed(context) {
		const {rng, timeline, provider, objects} = context;
		const volume = provider.volume;
		const base = Math.max(defaultBuckets.length, Math.round(objects * 0.9));
		const counts = bucketCounts(base);
		const serials = new Map<string, number>();
		const nextSerial = (bucket: string) => {
			const serial = (serials.get(bucket) ?? 0) + 1;
			serials.set(bucket, serial);
			return serial;
		};

		// Only objects this seeder wrote change or go later: the table seeders' files (Delta logs,
		// Iceberg metadata, DuckLake data) share these buckets and must stay consistent. Kept as a
		// list per bucket (random pick and removal in constant time: large worlds stay linear).
		const own = new Map<string, {keys: string[]; index: Map<string, number>}>();
		const ownOf = (bucket: string) => {
			let entry = own.get(bucket);
			if (!entry) {
				entry = {keys: [], index: new Map()};
				own.set(bucket, entry);
			}

			return entry;
		};

		const put = (bucket: string, object: FauxObject) => {
			volume.put(bucket, object);
			const entry = ownOf(bucket);
			if (!entry.index.has(object.key)) {
				entry.index.set(object.key, entry.keys.length);
				entry.keys.push(object.key);
			}
		};

		const forget = (bucket: string, key: string) => {
			const entry = ownOf(bucket);
			const position = entry.index.get(key);
			if (position === undefined) {
				return;
			}

			const last = entry.keys.pop()!;
			if (last !== key) {
				entry.keys[position] = last;
				entry.index.set(last, position);
			}

			entry.index.delete(key);
		};

		/** A random object of this seeder's in `bucket` (below `maxSize`), or undefined. */
		const pickOwn = (stepRng: Rng, bucket: string, maxSize = Number.POSITIVE_INFINITY): FauxObject | undefined => {
			const {keys} = ownOf(bucket);
			for (let attempt = 0; attempt < 8 && keys.length > 0; attempt++) {
				const object = volume.objects(bucket).get(stepRng.pick(keys));
				if (object && object.contentLength < maxSize) {
					return object;
				}
			}

			return undefined;
		};

		const scale = Math.min(1, 10_000 / objects);
		setSizeScale(scale);
		for (const bucket of defaultBuckets) {
			volume.ensureBucket(bucket, new Date(timeline.installedAt));
			for (let index = 0; index < counts[bucket]!; index++) {
				const time = new Date(timeline.dataFrom - rng.int(60_000, 30 * 24 * 3_600_000));
				put(bucket, unique(volume, bucket, generateObject(rng, bucket, time, nextSerial(bucket))));
			}
		}

		for (const {bucket, object} of generateLargeObjects(rng, new Date(timeline.dataFrom - 3 * 24 * 3_600_000))) {
			put(bucket, object);
		}

		const changeRound = (stepRng: Rng, time: number, adds: number, modifies: number, deletes: number) => {
			setSizeScale(scale);
			for (let index = 0; index < adds; index++) {
				const bucket = stepRng.pick(defaultBuckets);
				put(bucket, unique(volume, bucket, generateObject(stepRng, bucket, new Date(time + (index * 1000)), nextSerial(bucket))));
			}

			for (let index = 0; index < modifies; index++) {
				const bucket = stepRng.pick(defaultBuckets);
				const object = pickOwn(stepRng, bucket, 8 * 1024 * 1024);
				if (object) {
					put(bucket, modifiedObject(stepRng, object, new Date(time + 60_000 + (index * 1000))));
				}
			}

			for (let index = 0; index < deletes; index++) {
				const bucket = stepRng.pick(defaultBuckets);
				const object = ownOf(bucket).keys.length > 1 ? pickOwn(stepRng, bucket) : undefined;
				if (object) {
					volume.delete(bucket, object.key);
					forget(bucket, object.key);
				}
			}
		};

		const perHour = {
			adds: Math.max(1, Math.round(objects * 0.004)),
			modifies: Math.max(1, Math.round(objects * 0.0015)),
			deletes: Math.max(1, Math.round(objects * 0.001)),
		};
		for (const [hour, snapshotTime] of timeline.snapshots.entries()) {
			const stepRng = rng.fork(`hour-${hour}`);
			context.at(snapshotTime - 30 * 60_000, time => {
				changeRound(stepRng, time, perHour.adds, perHour.modifies, perHour.deletes);
			});
		}

		// After the last mirror run and snapshot: what only the live provider holds.
		const driftRng = rng.fork('drift');
		context.at(timeline.drift, time => {
			changeRound(driftRng, time, 3, 2, 1);
		});
	},
};

function unique(volume: VolumeData, bucket: string, object: FauxObject): FauxObject {
	if (!volume.objects(bucket).has(object.key)) {
		return object;
	}

	return {...object, key: `${object.key}.${volume.objects(bucket).size}`};
}
