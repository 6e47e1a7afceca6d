import {createHash} from 'node:crypto';
import type {Readable} from 'node:stream';
import {Pool, type Dispatcher} from 'undici';
import {SigV4Signer, encodeKey, queryString} from './sigv4.js';
import {S3Error, withRetry, type RetryOptions} from './retry.js';
import {compareKeys} from './key-order.js';

/**
A lean S3 client for moving many objects fast: requests signed with `SigV4Signer` (cached key,
`UNSIGNED-PAYLOAD`) and sent on an undici `Pool` (keep-alive connections to one endpoint),
path-style addressing. Small answers are collected with `Pool.dispatch` (no stream objects);
large bodies stream (`getStream`, and `put`/`uploadPart` accept a stream with its length).

Measured reasoning in /work/shared/notes/s3-fast-path.md: the SDK's per-command CPU is what makes
a naive copy slower than rclone; this client does the same HTTP with a fraction of the CPU.
Control calls that are rare (bucket creation, ...) can use `@aws-sdk/client-s3` instead
(`createS3Client` in `s3-client.ts`).
*/

export type S3Endpoint = {
	/** `http(s)://host:port` (a path prefix is kept). */
	readonly endpoint: string;
	readonly region: string;
	readonly accessKeyId: string;
	readonly secretAccessKey: string;
	readonly sessionToken?: string;
};

export type ObjectInfo = {
	/** The full key. */
	readonly key: string;
	readonly size: number;
	/** With its quotes, as S3 sends it: `"9e107d9d..."` or `"...-3"` for multipart objects. */
	readonly etag: string;
	readonly lastModified?: string;
};

/** What an object carries besides its bytes and what `mc mirror --preserve` keeps. */
export type ObjectMetadata = {
	readonly contentType?: string;
	readonly contentEncoding?: string;
	readonly cacheControl?: string;
	readonly contentDisposition?: string;
	readonly contentLanguage?: string;
	readonly expires?: string;
	/** `x-amz-meta-*` without the prefix, names in lower case. */
	readonly userMetadata: Readonly<Record<string, string>>;
};

export type ObjectHead = {
	readonly size: number;
	readonly etag: string;
	readonly partsCount?: number;
	readonly lastModified?: string;
	readonly metadata: ObjectMetadata;
	/** `x-amz-checksum-*` headers (when asked with checksum mode), e.g. `{crc32c: '...'}`, and `type`. */
	readonly checksums: Readonly<Record<string, string>>;
};

export type Response = {
	readonly status: number;
	readonly headers: Record<string, string | string[] | undefined>;
	readonly body: Buffer;
};

export type StreamResponse = {
	readonly status: number;
	readonly headers: Record<string, string | string[] | undefined>;
	readonly body: Readable;
};

export type RequestOptions = {
	readonly query?: Readonly<Record<string, string>>;
	readonly headers?: Record<string, string>;
	readonly body?: Buffer | Readable | string;
	readonly signal?: AbortSignal;
};

export type FastS3Options = {
	/** Keep-alive connections to the endpoint. Default 64. */
	readonly connections?: number;
	/** Time to wait for response headers, and between body chunks. Default 60 s. */
	readonly timeoutMs?: number;
};

const emptyBody = Buffer.alloc(0);

export class FastS3Client {
	readonly endpoint: S3Endpoint;
	private readonly pool: Pool;
	private readonly signer: SigV4Signer;
	private readonly host: string;
	private readonly basePath: string;
	private readonly timeoutMs: number;

	/** The options it was built with (to build the same client elsewhere, e.g. in a worker thread). */
	readonly options: FastS3Options;

	constructor(endpoint: S3Endpoint, options: FastS3Options = {}) {
		this.endpoint = endpoint;
		this.options = options;
		const url = new URL(endpoint.endpoint);
		this.host = url.host;
		this.basePath = url.pathname.replace(/\/+$/, '');
		this.timeoutMs = options.timeoutMs ?? 60_000;
		this.pool = new Pool(url.origin, {
			connections: options.connections ?? 64,
			pipelining: 1,
			keepAliveTimeout: 30_000,
			headersTimeout: this.timeoutMs,
			bodyTimeout: this.timeoutMs,
		});
		this.signer = new SigV4Signer({credentials: endpoint, region: endpoint.region});
	}

