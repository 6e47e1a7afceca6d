import {test} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {S3Client} from '@aws-sdk/client-s3';
import {applyBucketSettings, readBucketSettings} from '../../source/posture/bucket-settings.js';

type Seen = {method: string; url: string; body: string};

/** An S3 stand-in that records each request and answers as `answer` says. */
async function server(answer: (request: Seen) => {status: number; body?: string; type?: string}) {
	const seen: Seen[] = [];
	const listener = http.createServer((request, response) => {
		let body = '';
		request.setEncoding('utf8').on('data', chunk => {
			body += chunk;
		}).on('end', () => {
			// `/b/?policy=` and `/b?policy` are the same request: keep its path and sub-resource.
			const url = new URL(request.url!, 'http://s3');
			const entry = {method: request.method!, url: `${url.pathname.replace(/\/$/, '')}?${[...url.searchParams.keys()].join('&')}`, body};
			seen.push(entry);
			const reply = answer(entry);
			response.writeHead(reply.status, {'content-type': reply.type ?? 'application/xml'});
			response.end(reply.body ?? '');
		});
	});
	await new Promise<void>(resolve => {
		listener.listen(0, '127.0.0.1', resolve);
	});
	const client = new S3Client({endpoint: `http://127.0.0.1:${(listener.address() as AddressInfo).port}`, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: 'k', secretAccessKey: 's'}, maxAttempts: 1});
	return {
		seen,
		client,
		async close() {
			client.destroy();
			listener.closeAllConnections();
			await new Promise(resolve => {
				listener.close(resolve);
			});
		},
	};
}

const error = (code: string, status: number) => ({status, body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`});
const policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::ilum-files/public/*"}]}';

test('export reads policy, lifecycle and versioning with the S3 sub-resources, and import puts them back', async () => {
	const s3 = await server(request => {
		if (request.method === 'GET' && request.url.endsWith('?policy')) {
			return {status: 200, body: policy, type: 'application/json'};
		}

		if (request.method === 'GET' && request.url.endsWith('?lifecycle')) {
			return {status: 200, body: '<LifecycleConfiguration><Rule><ID>expire-tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>7</Days></Expiration></Rule></LifecycleConfiguration>'};
		}

		if (request.method === 'GET' && request.url.endsWith('?versioning')) {
			return {status: 200, body: '<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>'};
		}

		return {status: 200};
	});
	try {
		const {file, settings} = await readBucketSettings(s3.client, 'ilum-files');
		assert.deepEqual(s3.seen.map(request => `${request.method} ${request.url}`).sort(), ['GET /ilum-files?lifecycle', 'GET /ilum-files?policy', 'GET /ilum-files?versioning']);
		assert.deepEqual(settings.map(setting => setting.state), ['set', 'set', 'set']);
		assert.equal(file.policy, policy);
		assert.equal(file.lifecycle?.[0]?.ID, 'expire-tmp');
		assert.equal(file.versioning, 'Enabled');

		s3.seen.length = 0;
		const applied = await applyBucketSettings(s3.client, JSON.parse(JSON.stringify(file)));
		assert.deepEqual(applied, ['BucketPolicy', 'BucketLifecycleConfiguration', 'BucketVersioning']);
		const puts = s3.seen.filter(request => request.method === 'PUT');
		assert.deepEqual(puts.map(request => request.url), ['/ilum-files?policy', '/ilum-files?lifecycle', '/ilum-files?versioning']);
		assert.equal(puts[0]!.body, policy);
		assert.match(puts[1]!.body, /<ID>expire-tmp<\/ID>/);
		assert.match(puts[1]!.body, /<Expiration><Days>7<\/Days><\/Expiration>/);
		assert.match(puts[1]!.body, /<Filter><Prefix>tmp\/<\/Prefix><\/Filter>/);
		assert.match(puts[2]!.body, /<Status>Enabled<\/Status>/);
	} finally {
		await s3.close();
	}
});

test('nothing set reads as none; a provider without the calls reads as unsupported, never as an empty success', async () => {
	const none = await server(request => request.url.endsWith('?policy') ? error('NoSuchBucketPolicy', 404) : (request.url.endsWith('?lifecycle') ? error('NoSuchLifecycleConfiguration', 404) : {status: 200, body: '<VersioningConfiguration/>'}));
	try {
		const {settings} = await readBucketSettings(none.client, 'b');
		assert.deepEqual(settings.map(setting => setting.state), ['none', 'none', 'none']);
	} finally {
		await none.close();
	}

	const missing = await server(() => error('NotImplemented', 501));
	try {
		const {file, settings} = await readBucketSettings(missing.client, 'b');
		assert.deepEqual(settings.map(setting => setting.state), ['unsupported', 'unsupported', 'unsupported']);
		assert.deepEqual([...file.unsupported].sort(), ['lifecycle', 'policy', 'versioning']);
		await assert.rejects(applyBucketSettings(missing.client, {bucket: 'b', policy, lifecycle: null, versioning: null, unsupported: []}), /does not implement PutBucketPolicy/);
	} finally {
		await missing.close();
	}

	// A server that ignores ?policy and answers with the bucket listing (the drill world's fauxqs).
	const listing = await server(request => request.url.endsWith('?policy') ? {status: 200, body: '<ListBucketResult><Name>b</Name></ListBucketResult>'} : error('NoSuchLifecycleConfiguration', 404));
	try {
		const {settings} = await readBucketSettings(listing.client, 'b');
		assert.equal(settings[0]!.state, 'unsupported');
		assert.match(settings[0]!.detail!, /bucket listing/);
	} finally {
		await listing.close();
	}
});
