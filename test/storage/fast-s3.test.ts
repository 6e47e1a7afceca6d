import {test} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {createHash, createHmac, type Hash, type Hmac} from 'node:crypto';
import type {AddressInfo} from 'node:net';
import {SignatureV4} from '@smithy/signature-v4';
import {FastS3Client} from '../../source/storage/fast-s3.js';
import {S3Error} from '../../source/storage/retry.js';
import {startTestS3} from '../helpers/s3-pair.js';

class NodeSha256 {
	private readonly hash: Hash | Hmac;
	constructor(secret?: string | Uint8Array) {
		this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
	}

	update(data: Uint8Array | string) {
		this.hash.update(data);
	}

	async digest() {
		return new Uint8Array(this.hash.digest());
	}

	reset() {}
}

type Captured = {method: string; url: string; headers: http.IncomingHttpHeaders};

/** A fake S3 that records every request and answers just enough for the client to go on. */
async function recordingServer() {
	const requests: Captured[] = [];
	const server = http.createServer((request, response) => {
		requests.push({method: request.method!, url: request.url!, headers: request.headers});
		request.resume();
		request.on('end', () => {
			const url = new URL(request.url!, 'http://x');
			let body = '';
			if (request.method === 'GET' && url.searchParams.get('list-type') === '2') {
				body = '<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><Contents><Key>a%26b+c%2Bd%01</Key><Size>3</Size><ETag>&quot;abc&quot;</ETag></Contents></ListBucketResult>';
			} else if (request.method === 'POST' && url.searchParams.has('uploads')) {
				body = '<InitiateMultipartUploadResult><UploadId>up/1+2=</UploadId></InitiateMultipartUploadResult>';
			} else if (request.method === 'POST' && url.searchParams.has('uploadId')) {
				body = '<CompleteMultipartUploadResult><ETag>&quot;f-2&quot;</ETag></CompleteMultipartUploadResult>';
			} else if (request.method === 'POST' && url.searchParams.has('delete')) {
				body = '<DeleteResult></DeleteResult>';
			}

			response.writeHead(request.method === 'DELETE' ? 204 : 200, {etag: '"abc"', 'content-length': Buffer.byteLength(body)});
			response.end(request.method === 'HEAD' ? undefined : body);
		});
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	return {
		requests,
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		async stop() {
			server.closeAllConnections();
			await new Promise(resolve => {
				server.close(resolve);
			});
		},
	};
}

const credentials = {accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'};

test('every request the client sends carries the signature the AWS SDK computes for it', async () => {
	const server = await recordingServer();
	const client = new FastS3Client({endpoint: server.url, region: 'eu-central-1', ...credentials});
	try {
		const odd = 'dir with space/ü+plus=eq&amp;!\'()*~.txt';
		const metadata = {contentType: 'text/csv', contentEncoding: 'gzip', cacheControl: 'max-age=1', contentDisposition: 'attachment; filename="a b.csv"', userMetadata: {owner: 'team a', 'x-trace': '1'}};
		const listed: string[] = [];
		for await (const object of client.list('ilum-data', {prefix: 'dir with space/', startAfter: 'dir with space/a'})) {
			listed.push(object.key);
		}

		assert.deepEqual(listed, ['a&b c+d\u0001'], 'URL-encoded keys are decoded');

		await client.get('ilum-data', odd);
		await client.head('ilum-data', odd, {checksums: true});
		await client.put('ilum-data', odd, Buffer.from('abc'), 3, metadata);
		const uploadId = await client.createMultipartUpload('ilum-data', odd, metadata);
		await client.uploadPart('ilum-data', odd, uploadId, 1, Buffer.from('x'), 1);
		await client.completeMultipartUpload('ilum-data', odd, uploadId, [{partNumber: 1, etag: '"abc"'}]);
		await client.abortMultipartUpload('ilum-data', odd, uploadId);
		await client.deleteObjects('ilum-data', [odd, 'k2']);
		await client.createBucket('new-bucket');
		assert.equal(server.requests.length, 10);

		const sdk = new SignatureV4({credentials, region: 'eu-central-1', service: 's3', sha256: NodeSha256 as any, uriEscapePath: false});
		for (const request of server.requests) {
			const authorization = String(request.headers.authorization);
			const signed = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
			for (const name of Object.keys(request.headers)) {
				if (name.startsWith('x-amz-')) {
					assert.ok(signed.includes(name), `${request.method} ${request.url}: ${name} is not signed`);
				}
			}

			assert.equal(request.headers['x-amz-content-sha256'], 'UNSIGNED-PAYLOAD');
			const url = new URL(request.url, 'http://x');
			const query: Record<string, string> = {};
			for (const [key, value] of url.searchParams) {
				query[key] = value;
			}

			const headers: Record<string, string> = {};
			for (const name of signed) {
				headers[name] = String(request.headers[name]);
			}

			const date = String(request.headers['x-amz-date']);
			const signingDate = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
			// eslint-disable-next-line no-await-in-loop
			const expected = await sdk.sign({method: request.method, protocol: 'http:', hostname: '127.0.0.1', path: url.pathname, query, headers} as any, {signingDate}) as unknown as {headers: Record<string, string>};
			assert.equal(authorization, expected.headers['authorization'], `${request.method} ${request.url}`);
		}

		const put = server.requests.find(request => request.method === 'PUT' && !request.url.includes('uploadId') && request.url.includes('ilum-data/'))!;
		assert.equal(put.url, '/ilum-data/dir%20with%20space/%C3%BC%2Bplus%3Deq%26amp%3B%21%27%28%29%2A~.txt');
		assert.equal(put.headers['x-amz-meta-owner'], 'team a');
		assert.equal(put.headers['content-disposition'], 'attachment; filename="a b.csv"');
	} finally {
		await client.destroy();
		await server.stop();
	}
});

test('listing pages through a bucket in order with bounded read-ahead, and stops when the consumer stops', async () => {
	const s3 = await startTestS3();
	try {
		await s3.createBucket('list-test');
		const keys = Array.from({length: 53}, (_, index) => `p/${String(index).padStart(3, '0')}`);
		await Promise.all(keys.map(async key => s3.client.put('list-test', key, Buffer.from(key), key.length)));
		await s3.client.put('list-test', 'other/x', Buffer.from('x'), 1);

		const listed: string[] = [];
		for await (const object of s3.client.list('list-test', {prefix: 'p/', pageSize: 7, readAhead: 3})) {
			listed.push(object.key);
			assert.equal(object.size, object.key.length);
			assert.match(object.etag, /^"[\da-f]{32}"$/);
		}

		assert.deepEqual(listed, keys);

		const first: string[] = [];
		for await (const object of s3.client.list('list-test', {pageSize: 5})) {
			first.push(object.key);
			if (first.length === 3) {
				break;
			}
		}

		assert.deepEqual(first, ['other/x', ...keys.slice(0, 2)]);
		await assert.rejects(async () => {
			for await (const _ of s3.client.list('no-such-bucket')) {
				// Nothing.
			}
		}, (error: unknown) => error instanceof S3Error && error.status === 404);
	} finally {
		await s3.stop();
	}
});
