import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash, createHmac, type Hash, type Hmac} from 'node:crypto';
import {SignatureV4} from '@smithy/signature-v4';
import {SigV4Signer, encodeKey, queryString} from '../../source/storage/sigv4.js';

/** The SDK's hash constructor contract (HMAC when given a secret), over node:crypto. */
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

const credentials = {accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'};

type Case = {method: string; key?: string; bucket: string; query?: Record<string, string>; headers?: Record<string, string>; now: Date};

const cases: Case[] = [
	{method: 'GET', bucket: 'ilum-data', key: 'plain/key.parquet', now: new Date('2026-11-22T01:02:03Z')},
	{method: 'GET', bucket: 'ilum-data', key: 'a b/c+d/é/日本/!\'()*/x=y&z?#%', now: new Date('2026-11-22T23:59:59Z')},
	{method: 'GET', bucket: 'ilum-data', query: {'list-type': '2', prefix: 'dir/sub dir/', 'continuation-token': 'abc+/=', 'max-keys': '1000'}, now: new Date('2026-11-23T00:00:00Z')},
	{method: 'PUT', bucket: 'b', key: 'k/with~tilde_and.dots-', headers: {'content-type': 'application/x-parquet', 'content-length': '4096', 'content-encoding': 'gzip', 'cache-control': 'max-age=60', 'content-disposition': 'attachment; filename="x y.csv"', 'x-amz-meta-owner': 'team  a', 'x-amz-meta-empty': ''}, now: new Date('2026-01-01T12:00:00Z')},
	{method: 'POST', bucket: 'b', key: 'big/object', query: {uploads: ''}, headers: {'content-type': 'text/plain', 'x-amz-meta-a': 'b'}, now: new Date('2026-02-03T04:05:06Z')},
	{method: 'PUT', bucket: 'b', key: 'big/object', query: {partNumber: '7', uploadId: 'ZzZ/+=='}, headers: {'content-length': '8388608'}, now: new Date('2026-02-03T04:05:07Z')},
	{method: 'HEAD', bucket: 'b', key: 'x', headers: {'if-match': '"abc"', 'user-agent': 'ilum-restore', 'x-amz-checksum-mode': 'ENABLED'}, now: new Date('2026-02-03T04:05:08Z')},
];

for (const [index, item] of cases.entries()) {
	test(`signature matches SignatureV4.sign: case ${index} (${item.method} ${item.key ?? ''})`, async () => {
		const path = '/' + item.bucket + (item.key === undefined ? '' : '/' + encodeKey(item.key));
		const headers = {host: '127.0.0.1:9000', ...item.headers};
		const sdk = new SignatureV4({credentials, region: 'us-east-1', service: 's3', sha256: NodeSha256 as any, uriEscapePath: false, applyChecksum: false});
		const expected = await sdk.sign({
			method: item.method,
			protocol: 'http:',
			hostname: '127.0.0.1',
			port: 9000,
			path,
			query: item.query ?? {},
			headers: {...headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD'},
		} as any, {signingDate: item.now}) as unknown as {headers: Record<string, string>};

		const signer = new SigV4Signer({credentials, region: 'us-east-1'});
		const ours = signer.sign({method: item.method, path, query: item.query, headers: {...headers}}, item.now);
		assert.equal(ours['authorization'], expected.headers['authorization']);
		assert.equal(ours['x-amz-date'], expected.headers['x-amz-date']);
	});
}

test('the signing key is cached per day but follows the date', async () => {
	const signer = new SigV4Signer({credentials, region: 'eu-west-1'});
	const sdk = new SignatureV4({credentials, region: 'eu-west-1', service: 's3', sha256: NodeSha256 as any, uriEscapePath: false});
	for (const now of [new Date('2026-03-01T00:00:00Z'), new Date('2026-03-01T10:00:00Z'), new Date('2026-03-02T00:00:01Z')]) {
		const ours = signer.sign({method: 'GET', path: '/b/k', headers: {host: 'h'}}, now);
		// eslint-disable-next-line no-await-in-loop
		const expected = await sdk.sign({method: 'GET', protocol: 'http:', hostname: 'h', path: '/b/k', query: {}, headers: {host: 'h', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD'}} as any, {signingDate: now}) as unknown as {headers: Record<string, string>};
		assert.equal(ours['authorization'], expected.headers['authorization']);
	}
});

test('keys are encoded as S3 expects and the query string matches what is signed', () => {
	assert.equal(encodeKey('a b/c!\'()*/é'), 'a%20b/c%21%27%28%29%2A/%C3%A9');
	assert.equal(encodeKey('x/y_z-1.~'), 'x/y_z-1.~');
	assert.equal(queryString({uploads: ''}), '?uploads=');
	assert.equal(queryString({prefix: 'a b/'}), '?prefix=a%20b%2F');
});
