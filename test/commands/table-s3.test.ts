import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import type {AddressInfo} from 'node:net';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';
import {GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client} from '@aws-sdk/client-s3';
import {startFauxqs, type FauxqsServer} from 'fauxqs';
import {UserError} from '../../source/errors.js';
import {DeltaFormat} from '../../source/formats/delta/index.js';
import {formatEnvironment} from '../../source/formats/index.js';
import {createS3Client} from '../../source/storage/s3-client.js';
import {runCli} from '../helpers/run-cli.js';
import {fixture} from '../formats/delta/fixtures.js';

let server: FauxqsServer;
let client: S3Client;
let env: NodeJS.ProcessEnv;
let state: string | undefined;
const bucket = 'ilum-tables';

async function upload(table: string, prefix: string) {
	const root = fixture(table);
	const entries = await fs.readdir(root, {recursive: true, withFileTypes: true});
	await Promise.all(entries.filter(entry => entry.isFile()).map(async entry => {
		const absolute = path.join(entry.parentPath, entry.name);
		const key = `${prefix}/${path.relative(root, absolute).split(path.sep).join('/')}`;
		await client.send(new PutObjectCommand({Bucket: bucket, Key: key, Body: await fs.readFile(absolute)}));
	}));
}

async function keys(prefix: string): Promise<string[]> {
	const page = await client.send(new ListObjectsV2Command({Bucket: bucket, Prefix: prefix}));
	return (page.Contents ?? []).map(object => object.Key!).sort();
}

