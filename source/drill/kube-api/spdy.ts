/**
The SPDY/3.1 side of `pods/NAME/portforward`, what kubectl speaks: directly after an HTTP
`Upgrade: SPDY/3.1` (`X-Stream-Protocol-Version: portforward.k8s.io`), or (kubectl 1.31+) as
SPDY frames carried in the binary messages of a WebSocket whose subprotocol is
`SPDY/3.1+portforward.k8s.io`.

Per forwarded connection the client opens two streams (SYN_STREAM with the headers `streamtype`
`error` or `data`, `port`, `requestid`); the server answers each with a SYN_REPLY, and once both
of a request are open connects to the port: bytes go both ways in DATA frames of the data
stream, a failure is one line on the error stream (the kubelet's text). PING is echoed; SETTINGS,
WINDOW_UPDATE and priorities are ignored (the Go client does no flow control either).

Frames (draft-mbelshe-httpbis-spdy-00): control = 1 bit set, version 3 (15 bits), type (16),
flags (8), length (24), payload; data = stream id (31 bits), flags (8), length (24), payload. Header
blocks are zlib-compressed with the SPDY/3 dictionary, one stream of compression per direction.
*/
import type {Duplex} from 'node:stream';
import zlib from 'node:zlib';
import type {WebSocket} from 'ws';
import {forwardError, type ForwardTarget} from './port-forward.js';

/** The WebSocket subprotocol kubectl 1.31+ offers: SPDY/3.1 frames carried in binary messages. */
export const spdyTunnelProtocol = 'SPDY/3.1+portforward.k8s.io';

const frameType = {synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goaway: 7, headers: 8, windowUpdate: 9} as const;
const flagFin = 0x01;
const maxDataFrame = 32 * 1024;

/** The SPDY/3 header compression dictionary: length-prefixed header names and values, then common text. */
const dictionary: Buffer = (() => {
	const words = ['options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding', 'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag', 'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning', 'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin'];
	const tail = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';
	const parts = words.flatMap(word => {
		const length = Buffer.alloc(4);
		length.writeUInt32BE(word.length);
		return [length, Buffer.from(word, 'latin1')];
	});
	return Buffer.concat([...parts, Buffer.from(tail, 'latin1')]);
})();

export const spdyDictionaryLength = dictionary.length;

/** Runs `zlib` stream `engine` on one block and returns what a sync flush gives back. */
async function through(engine: zlib.Inflate | zlib.Deflate, block: Buffer): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		const onData = (chunk: Buffer) => chunks.push(chunk);
		const onError = (error: Error) => {
			engine.off('data', onData);
			reject(error);
		};

		engine.on('data', onData);
		engine.once('error', onError);
		engine.write(block);
		engine.flush(zlib.constants.Z_SYNC_FLUSH, () => {
			engine.off('data', onData);
			engine.off('error', onError);
			resolve(Buffer.concat(chunks));
		});
	});
}

function decodeHeaders(block: Buffer): Map<string, string> {
	const headers = new Map<string, string>();
	let offset = 0;
	const count = block.readUInt32BE(offset);
	offset += 4;
	for (let index = 0; index < count; index++) {
		const nameLength = block.readUInt32BE(offset);
		offset += 4;
		const name = block.toString('latin1', offset, offset + nameLength).toLowerCase();
		offset += nameLength;
		const valueLength = block.readUInt32BE(offset);
		offset += 4;
		headers.set(name, block.toString('latin1', offset, offset + valueLength).split('\0')[0] ?? '');
		offset += valueLength;
	}

	return headers;
}

type Stream = {id: number; type: string; port: number; requestId: string; backend?: Duplex; finished: boolean; pending: Buffer[]};

