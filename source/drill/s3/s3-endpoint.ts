import http from 'node:http';
import type {AddressInfo, Socket} from 'node:net';
import {randomBytes} from 'node:crypto';
import {buildS3App, type FauxApp, type FauxS3Store} from './fauxqs.js';
import type {VolumeData} from './volume-data.js';

export type S3Credentials = {
	readonly accessKeyId: string;
	readonly secretAccessKey: string;
};

/**
An S3 endpoint on loopback (path-style, region us-east-1) serving one volume at a time.

- `serve(volume)` switches what it serves (the provider's pod came up on that claim's PV);
  `serve(undefined)` closes the listener: clients get "connection refused", as from a Service
  with no ready endpoint. The port stays the same across restarts.
- Requests must be signed with the endpoint's access key id (signatures themselves are not
  verified: fauxqs does not, and neither do we); a wrong key gets 403 InvalidAccessKeyId,
  an anonymous request 403 AccessDenied.
- `If-None-Match: *` and `If-Match` on PutObject / CompleteMultipartUpload are honoured here
  (412 PreconditionFailed; 409 ConditionalRequestConflict when two conditional writes race).
*/
export class S3Endpoint {
	readonly name: string;
	readonly credentials: S3Credentials;
	readonly host: string;
	#port = 0;
	#server: http.Server;
	#listening = false;
	#volume: VolumeData | undefined;
	#apps = new Map<FauxS3Store, FauxApp>();
	#sockets = new Set<Socket>();
	#pendingConditional = new Set<string>();
	#requests = 0;
	readonly #writeListeners = new Set<() => void>();

