/**
The `pods/NAME/portforward` subresource of the simulated API server, as the kubelet streams it.

WebSocket (what @kubernetes/client-node and ilum-restore's own forward speak): subprotocol
`v4.channel.k8s.io` (binary), `v4.base64.channel.k8s.io` (text) or none (binary). Every message
starts with a channel byte; for the n-th port of `?ports=`, channel 2n carries the data and
2n+1 the errors. The first message on each channel is the port as 2 bytes little endian; an
error is one text line (`error forwarding port 9000 to pod NAME, uid UID: ...`) on the error
channel, after which the connection closes. One TCP connection per port per WebSocket.

SPDY (what kubectl speaks, directly or tunnelled through a WebSocket): see `spdy.ts`.

The bytes go to whatever `dial(port)` connects to: in the drill world, the loopback endpoint
that serves the pod (`../pod-ports.ts`).
*/
import http from 'node:http';
import type {Duplex} from 'node:stream';
import {WebSocketServer, type WebSocket} from 'ws';
import {pauseWhileBuffered} from '../../cluster/ws-backpressure.js';

/** Connects to a port of the pod; rejects with the reason (e.g. `connection refused`). */
export type PortDialer = (port: number) => Promise<Duplex>;

export type ForwardTarget = {
	readonly podName: string;
	readonly uid: string;
	readonly ports: number[];
	readonly dial: PortDialer;
	/** False once the pod is gone, replaced or stopped: open forwards are then closed. */
	readonly alive: () => boolean;
};

export const channelProtocols = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'] as const;

/** The kubelet's error text for a port that could not be forwarded. */
export function forwardError(target: Pick<ForwardTarget, 'podName' | 'uid'>, port: number, reason: string): string {
	return `error forwarding port ${port} to pod ${target.podName}, uid ${target.uid}: ${reason}`;
}

/** The kubelet's reason for a port of the pod nobody listens on. */
export function connectionRefused(podName: string, port: number): Error {
	return new Error(`failed to connect to localhost:${port} inside namespace of pod ${podName}, IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused`);
}

/** Parses `?ports=9000,9001&ports=...` as the kubelet does; throws the kubelet's message. */
export function parsePorts(parameters: URLSearchParams): number[] {
	const values = parameters.getAll('ports');
	if (values.length === 0) {
		throw new Error('query parameter "ports" is required');
	}

	const ports: number[] = [];
	for (const value of values) {
		if (value === '') {
			throw new Error('query parameter "ports" cannot be empty');
		}

		for (const part of value.split(',')) {
			const port = /^\d+$/.test(part) ? Number(part) : Number.NaN;
			if (!Number.isInteger(port) || port > 65_535) {
				throw new Error(`unable to parse "${value}" as a port: strconv.ParseUint: parsing "${part}": invalid syntax`);
			}

			if (port < 1) {
				throw new Error(`port "${value}" must be > 0`);
			}

			ports.push(port);
		}
	}

	return ports;
}

/**
The WebSocket server for port-forwards (no listener of its own: fed by `upgrade`). `ws` accepts
only RFC 6455 tokens as subprotocols, and kubectl's `SPDY/3.1+portforward.k8s.io` has a `/`: call
`tokenizeProtocols(req)` before `handleUpgrade`; the answer names the protocol as offered, and the
socket's `protocol` is then `tunnelToken`.
*/
export function channelWebSocketServer(tunnelProtocol?: string): WebSocketServer {
	const server = new WebSocketServer({
		noServer: true,
		perMessageDeflate: false,
		handleProtocols(offered) {
			for (const protocol of [...(tunnelProtocol ? [tunnelToken] : []), ...channelProtocols]) {
				if (offered.has(protocol)) {
					return protocol;
				}
			}

			// A client that offers only other protocols is answered without one (binary channels), as the kubelet does.
			return false;
		},
	});
	if (tunnelProtocol) {
		server.on('headers', headers => {
			const index = headers.indexOf(`Sec-WebSocket-Protocol: ${tunnelToken}`);
			if (index >= 0) {
				headers[index] = `Sec-WebSocket-Protocol: ${tunnelProtocol}`;
			}
		});
	}

	return server;
}

