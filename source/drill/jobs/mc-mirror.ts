import {
	CompleteMultipartUploadCommand,
	CreateBucketCommand,
	CreateMultipartUploadCommand,
	DeleteObjectsCommand,
	GetObjectCommand,
	HeadBucketCommand,
	ListObjectsV2Command,
	PutObjectCommand,
	UploadPartCommand,
	type S3Client,
} from '@aws-sdk/client-s3';
import {multipartPartSize} from '../s3/object-record.js';

export type MirrorSide = {
	readonly client: S3Client;
	readonly bucket: string;
	/** A key prefix inside the bucket ('' for the whole bucket). */
	readonly prefix: string;
	/** How mc names it in its output, e.g. `src/ilum-data`. */
	readonly label: string;
};

export type MirrorOptions = {
	/** `--preserve`: keep user metadata and the Cache-Control/Content-* headers. */
	readonly preserve?: boolean;
	/** `--remove`: delete on the target what is gone from the source. */
	readonly remove?: boolean;
	/** `--overwrite`: replace objects that differ. */
	readonly overwrite?: boolean;
	readonly dryRun?: boolean;
	readonly concurrency?: number;
	readonly signal?: AbortSignal;
	readonly log?: (line: string) => void;
};

export type MirrorResult = {
	copied: number;
	removed: number;
	unchanged: number;
	bytes: number;
	errors: string[];
	/** "Overwrite not allowed" lines: printed as errors, but mc goes on and exits 0 for them. */
	notOverwritten: string[];
};

type Listed = {key: string; size: number; etag: string; lastModified: number};

/**
`mc mirror SRC DST` between two S3 endpoints, with mc's semantics:
- objects missing on the target are copied;
- objects that differ (size; the MD5 ETag; for multipart ETags, a different ETag on a newer source) are replaced when
  `--overwrite` or `--remove` is given, else reported ("Overwrite not allowed") and left alone:
  mc prints the error and goes on, and such lines alone do not make it exit non-zero (its
  mirror loop `continue`s on overwriteNotAllowedErr);
- with `--remove`, target objects absent from the source are deleted;
- the target bucket is created when missing; a missing source bucket is an error.
Copies go through GET and PUT (multipart in 8 MiB parts above 8 MiB, so ETags match the source's
when it was written the same way).
*/
export async function mcMirror(source: MirrorSide, target: MirrorSide, options: MirrorOptions = {}): Promise<MirrorResult> {
	const log = options.log ?? (() => {});
	const result: MirrorResult = {copied: 0, removed: 0, unchanged: 0, bytes: 0, errors: [], notOverwritten: []};
	const sourceObjects = await listAll(source, options.signal);
	try {
		await target.client.send(new HeadBucketCommand({Bucket: target.bucket}), {abortSignal: options.signal});
	} catch (error) {
		if (httpStatus(error) !== 404) {
			throw error;
		}

		if (!options.dryRun) {
			await target.client.send(new CreateBucketCommand({Bucket: target.bucket}), {abortSignal: options.signal});
		}
	}

	const targetObjects = options.dryRun && !(await bucketExists(target)) ? new Map<string, Listed>() : await listAll(target, options.signal);
	const toCopy: Listed[] = [];
	for (const object of sourceObjects.values()) {
		const relative = object.key.slice(source.prefix.length);
		const existing = targetObjects.get(target.prefix + relative);
		if (!existing) {
			toCopy.push(object);
		} else if (differs(object, existing)) {
			if (options.overwrite || options.remove) {
				toCopy.push(object);
			} else {
				result.notOverwritten.push(`Overwrite not allowed for \`${target.label}/${relative}\`. Use \`--overwrite\` to override this behavior.`);
			}
		} else {
			result.unchanged++;
		}
	}

	const sourceRelative = new Set([...sourceObjects.keys()].map(key => key.slice(source.prefix.length)));
	const toRemove = options.remove
		? [...targetObjects.keys()].filter(key => !sourceRelative.has(key.slice(target.prefix.length)))
		: [];

	let next = 0;
	const worker = async () => {
		while (next < toCopy.length) {
			options.signal?.throwIfAborted();
			const object = toCopy[next++]!;
			const relative = object.key.slice(source.prefix.length);
			log(`\`${source.label}/${relative}\` -> \`${target.label}/${relative}\``);
			if (options.dryRun) {
				result.copied++;
				continue;
			}

			try {
				// eslint-disable-next-line no-await-in-loop
				await copyObject(source, target, object.key, target.prefix + relative, options);
				result.copied++;
				result.bytes += object.size;
			} catch (error) {
				if (options.signal?.aborted) {
					throw error;
				}

				result.errors.push(`Failed to copy \`${source.label}/${relative}\`: ${describe(error)}`);
			}
		}
	};

	await Promise.all(Array.from({length: Math.max(1, options.concurrency ?? 8)}, async () => worker()));

	for (let index = 0; index < toRemove.length; index += 1000) {
		const batch = toRemove.slice(index, index + 1000);
		for (const key of batch) {
			log(`Removed \`${target.label}/${key.slice(target.prefix.length)}\``);
		}

		if (!options.dryRun) {
			// eslint-disable-next-line no-await-in-loop
			const response = await target.client.send(new DeleteObjectsCommand({Bucket: target.bucket, Delete: {Objects: batch.map(Key => ({Key})), Quiet: true}}), {abortSignal: options.signal});
			for (const failure of response.Errors ?? []) {
				result.errors.push(`Failed to remove \`${target.label}/${failure.Key}\`: ${failure.Message}`);
			}

			result.removed += batch.length - (response.Errors?.length ?? 0);
		} else {
			result.removed += batch.length;
		}
	}

	return result;
}

