import http from 'node:http';
import type {AddressInfo} from 'node:net';

/**
A reverse HTTP proxy in front of one S3 endpoint that injects faults, for reliability tests.
The tool is pointed at the proxy's URL; each request is passed on unchanged (headers, body) unless
the policy picks a fault for it:

- `reset`: the connection is destroyed before any answer;
- `500`: `500 InternalError`; `503`: `503 SlowDown` (both after reading the request);
- `stall`: the request is held and never answered (the client must time out);
- `truncate`: the upstream answer's headers (with its full Content-Length) and only half the
  body, then the connection is destroyed.

It counts what it saw: requests by method, and for each key the PUTs the upstream accepted (2xx).
*/
export type Fault = 'pass' | 'reset' | '500' | '503' | 'stall' | 'truncate';

export type FaultPolicy = (request: {method: string; path: string; query: string; index: number}) => Fault;

export type FaultProxy = {
	readonly url: string;
	readonly counts: Record<string, number>;
	readonly faults: Record<Fault, number>;
	/** Keys (path after the bucket) whose single PUT (not a part) the upstream accepted, with how often. */
	readonly putsAccepted: Map<string, number>;
	/** PUT requests forwarded (single PUTs and parts). */
	putsForwarded: number;
	/** Requests received and not yet answered or failed. */
	active: number;
	setPolicy(policy: FaultPolicy): void;
	stop(): Promise<void>;
};

/** A policy that faults a given share of requests, in a deterministic rotation of the given kinds. */
export function everyNth(n: number, kinds: readonly Fault[]): FaultPolicy {
	return ({index}) => (index % n === n - 1 ? kinds[Math.floor(index / n) % kinds.length]! : 'pass');
}

export async function startFaultProxy(upstream: string, policy: FaultPolicy = () => 'pass'): Promise<FaultProxy> {
	const target = new URL(upstream);
	const agent = new http.Agent({keepAlive: true, maxSockets: 256});
	let current = policy;
	let index = 0;
	const stalled = new Set<http.ServerResponse>();
	const proxy: FaultProxy = {
		url: '',
		counts: {},
		faults: {pass: 0, reset: 0, '500': 0, '503': 0, stall: 0, truncate: 0},
		putsAccepted: new Map(),
		putsForwarded: 0,
		active: 0,
		setPolicy(next) {
			current = next;
		},
		async stop() {
			for (const response of stalled) {
				response.destroy();
			}

			server.closeAllConnections();
			await new Promise(resolve => {
				server.close(resolve);
			});
			agent.destroy();
		},
	};

	const server = http.createServer((request, response) => {
		const method = request.method ?? 'GET';
		const [path = '/', query = ''] = (request.url ?? '/').split('?');
		proxy.counts[method] = (proxy.counts[method] ?? 0) + 1;
		proxy.active++;
		response.once('close', () => {
			proxy.active--;
		});
		const fault = current({method, path, query, index: index++});
		proxy.faults[fault]++;
		if (fault === 'reset') {
			request.socket.destroy();
			return;
		}

		if (fault === '500' || fault === '503') {
			request.resume();
			request.on('end', () => {
				const code = fault === '500' ? 'InternalError' : 'SlowDown';
				const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`;
				response.writeHead(Number(fault), {'content-type': 'application/xml', 'content-length': Buffer.byteLength(body)});
				response.end(body);
			});
			return;
		}

		if (fault === 'stall') {
			request.resume();
			stalled.add(response);
			response.on('close', () => stalled.delete(response));
			return;
		}

		const isPut = method === 'PUT' && path.split('/').length > 2;
		const isPart = query.includes('uploadId=');
		if (isPut) {
			proxy.putsForwarded++;
		}

		const upstreamRequest = http.request({
			host: target.hostname,
			port: target.port,
			method,
			path: request.url,
			headers: request.headers,
			agent,
		}, upstreamResponse => {
			const status = upstreamResponse.statusCode ?? 502;
			if (isPut && !isPart && status < 300) {
				const key = decodeURIComponent(path.split('/').slice(2).join('/'));
				proxy.putsAccepted.set(key, (proxy.putsAccepted.get(key) ?? 0) + 1);
			}

			response.writeHead(status, upstreamResponse.headers);
			if (fault === 'truncate') {
				const length = Number(upstreamResponse.headers['content-length'] ?? 0);
				let sent = 0;
				upstreamResponse.on('data', (chunk: Buffer) => {
					const room = Math.floor(length / 2) - sent;
					if (room > 0) {
						response.write(chunk.subarray(0, room));
						sent += Math.min(room, chunk.length);
					}
				});
				upstreamResponse.on('end', () => {
					response.flushHeaders();
					setImmediate(() => response.destroy());
				});
				return;
			}

			upstreamResponse.pipe(response);
		});
		upstreamRequest.on('error', () => {
			response.destroy();
		});
		request.pipe(upstreamRequest);
	});
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	(proxy as {url: string}).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return proxy;
}
