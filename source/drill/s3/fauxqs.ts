/**
The one place that reaches into `fauxqs` (an S3 emulator on Fastify) beyond its public API.

`fauxqs` exports `buildApp({stores})` but not its `S3Store` class; we load that class from the
package's own folder so each PersistentVolume can hold its own store (its "disk") and an endpoint
can switch between stores. The store's `buckets` map (bucket -> key -> object record) is a plain
property in the JavaScript; we read it to copy a volume cheaply (bodies are immutable Buffers and
shared between copies). Tested against fauxqs 2.4 (test/drill/s3-endpoint.test.ts).

What fauxqs does and does not do, as observed (2.4.1):
- keeps Content-Type, user metadata (`x-amz-meta-*`), Cache-Control, Content-Disposition,
  Content-Encoding, Content-Language; CopyObject with metadata directive COPY/REPLACE;
- single-part ETag = MD5 of the body; multipart ETag = MD5 of the part MD5s + `-N`;
- does not verify signatures or credentials (our endpoint checks the access key id, see
  s3-endpoint.ts), has no versioning, bucket policies, tagging or object lock;
- ignores `If-None-Match: *` and `If-Match` on PutObject/CompleteMultipartUpload (our endpoint
  adds them in front, answering 412 PreconditionFailed as S3 does);
- answers 413 to a single PUT over 11 MiB (real S3 allows 5 GiB); we raise its body parser's
  limit to 512 MiB (`maxSinglePut`) for object bodies;
- re-sorts the whole bucket on each list page (pages of at most 1,000 keys), and sorts keys with
  `localeCompare` (`_last_checkpoint` before `0000.json`) while S3 lists in UTF-8 byte order and
  pages by byte comparison: `listInS3Order` replaces its listing so that sorted merges (drift,
  mirror restore) and pagination behave as against real S3.
*/
import {buildApp} from 'fauxqs';

export type FauxObject = {
	key: string;
	body: Buffer;
	contentType: string;
	contentLength: number;
	etag: string;
	lastModified: Date;
	metadata: Record<string, string>;
	contentLanguage?: string;
	contentDisposition?: string;
	cacheControl?: string;
	contentEncoding?: string;
	parts?: Array<{partNumber: number; offset: number; length: number}>;
	checksumAlgorithm?: 'CRC32' | 'SHA1' | 'SHA256';
	checksumValue?: string;
	checksumType?: 'FULL_OBJECT' | 'COMPOSITE';
	partChecksums?: string[];
};

/** The part of fauxqs' S3Store we use. */
export type FauxS3Store = {
	buckets: Map<string, Map<string, FauxObject>>;
	bucketCreationDates: Map<string, Date>;
	createBucket(name: string): void;
	setBucketCreationDate(name: string, date: Date): void;
	restoreObject(bucket: string, object: FauxObject): void;
	hasBucket(name: string): boolean;
	deleteBucket(name: string): void;
	emptyBucket(name: string): void;
	headObject(bucket: string, key: string): FauxObject;
	listBuckets(): Array<{name: string; creationDate: Date}>;
	deleteObject(bucket: string, key: string): void;
};

type S3StoreClass = new () => FauxS3Store;

let storeClass: Promise<S3StoreClass> | undefined;

async function loadStoreClass(): Promise<S3StoreClass> {
	const entry = import.meta.resolve('fauxqs');
	const module = await import(new URL('s3/s3Store.js', entry).href) as {S3Store?: S3StoreClass};
	if (typeof module.S3Store !== 'function') {
		throw new TypeError('fauxqs changed: s3/s3Store.js no longer exports S3Store');
	}

	return module.S3Store;
}

export async function newS3Store(): Promise<FauxS3Store> {
	storeClass ??= loadStoreClass();
	const Store = await storeClass;
	const store = new Store();
	if (!(store.buckets instanceof Map)) {
		throw new TypeError('fauxqs changed: S3Store has no buckets map');
	}

	(store as unknown as {listObjects: typeof listInS3Order}).listObjects = listInS3Order;

	return store;
}

/** The request handler fauxqs serves S3 with, for one store. */
export type FauxApp = {
	routing(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse): void;
	close(): Promise<void>;
};

/** The largest single PUT the drill accepts (fauxqs alone stops at 11 MiB; S3 allows 5 GiB). */
export const maxSinglePut = 512 * 1024 * 1024;

export async function buildS3App(store: FauxS3Store): Promise<FauxApp> {
	const app = buildApp({logger: false, stores: {s3Store: store} as any});
	// fauxqs' catch-all body parser inherits its 11 MiB limit; object bodies may be larger.
	app.removeContentTypeParser('*');
	app.addContentTypeParser('*', {parseAs: 'buffer', bodyLimit: maxSinglePut}, (_request, body, done) => {
		done(null, body);
	});
	await app.ready();
	return app as unknown as FauxApp;
}

/** UTF-8 byte order, as S3 sorts keys (for the BMP, UTF-16 code unit order is the same). */
const byteOrder = (a: string, b: string) => a < b ? -1 : (a > b ? 1 : 0);

type ListOptions = {prefix?: string; delimiter?: string; maxKeys?: number; startAfter?: string; marker?: string};

/** fauxqs' `listObjects`, with S3's key order. */
function listInS3Order(this: FauxS3Store, bucket: string, options?: ListOptions): {objects: FauxObject[]; commonPrefixes: string[]; isTruncated: boolean} {
	const objects = this.buckets.get(bucket);
	if (!objects) {
		// Let fauxqs raise its own NoSuchBucket error.
		this.headObject(bucket, '');
	}

	const prefix = options?.prefix ?? '';
	const {delimiter} = options ?? {};
	const maxKeys = options?.maxKeys ?? 1000;
	const startAfter = options?.startAfter ?? options?.marker ?? '';
	const keys = [...objects!.keys()].filter(key => key.startsWith(prefix) && (!startAfter || key > startAfter)).sort(byteOrder);
	const result: FauxObject[] = [];
	const commonPrefixes = new Set<string>();
	let count = 0;
	let isTruncated = false;
	for (const key of keys) {
		let commonPrefix: string | undefined;
		if (delimiter) {
			const at = key.indexOf(delimiter, prefix.length);
			commonPrefix = at >= 0 ? key.slice(0, at + delimiter.length) : undefined;
		}

		if (commonPrefix !== undefined) {
			if ((startAfter && commonPrefix <= startAfter) || commonPrefixes.has(commonPrefix)) {
				continue;
			}

			if (count >= maxKeys) {
				isTruncated = true;
				break;
			}

			commonPrefixes.add(commonPrefix);
			count++;
			continue;
		}

		if (count >= maxKeys) {
			isTruncated = true;
			break;
		}

		result.push(objects!.get(key)!);
		count++;
	}

	return {objects: result, commonPrefixes: [...commonPrefixes].sort(byteOrder), isTruncated};
}
