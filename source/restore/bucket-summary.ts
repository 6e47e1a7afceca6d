import {ListBucketsCommand, ListObjectsV2Command, type S3Client} from '@aws-sdk/client-s3';

/**
What a provider holds, per bucket: object count and bytes. Taken before a volume restore (the
baseline, also written on the safety snapshot as an annotation) and after it (the verification).
A VolumeSnapshot's contents cannot be read without restoring it, so a summary recorded when the
snapshot was cut is the only exact reference there is.
*/
export type BucketSummary = {
	/** ISO time the listing finished. */
	readonly takenAt: string;
	readonly buckets: Readonly<Record<string, {readonly objects: number; readonly bytes: number}>>;
};

/** The annotation on a VolumeSnapshot that carries the summary of what it holds. */
export const bucketSummaryAnnotation = 'ilum.cloud/bucket-summary';

export interface ProviderProbe {
	/** The endpoint, for messages. */
	readonly endpoint: string;
	summarize(signal?: AbortSignal): Promise<BucketSummary>;
}

export class S3ProviderProbe implements ProviderProbe {
	readonly endpoint: string;
	private readonly client: S3Client;

	constructor(client: S3Client, endpoint: string) {
		this.client = client;
		this.endpoint = endpoint;
	}

	async summarize(signal?: AbortSignal): Promise<BucketSummary> {
		const listed = await this.client.send(new ListBucketsCommand({}), {abortSignal: signal});
		const buckets: Record<string, {objects: number; bytes: number}> = {};
		for (const bucket of listed.Buckets ?? []) {
			const name = bucket.Name!;
			let objects = 0;
			let bytes = 0;
			let token: string | undefined;
			do {
				// eslint-disable-next-line no-await-in-loop
				const page = await this.client.send(new ListObjectsV2Command({Bucket: name, ContinuationToken: token}), {abortSignal: signal});
				for (const object of page.Contents ?? []) {
					objects++;
					bytes += object.Size ?? 0;
				}

				token = page.IsTruncated ? page.NextContinuationToken : undefined;
			} while (token);

			buckets[name] = {objects, bytes};
		}

		return {takenAt: new Date().toISOString(), buckets};
	}
}

export function parseBucketSummary(text: string | undefined): BucketSummary | undefined {
	if (!text) {
		return undefined;
	}

	try {
		const value = JSON.parse(text) as BucketSummary;
		return value && typeof value.buckets === 'object' ? value : undefined;
	} catch {
		return undefined;
	}
}

export type BucketDifference = {readonly bucket: string; readonly expected?: {objects: number; bytes: number}; readonly actual?: {objects: number; bytes: number}};

/** Buckets whose count or bytes differ (or that exist on one side only). */
export function compareSummaries(expected: BucketSummary, actual: BucketSummary): BucketDifference[] {
	const names = [...new Set([...Object.keys(expected.buckets), ...Object.keys(actual.buckets)])].sort();
	return names.flatMap(bucket => {
		const left = expected.buckets[bucket];
		const right = actual.buckets[bucket];
		if (left && right && left.objects === right.objects && left.bytes === right.bytes) {
			return [];
		}

		return [{bucket, ...(left ? {expected: left} : {}), ...(right ? {actual: right} : {})}];
	});
}

export const formatDifference = (difference: BucketDifference) => `${difference.bucket}: expected ${difference.expected ? `${difference.expected.objects} objects/${difference.expected.bytes} B` : 'no bucket'}, found ${difference.actual ? `${difference.actual.objects} objects/${difference.actual.bytes} B` : 'no bucket'}`;
