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
- has no ListMultipartUploads (`GET /bucket?uploads`) nor ListParts (`GET /bucket/key?uploadId=`):
  `answerUploadListings` answers both from the store's uploads in progress, as S3 does (so an
  interrupted multipart copy can be found, resumed or aborted);
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

/** A multipart upload in progress, as fauxqs keeps it. */
export type FauxUpload = {
	uploadId: string;
	bucket: string;
	key: string;
	initiated: Date;
	parts: Map<number, {partNumber: number; body: Buffer; etag: string; lastModified: Date}>;
};

/** The part of fauxqs' S3Store we use. */
export type FauxS3Store = {
	buckets: Map<string, Map<string, FauxObject>>;
	multipartUploads: Map<string, FauxUpload>;
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
	app.addHook('onRequest', async (request, reply) => {
		const answer = request.method === 'GET' ? answerUploadListings(store, request.url) : undefined;
		if (answer) {
			await reply.status(answer.status).header('content-type', 'application/xml').send(answer.body);
		}
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

const xmlEscape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

/**
ListMultipartUploads (`GET /bucket?uploads`, with prefix, key-marker, upload-id-marker,
max-uploads) and ListParts (`GET /bucket/key?uploadId=`, with part-number-marker, max-parts),
answered from the store; `undefined` for any other request (fauxqs handles it).
*/
export function answerUploadListings(store: FauxS3Store, url: string): {status: number; body: string} | undefined {
	const question = url.indexOf('?');
	if (question === -1) {
		return undefined;
	}

	const query = new URLSearchParams(url.slice(question + 1));
	const segments = url.slice(1, question).split('/');
	const bucket = decodeURIComponent(segments[0] ?? '');
	const key = segments.slice(1).map(segment => decodeURIComponent(segment)).join('/');
	const error = (status: number, code: string, message: string) => ({status, body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`});
	if (query.has('uploads') && !key) {
		if (!store.buckets.has(bucket)) {
			return error(404, 'NoSuchBucket', `The specified bucket does not exist: ${bucket}`);
		}

		const prefix = query.get('prefix') ?? '';
		const keyMarker = query.get('key-marker') ?? '';
		const idMarker = query.get('upload-id-marker') ?? '';
		const max = Math.min(1000, Number(query.get('max-uploads') ?? 1000) || 1000);
		const uploads = [...store.multipartUploads.values()]
			.filter(upload => upload.bucket === bucket && upload.key.startsWith(prefix))
			.filter(upload => !keyMarker || upload.key > keyMarker || (upload.key === keyMarker && idMarker !== '' && upload.uploadId > idMarker))
			.sort((a, b) => byteOrder(a.key, b.key) || byteOrder(a.uploadId, b.uploadId));
		const page = uploads.slice(0, max);
		const truncated = uploads.length > max;
		const last = page.at(-1);
		return {status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
			+ `<Bucket>${xmlEscape(bucket)}</Bucket><KeyMarker>${xmlEscape(keyMarker)}</KeyMarker><UploadIdMarker>${xmlEscape(idMarker)}</UploadIdMarker>`
			+ (truncated && last ? `<NextKeyMarker>${xmlEscape(last.key)}</NextKeyMarker><NextUploadIdMarker>${xmlEscape(last.uploadId)}</NextUploadIdMarker>` : '')
			+ `<Prefix>${xmlEscape(prefix)}</Prefix><MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>`
			+ page.map(upload => `<Upload><Key>${xmlEscape(upload.key)}</Key><UploadId>${xmlEscape(upload.uploadId)}</UploadId><StorageClass>STANDARD</StorageClass><Initiated>${upload.initiated.toISOString()}</Initiated></Upload>`).join('')
			+ '</ListMultipartUploadsResult>'};
	}

	const uploadId = query.get('uploadId');
	if (uploadId && key && !query.has('partNumber')) {
		const upload = store.multipartUploads.get(uploadId);
		if (!upload || upload.bucket !== bucket || upload.key !== key) {
			return error(404, 'NoSuchUpload', 'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.');
		}

		const marker = Number(query.get('part-number-marker') ?? 0) || 0;
		const max = Math.min(1000, Number(query.get('max-parts') ?? 1000) || 1000);
		const parts = [...upload.parts.values()].filter(part => part.partNumber > marker).sort((a, b) => a.partNumber - b.partNumber);
		const page = parts.slice(0, max);
		const truncated = parts.length > max;
		return {status: 200, body: '<?xml version="1.0" encoding="UTF-8"?><ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
			+ `<Bucket>${xmlEscape(bucket)}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${xmlEscape(uploadId)}</UploadId><PartNumberMarker>${marker}</PartNumberMarker>`
			+ (truncated ? `<NextPartNumberMarker>${page.at(-1)!.partNumber}</NextPartNumberMarker>` : '')
			+ `<MaxParts>${max}</MaxParts><IsTruncated>${truncated}</IsTruncated><StorageClass>STANDARD</StorageClass>`
			+ page.map(part => `<Part><PartNumber>${part.partNumber}</PartNumber><LastModified>${part.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(part.etag)}</ETag><Size>${part.body.length}</Size></Part>`).join('')
			+ '</ListPartsResult>'};
	}

	return undefined;
}
