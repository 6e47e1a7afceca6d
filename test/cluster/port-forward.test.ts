import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';
import {ListBucketsCommand, S3Client} from '@aws-sdk/client-s3';
import {PortForward} from '@kubernetes/client-node';
import WebSocket from 'ws';
import {PassThrough} from 'node:stream';
import {ServicePortForward, PortForwardError} from '../../source/cluster/port-forward.js';
import {loadKubeConfig} from '../../source/config/kube.js';
import {adminToken, viewerToken} from '../../source/drill/world.js';
import {runCli} from '../helpers/run-cli.js';
import {coreSeeders, startDrillWorld, waitFor, type DrillFixture} from '../helpers/drill-world.js';

let drill: DrillFixture;
const forwards: ServicePortForward[] = [];
const clients: S3Client[] = [];

before(async () => {
	drill = await startDrillWorld({seeders: coreSeeders, identities: {
		[adminToken]: {name: 'admin'},
		[viewerToken]: {name: 'viewer', readOnly: true},
		// Only what the stored Roles grant its group.
		'drill-oncall-token': {name: 'oncall', groups: ['ilum-restore-operators'], rbac: true},
	}});
});

after(async () => {
	for (const client of clients) {
		client.destroy();
	}

	await Promise.all(forwards.map(async forward => forward.close()));
	await drill?.stop();
});

async function forwardAs(context?: string): Promise<ServicePortForward> {
	const config = loadKubeConfig({kubeconfig: drill.world.kubeconfigPath, ...(context ? {context} : {})});
	const forward = await ServicePortForward.start({config, namespace: 'ilum', service: 'ilum-objectstorage', port: 9000, cacheMs: 0});
	forwards.push(forward);
	return forward;
}

function s3Through(forward: ServicePortForward): S3Client {
	const {accessKeyId, secretAccessKey} = drill.world.provider;
	const client = new S3Client({endpoint: forward.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId, secretAccessKey}, maxAttempts: 1});
	clients.push(client);
	return client;
}

/** Waits (with a deadline) for the server to close the WebSocket. */
async function closedWithin(ws: WebSocket): Promise<void> {
	let closed = false;
	ws.once('close', () => {
		closed = true;
	});
	await waitFor(() => closed || ws.readyState === WebSocket.CLOSED, 'the server to close the forward', 30_000);
}

async function bucketNames(client: S3Client): Promise<string[]> {
	const answer = await client.send(new ListBucketsCommand({}));
	return (answer.Buckets ?? []).map(bucket => bucket.Name ?? '').sort();
}

test('the SDK lists the provider\'s buckets through the port-forward, and the forward names its pod', async () => {
	const mutating = drill.world.api.stats().mutating;
	const forward = await forwardAs();
	assert.equal(await forward.check(), 'ilum-objectstorage-0');
	const names = await bucketNames(s3Through(forward));
	assert.equal(drill.world.api.stats().mutating, mutating, 'a port-forward changes nothing (a --read-only console may use it)');
	assert.ok(names.includes('ilum-data') && names.includes('ilum-files'), names.join(','));
	assert.match(forward.describe(), /svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0/);
	const portforwards = drill.world.api.requests().filter(request => request.subresource === 'portforward');
	assert.ok(portforwards.some(request => request.code === 101 && request.name === 'ilum-objectstorage-0'), JSON.stringify(portforwards));
});

test('a read-only identity is refused with the API server\'s 403 and one line naming pods/portforward', async () => {
	const forward = await forwardAs('drill-viewer');
	await assert.rejects(forward.check(), (error: unknown) => {
		assert.ok(error instanceof PortForwardError);
		assert.equal(error.problem, 'denied');
		assert.match(error.message, /cannot create resource "pods\/portforward"/);
		assert.doesNotMatch(error.message, /\n/);
		return true;
	});
	await assert.rejects(bucketNames(s3Through(forward)), /pods\/portforward/);
});

test('@kubernetes/client-node\'s PortForward speaks to the drill API: an HTTP request through it answers', async () => {
	const config = loadKubeConfig({kubeconfig: drill.world.kubeconfigPath});
	const output = new PassThrough();
	const input = new PassThrough();
	const received: Buffer[] = [];
	output.on('data', (chunk: Buffer) => received.push(chunk));
	const ws = await new PortForward(config).portForward('ilum', 'ilum-objectstorage-0', [9000], output, null, input) as WebSocket;
	input.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
	await waitFor(() => Buffer.concat(received).toString().startsWith('HTTP/1.1 '), 'an HTTP answer through client-node\'s forward');
	ws.close();
});