	/** The path for a bucket and key, encoded as signed. */
	path(bucket: string, key?: string): string {
		return this.basePath + '/' + bucket + (key === undefined ? '' : '/' + encodeKey(key));
	}

	/** Sends one request and collects the whole answer (small answers only). Throws `S3Error` on non-2xx. */
	async request(method: string, bucket: string, key: string | undefined, options: RequestOptions = {}): Promise<Response> {
		const path = this.path(bucket, key);
		const headers = this.signed(method, path, options);
		const response = await new Promise<Response>((resolve, reject) => {
			let status = 0;
			let responseHeaders: Record<string, string | string[] | undefined> = {};
			const chunks: Buffer[] = [];
			const {signal} = options;
			let onAbort: (() => void) | undefined;
			this.pool.dispatch({
				method: method as Dispatcher.HttpMethod,
				path: path + queryString(options.query),
				headers,
				body: options.body ?? null,
			}, {
				onRequestStart(controller) {
					if (signal) {
						if (signal.aborted) {
							controller.abort(signal.reason as Error);
							return;
						}

						onAbort = () => {
							controller.abort(signal.reason as Error);
						};

						signal.addEventListener('abort', onAbort, {once: true});
					}
				},
				onResponseStart(_controller, statusCode, incoming) {
					status = statusCode;
					responseHeaders = incoming as Record<string, string | string[] | undefined>;
				},
				onResponseData(_controller, chunk) {
					chunks.push(chunk);
				},
				onResponseEnd() {
					if (onAbort) {
						signal!.removeEventListener('abort', onAbort);
					}

					resolve({status, headers: responseHeaders, body: chunks.length === 1 ? chunks[0]! : (chunks.length === 0 ? emptyBody : Buffer.concat(chunks))});
				},
				onResponseError(_controller, error) {
					if (onAbort) {
						signal!.removeEventListener('abort', onAbort);
					}

					reject(error);
				},
			});
		});
		if (response.status >= 300) {
			throw errorOf(response.status, response.body, method, bucket, key);
		}

		return response;
	}

	/** Sends one request and returns the answer's body as a stream (large objects). Throws `S3Error` on non-2xx. */
	async requestStream(method: string, bucket: string, key: string | undefined, options: RequestOptions = {}): Promise<StreamResponse> {
		const path = this.path(bucket, key);
		const headers = this.signed(method, path, options);
		const response = await this.pool.request({
			method: method as Dispatcher.HttpMethod,
			path: path + queryString(options.query),
			headers,
			body: options.body ?? null,
			signal: options.signal,
			highWaterMark: 256 * 1024,
		});
		if (response.statusCode >= 300) {
			const body = Buffer.from(await response.body.arrayBuffer());
			throw errorOf(response.statusCode, body, method, bucket, key);
		}

		return {status: response.statusCode, headers: response.headers as Record<string, string | string[] | undefined>, body: response.body};
	}

	/** GET into memory (objects up to a few MiB). */
	async get(bucket: string, key: string, options: {ifMatch?: string; signal?: AbortSignal} = {}): Promise<Response> {
		return this.request('GET', bucket, key, {headers: options.ifMatch ? {'if-match': options.ifMatch} : undefined, signal: options.signal});
	}

	/** GET streaming; `partNumber` asks for one part of a multipart object (206 + `x-amz-mp-parts-count`), `range` for bytes `[start, end]`. */
	async getStream(bucket: string, key: string, options: {partNumber?: number; range?: readonly [number, number]; ifMatch?: string; signal?: AbortSignal} = {}): Promise<StreamResponse> {
		const headers: Record<string, string> = {};
		if (options.ifMatch) {
			headers['if-match'] = options.ifMatch;
		}

		if (options.range) {
			headers['range'] = `bytes=${options.range[0]}-${options.range[1]}`;
		}

		return this.requestStream('GET', bucket, key, {
			query: options.partNumber === undefined ? undefined : {partNumber: String(options.partNumber)},
			headers,
			signal: options.signal,
		});
	}

