import assert from 'node:assert/strict';
import {spawn, type ChildProcess} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {ListBucketsCommand, S3Client} from '@aws-sdk/client-s3';
import {coreSeeders, startDrillWorld, waitFor, type DrillFixture} from '../../helpers/drill-world.js';

/*
`kubectl port-forward` against the drill API, with the machine's real kubectl: 1.31+ asks for a
WebSocket carrying SPDY (`SPDY/3.1+portforward.k8s.io`), 1.27-1.30 upgrade to SPDY/3.1 directly.
Either way the AWS CLI lists the provider's buckets through the forwarded port.
*/

let drill: DrillFixture;
const children: ChildProcess[] = [];

before(async () => {
	drill = await startDrillWorld({seeders: coreSeeders});
});

after(async () => {
	for (const child of children) {
		child.kill();
	}

	await drill?.stop();
});

/** Starts `kubectl port-forward svc/ilum-objectstorage 0:9000` and waits for the local port it picked. */
async function portForward(binary: string, cacheDir: string): Promise<number> {
	const child = spawn(binary, ['--cache-dir', cacheDir, '-n', 'ilum', 'port-forward', 'svc/ilum-objectstorage', '0:9000'], {env: drill.env, stdio: ['ignore', 'pipe', 'pipe']});
	children.push(child);
	let output = '';
	child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
		output += chunk;
	});
	child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
		output += chunk;
	});
	const match = await waitFor(() => /Forwarding from 127\.0\.0\.1:(\d+) -> 9000/.exec(output), `kubectl port-forward to say its port (${binary}): ${output}`);
	return Number(match[1]);
}

async function bucketsThrough(port: number): Promise<string[]> {
	const {accessKeyId, secretAccessKey} = drill.world.provider;
	const client = new S3Client({endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId, secretAccessKey}, maxAttempts: 1});
	try {
		const answer = await client.send(new ListBucketsCommand({}));
		return (answer.Buckets ?? []).map(bucket => bucket.Name ?? '').sort();
	} finally {
		client.destroy();
	}
}

test('kubectl 1.33 port-forward svc/ilum-objectstorage 0:9000 (SPDY tunnelled in a WebSocket): the SDK lists the buckets through it', async () => {
	drill.world.api.resetStats();
	const port = await portForward('kubectl', path.join(drill.cacheDir, 'pf-default'));
	const names = await bucketsThrough(port);
	assert.ok(names.includes('ilum-data') && names.includes('ilum-files'), names.join(','));
	const upgrades = drill.world.api.requests().filter(request => request.subresource === 'portforward');
	assert.ok(upgrades.some(request => request.method === 'GET' && request.code === 101), JSON.stringify(upgrades));
	assert.ok(!upgrades.some(request => request.method === 'POST'), 'no fallback to SPDY over POST');
});

test('kubectl 1.30 (SPDY/3.1 upgrade, no WebSocket): the AWS CLI lists the buckets through it', async () => {
	const binary = path.join(path.dirname(fs.realpathSync('/usr/bin/kubectl')), 'kubectl.1.30');
	drill.world.api.resetStats();
	const port = await portForward(binary, path.join(drill.cacheDir, 'pf-130'));
	const {accessKeyId, secretAccessKey} = drill.world.provider;
	const aws = spawn('aws', ['--endpoint-url', `http://127.0.0.1:${port}`, 's3', 'ls'], {env: {...drill.env, AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true', AWS_PAGER: ''}, stdio: ['ignore', 'pipe', 'pipe']});
	let listed = '';
	aws.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		listed += chunk;
	});
	let code: number | null | undefined;
	aws.once('close', exit => {
		code = exit;
	});
	await waitFor(() => code !== undefined, 'the AWS CLI to finish', 120_000);
	assert.equal(code, 0);
	assert.match(listed, /ilum-data/);
	assert.match(listed, /ilum-tables/);
	const upgrades = drill.world.api.requests().filter(request => request.subresource === 'portforward');
	assert.ok(upgrades.some(request => request.method === 'POST' && request.code === 101), JSON.stringify(upgrades));
});

test('a SPDY client sending a header block that does not inflate loses its session, and the API server keeps serving', async () => {
	const {url} = drill.world.api;
	const {port} = new URL(url);
	const socket = net.connect({host: '127.0.0.1', port: Number(port)});
	await new Promise(resolve => socket.once('connect', resolve));
	let answer = '';
	socket.setEncoding('latin1').on('data', (chunk: string) => {
		answer += chunk;
	});
	let closed = false;
	socket.once('close', () => {
		closed = true;
	});
	socket.write('POST /as/admin/api/v1/namespaces/ilum/pods/ilum-objectstorage-0/portforward HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\nContent-Length: 0\r\n\r\n');
	await waitFor(() => answer.startsWith('HTTP/1.1 101 Switching Protocols'), `the upgrade: ${answer}`, 30_000);
	// SYN_STREAM (version 3, type 1) for stream 1 whose header block is not zlib data.
	const payload = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from('not zlib at all')]);
	const header = Buffer.from([0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, payload.length]);
	socket.write(Buffer.concat([header, payload]));
	await waitFor(() => closed, 'the server to end the session', 30_000);
	const version = await fetch(`${url}/version`);
	assert.equal(version.status, 200);
});