test('a port nobody listens on: the kubelet\'s line on the error channel, then the connection closes', async () => {
	const config = loadKubeConfig({kubeconfig: drill.world.kubeconfigPath});
	const server = config.getCurrentCluster()!.server.replace(/^http/, 'ws');
	const ws = new WebSocket(`${server}/api/v1/namespaces/ilum/pods/ilum-objectstorage-0/portforward?ports=9999`, ['v4.channel.k8s.io']);
	const messages: Buffer[] = [];
	ws.on('message', (data: Buffer) => messages.push(data));
	await closedWithin(ws);
	assert.equal(ws.protocol, 'v4.channel.k8s.io');
	// Both channels first carry the port, little endian.
	assert.deepEqual(messages.slice(0, 2).map(message => [...message]), [[0, 0x0f, 0x27], [1, 0x0f, 0x27]]);
	const error = messages.slice(2).filter(message => message[0] === 1).map(message => message.subarray(1).toString()).join('');
	assert.match(error, /^error forwarding port 9999 to pod ilum-objectstorage-0, uid [\w-]+: .*connection refused/);
});

test('a pod that is not running (a finished backup Job\'s): the kubelet\'s line on the error channel', async () => {
	const done = drill.world.store.list('pods', 'ilum').items.find(pod => pod.status?.phase === 'Succeeded');
	assert.ok(done, 'a finished Job pod in the world');
	const config = loadKubeConfig({kubeconfig: drill.world.kubeconfigPath});
	const server = config.getCurrentCluster()!.server.replace(/^http/, 'ws');
	const ws = new WebSocket(`${server}/api/v1/namespaces/ilum/pods/${done.metadata.name}/portforward?ports=9000`, ['v4.channel.k8s.io']);
	const messages: Buffer[] = [];
	ws.on('message', (data: Buffer) => messages.push(data));
	await closedWithin(ws);
	const error = messages.slice(2).filter(message => message[0] === 1).map(message => message.subarray(1).toString()).join('');
	assert.equal(error, `error forwarding port 9000 to pod ${done.metadata.name}, uid ${done.metadata.uid}: sandbox container is not running (pod phase Succeeded)`);
});

test('the StatefulSet scaled to zero: one line says no pod is ready; scaled back, the next connection reaches the new pod', async () => {
	const forward = await forwardAs();
	const client = s3Through(forward);
	assert.ok((await bucketNames(client)).includes('ilum-data'));
	const before = drill.world.store.get('pods', 'ilum', 'ilum-objectstorage-0')?.metadata.uid;
	const scale = await drill.kubectl(['-n', 'ilum', 'scale', 'statefulset/ilum-objectstorage', '--replicas=0']);
	assert.equal(scale.code, 0, scale.stderr);
	await waitFor(() => drill.world.store.get('pods', 'ilum', 'ilum-objectstorage-0') === undefined, 'the pod gone');
	await assert.rejects(forward.check(), (error: unknown) => {
		assert.ok(error instanceof PortForwardError);
		assert.equal(error.problem, 'no-ready-pod');
		assert.match(error.message, /^no ready pod behind Service ilum\/ilum-objectstorage \(no pods\)/);
		return true;
	});
	await assert.rejects(bucketNames(client), /no ready pod behind Service ilum\/ilum-objectstorage/);
	assert.match(forward.problem ?? '', /no ready pod/);
	const back = await drill.kubectl(['-n', 'ilum', 'scale', 'statefulset/ilum-objectstorage', '--replicas=1']);
	assert.equal(back.code, 0, back.stderr);
	const names = await waitFor(async () => bucketNames(client).catch(() => undefined), 'the buckets through the new pod');
	assert.ok(names.includes('ilum-data'));
	const now = drill.world.store.get('pods', 'ilum', 'ilum-objectstorage-0')?.metadata.uid;
	assert.ok(now && now !== before, 'a new pod');
	assert.equal(forward.problem, undefined);
});

test('the Roles `ilum-restore rbac --level read` prints are enough to forward (denied before they are applied)', async () => {
	const forward = await forwardAs('drill-oncall');
	await assert.rejects(forward.check(), (error: unknown) => error instanceof PortForwardError && error.problem === 'denied');
	const printed = await runCli(['rbac', '--level', 'read']);
	assert.equal(printed.code, 0, printed.stderr);
	const applied = await drill.kubectl(['apply', '-f', '-'], {input: printed.stdout});
	assert.equal(applied.code, 0, applied.stderr);
	assert.equal(await forward.check(), 'ilum-objectstorage-0');
	assert.ok((await bucketNames(s3Through(forward))).includes('ilum-data'));
});