	/** HEAD (retried on transient errors); `undefined` when the object does not exist. */
	async head(bucket: string, key: string, options: {checksums?: boolean; signal?: AbortSignal} = {}): Promise<ObjectHead | undefined> {
		try {
			const response = await withRetry(async () => this.request('HEAD', bucket, key, {headers: options.checksums ? {'x-amz-checksum-mode': 'ENABLED'} : undefined, signal: options.signal}), {signal: options.signal});
			return headOf(response.headers);
		} catch (error) {
			if (error instanceof S3Error && error.status === 404) {
				return undefined;
			}

			throw error;
		}
	}

	/** PUT an object whose length is known; returns the ETag. */
	async put(bucket: string, key: string, body: Buffer | Readable, length: number, metadata?: ObjectMetadata, options: {signal?: AbortSignal} = {}): Promise<string> {
		const headers = metadataHeaders(metadata);
		headers['content-length'] = String(length);
		const response = Buffer.isBuffer(body)
			? await this.request('PUT', bucket, key, {headers, body, signal: options.signal})
			: await this.drain(await this.requestStream('PUT', bucket, key, {headers, body, signal: options.signal}));
		return header(response.headers, 'etag') ?? '';
	}

	async createMultipartUpload(bucket: string, key: string, metadata?: ObjectMetadata, options: {signal?: AbortSignal} = {}): Promise<string> {
		const response = await this.request('POST', bucket, key, {query: {uploads: ''}, headers: metadataHeaders(metadata), signal: options.signal});
		const uploadId = xmlValue(response.body.toString('utf8'), 'UploadId');
		if (!uploadId) {
			throw new S3Error(response.status, 'InvalidResponse', `CreateMultipartUpload for ${bucket}/${key} returned no UploadId`);
		}

		return uploadId;
	}

