import {test} from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import {KubeConfig} from '@kubernetes/client-node';
import {KubeCluster} from '../../source/cluster/cluster.js';
import type {VolumeSnapshot} from '../../source/cluster/cluster-types.js';
import {waitFor} from '../helpers/frames.js';

const snapshot = (name: string, resourceVersion: string) => ({apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshot', metadata: {name, namespace: 'ilum', resourceVersion, uid: name}, spec: {source: {persistentVolumeClaimName: 'data'}}});

/**
A minimal API server for one collection: answers the list, then holds each watch open and sends
what `push` gives it. `failing` makes every request answer 503 until it is cleared.
*/
async function fakeApi() {
	const watches = new Set<http.ServerResponse>();
	let failing = false;
	let requests = 0;
	const server = http.createServer((request, response) => {
		requests++;
		if (failing) {
			response.writeHead(503, {'content-type': 'application/json'}).end(JSON.stringify({kind: 'Status', code: 503, message: 'unavailable'}));
			return;
		}

		const url = new URL(request.url!, 'http://x');
		if (url.searchParams.get('watch') === 'true') {
			response.writeHead(200, {'content-type': 'application/json'});
			response.flushHeaders();
			watches.add(response);
			response.on('close', () => watches.delete(response));
			return;
		}

		response.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({apiVersion: 'snapshot.storage.k8s.io/v1', kind: 'VolumeSnapshotList', metadata: {resourceVersion: '10'}, items: [snapshot('first', '10')]}));
	});
	await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
	const {port} = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		get requests() {
			return requests;
		},
		setFailing(value: boolean) {
			failing = value;
		},
		push(type: string, object: unknown) {
			for (const watch of watches) {
				watch.write(JSON.stringify({type, object}) + '\n');
			}
		},
		dropWatches() {
			for (const watch of watches) {
				watch.destroy();
			}
		},
		get watching() {
			return watches.size;
		},
		async close() {
			this.dropWatches();
			server.closeAllConnections();
			await new Promise(resolve => server.close(resolve));
		},
	};
}

function configFor(server: string): KubeConfig {
	const config = new KubeConfig();
	config.loadFromOptions({clusters: [{name: 'c', server, skipTLSVerify: true}], users: [{name: 'u', token: 't'}], contexts: [{name: 'x', cluster: 'c', user: 'u'}], currentContext: 'x'});
	return config;
}

test('a watch lists, then follows events; a failure shows, then clears once it watches again', {timeout: 120_000}, async () => {
	const api = await fakeApi();
	const source = new KubeCluster(configFor(api.url)).watch<VolumeSnapshot>('volumesnapshots', 'ilum');
	let notified = 0;
	source.subscribe(() => {
		notified++;
	});
	try {
		source.start();
		const ready = await source.ready();
		assert.deepEqual(ready.items.map(item => item.metadata.name), ['first']);
		await waitFor(() => api.watching === 1, {what: 'the watch to open'});
		api.push('ADDED', snapshot('second', '11'));
		await waitFor(() => source.getSnapshot().items.length === 2, {what: 'the ADDED event'});
		api.setFailing(true);
		api.dropWatches();
		await waitFor(() => source.getSnapshot().error !== undefined, {what: 'the error to show', timeout: 30_000});
		assert.match(source.getSnapshot().error!.line(), /unreachable|503/);
		assert.equal(source.getSnapshot().items.length, 2, 'what was seen stays on screen');
		api.setFailing(false);
		await waitFor(() => source.getSnapshot().error === undefined, {what: 'the error to clear after reconnecting', timeout: 60_000});
		api.push('DELETED', snapshot('first', '12'));
		await waitFor(() => source.getSnapshot().items.length === 1, {what: 'the DELETED event'});
		assert.ok(notified >= 4);
	} finally {
		await source.stop();
		await api.close();
	}
});