before(async () => {
	server = await startFauxqs({port: 0, host: '127.0.0.1', logger: false});
	server.createBucket(bucket);
	// Restores keep a journal, an audit log and reports: in a state dir of this run, not the user's.
	state = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-table-s3-state-'));
	env = {AWS_ENDPOINT_URL: `http://127.0.0.1:${server.port}`, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1', XDG_STATE_HOME: state};
	client = createS3Client({env});
	await upload('simple_table', 'simple');
	await upload('snapshot-vacuumed', 'vacuumed');
	await upload('dv-with-columnmapping', 'warehouse/dv');
	await upload('simple_table', 'race');
	await upload('simple_table', 'strict');
});

after(async () => {
	client?.destroy();
	await server?.stop();
	if (state) {
		await fs.rm(state, {recursive: true, force: true});
	}
});

describe('history and restore table on S3 (path-style, AWS environment variables)', () => {
	test('history of s3://bucket/prefix', async () => {
		const result = await runCli(['history', `s3://${bucket}/simple`, '--json'], {env});
		assert.equal(result.code, 0, result.stderr);
		const document = JSON.parse(result.stdout) as {current: string; entries: Array<{operation: string; restorable: boolean}>};
		assert.equal(document.current, '4');
		assert.deepEqual(document.entries.map(entry => entry.operation), ['WRITE', 'MERGE', 'WRITE', 'UPDATE', 'DELETE']);
		assert.ok(document.entries.every(entry => entry.restorable));
		const vacuumed = JSON.parse((await runCli(['history', `s3://${bucket}/vacuumed/`, '--json'], {env})).stdout) as {entries: Array<{restorable: boolean}>};
		assert.deepEqual(vacuumed.entries.map(entry => entry.restorable), [false, false, false, false, false, true]);
	});

	test('restore --yes writes the commit and verifies; the server ignoring If-None-Match is reported', async () => {
		const result = await runCli(['restore', 'table', `s3://${bucket}/simple`, '--to', '1', '--yes', '--json'], {env});
		assert.equal(result.code, 0, result.stderr);
		const lines = result.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as Record<string, any>);
		const outcome = lines.at(-1)!;
		assert.equal(outcome['type'], 'result');
		assert.equal(outcome['verified'], true);
		assert.equal(outcome['newVersion'], '5');
		const names = (outcome['checks'] as Array<{name: string; detail: string}>).map(check => check.name);
		assert.ok(names.includes('live set') && names.includes('rows'));
		// fauxqs accepts If-None-Match and writes anyway: the tool notices and says so.
		assert.ok(names.includes('conditional write'), JSON.stringify(outcome['checks']));
		const commit = await client.send(new GetObjectCommand({Bucket: bucket, Key: 'simple/_delta_log/00000000000000000005.json'}));
		const first = JSON.parse((await commit.Body!.transformToString()).split('\n')[0]!) as {commitInfo: {operation: string}};
		assert.equal(first.commitInfo.operation, 'RESTORE');
		assert.deepEqual((await keys('simple/_delta_log/.tmp/')).filter(key => key.includes('ilum-restore-probe')), [], 'the probe is cleaned up');
	});

	test('deletion vectors on S3: restore keeps DV files', async () => {
		const result = await runCli(['restore', 'table', `s3://${bucket}/warehouse/dv`, '--to', '5', '--yes', '--json'], {env});
		assert.equal(result.code, 0, result.stderr);
		assert.equal((JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!) as {verified: boolean}).verified, true);
		assert.equal((await keys('warehouse/dv/deletion_vector_')).length, 15);
	});

	test('the vacuumed table on S3 is refused with exit 3, nothing written', async () => {
		const before = await keys('vacuumed/_delta_log/');
		const result = await runCli(['restore', 'table', `s3://${bucket}/vacuumed`, '--to', '2', '--yes'], {env});
		assert.equal(result.code, 3);
		assert.match(result.stderr, /not all files of version 2 exist/);
		assert.deepEqual(await keys('vacuumed/_delta_log/'), before);
	});

	test('a writer that commits between plan and execute: refused with exit 3, their commit kept', async () => {
		const format = new DeltaFormat(formatEnvironment({env}));
		const plan = await format.plan({ref: `s3://${bucket}/race`}, '1');
		const theirs = '{"commitInfo":{"timestamp":1,"operation":"WRITE"}}\n';
		await client.send(new PutObjectCommand({Bucket: bucket, Key: 'race/_delta_log/00000000000000000005.json', Body: theirs}));
		await assert.rejects(format.execute(plan), (error: unknown) => error instanceof UserError && error.exitCode === 3 && /moved since the plan/.test(error.message));
		const kept = await client.send(new GetObjectCommand({Bucket: bucket, Key: 'race/_delta_log/00000000000000000005.json'}));
		assert.equal(await kept.Body!.transformToString(), theirs);
		assert.equal((await keys('race/_delta_log/')).filter(key => /^race\/_delta_log\/\d{20}\.json$/.test(key)).length, 6);
	});

	test('a server that rejects If-None-Match (501): written plainly after a check, verified by reading back, and said', async () => {
		const proxy = http.createServer((request, response) => {
			if (request.headers['if-none-match']) {
				request.resume();
				response.writeHead(501, {'content-type': 'application/xml'});
				response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>');
				return;
			}

			const upstream = http.request({host: '127.0.0.1', port: server.port, method: request.method, path: request.url, headers: request.headers}, answer => {
				response.writeHead(answer.statusCode ?? 500, answer.headers);
				answer.pipe(response);
			});
			request.pipe(upstream);
		});
		await new Promise<void>(resolve => {
			proxy.listen(0, '127.0.0.1', resolve);
		});
		try {
			const proxyEnv = {...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`};
			const result = await runCli(['restore', 'table', `s3://${bucket}/strict`, '--to', '2', '--yes', '--json'], {env: proxyEnv});
			assert.equal(result.code, 0, result.stderr);
			const outcome = JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!) as {verified: boolean; checks: Array<{name: string; detail: string}>};
			assert.equal(outcome.verified, true);
			assert.match(outcome.checks.find(check => check.name === 'conditional write')!.detail, /rejects If-None-Match/);
		} finally {
			proxy.closeAllConnections();
			await new Promise(resolve => {
				proxy.close(resolve);
			});
		}
	});

	test('--s3-endpoint takes precedence over AWS_ENDPOINT_URL', async () => {
		const result = await runCli(['history', `s3://${bucket}/simple`, '--s3-endpoint', `http://127.0.0.1:${server.port}`], {env: {...env, AWS_ENDPOINT_URL: 'http://127.0.0.1:9'}});
		assert.equal(result.code, 0, result.stderr);
	});

	test('a prefix holding nothing, a missing bucket: one line, exit 1', async () => {
		const empty = await runCli(['history', `s3://${bucket}/nothing-here`], {env});
		assert.equal(empty.code, 1);
		assert.match(empty.stderr, /s3:\/\/ilum-tables\/nothing-here: not a Delta table/);
		const noBucket = await runCli(['history', 's3://no-such-bucket/t'], {env});
		assert.equal(noBucket.code, 1);
		assert.equal(noBucket.stderr.trimEnd().split('\n').length, 1);
		assert.match(noBucket.stderr, /s3:\/\/no-such-bucket\/t: no such bucket/);
	});

	test('403 from S3: one line naming the table and the fix, exit 1, nothing written', async () => {
		const denied = http.createServer((request, response) => {
			request.resume();
			response.writeHead(403, {'content-type': 'application/xml'});
			response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
		});
		await new Promise<void>(resolve => {
			denied.listen(0, '127.0.0.1', resolve);
		});
		try {
			const port = (denied.address() as AddressInfo).port;
			const deniedEnv = {...env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`};
			const history = await runCli(['history', `s3://${bucket}/simple`], {env: deniedEnv});
			assert.equal(history.code, 1);
			assert.equal(history.stderr.trimEnd().split('\n').length, 1);
			assert.match(history.stderr, /s3:\/\/ilum-tables\/simple: access denied \(403( AccessDenied)?\): check AWS_ACCESS_KEY_ID/);
			const restore = await runCli(['restore', 'table', `s3://${bucket}/simple`, '--to', '1', '--yes'], {env: deniedEnv});
			assert.equal(restore.code, 1);
			assert.match(restore.stderr, /access denied/);
		} finally {
			denied.closeAllConnections();
			await new Promise(resolve => {
				denied.close(resolve);
			});
		}
	});
});
