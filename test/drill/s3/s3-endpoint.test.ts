/**
What the drill's S3 endpoints (fauxqs behind our front) keep and refuse, checked with the SDK.
*/
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {CopyObjectCommand, CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {Upload} from '@aws-sdk/lib-storage';
import {S3Endpoint} from '../../../source/drill/s3/s3-endpoint.js';
import {VolumeData} from '../../../source/drill/s3/volume-data.js';

const credentials = {accessKeyId: 'drillkey', secretAccessKey: 'drillsecret'};
const client = (endpoint: S3Endpoint, accessKeyId = credentials.accessKeyId) => new S3Client({endpoint: endpoint.url, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId, secretAccessKey: 'x'}, maxAttempts: 1});

test('objects keep content type, metadata and cache headers; ETags are MD5 or multipart MD5-of-MD5s', async () => {
	const volume = await VolumeData.empty();
	const endpoint = await S3Endpoint.start({name: 'test', credentials, volume});
	const s3 = client(endpoint);
	try {
		await s3.send(new CreateBucketCommand({Bucket: 'bkt'}));
		const put = await s3.send(new PutObjectCommand({Bucket: 'bkt', Key: 'a/b/c.json', Body: '{"x":1}', ContentType: 'application/json', CacheControl: 'max-age=60', ContentDisposition: 'attachment', ContentEncoding: 'identity', Metadata: {owner: 'me', 'mixed-case': 'Value'}}));
		assert.equal(put.ETag, `"${createHash('md5').update('{"x":1}').digest('hex')}"`);
		const head = await s3.send(new HeadObjectCommand({Bucket: 'bkt', Key: 'a/b/c.json'}));
		assert.equal(head.ContentType, 'application/json');
		assert.equal(head.CacheControl, 'max-age=60');
		assert.equal(head.ContentDisposition, 'attachment');
		assert.deepEqual(head.Metadata, {owner: 'me', 'mixed-case': 'Value'});

		const body = Buffer.alloc(9 * 1024 * 1024, 1);
		await new Upload({client: s3, params: {Bucket: 'bkt', Key: 'big', Body: body, ContentType: 'application/x-big', Metadata: {k: 'v'}}, partSize: 5 * 1024 * 1024}).done();
		const parts = [body.subarray(0, 5 * 1024 * 1024), body.subarray(5 * 1024 * 1024)].map(part => createHash('md5').update(part).digest());
		const bigHead = await s3.send(new HeadObjectCommand({Bucket: 'bkt', Key: 'big'}));
		assert.equal(bigHead.ETag, `"${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-2"`);
		assert.equal(bigHead.ContentType, 'application/x-big');
		assert.deepEqual(bigHead.Metadata, {k: 'v'});

		await s3.send(new CopyObjectCommand({Bucket: 'bkt', Key: 'copy.json', CopySource: 'bkt/a/b/c.json'}));
		assert.deepEqual((await s3.send(new HeadObjectCommand({Bucket: 'bkt', Key: 'copy.json'}))).Metadata, {owner: 'me', 'mixed-case': 'Value'});
		// What the endpoint served is what the volume holds.
		assert.equal(volume.objects('bkt').get('a/b/c.json')!.body.toString(), '{"x":1}');
	} finally {
		s3.destroy();
		await endpoint.close();
	}
});

test('conditional writes: If-None-Match: * refuses to overwrite, If-Match checks the ETag', async () => {
	const volume = await VolumeData.empty();
	volume.ensureBucket('bkt');
	const endpoint = await S3Endpoint.start({name: 'test', credentials, volume});
	const s3 = client(endpoint);
	try {
		const first = await s3.send(new PutObjectCommand({Bucket: 'bkt', Key: '_delta_log/00000000000000000001.json', Body: 'one', IfNoneMatch: '*'}));
		await assert.rejects(s3.send(new PutObjectCommand({Bucket: 'bkt', Key: '_delta_log/00000000000000000001.json', Body: 'two', IfNoneMatch: '*'})), (error: any) => error.name === 'PreconditionFailed' && error.$metadata.httpStatusCode === 412);
		assert.equal(await (await s3.send(new GetObjectCommand({Bucket: 'bkt', Key: '_delta_log/00000000000000000001.json'}))).Body!.transformToString(), 'one');
		await assert.rejects(s3.send(new PutObjectCommand({Bucket: 'bkt', Key: '_delta_log/00000000000000000001.json', Body: 'three', IfMatch: '"0000"'})), /PreconditionFailed|pre-conditions/);
		await s3.send(new PutObjectCommand({Bucket: 'bkt', Key: '_delta_log/00000000000000000001.json', Body: 'four', IfMatch: first.ETag}));
		assert.equal(await (await s3.send(new GetObjectCommand({Bucket: 'bkt', Key: '_delta_log/00000000000000000001.json'}))).Body!.transformToString(), 'four');
	} finally {
		s3.destroy();
		await endpoint.close();
	}
});