export const tunnelToken = 'x-spdy-tunnel';

/** Renames a non-token subprotocol (`SPDY/3.1+portforward.k8s.io`) in the request to `tunnelToken`. */
export function tokenizeProtocols(req: http.IncomingMessage, tunnelProtocol: string): void {
	const header = req.headers['sec-websocket-protocol'];
	if (typeof header === 'string') {
		req.headers['sec-websocket-protocol'] = header.split(',').map(item => item.trim()).filter(Boolean).map(item => item === tunnelProtocol ? tunnelToken : item).filter(item => /^[!#$%&'*+.^_`|~\w-]+$/.test(item)).join(', ');
	}
}

const watchIntervalMs = 250;

/** Runs one channel-protocol forward on an accepted WebSocket until either side closes. */
export function serveChannelForward(ws: WebSocket, target: ForwardTarget): void {
	const base64 = ws.protocol === 'v4.base64.channel.k8s.io';
	const send = (channel: number, data: Buffer) => {
		if (ws.readyState !== ws.OPEN) {
			return;
		}

		if (base64) {
			ws.send(`${String.fromCodePoint(48 + channel)}${data.toString('base64')}`);
		} else {
			ws.send(Buffer.concat([Buffer.from([channel]), data]));
		}
	};

	const backends: Array<Duplex | undefined> = [];
	let open = target.ports.length;
	const finish = () => {
		clearInterval(watch);
		for (const backend of backends) {
			backend?.destroy();
		}

		if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
			// A paused socket would never read the client's close frame.
			ws.resume();
			ws.close(1000);
		}
	};

	const portDone = () => {
		open--;
		if (open <= 0) {
			finish();
		}
	};

	const watch = setInterval(() => {
		if (!target.alive()) {
			finish();
		}
	}, watchIntervalMs);
	ws.on('close', finish);
	ws.on('error', finish);

	for (const [index, port] of target.ports.entries()) {
		const prefix = Buffer.alloc(2);
		prefix.writeUInt16LE(port);
		send(index * 2, prefix);
		send(index * 2 + 1, prefix);
	}

	ws.on('message', (raw, isBinary) => {
		let channel: number;
		let data: Buffer;
		if (isBinary) {
			const buffer = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw as ArrayBuffer);
			channel = buffer[0] ?? 255;
			data = buffer.subarray(1);
		} else {
			const text = raw.toString();
			channel = (text.codePointAt(0) ?? 0) - 48;
			data = Buffer.from(text.slice(1), 'base64');
		}

		const backend = channel % 2 === 0 ? backends[channel / 2] : undefined;
		if (backend && data.length > 0) {
			backend.write(data);
			// Stop reading the client only when the pod is well behind (not at every full 16 KiB buffer).
			if (backend.writableLength > 1024 * 1024 && !ws.isPaused) {
				ws.pause();
				backend.once('drain', () => {
					ws.resume();
				});
			}
		}
	});

	for (const [index, port] of target.ports.entries()) {
		// Bytes sent before the backend is connected wait in the WebSocket (paused).
		ws.pause();
		target.dial(port).then(backend => {
			backends[index] = backend;
			if (ws.readyState !== ws.OPEN) {
				backend.destroy();
				return;
			}

			ws.resume();
			backend.on('data', (chunk: Buffer) => {
				send(index * 2, chunk);
				pauseWhileBuffered(ws, backend);
			});
			backend.on('error', () => {
				portDone();
			});
			backend.on('close', portDone);
		}, (error: unknown) => {
			send(index * 2 + 1, Buffer.from(forwardError(target, port, error instanceof Error ? error.message : String(error))));
			portDone();
		});
	}
}

/** Writes an error answer on a socket that was not upgraded (a Status, as the API server sends). */
export function rejectUpgrade(socket: Duplex, code: number, status: unknown): void {
	const body = JSON.stringify(status);
	const reason = http.STATUS_CODES[code] ?? 'Error';
	socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nCache-Control: no-cache, private\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