	/** Uploads one part (body of exactly `length` bytes); returns its ETag. */
	async uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: Buffer | Readable, length: number, options: {signal?: AbortSignal} = {}): Promise<string> {
		const request = {query: {partNumber: String(partNumber), uploadId}, headers: {'content-length': String(length)}, body, signal: options.signal};
		const response = Buffer.isBuffer(body)
			? await this.request('PUT', bucket, key, request)
			: await this.drain(await this.requestStream('PUT', bucket, key, request));
		return header(response.headers, 'etag') ?? '';
	}

	/** Completes an upload; returns the object's ETag. */
	async completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: ReadonlyArray<{partNumber: number; etag: string}>, options: {signal?: AbortSignal} = {}): Promise<string> {
		const body = '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
			+ parts.map(part => `<Part><PartNumber>${part.partNumber}</PartNumber><ETag>${escapeXml(part.etag)}</ETag></Part>`).join('')
			+ '</CompleteMultipartUpload>';
		const buffer = Buffer.from(body);
		const response = await this.request('POST', bucket, key, {query: {uploadId}, headers: {'content-type': 'application/xml', 'content-length': String(buffer.length)}, body: buffer, signal: options.signal});
		const text = response.body.toString('utf8');
		// S3 may answer 200 with an <Error> body after a long completion.
		if (text.includes('<Error>')) {
			throw errorOf(500, response.body, 'POST', bucket, key);
		}

		return header(response.headers, 'etag') ?? decodeXml(xmlValue(text, 'ETag') ?? '');
	}

	async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
		try {
			await this.request('DELETE', bucket, key, {query: {uploadId}});
		} catch (error) {
			if (!(error instanceof S3Error && error.status === 404)) {
				throw error;
			}
		}
	}

	/**
	The multipart uploads in progress (ListMultipartUploads) under `prefix`, every page. Throws
	`S3Error` with code `NotImplemented` when the endpoint answers something else than a
	ListMultipartUploadsResult (an emulator that ignores `?uploads`).
	*/
	async listMultipartUploads(bucket: string, options: {prefix?: string; signal?: AbortSignal} = {}): Promise<MultipartUploadInfo[]> {
		const uploads: MultipartUploadInfo[] = [];
		let keyMarker: string | undefined;
		let uploadIdMarker: string | undefined;
		for (;;) {
			const query: Record<string, string> = {uploads: '', 'encoding-type': 'url'};
			if (options.prefix) {
				query['prefix'] = options.prefix;
			}

			if (keyMarker !== undefined) {
				query['key-marker'] = keyMarker;
				query['upload-id-marker'] = uploadIdMarker ?? '';
			}

			// eslint-disable-next-line no-await-in-loop
			const response = await withRetry(async () => this.request('GET', bucket, undefined, {query, signal: options.signal}), {signal: options.signal});
			const text = response.body.toString('utf8');
			if (!text.includes('<ListMultipartUploadsResult')) {
				throw new S3Error(501, 'NotImplemented', `GET ${bucket}?uploads: the endpoint does not list multipart uploads`);
			}

			const urlEncoded = xmlValue(text, 'EncodingType') === 'url';
			for (const match of text.matchAll(/<Upload>([\s\S]*?)<\/Upload>/g)) {
				const entry = match[1]!;
				const key = decodeXml(xmlValue(entry, 'Key') ?? '');
				uploads.push({key: urlEncoded ? decodeListKey(key) : key, uploadId: decodeXml(xmlValue(entry, 'UploadId') ?? ''), initiated: xmlValue(entry, 'Initiated')});
			}

			if (xmlValue(text, 'IsTruncated') !== 'true') {
				return uploads;
			}

			const nextKey = xmlValue(text, 'NextKeyMarker');
			if (!nextKey) {
				return uploads;
			}

			keyMarker = urlEncoded ? decodeListKey(decodeXml(nextKey)) : decodeXml(nextKey);
			uploadIdMarker = decodeXml(xmlValue(text, 'NextUploadIdMarker') ?? '');
		}
	}

	/** The parts of a multipart upload in progress (ListParts), every page; `undefined` when the upload is gone (`NoSuchUpload`). */
	async listParts(bucket: string, key: string, uploadId: string, options: {signal?: AbortSignal} = {}): Promise<PartInfo[] | undefined> {
		const parts: PartInfo[] = [];
		let marker: string | undefined;
		for (;;) {
			const query: Record<string, string> = {uploadId};
			if (marker) {
				query['part-number-marker'] = marker;
			}

			let text: string;
			try {
				// eslint-disable-next-line no-await-in-loop
				const response = await withRetry(async () => this.request('GET', bucket, key, {query, signal: options.signal}), {signal: options.signal});
				text = response.body.toString('utf8');
			} catch (error) {
				if (error instanceof S3Error && (error.code === 'NoSuchUpload' || error.status === 404)) {
					return undefined;
				}

				throw error;
			}

			if (!text.includes('<ListPartsResult')) {
				throw new S3Error(501, 'NotImplemented', `GET ${bucket}/${key}?uploadId: the endpoint does not list parts`);
			}

			for (const match of text.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
				const entry = match[1]!;
				parts.push({partNumber: Number(xmlValue(entry, 'PartNumber')), etag: decodeXml(xmlValue(entry, 'ETag') ?? ''), size: Number(xmlValue(entry, 'Size') ?? 0)});
			}

			const next = xmlValue(text, 'NextPartNumberMarker');
			if (xmlValue(text, 'IsTruncated') !== 'true' || !next || next === marker) {
				return parts;
			}

			marker = next;
		}
	}

	/** Deletes keys in batches of up to 1,000 (DeleteObjects); returns the keys that failed. */
	async deleteObjects(bucket: string, keys: readonly string[], options: {signal?: AbortSignal} = {}): Promise<string[]> {
		const failed: string[] = [];
		for (let start = 0; start < keys.length; start += 1000) {
			const batch = keys.slice(start, start + 1000);
			const body = Buffer.from('<Delete><Quiet>true</Quiet>' + batch.map(key => `<Object><Key>${escapeXml(key)}</Key></Object>`).join('') + '</Delete>');
			const md5 = createHash('md5').update(body).digest('base64');
			// eslint-disable-next-line no-await-in-loop
			const response = await withRetry(async () => this.request('POST', bucket, undefined, {query: {delete: ''}, headers: {'content-type': 'application/xml', 'content-length': String(body.length), 'content-md5': md5}, body, signal: options.signal}), {signal: options.signal});
			const text = response.body.toString('utf8');
			for (const match of text.matchAll(/<Error>[\s\S]*?<Key>([\s\S]*?)<\/Key>[\s\S]*?<\/Error>/g)) {
				failed.push(decodeXml(match[1]!));
			}
		}

		return failed;
	}

	/** Bucket names (ListBuckets). */
	async listBuckets(options: {signal?: AbortSignal} = {}): Promise<string[]> {
		const response = await withRetry(async () => this.request('GET', '', undefined, {signal: options.signal}), {signal: options.signal});
		const text = response.body.toString('utf8');
		return [...text.matchAll(/<Bucket>[\s\S]*?<Name>([\s\S]*?)<\/Name>[\s\S]*?<\/Bucket>/g)].map(match => decodeXml(match[1]!));
	}

	async bucketExists(bucket: string, options: {signal?: AbortSignal} = {}): Promise<boolean> {
		try {
			await withRetry(async () => this.request('HEAD', bucket, undefined, {signal: options.signal}), {signal: options.signal});
			return true;
		} catch (error) {
			if (error instanceof S3Error && error.status === 404) {
				return false;
			}

			throw error;
		}
	}

	async createBucket(bucket: string, options: {signal?: AbortSignal} = {}): Promise<void> {
		try {
			await this.request('PUT', bucket, undefined, {headers: {'content-length': '0'}, signal: options.signal});
		} catch (error) {
			if (!(error instanceof S3Error && (error.code === 'BucketAlreadyOwnedByYou' || error.status === 409))) {
				throw error;
			}
		}
	}

	/**
	Every object under `prefix`, in S3's key order, one ListObjectsV2 page (up to 1,000) at a time,
	with at most `readAhead` pages fetched ahead of the consumer (so memory stays flat whatever the
	bucket holds). Pages are retried on transient errors. Throws if the server's order is broken.
	*/
	async * list(bucket: string, options: {prefix?: string; startAfter?: string; readAhead?: number; pageSize?: number; signal?: AbortSignal; retry?: RetryOptions} = {}): AsyncGenerator<ObjectInfo> {
		const readAhead = Math.max(1, options.readAhead ?? 2);
		const fetchPage = async (token: string | undefined): Promise<ListPage> => withRetry(async () => {
			// encoding-type=url: keys with characters XML 1.0 cannot carry come back URL-encoded (decoded in parseListPage).
			const query: Record<string, string> = {'list-type': '2', 'max-keys': String(options.pageSize ?? 1000), 'encoding-type': 'url'};
			if (options.prefix) {
				query['prefix'] = options.prefix;
			}

			if (token) {
				query['continuation-token'] = token;
			} else if (options.startAfter) {
				query['start-after'] = options.startAfter;
			}

			const response = await this.request('GET', bucket, undefined, {query, signal: options.signal});
			return parseListPage(response.body.toString('utf8'));
		}, {signal: options.signal, ...options.retry});

		// Pages are sequential (each needs the previous token): a producer runs up to `readAhead` pages ahead.
		const queue: ListPage[] = [];
		let failure: unknown;
		let finished = false;
		let stopped = false;
		let wakeConsumer: (() => void) | undefined;
		let wakeProducer: (() => void) | undefined;
		const producer = (async () => {
			let token: string | undefined;
			try {
				do {
					while (queue.length >= readAhead && !stopped) {
						// eslint-disable-next-line no-await-in-loop
						await new Promise<void>(resolve => {
							wakeProducer = resolve;
						});
					}

					if (stopped) {
						return;
					}

					// eslint-disable-next-line no-await-in-loop
					const page = await fetchPage(token);
					queue.push(page);
					wakeConsumer?.();
					token = page.truncated ? page.nextToken : undefined;
				} while (token && !stopped);
			} catch (error) {
				failure = error;
			} finally {
				finished = true;
				wakeConsumer?.();
			}
		})();

		let previous: string | undefined;
		try {
			for (;;) {
				if (queue.length === 0) {
					if (failure !== undefined) {
						throw failure;
					}

					if (finished) {
						break;
					}

					// eslint-disable-next-line no-await-in-loop
					await new Promise<void>(resolve => {
						wakeConsumer = resolve;
					});
					wakeConsumer = undefined;
					continue;
				}

				const page = queue.shift()!;
				wakeProducer?.();
				wakeProducer = undefined;
				for (const object of page.objects) {
					if (previous !== undefined && compareKeys(previous, object.key) >= 0) {
						throw new Error(`The listing of ${bucket} is not in key order ('${previous}' before '${object.key}'): the endpoint does not sort keys as S3 does`);
					}

					previous = object.key;
					yield object;
				}
			}
		} finally {
			stopped = true;
			wakeProducer?.();
			await producer;
		}
	}

	/** Closes the connections. */
	async close(): Promise<void> {
		await this.pool.close();
	}

	/** Closes the connections now, failing what is in flight. */
	async destroy(): Promise<void> {
		await this.pool.destroy();
	}

	private signed(method: string, path: string, options: RequestOptions): Record<string, string> {
		const headers: Record<string, string> = {host: this.host};
		if (options.headers) {
			for (const name in options.headers) {
				if (Object.hasOwn(options.headers, name)) {
					headers[name] = options.headers[name]!;
				}
			}
		}

		return this.signer.sign({method, path, query: options.query, headers});
	}

	private async drain(response: StreamResponse): Promise<Response> {
		const chunks: Buffer[] = [];
		for await (const chunk of response.body) {
			chunks.push(chunk as Buffer);
		}

		return {status: response.status, headers: response.headers, body: Buffer.concat(chunks)};
	}
}