	private constructor(name: string, credentials: S3Credentials, host: string) {
		this.name = name;
		this.credentials = credentials;
		this.host = host;
		this.#server = http.createServer((request, response) => {
			this.#handle(request, response);
		});
		this.#server.keepAliveTimeout = 5000;
		this.#server.on('connection', socket => {
			this.#sockets.add(socket);
			socket.once('close', () => this.#sockets.delete(socket));
		});
	}

	/** Starts listening (serving `volume`, or unreachable when it is undefined, after the port is taken). */
	static async start(options: {name: string; credentials: S3Credentials; volume?: VolumeData; host?: string; port?: number}): Promise<S3Endpoint> {
		const endpoint = new S3Endpoint(options.name, options.credentials, options.host ?? '127.0.0.1');
		endpoint.#port = options.port ?? 0;
		await endpoint.#listen();
		await endpoint.serve(options.volume);
		return endpoint;
	}

	get port(): number {
		return this.#port;
	}

	get url(): string {
		return `http://${this.host}:${this.#port}`;
	}

	get volume(): VolumeData | undefined {
		return this.#volume;
	}

	get reachable(): boolean {
		return this.#listening && this.#volume !== undefined;
	}

	/** Requests answered so far (for tests and the console's drill status). */
	get requestCount(): number {
		return this.#requests;
	}

	async serve(volume: VolumeData | undefined): Promise<void> {
		if (volume && !this.#apps.has(volume.store)) {
			this.#apps.set(volume.store, await buildS3App(volume.store));
		}

		this.#volume = volume;
		if (volume && !this.#listening) {
			await this.#listen();
		} else if (!volume && this.#listening) {
			await this.#unlisten();
		}
	}

	async close(): Promise<void> {
		this.#volume = undefined;
		if (this.#listening) {
			await this.#unlisten();
		}

		await Promise.all([...this.#apps.values()].map(async app => app.close()));
		this.#apps.clear();
	}

	/** Forgets the request handler built for a volume that is gone. */
	async release(volume: VolumeData): Promise<void> {
		if (this.#volume === volume) {
			await this.serve(undefined);
		}

		const app = this.#apps.get(volume.store);
		this.#apps.delete(volume.store);
		await app?.close();
	}

	async #listen(): Promise<void> {
		await new Promise<void>((resolve, reject) => {
			const onError = (error: Error) => {
				reject(error);
			};

			this.#server.once('error', onError);
			this.#server.listen(this.#port, this.host, () => {
				this.#server.off('error', onError);
				resolve();
			});
		});
		this.#port = (this.#server.address() as AddressInfo).port;
		this.#listening = true;
	}

	async #unlisten(): Promise<void> {
		this.#listening = false;
		const closed = new Promise<void>(resolve => {
			this.#server.close(() => {
				resolve();
			});
		});
		for (const socket of this.#sockets) {
			socket.destroy();
		}

		await closed;
	}

	/** Calls `listener` after every request that may have changed the volume (not GET/HEAD); returns the unsubscribe. */
	onWrite(listener: () => void): () => void {
		this.#writeListeners.add(listener);
		return () => this.#writeListeners.delete(listener);
	}

	#handle(request: http.IncomingMessage, response: http.ServerResponse): void {
		this.#requests++;
		if (this.#writeListeners.size > 0 && request.method !== 'GET' && request.method !== 'HEAD') {
			response.once('close', () => {
				for (const listener of this.#writeListeners) {
					listener();
				}
			});
		}

		const volume = this.#volume;
		if (!volume) {
			request.socket.destroy();
			return;
		}

		const app = this.#apps.get(volume.store)!;
		const accessKey = requestAccessKey(request);
		if (accessKey === undefined) {
			sendError(response, 403, 'AccessDenied', 'Access Denied.');
			return;
		}

		if (accessKey !== this.credentials.accessKeyId) {
			sendError(response, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
			return;
		}

		let conditional: ReturnType<S3Endpoint['conditionalFor']>;
		try {
			conditional = this.conditionalFor(request, volume.store);
		} catch {
			sendError(response, 400, 'InvalidURI', 'Couldn\'t parse the specified URI.');
			return;
		}

		if (conditional === 'refused') {
			sendError(response, 412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
			return;
		}

		if (conditional === 'conflict') {
			sendError(response, 409, 'ConditionalRequestConflict', 'A conflicting operation occurred. If using PutObject you can retry the request. If using CompleteMultipartUpload you must restart the upload.');
			return;
		}

		if (conditional === 'missing') {
			sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
			return;
		}

		if (conditional) {
			const release = () => {
				this.#pendingConditional.delete(conditional);
			};

			response.once('close', release);
		}

		app.routing(request, response);
	}

	/** Checks write preconditions; returns the key it holds while the write runs. */
	private conditionalFor(request: http.IncomingMessage, store: FauxS3Store): string | 'refused' | 'conflict' | 'missing' | undefined {
		const ifNoneMatch = request.headers['if-none-match'];
		const ifMatch = request.headers['if-match'];
		if (!ifNoneMatch && !ifMatch) {
			return undefined;
		}

		const url = new URL(request.url ?? '/', 'http://x');
		const isPut = request.method === 'PUT' && !url.searchParams.has('partNumber') && !url.searchParams.has('uploadId');
		const isComplete = request.method === 'POST' && url.searchParams.has('uploadId');
		if (!isPut && !isComplete) {
			return undefined;
		}

		const [, bucket = '', ...rest] = url.pathname.split('/');
		const key = rest.map(part => decodeURIComponent(part)).join('/');
		if (!bucket || !key) {
			return undefined;
		}

		const existing = store.buckets.get(decodeURIComponent(bucket))?.get(key);
		if (ifNoneMatch === '*' && existing) {
			return 'refused';
		}

		if (typeof ifMatch === 'string') {
			if (!existing) {
				return 'missing';
			}

			const wanted = ifMatch.split(',').map(tag => tag.trim());
			if (!wanted.includes('*') && !wanted.includes(existing.etag) && !wanted.includes(existing.etag.replaceAll('"', ''))) {
				return 'refused';
			}
		}

		const slot = `${bucket}/${key}`;
		if (this.#pendingConditional.has(slot)) {
			return 'conflict';
		}

		this.#pendingConditional.add(slot);
		return slot;
	}
}

function requestAccessKey(request: http.IncomingMessage): string | undefined {
	const authorization = request.headers.authorization;
	if (authorization) {
		const v4 = /Credential=([^/,\s]+)\//.exec(authorization);
		if (v4) {
			return v4[1];
		}

		const v2 = /^AWS ([^:]+):/.exec(authorization);
		return v2?.[1] ?? '';
	}

	const url = new URL(request.url ?? '/', 'http://x');
	const credential = url.searchParams.get('X-Amz-Credential');
	if (credential) {
		return credential.split('/')[0];
	}

	return url.searchParams.get('AWSAccessKeyId') ?? undefined;
}

function sendError(response: http.ServerResponse, status: number, code: string, message: string): void {
	const requestId = randomBytes(8).toString('hex').toUpperCase();
	const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`;
	response.writeHead(status, {'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': requestId});
	response.end(body);
}
