import {createHash} from 'node:crypto';
import type {FauxObject} from './fauxqs.js';

/** Objects larger than this are stored as multipart uploads of this part size (the aws cli's 8 MiB default). */
export const multipartPartSize = 8 * 1024 * 1024;

export type ObjectInput = {
	key: string;
	body: Buffer;
	contentType?: string;
	metadata?: Record<string, string>;
	cacheControl?: string;
	contentEncoding?: string;
	contentDisposition?: string;
	contentLanguage?: string;
	lastModified: Date;
};

/**
An object record as the S3 server would have stored it after a PutObject (single part, ETag = MD5)
or a multipart upload (ETag = MD5 of the part MD5s, `-N`), for seeding volumes directly.
*/
export function objectRecord(input: ObjectInput): FauxObject {
	const {body} = input;
	const record: FauxObject = {
		key: input.key,
		body,
		contentType: input.contentType ?? 'application/octet-stream',
		contentLength: body.length,
		etag: '',
		lastModified: input.lastModified,
		metadata: input.metadata ?? {},
	};
	if (input.cacheControl) {
		record.cacheControl = input.cacheControl;
	}

	if (input.contentEncoding) {
		record.contentEncoding = input.contentEncoding;
	}

	if (input.contentDisposition) {
		record.contentDisposition = input.contentDisposition;
	}

	if (input.contentLanguage) {
		record.contentLanguage = input.contentLanguage;
	}

	if (body.length > multipartPartSize) {
		const digests: Buffer[] = [];
		const parts: NonNullable<FauxObject['parts']> = [];
		for (let offset = 0, partNumber = 1; offset < body.length; offset += multipartPartSize, partNumber++) {
			const length = Math.min(multipartPartSize, body.length - offset);
			digests.push(createHash('md5').update(body.subarray(offset, offset + length)).digest());
			parts.push({partNumber, offset, length});
		}

		record.etag = `"${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${parts.length}"`;
		record.parts = parts;
	} else {
		record.etag = `"${createHash('md5').update(body).digest('hex')}"`;
	}

	return record;
}