/** A multipart upload in progress (ListMultipartUploads). */
export type MultipartUploadInfo = {readonly key: string; readonly uploadId: string; readonly initiated?: string};

/** An uploaded part of a multipart upload in progress (ListParts). */
export type PartInfo = {readonly partNumber: number; readonly etag: string; readonly size: number};

type ListPage = {objects: ObjectInfo[]; truncated: boolean; nextToken?: string};

/** Parses a ListObjectsV2 answer. */
export function parseListPage(xml: string): ListPage {
	const objects: ObjectInfo[] = [];
	// Servers that honour encoding-type=url say so; others (fauxqs) send keys as they are.
	const urlEncoded = xmlValue(xml, 'EncodingType') === 'url';
	let position = 0;
	for (;;) {
		const start = xml.indexOf('<Contents>', position);
		if (start === -1) {
			break;
		}

		const end = xml.indexOf('</Contents>', start);
		const entry = xml.slice(start + 10, end);
		position = end + 11;
		objects.push({
			key: urlEncoded ? decodeListKey(decodeXml(xmlValue(entry, 'Key') ?? '')) : decodeXml(xmlValue(entry, 'Key') ?? ''),
			size: Number(xmlValue(entry, 'Size') ?? 0),
			etag: decodeXml(xmlValue(entry, 'ETag') ?? ''),
			lastModified: xmlValue(entry, 'LastModified'),
		});
	}

	const truncated = xmlValue(xml, 'IsTruncated') === 'true';
	const token = xmlValue(xml, 'NextContinuationToken');
	return {objects, truncated, nextToken: token === undefined ? undefined : decodeXml(token)};
}

