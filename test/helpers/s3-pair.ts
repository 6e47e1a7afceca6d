import {buildApp} from 'fauxqs';
import {FastS3Client, type S3Endpoint} from '../../source/storage/fast-s3.js';

/** Credentials the test endpoints accept (fauxqs checks none; the signing is tested apart). */
export const testCredentials = {region: 'us-east-1', accessKeyId: 'test-access', secretAccessKey: 'test-secret'} as const;

export type TestS3 = {
	readonly endpoint: S3Endpoint;
	readonly client: FastS3Client;
	createBucket(name: string): Promise<void>;
	stop(): Promise<void>;
};

/** One fauxqs S3 server on 127.0.0.1 (random port) and a fast client for it. */
export async function startTestS3(): Promise<TestS3> {
	const app = buildApp({logger: false});
	const address = await app.listen({port: 0, host: '127.0.0.1'});
	const endpoint: S3Endpoint = {endpoint: address, ...testCredentials};
	const client = new FastS3Client(endpoint);
	return {
		endpoint,
		client,
		async createBucket(name) {
			await client.createBucket(name);
		},
		async stop() {
			await client.destroy();
			await app.close();
		},
	};
}

/** Writes `count` objects named `prefix000123` of `size` bytes (content derived from the key), `parallel` at a time. */
export async function seedObjects(client: FastS3Client, bucket: string, options: {count: number; size: number; prefix: string; parallel?: number; metadata?: (index: number) => Record<string, string> | undefined}): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < options.count) {
			const index = next++;
			const key = `${options.prefix}${String(index).padStart(6, '0')}`;
			const body = contentFor(key, options.size);
			const extra = options.metadata?.(index);
			// eslint-disable-next-line no-await-in-loop
			await client.put(bucket, key, body, body.length, extra ? {userMetadata: extra} : undefined);
		}
	};

	await Promise.all(Array.from({length: options.parallel ?? 32}, async () => worker()));
}

/** Deterministic bytes for a key (cheap: a repeated header plus the index). */
export function contentFor(key: string, size: number): Buffer {
	const body = Buffer.alloc(size);
	const stamp = Buffer.from(`${key}|`);
	for (let offset = 0; offset < size; offset += stamp.length) {
		stamp.copy(body, offset, 0, Math.min(stamp.length, size - offset));
	}

	return body;
}
