import {createHmac, createSecretKey, hash, type KeyObject} from 'node:crypto';

/**
AWS Signature Version 4 for S3 requests, synchronous and cheap per request.

It computes exactly what `@smithy/signature-v4`'s `SignatureV4.sign` computes for S3 (test:
`test/storage/sigv4.test.ts` compares both request by request) but derives the signing key once
per day and region instead of per request, and does no async work. The payload is never hashed:
requests carry `x-amz-content-sha256: UNSIGNED-PAYLOAD` (S3 accepts it over any transport).

Headers are signed the way the SDK signs them: every header given, except the ones the SDK never
signs (`authorization`, `user-agent`, `cache-control`, `connection`, `expect`, ... see
`unsignable`). So every `x-amz-*` header, `content-type`, `content-length` and `host` are signed.
*/
export type Credentials = {
	readonly accessKeyId: string;
	readonly secretAccessKey: string;
	readonly sessionToken?: string;
};

export const unsignedPayload = 'UNSIGNED-PAYLOAD';

const unsignable = new Set([
	'authorization', 'cache-control', 'connection', 'expect', 'from', 'keep-alive', 'max-forwards', 'pragma',
	'referer', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'x-amzn-trace-id',
]);

/**
Encodes an object key for an S3 path: `encodeURIComponent` plus `!'()*`, with `/` kept.
The same string goes on the wire and into the canonical request (S3 does not double-encode).
*/
export function encodeKey(key: string): string {
	return encodeRfc3986(key).replaceAll('%2F', '/');
}

/** `encodeURIComponent` that also escapes `!'()*` (RFC 3986 unreserved only). */
export function encodeRfc3986(value: string): string {
	// Fast path: the common key alphabet needs no escaping at all.
	if (/^[\w.~-]*$/.test(value)) {
		return value;
	}

	return encodeURIComponent(value).replaceAll(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20261122T013000Z` for a time. */
export function amzDate(time: Date): string {
	return time.toISOString().replaceAll(/[:-]|\.\d{3}/g, '');
}

export type SignInput = {
	readonly method: string;
	/** Already encoded path, e.g. `/bucket/a%20b/c` (see `encodeKey`). */
	readonly path: string;
	/** Query parameters (raw values; encoded here). */
	readonly query?: Readonly<Record<string, string>>;
	/** Header names in lower case. Must include `host`. */
	readonly headers: Record<string, string>;
};

export class SigV4Signer {
	readonly region: string;
	readonly service: string;
	private readonly credentials: Credentials;
	private keyDay = '';
	private key: KeyObject | undefined;
	private lastSecond = -1;
	private lastDate = '';

	constructor(options: {credentials: Credentials; region: string; service?: string}) {
		this.credentials = options.credentials;
		this.region = options.region;
		this.service = options.service ?? 's3';
	}

	/**
	Adds `x-amz-date`, `x-amz-content-sha256` (if absent: `UNSIGNED-PAYLOAD`), the session token
	and `authorization` to `input.headers` (mutated and returned).
	*/
	sign(input: SignInput, now: Date = new Date()): Record<string, string> {
		const {headers} = input;
		const date = this.dateOf(now);
		const day = date.slice(0, 8);
		headers['x-amz-date'] = date;
		headers['x-amz-content-sha256'] ??= unsignedPayload;
		if (this.credentials.sessionToken) {
			headers['x-amz-security-token'] = this.credentials.sessionToken;
		}

		const names: string[] = [];
		for (const name of Object.keys(headers)) {
			if (!unsignable.has(name) && !name.startsWith('proxy-') && !name.startsWith('sec-')) {
				names.push(name);
			}
		}

		names.sort();
		let canonicalHeaders = '';
		for (const name of names) {
			canonicalHeaders += name + ':' + normalizeValue(headers[name]!) + '\n';
		}

		const signedHeaders = names.join(';');
		const canonicalRequest = input.method + '\n' + input.path + '\n' + canonicalQuery(input.query) + '\n' + canonicalHeaders + '\n' + signedHeaders + '\n' + headers['x-amz-content-sha256'];
		const scope = `${day}/${this.region}/${this.service}/aws4_request`;
		const stringToSign = 'AWS4-HMAC-SHA256\n' + date + '\n' + scope + '\n' + hash('sha256', canonicalRequest, 'hex');
		const signature = createHmac('sha256', this.signingKey(day)).update(stringToSign).digest('hex');
		headers['authorization'] = `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
		return headers;
	}

	private dateOf(now: Date): string {
		const second = Math.floor(now.getTime() / 1000);
		if (second !== this.lastSecond) {
			this.lastSecond = second;
			this.lastDate = amzDate(now);
		}

		return this.lastDate;
	}

	/** The derived key as a `KeyObject`: `createHmac` with a Buffer key costs ~7x more per call on Node 24. */
	private signingKey(day: string): KeyObject {
		if (day !== this.keyDay || !this.key) {
			const kDate = createHmac('sha256', 'AWS4' + this.credentials.secretAccessKey).update(day).digest();
			const kRegion = createHmac('sha256', kDate).update(this.region).digest();
			const kService = createHmac('sha256', kRegion).update(this.service).digest();
			this.key = createSecretKey(createHmac('sha256', kService).update('aws4_request').digest());
			this.keyDay = day;
		}

		return this.key;
	}
}

function normalizeValue(value: string): string {
	return /[\r\n\t]| {2}|^ | $/.test(value) ? value.replaceAll(/[\r\n]/g, ' ').replaceAll(/[ \t]+/g, ' ').replace(/^ | $/g, '') : value;
}

function canonicalQuery(query: Readonly<Record<string, string>> | undefined): string {
	if (!query) {
		return '';
	}

	const parts: string[] = [];
	for (const [key, value] of Object.entries(query)) {
		parts.push(encodeRfc3986(key) + '=' + encodeRfc3986(value));
	}

	// Sorted by encoded key (keys are unique), as the SDK does.
	return parts.sort(compareQueryPairs).join('&');
}

function compareQueryPairs(a: string, b: string): number {
	const ka = a.slice(0, a.indexOf('='));
	const kb = b.slice(0, b.indexOf('='));
	return ka < kb ? -1 : (ka > kb ? 1 : 0);
}

/** The query string for the wire, in the same encoding as signed. */
export function queryString(query: Readonly<Record<string, string>> | undefined): string {
	if (!query) {
		return '';
	}

	const parts: string[] = [];
	for (const [key, value] of Object.entries(query)) {
		parts.push(value === '' ? encodeRfc3986(key) + '=' : encodeRfc3986(key) + '=' + encodeRfc3986(value));
	}

	return parts.length > 0 ? '?' + parts.join('&') : '';
}