/** A key from a listing with `encoding-type=url` (form encoding: `+` is a space, as botocore decodes it). */
function decodeListKey(value: string): string {
	return value.includes('%') || value.includes('+') ? decodeURIComponent(value.replaceAll('+', ' ')) : value;
}

function xmlValue(xml: string, tag: string): string | undefined {
	const open = xml.indexOf('<' + tag + '>');
	if (open === -1) {
		return xml.includes('<' + tag + '/>') ? '' : undefined;
	}

	const start = open + tag.length + 2;
	const end = xml.indexOf('</' + tag + '>', start);
	return end === -1 ? undefined : xml.slice(start, end);
}

const entities: Record<string, string> = {amp: '&', lt: '<', gt: '>', quot: '"', apos: '\''};

export function decodeXml(text: string): string {
	if (!text.includes('&')) {
		return text;
	}

	return text.replaceAll(/&(#x[\da-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_match, entity: string) => {
		if (entity.startsWith('#x') || entity.startsWith('#X')) {
			return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
		}

		if (entity.startsWith('#')) {
			return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
		}

		return entities[entity.toLowerCase()]!;
	});
}

function escapeXml(text: string): string {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll('\'', '&apos;');
}

function errorOf(status: number, body: Buffer, method: string, bucket: string, key: string | undefined): S3Error {
	const text = body.length > 0 ? body.toString('utf8') : '';
	const code = xmlValue(text, 'Code') ?? (status === 404 ? 'NotFound' : (status === 503 ? 'ServiceUnavailable' : `Http${status}`));
	const message = xmlValue(text, 'Message') ?? '';
	return new S3Error(status, code, `${method} ${bucket}${key === undefined ? '' : '/' + key}: ${status} ${code}${message ? ` (${decodeXml(message)})` : ''}`);
}

