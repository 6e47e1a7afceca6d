/**
Benchmark of the simulated Kubernetes API (not a test): store throughput, HTTP request latency,
watch delivery latency, and what a kubectl invocation costs with a cold and a warm discovery cache.
Prints a table; nothing fails on time.
*/
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {startKubeApi, writeKubeconfig} from '../../source/drill/kube-api/server.js';
import {ObjectStore} from '../../source/drill/kube-api/store.js';

const rows: Array<[string, string]> = [];
const report = (name: string, value: string) => {
	rows.push([name, value]);
};

function percentile(values: number[], p: number): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

const store = new ObjectStore({historyLimit: 20_000});
store.create('namespaces', {metadata: {name: 'ilum'}});
const objects = 5000;
let started = performance.now();
for (let index = 0; index < objects; index++) {
	store.create('configmaps', {metadata: {name: `cm-${index}`, namespace: 'ilum', labels: {shard: String(index % 10)}}, data: {payload: 'x'.repeat(200)}});
}

let elapsed = performance.now() - started;
report(`store.create x${objects}`, `${ms(elapsed)} (${Math.round(objects / (elapsed / 1000))}/s)`);
started = performance.now();
const all = store.list('configmaps', 'ilum');
report(`store.list ${all.items.length} objects`, ms(performance.now() - started));
started = performance.now();
const shard = store.list('configmaps', 'ilum', {labelSelector: 'shard=3'});
report(`store.list labelSelector (${shard.items.length} of ${objects})`, ms(performance.now() - started));

const api = await startKubeApi({store});
const agent = new http.Agent({keepAlive: true, maxSockets: 1});
function request(method: string, url: string, body?: string, headers: Record<string, string> = {}): Promise<{status: number; size: number}> {
	return new Promise((resolve, reject) => {
		const req = http.request(`${api.url}${url}`, {method, agent, headers: body ? {'Content-Type': 'application/json', ...headers} : headers}, res => {
			let size = 0;
			res.on('data', (chunk: Buffer) => {
				size += chunk.length;
			});
			res.on('end', () => {
				resolve({status: res.statusCode ?? 0, size});
			});
		});
		req.on('error', reject);
		req.end(body);
	});
}

const gets: number[] = [];
for (let index = 0; index < 500; index++) {
	const t0 = performance.now();
	await request('GET', `/api/v1/namespaces/ilum/configmaps/cm-${index}`);
	gets.push(performance.now() - t0);
}

report('HTTP GET one object (p50 / p99)', `${ms(percentile(gets, 0.5))} / ${ms(percentile(gets, 0.99))}`);

const patches: number[] = [];
for (let index = 0; index < 200; index++) {
	const t0 = performance.now();
	await request('PATCH', `/api/v1/namespaces/ilum/configmaps/cm-${index}`, JSON.stringify({metadata: {labels: {patched: String(index)}}}), {'Content-Type': 'application/strategic-merge-patch+json'});
	patches.push(performance.now() - t0);
}

report('HTTP strategic merge PATCH (p50 / p99)', `${ms(percentile(patches, 0.5))} / ${ms(percentile(patches, 0.99))}`);

for (const [label, accept] of [['JSON list', 'application/json'], ['Table', 'application/json;as=Table;v=v1;g=meta.k8s.io']] as const) {
	const t0 = performance.now();
	const result = await request('GET', '/api/v1/namespaces/ilum/configmaps', undefined, {Accept: accept});
	report(`HTTP ${label} of ${objects}`, `${ms(performance.now() - t0)}, ${(result.size / 1024 / 1024).toFixed(1)} MiB`);
}

// Watch delivery: from a store write to the line arriving at an HTTP client.
const latencies: number[] = [];
await new Promise<void>(resolve => {
	let sentAt = 0;
	let count = 0;
	const req = http.get(`${api.url}/api/v1/namespaces/ilum/configmaps?watch=true&resourceVersion=${store.resourceVersion}&fieldSelector=metadata.name%3Dcm-1`, res => {
		let buffer = '';
		res.setEncoding('utf8').on('data', (chunk: string) => {
			buffer += chunk;
			while (buffer.includes('\n')) {
				buffer = buffer.slice(buffer.indexOf('\n') + 1);
				latencies.push(performance.now() - sentAt);
				count++;
				if (count === 200) {
					req.destroy();
					resolve();
					return;
				}

				setImmediate(next);
			}
		});
		setTimeout(next, 50);
	});
	function next() {
		sentAt = performance.now();
		store.mutate('configmaps', 'ilum', 'cm-1', o => {
			o.data = {payload: String(Math.random())};
		});
	}
});
report('watch event delivery (p50 / p99)', `${ms(percentile(latencies, 0.5))} / ${ms(percentile(latencies, 0.99))}`);

// kubectl: discovery makes the first invocation on a cache dir the expensive one.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-api-bench-'));
const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), {server: api.url, namespace: 'ilum'});
const run = promisify(execFile);
// The server runs in this process: kubectl must run asynchronously.
const kubectl = async (cache: string) => {
	const t0 = performance.now();
	await run('kubectl', ['--cache-dir', cache, 'get', 'configmap', 'cm-1', '-o', 'name'], {env: {...process.env, KUBECONFIG: kubeconfig}});
	return performance.now() - t0;
};

const cold: number[] = [];
const warm: number[] = [];
const warmCache = path.join(dir, 'warm');
await kubectl(warmCache);
for (const index of [1, 2, 3]) {
	cold.push(await kubectl(path.join(dir, `cold-${index}`)));
	warm.push(await kubectl(warmCache));
}

report('kubectl get (cold discovery cache, median of 3)', ms(percentile(cold, 0.5)));
report('kubectl get (warm discovery cache, median of 3)', ms(percentile(warm, 0.5)));
const requests = api.stats().requests;
report('requests served', String(requests));

agent.destroy();
await api.close();
fs.rmSync(dir, {recursive: true, force: true});
const width = Math.max(...rows.map(([name]) => name.length));
for (const [name, value] of rows) {
	process.stdout.write(`${name.padEnd(width)}  ${value}\n`);
}