function differs(source: Listed, target: Listed): boolean {
	if (source.size !== target.size) {
		return true;
	}

	// Same MD5: same bytes, whatever the times say (mc's --preserve keeps mtimes for the same end).
	if (!source.etag.includes('-') && !target.etag.includes('-')) {
		return source.etag !== target.etag;
	}

	return source.etag !== target.etag && source.lastModified > target.lastModified;
}

async function bucketExists(side: MirrorSide): Promise<boolean> {
	try {
		await side.client.send(new HeadBucketCommand({Bucket: side.bucket}));
		return true;
	} catch (error) {
		if (httpStatus(error) === 404) {
			return false;
		}

		throw error;
	}
}

async function listAll(side: MirrorSide, signal?: AbortSignal): Promise<Map<string, Listed>> {
	const objects = new Map<string, Listed>();
	let token: string | undefined;
	do {
		// eslint-disable-next-line no-await-in-loop
		const page = await side.client.send(new ListObjectsV2Command({Bucket: side.bucket, Prefix: side.prefix || undefined, ContinuationToken: token}), {abortSignal: signal});
		for (const item of page.Contents ?? []) {
			objects.set(item.Key!, {key: item.Key!, size: item.Size ?? 0, etag: item.ETag ?? '', lastModified: item.LastModified?.getTime() ?? 0});
		}

		token = page.IsTruncated ? page.NextContinuationToken : undefined;
	} while (token);

	return objects;
}

async function copyObject(source: MirrorSide, target: MirrorSide, sourceKey: string, targetKey: string, options: MirrorOptions): Promise<void> {
	const got = await source.client.send(new GetObjectCommand({Bucket: source.bucket, Key: sourceKey}), {abortSignal: options.signal});
	const body = Buffer.from(await got.Body!.transformToByteArray());
	const headers = {
		ContentType: got.ContentType,
		...(options.preserve ? {
			Metadata: got.Metadata,
			CacheControl: got.CacheControl,
			ContentEncoding: got.ContentEncoding,
			ContentDisposition: got.ContentDisposition,
			ContentLanguage: got.ContentLanguage,
		} : {}),
	};
	if (body.length <= multipartPartSize) {
		await target.client.send(new PutObjectCommand({Bucket: target.bucket, Key: targetKey, Body: body, ContentLength: body.length, ...headers}), {abortSignal: options.signal});
		return;
	}

	const upload = await target.client.send(new CreateMultipartUploadCommand({Bucket: target.bucket, Key: targetKey, ...headers}), {abortSignal: options.signal});
	const parts: Array<{PartNumber: number; ETag: string}> = [];
	for (let offset = 0, partNumber = 1; offset < body.length; offset += multipartPartSize, partNumber++) {
		const chunk = body.subarray(offset, Math.min(body.length, offset + multipartPartSize));
		// eslint-disable-next-line no-await-in-loop
		const part = await target.client.send(new UploadPartCommand({Bucket: target.bucket, Key: targetKey, UploadId: upload.UploadId, PartNumber: partNumber, Body: chunk, ContentLength: chunk.length}), {abortSignal: options.signal});
		parts.push({PartNumber: partNumber, ETag: part.ETag!});
	}

	await target.client.send(new CompleteMultipartUploadCommand({Bucket: target.bucket, Key: targetKey, UploadId: upload.UploadId, MultipartUpload: {Parts: parts}}), {abortSignal: options.signal});
}

export function httpStatus(error: unknown): number | undefined {
	return (error as {$metadata?: {httpStatusCode?: number}})?.$metadata?.httpStatusCode;
}

export function describe(error: unknown): string {
	if (error instanceof Error) {
		const code = (error as {code?: string}).code;
		if (code === 'ECONNREFUSED') {
			return 'dial tcp: connect: connection refused';
		}

		return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
	}

	return String(error);
}