test('a wrong access key is refused; serving nothing refuses connections on the same port', async () => {
	const volume = await VolumeData.empty();
	const endpoint = await S3Endpoint.start({name: 'test', credentials, volume});
	const wrong = client(endpoint, 'someone-else');
	const right = client(endpoint);
	try {
		await assert.rejects(wrong.send(new ListBucketsCommand({})), (error: any) => error.name === 'InvalidAccessKeyId' && error.$metadata.httpStatusCode === 403);
		const anonymous = await fetch(`${endpoint.url}/`);
		assert.equal(anonymous.status, 403);
		assert.match(await anonymous.text(), /<Code>AccessDenied<\/Code>/);
		const port = endpoint.port;
		await endpoint.serve(undefined);
		await assert.rejects(right.send(new ListBucketsCommand({})), (error: any) => error.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(error?.message ?? error)));
		const copy = await volume.copy();
		await endpoint.serve(copy);
		assert.equal(endpoint.port, port);
		assert.deepEqual((await right.send(new ListBucketsCommand({}))).Buckets, []);
	} finally {
		wrong.destroy();
		right.destroy();
		await endpoint.close();
	}
});

test('a malformed request gets an S3 error, and the endpoint keeps serving', async () => {
	const volume = await VolumeData.empty();
	volume.ensureBucket('bkt');
	const endpoint = await S3Endpoint.start({name: 'test', credentials, volume});
	try {
		const headers = {authorization: 'AWS4-HMAC-SHA256 Credential=drillkey/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0'};
		const bad = await fetch(`${endpoint.url}/bkt/%E0%A4%A`, {method: 'PUT', body: 'x', headers: {...headers, 'if-none-match': '*'}});
		assert.equal(bad.status, 400);
		assert.match(await bad.text(), /<Code>InvalidURI<\/Code>/);
		const garbage = await fetch(`${endpoint.url}/bkt?list-type=2&max-keys=notanumber`, {headers});
		assert.ok(garbage.status >= 200 && garbage.status < 500, `status ${garbage.status}`);
		const fine = await fetch(`${endpoint.url}/bkt/ok.txt`, {method: 'PUT', body: 'x', headers});
		assert.equal(fine.status, 200);
	} finally {
		await endpoint.close();
	}
});

test('a single PUT larger than fauxqs\' own 11 MiB limit is accepted', async () => {
	const volume = await VolumeData.empty();
	volume.ensureBucket('bkt');
	const endpoint = await S3Endpoint.start({name: 'test', credentials, volume});
	const s3 = client(endpoint);
	try {
		const body = Buffer.alloc(20 * 1024 * 1024, 3);
		const put = await s3.send(new PutObjectCommand({Bucket: 'bkt', Key: 'single.bin', Body: body, ContentLength: body.length}));
		assert.equal(put.ETag, `"${createHash('md5').update(body).digest('hex')}"`);
		assert.equal((await s3.send(new HeadObjectCommand({Bucket: 'bkt', Key: 'single.bin'}))).ContentLength, body.length);
	} finally {
		s3.destroy();
		await endpoint.close();
	}
});

test('listings come in S3 key order (UTF-8 bytes), page by page, as real S3 lists them', async () => {
	const volume = await VolumeData.empty();
	const endpoint = await S3Endpoint.start({name: 'test', credentials, volume});
	const s3 = client(endpoint);
	try {
		await s3.send(new CreateBucketCommand({Bucket: 'order'}));
		const keys = ['t/_delta_log/_last_checkpoint', 't/_delta_log/00000000000000000000.json', 't/Zeta', 't/alpha', 't/_delta_log/00000000000000000001.json', 't/a-b', 't/a_b', 't/a.b'];
		for (const key of keys) {
			// eslint-disable-next-line no-await-in-loop
			await s3.send(new PutObjectCommand({Bucket: 'order', Key: key, Body: key}));
		}

		const listed: string[] = [];
		let token: string | undefined;
		do {
			// eslint-disable-next-line no-await-in-loop
			const page = await s3.send(new ListObjectsV2Command({Bucket: 'order', MaxKeys: 3, ContinuationToken: token}));
			listed.push(...(page.Contents ?? []).map(object => object.Key!));
			token = page.IsTruncated ? page.NextContinuationToken : undefined;
		} while (token);
		assert.deepEqual(listed, [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
		const folders = await s3.send(new ListObjectsV2Command({Bucket: 'order', Prefix: 't/', Delimiter: '/'}));
		assert.deepEqual(folders.CommonPrefixes?.map(prefix => prefix.Prefix), ['t/_delta_log/']);
		assert.deepEqual(folders.Contents?.map(object => object.Key), ['t/Zeta', 't/a-b', 't/a.b', 't/a_b', 't/alpha']);
	} finally {
		s3.destroy();
		await endpoint.close();
	}
});