/** One SPDY session over a byte transport (a socket, or a WebSocket's binary messages). */
class SpdySession {
	readonly #write: (frame: Buffer) => void;
	readonly #end: () => void;
	readonly #target: ForwardTarget;
	readonly #inflate = zlib.createInflate({dictionary});
	readonly #deflate = zlib.createDeflate({dictionary});
	readonly #streams = new Map<number, Stream>();
	#buffer: Buffer = Buffer.alloc(0);
	#queue: Promise<void> = Promise.resolve();
	#closed = false;
	readonly #watch: NodeJS.Timeout;

	constructor(write: (frame: Buffer) => void, end: () => void, target: ForwardTarget) {
		this.#write = write;
		this.#end = end;
		this.#target = target;
		// A header block that does not inflate ends the session (never the server).
		this.#inflate.on('error', () => {
			this.close();
		});
		this.#deflate.on('error', () => {
			this.close();
		});
		this.#watch = setInterval(() => {
			if (!target.alive()) {
				this.close();
			}
		}, 250);
	}

	feed(chunk: Buffer): void {
		this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
		while (this.#buffer.length >= 8) {
			const length = this.#buffer.readUInt32BE(4) & 0xFF_FF_FF;
			if (this.#buffer.length < 8 + length) {
				break;
			}

			const frame = this.#buffer.subarray(0, 8 + length);
			this.#buffer = this.#buffer.subarray(8 + length);
			// Header blocks decompress asynchronously: frames are handled strictly in order.
			this.#queue = this.#queue.then(async () => this.#handle(frame)).catch(() => {
				this.close();
			});
		}
	}

	close(): void {
		if (this.#closed) {
			return;
		}

		this.#closed = true;
		clearInterval(this.#watch);
		for (const stream of this.#streams.values()) {
			stream.backend?.destroy();
		}

		this.#streams.clear();
		this.#inflate.close();
		this.#deflate.close();
		this.#end();
	}

	async #handle(frame: Buffer): Promise<void> {
		if (this.#closed) {
			return;
		}

		const control = (frame[0]! & 0x80) !== 0;
		const flags = frame[4]!;
		const payload = frame.subarray(8);
		if (!control) {
			this.#data(frame.readUInt32BE(0) & 0x7F_FF_FF_FF, flags, payload);
			return;
		}

		const type = frame.readUInt16BE(2);
		switch (type) {
			case frameType.synStream: {
				const id = payload.readUInt32BE(0) & 0x7F_FF_FF_FF;
				const headers = decodeHeaders(await through(this.#inflate, payload.subarray(10)));
				await this.#open(id, headers, (flags & flagFin) !== 0);
				break;
			}

			case frameType.headers: {
				// Headers after the SYN_STREAM still go through the shared decompression context.
				await through(this.#inflate, payload.subarray(4));
				break;
			}

			case frameType.rstStream: {
				const id = payload.readUInt32BE(0) & 0x7F_FF_FF_FF;
				this.#streams.get(id)?.backend?.destroy();
				this.#streams.delete(id);
				break;
			}

			case frameType.ping: {
				this.#write(frame);
				break;
			}

			case frameType.goaway: {
				this.close();
				break;
			}

			default: {
				// SETTINGS, WINDOW_UPDATE, NOOP: nothing to do.
				break;
			}
		}
	}

	async #open(id: number, headers: Map<string, string>, fin: boolean): Promise<void> {
		const stream: Stream = {id, type: headers.get('streamtype') ?? '', port: Number(headers.get('port') ?? 0), requestId: headers.get('requestid') ?? '', finished: fin, pending: []};
		this.#streams.set(id, stream);
		// An empty header block, compressed in the session's context.
		const block = await through(this.#deflate, Buffer.alloc(4));
		const reply = Buffer.alloc(4);
		reply.writeUInt32BE(id);
		this.#write(this.#control(frameType.synReply, 0, Buffer.concat([reply, block])));
		const pair = [...this.#streams.values()].filter(item => item.requestId === stream.requestId);
		const data = pair.find(item => item.type === 'data');
		const error = pair.find(item => item.type === 'error');
		if (data && error && !data.backend) {
			this.#forward(data, error);
		}
	}

	#forward(data: Stream, error: Stream): void {
		const {port} = data;
		this.#target.dial(port).then(backend => {
			if (this.#closed || !this.#streams.has(data.id)) {
				backend.destroy();
				return;
			}

			data.backend = backend;
			for (const chunk of data.pending.splice(0)) {
				backend.write(chunk);
			}

			backend.on('data', (chunk: Buffer) => {
				for (let offset = 0; offset < chunk.length; offset += maxDataFrame) {
					this.#write(this.#dataFrame(data.id, 0, chunk.subarray(offset, offset + maxDataFrame)));
				}
			});
			const done = () => {
				if (this.#streams.has(data.id)) {
					this.#write(this.#dataFrame(data.id, flagFin, Buffer.alloc(0)));
					this.#write(this.#dataFrame(error.id, flagFin, Buffer.alloc(0)));
					this.#streams.delete(data.id);
					this.#streams.delete(error.id);
				}
			};

			backend.once('end', done);
			backend.once('close', done);
			backend.on('error', () => {
				backend.destroy();
			});
			if (data.finished) {
				backend.end();
			}
		}, (reason: unknown) => {
			const text = forwardError(this.#target, port, reason instanceof Error ? reason.message : String(reason));
			this.#write(this.#dataFrame(error.id, flagFin, Buffer.from(text)));
			this.#write(this.#dataFrame(data.id, flagFin, Buffer.alloc(0)));
			this.#streams.delete(data.id);
			this.#streams.delete(error.id);
		});
	}

	#data(id: number, flags: number, payload: Buffer): void {
		const stream = this.#streams.get(id);
		if (!stream) {
			return;
		}

		if (payload.length > 0) {
			if (stream.backend) {
				stream.backend.write(payload);
			} else {
				// Bytes sent before the port is connected.
				stream.pending.push(Buffer.from(payload));
			}
		}

		if ((flags & flagFin) !== 0) {
			stream.finished = true;
			if (stream.type === 'data') {
				stream.backend?.end();
			}
		}
	}

	#control(type: number, flags: number, payload: Buffer): Buffer {
		const header = Buffer.alloc(8);
		header.writeUInt16BE(0x80_03, 0);
		header.writeUInt16BE(type, 2);
		header.writeUInt32BE(payload.length, 4);
		header[4] = flags;
		return Buffer.concat([header, payload]);
	}

	#dataFrame(id: number, flags: number, payload: Buffer): Buffer {
		const header = Buffer.alloc(8);
		header.writeUInt32BE(id & 0x7F_FF_FF_FF, 0);
		header.writeUInt32BE(payload.length, 4);
		header[4] = flags;
		return Buffer.concat([header, payload]);
	}
}

/** SPDY straight on the upgraded socket (`head`: bytes that came with the upgrade request). */
export function serveSpdyForward(socket: Duplex, head: Buffer, target: ForwardTarget): void {
	const session = new SpdySession(frame => {
		if (!socket.destroyed) {
			socket.write(frame);
		}
	}, () => {
		socket.end();
	}, target);
	if (head.length > 0) {
		session.feed(head);
	}

	socket.on('data', (chunk: Buffer) => {
		session.feed(chunk);
	});
	socket.on('close', () => {
		session.close();
	});
	socket.on('error', () => {
		session.close();
	});
}

/** SPDY carried in a WebSocket's binary messages (kubectl 1.31+). */
export function serveTunnelledSpdyForward(ws: WebSocket, target: ForwardTarget): void {
	const session = new SpdySession(frame => {
		if (ws.readyState === ws.OPEN) {
			ws.send(frame);
		}
	}, () => {
		ws.close(1000);
	}, target);
	ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[]) => {
		session.feed(Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw));
	});
	ws.on('close', () => {
		session.close();
	});
	ws.on('error', () => {
		session.close();
	});
}
