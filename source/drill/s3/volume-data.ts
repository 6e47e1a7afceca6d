import {newS3Store, type FauxObject, type FauxS3Store} from './fauxqs.js';

/**
The bytes on one simulated disk: what a PersistentVolume (or a snapshot of one) holds. The
provider's S3 server serves a volume's store directly, so writes land "on the PV".

A copy is crash-consistent: it takes the objects as they are at that instant (multipart uploads
in progress are not part of it). Bodies are immutable Buffers shared between copies, so a copy
costs one small record per object, not the bytes.
*/
export class VolumeData {
	readonly store: FauxS3Store;

	constructor(store: FauxS3Store) {
		this.store = store;
	}

	static async empty(): Promise<VolumeData> {
		return new VolumeData(await newS3Store());
	}

	/** A point-in-time copy (a snapshot, or a volume restored from one). */
	async copy(): Promise<VolumeData> {
		const copy = await VolumeData.empty();
		for (const [bucket, objects] of this.store.buckets) {
			copy.store.createBucket(bucket);
			const created = this.store.bucketCreationDates.get(bucket);
			if (created) {
				copy.store.setBucketCreationDate(bucket, created);
			}

			// Object records are never changed in place (a write replaces the record), so copies share them.
			copy.store.buckets.set(bucket, new Map(objects));
		}

		return copy;
	}

	bucketNames(): string[] {
		return [...this.store.buckets.keys()].sort();
	}

	objects(bucket: string): ReadonlyMap<string, FauxObject> {
		return this.store.buckets.get(bucket) ?? new Map();
	}

	/** Used bytes (object bodies), what a snapshot's restoreSize is derived from. */
	usedBytes(): number {
		let total = 0;
		for (const objects of this.store.buckets.values()) {
			for (const object of objects.values()) {
				total += object.contentLength;
			}
		}

		return total;
	}

	objectCount(): number {
		let total = 0;
		for (const objects of this.store.buckets.values()) {
			total += objects.size;
		}

		return total;
	}

	ensureBucket(name: string, created?: Date): void {
		if (!this.store.hasBucket(name)) {
			this.store.createBucket(name);
			if (created) {
				this.store.setBucketCreationDate(name, created);
			}
		}
	}

	put(bucket: string, object: FauxObject): void {
		this.ensureBucket(bucket);
		this.store.buckets.get(bucket)!.set(object.key, object);
	}

	delete(bucket: string, key: string): void {
		this.store.buckets.get(bucket)?.delete(key);
	}

	/** Bucket -> key -> ETag, to compare volumes in tests and debriefs. */
	fingerprint(): Record<string, Record<string, string>> {
		const result: Record<string, Record<string, string>> = {};
		for (const bucket of this.bucketNames()) {
			const entries: Record<string, string> = {};
			for (const key of [...this.objects(bucket).keys()].sort()) {
				entries[key] = this.objects(bucket).get(key)!.etag;
			}

			result[bucket] = entries;
		}

		return result;
	}
}