export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
	const value = headers[name];
	return Array.isArray(value) ? value[0] : value;
}

/** The preserved attributes of an object, read from GET or HEAD answer headers. */
export function metadataOf(headers: Record<string, string | string[] | undefined>): ObjectMetadata {
	const userMetadata: Record<string, string> = {};
	for (const name in headers) {
		if (name.startsWith('x-amz-meta-')) {
			userMetadata[name.slice(11)] = header(headers, name) ?? '';
		}
	}

	return {
		contentType: header(headers, 'content-type'),
		contentEncoding: header(headers, 'content-encoding'),
		cacheControl: header(headers, 'cache-control'),
		contentDisposition: header(headers, 'content-disposition'),
		contentLanguage: header(headers, 'content-language'),
		expires: header(headers, 'expires'),
		userMetadata,
	};
}

/** Request headers that set these attributes on a PUT or CreateMultipartUpload. */
export function metadataHeaders(metadata: ObjectMetadata | undefined): Record<string, string> {
	const headers: Record<string, string> = {};
	if (!metadata) {
		return headers;
	}

	if (metadata.contentType !== undefined) {
		headers['content-type'] = metadata.contentType;
	}

	if (metadata.contentEncoding !== undefined) {
		headers['content-encoding'] = metadata.contentEncoding;
	}

	if (metadata.cacheControl !== undefined) {
		headers['cache-control'] = metadata.cacheControl;
	}

	if (metadata.contentDisposition !== undefined) {
		headers['content-disposition'] = metadata.contentDisposition;
	}

	if (metadata.contentLanguage !== undefined) {
		headers['content-language'] = metadata.contentLanguage;
	}

	if (metadata.expires !== undefined) {
		headers['expires'] = metadata.expires;
	}

	for (const name in metadata.userMetadata) {
		if (Object.hasOwn(metadata.userMetadata, name)) {
			headers['x-amz-meta-' + name] = metadata.userMetadata[name]!;
		}
	}

	return headers;
}

function headOf(headers: Record<string, string | string[] | undefined>): ObjectHead {
	const checksums: Record<string, string> = {};
	for (const name in headers) {
		if (name.startsWith('x-amz-checksum-')) {
			checksums[name.slice(15)] = header(headers, name) ?? '';
		}
	}

	const parts = header(headers, 'x-amz-mp-parts-count');
	return {
		size: Number(header(headers, 'content-length') ?? 0),
		etag: header(headers, 'etag') ?? '',
		partsCount: parts === undefined ? undefined : Number(parts),
		lastModified: header(headers, 'last-modified'),
		metadata: metadataOf(headers),
		checksums,
	};
}
