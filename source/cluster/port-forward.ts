/**
A port-forward to a Service through the API server, as `kubectl port-forward svc/NAME` does, for
as long as the caller needs it: listens on 127.0.0.1 (port 0), and every TCP connection accepted
there becomes one WebSocket to `pods/POD/portforward?ports=N` (subprotocol `v4.channel.k8s.io`:
channel 0 data, channel 1 errors, each starting with the port as 2 bytes little endian).

The pod is looked up per connection (Service selector -> the first Ready pod by name; reused for
a few seconds, and looked up again at once when a forward fails), so after the provider's pod
is replaced (a volume restore scales its StatefulSet to zero and back) the next connection goes
to the new pod. A connection that cannot be forwarded gets an S3-style error answer whose message
says why (no ready pod, refused by RBAC, the kubelet's error), and `problem` keeps that line.

    const forward = await ServicePortForward.start({config, namespace: 'ilum', service: 'ilum-objectstorage', port: 9000});
    await forward.check();           // throws PortForwardError: no ready pod, RBAC denied, ...
    s3 client endpoint: forward.endpoint   // http://127.0.0.1:PORT
    await forward.close();

Needs RBAC `create` (and, before Kubernetes 1.35, `get`) on `pods/portforward`, plus get on the
Service and list on pods.
*/
import net from 'node:net';
import {ApiException, CoreV1Api, type KubeConfig, type V1Pod, type V1Service} from '@kubernetes/client-node';
import WebSocket from 'ws';
import {pauseWhileBuffered} from './ws-backpressure.js';

export type PortForwardProblem = 'no-ready-pod' | 'denied' | 'not-found' | 'forward-failed';

export class PortForwardError extends Error {
	readonly problem: PortForwardProblem;

	constructor(problem: PortForwardProblem, message: string) {
		super(message);
		this.name = 'PortForwardError';
		this.problem = problem;
	}
}

export type ServicePortForwardOptions = {
	readonly config: KubeConfig;
	readonly namespace: string;
	readonly service: string;
	/** The Service port (its targetPort on the pod is what gets forwarded). */
	readonly port: number;
	/** How long a looked-up pod is reused (default 3 s). */
	readonly cacheMs?: number;
	/** How long opening one forward may take (default 15 s). */
	readonly timeoutMs?: number;
};

type Route = {pod: string; port: number; at: number};

/** An open forward and the messages that arrived before anyone listened (they can come with the 101). */
type Tunnel = {ws: WebSocket; early: Buffer[]};

const protocols = ['v4.channel.k8s.io'];
/** Bytes a side may hold for a slow reader before it stops reading the other side. */
const backlog = 1024 * 1024;

export class ServicePortForward {
	readonly #options: ServicePortForwardOptions;
	readonly #server: net.Server;
	readonly #sockets = new Set<net.Socket>();
	readonly #tunnels = new Set<WebSocket>();
	#route: Route | undefined;
	#pending: Promise<Route> | undefined;
	#pod: string | undefined;
	#problem: string | undefined;
	#connections = 0;
	#closed = false;

	private constructor(options: ServicePortForwardOptions) {
		this.#options = options;
		// No Nagle on the local side: S3 requests are small writes waiting for an answer.
		this.#server = net.createServer({noDelay: true}, socket => {
			this.#accept(socket);
		});
	}

	/** Starts listening on 127.0.0.1 (a free port). Nothing is asked of the cluster yet. */
	static async start(options: ServicePortForwardOptions): Promise<ServicePortForward> {
		const forward = new ServicePortForward(options);
		await new Promise<void>((resolve, reject) => {
			forward.#server.once('error', reject);
			forward.#server.listen(0, '127.0.0.1', () => {
				forward.#server.off('error', reject);
				resolve();
			});
		});
		return forward;
	}

	get port(): number {
		return (this.#server.address() as net.AddressInfo).port;
	}

	/** The URL to hand the S3 clients. */
	get endpoint(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	/** The pod the last forward went to. */
	get pod(): string | undefined {
		return this.#pod;
	}

	/** Why the last connection could not be forwarded (one line); cleared by the next success. */
	get problem(): string | undefined {
		return this.#problem;
	}

	/** Connections forwarded so far. */
	get connections(): number {
		return this.#connections;
	}

	/** `svc/NAME:PORT -> pod/POD` as kubectl would say it. */
	describe(): string {
		const {namespace, service, port} = this.#options;
		return `port-forward ${namespace}/svc/${service}:${port}${this.#pod ? ` -> pod ${this.#pod}` : ''}`;
	}

	/**
	Opens one forward and closes it again: a pod is Ready and RBAC lets us forward to it. (A port
	nobody listens on inside the pod shows only when bytes are sent: that connection's answer
	carries the kubelet's line.) Resolves to the pod's name; throws a PortForwardError with a
	one-line message.
	*/
	async check(): Promise<string> {
		const {ws} = await this.#open();
		ws.close(1000);
		this.#problem = undefined;
		return this.#pod ?? '';
	}

	async close(): Promise<void> {
		this.#closed = true;
		for (const ws of this.#tunnels) {
			ws.terminate();
		}

		for (const socket of this.#sockets) {
			socket.destroy();
		}

		await new Promise<void>(resolve => {
			this.#server.close(() => {
				resolve();
			});
		});
	}

	#accept(socket: net.Socket): void {
		this.#sockets.add(socket);
		socket.once('close', () => this.#sockets.delete(socket));
		socket.on('error', () => {
			socket.destroy();
		});
		socket.pause();
		this.#open().then(tunnel => {
			this.#pipe(socket, tunnel);
		}, (error: unknown) => {
			this.#fail(socket, error instanceof Error ? error.message : String(error));
		});
	}

	/** Opens a WebSocket to the current pod; once more with a fresh lookup when that pod is gone. */
	async #open(): Promise<Tunnel> {
		if (this.#closed) {
			throw new PortForwardError('forward-failed', 'the port-forward is closed');
		}

		try {
			return await this.#connect(await this.#lookup(false));
		} catch (error) {
			if (!(error instanceof PortForwardError && (error.problem === 'not-found' || error.problem === 'forward-failed'))) {
				throw this.#remember(error);
			}
		}

		try {
			return await this.#connect(await this.#lookup(true));
		} catch (error) {
			throw this.#remember(error);
		}
	}

	#remember(error: unknown): unknown {
		this.#route = undefined;
		this.#problem = error instanceof Error ? error.message : String(error);
		return error;
	}

	async #lookup(fresh: boolean): Promise<Route> {
		const cacheMs = this.#options.cacheMs ?? 3000;
		if (!fresh && this.#route && Date.now() - this.#route.at < cacheMs) {
			return this.#route;
		}

		this.#pending ??= this.#findPod().finally(() => {
			this.#pending = undefined;
		});
		// A failure is remembered by #open, the only caller.
		this.#route = await this.#pending;
		return this.#route;
	}

	/** The Service's first Ready pod (by name) and the container port its `port` targets. */
	async #findPod(): Promise<Route> {
		const {config, namespace, service: name, port} = this.#options;
		const api = config.makeApiClient(CoreV1Api);
		const where = `Service ${namespace}/${name}`;
		let service: V1Service;
		try {
			service = await api.readNamespacedService({namespace, name});
		} catch (error) {
			throw apiProblem(error, `cannot read ${where}`);
		}

		const selector = service.spec?.selector ?? {};
		if (Object.keys(selector).length === 0) {
			throw new PortForwardError('forward-failed', `${where} has no selector: nothing to port-forward to`);
		}

		const servicePort = service.spec?.ports?.find(item => item.port === port) ?? (service.spec?.ports?.length === 1 ? service.spec.ports[0] : undefined);
		if (!servicePort) {
			throw new PortForwardError('forward-failed', `${where} has no port ${port}`);
		}

		let pods: V1Pod[];
		try {
			pods = (await api.listNamespacedPod({namespace, labelSelector: Object.entries(selector).map(([key, value]) => `${key}=${value}`).join(',')})).items;
		} catch (error) {
			throw apiProblem(error, `cannot list the pods of ${where}`);
		}

		const ready = pods
			.filter(pod => !pod.metadata?.deletionTimestamp && pod.status?.phase === 'Running' && (pod.status.conditions ?? []).some(condition => condition.type === 'Ready' && condition.status === 'True'))
			.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
		const pod = ready[0];
		if (!pod?.metadata?.name) {
			const states = pods.map(item => `${item.metadata?.name ?? '?'} ${item.metadata?.deletionTimestamp ? 'Terminating' : item.status?.phase ?? 'Unknown'}`);
			throw new PortForwardError('no-ready-pod', `no ready pod behind ${where} (${states.length > 0 ? states.join(', ') : 'no pods'}): the provider is down or restarting`);
		}

		const target = servicePort.targetPort ?? servicePort.port;
		let containerPort = typeof target === 'number' ? target : Number(target);
		if (!Number.isInteger(containerPort)) {
			containerPort = pod.spec?.containers.flatMap(container => container.ports ?? []).find(item => item.name === target)?.containerPort ?? Number.NaN;
			if (!Number.isInteger(containerPort)) {
				throw new PortForwardError('forward-failed', `pod ${pod.metadata.name} has no port named ${String(target)}`);
			}
		}

		return {pod: pod.metadata.name, port: containerPort, at: Date.now()};
	}

	async #connect(route: Route): Promise<Tunnel> {
		const {config, namespace} = this.#options;
		const cluster = config.getCurrentCluster();
		if (!cluster) {
			throw new PortForwardError('forward-failed', 'the kubeconfig has no current cluster');
		}

		const server = cluster.server.replace(/\/+$/, '');
		const url = `${server.replace(/^http/, 'ws')}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(route.pod)}/portforward?ports=${route.port}`;
		const options: Record<string, unknown> = {};
		await config.applyToHTTPSOptions(options as Parameters<KubeConfig['applyToHTTPSOptions']>[0]);
		const timeoutMs = this.#options.timeoutMs ?? 15_000;
		return new Promise((resolve, reject) => {
			const ws = new WebSocket(url, protocols, {...options, perMessageDeflate: false, handshakeTimeout: timeoutMs});
			ws.binaryType = 'nodebuffer';
			const early: Buffer[] = [];
			ws.on('message', (raw: Buffer) => early.push(raw));
			// Errors after the handshake close the socket; the pipe decides what the local connection sees.
			ws.on('error', () => {});
			let settled = false;
			const settle = (error?: unknown) => {
				if (settled) {
					return;
				}

				settled = true;
				if (error) {
					ws.terminate();
					reject(error);
				} else {
					this.#tunnels.add(ws);
					ws.once('close', () => this.#tunnels.delete(ws));
					this.#pod = route.pod;
					resolve({ws, early});
				}
			};

			ws.once('open', () => {
				settle();
			});
			ws.once('unexpected-response', (_request, response) => {
				const chunks: Buffer[] = [];
				response.on('data', (chunk: Buffer) => chunks.push(chunk));
				response.on('end', () => {
					const text = Buffer.concat(chunks).toString();
					let message = text.trim().split('\n')[0] ?? '';
					try {
						message = String((JSON.parse(text) as {message?: string}).message ?? message);
					} catch {}

					const code = response.statusCode ?? 0;
					const problem: PortForwardProblem = code === 403 || code === 401 ? 'denied' : (code === 404 ? 'not-found' : 'forward-failed');
					settle(new PortForwardError(problem, message ? `${message} (HTTP ${code})` : `the API server answered HTTP ${code} to the port-forward`));
				});
				response.on('error', settle);
			});
			ws.once('error', error => {
				settle(new PortForwardError('forward-failed', `port-forward to pod ${route.pod}: ${error.message}`));
			});
		});
	}

	#pipe(socket: net.Socket, {ws, early}: Tunnel): void {
		this.#connections++;
		const seen = [false, false];
		let error = '';
		let answered = false;
		const take = (raw: Buffer) => {
			const channel = raw[0];
			let data = raw.subarray(1);
			if (channel !== 0 && channel !== 1) {
				return;
			}

			if (!seen[channel]) {
				// Each channel starts with the port number (2 bytes, little endian).
				seen[channel] = true;
				data = data.subarray(2);
			}

			if (data.length === 0) {
				return;
			}

			if (channel === 0) {
				if (!answered) {
					answered = true;
					this.#problem = undefined;
				}

				socket.write(data);
				// Stop reading the tunnel only when the reader is well behind: pausing at every full
				// 16 KiB buffer (each 64 KiB message) made the bytes stop and go.
				if (socket.writableLength > backlog && !ws.isPaused) {
					ws.pause();
					socket.once('drain', () => {
						ws.resume();
					});
				}
			} else {
				error += data.toString();
			}
		};

		ws.removeAllListeners('message');
		ws.on('message', take);
		for (const raw of early.splice(0)) {
			take(raw);
		}

		ws.on('close', () => {
			if (error) {
				// The pod could not take the connection: look it up again for the next one.
				this.#remember(new PortForwardError('forward-failed', error));
				if (!answered) {
					this.#fail(socket, error);
					return;
				}
			}

			socket.end();
		});
		ws.on('error', () => {
			socket.destroy();
		});
		socket.on('data', (chunk: Buffer) => {
			ws.send(Buffer.concat([Buffer.from([0]), chunk]));
			pauseWhileBuffered(ws, socket);
		});
		socket.once('close', () => {
			if (ws.readyState === WebSocket.OPEN) {
				ws.close(1000);
			}
		});
		socket.resume();
	}

	/** Answers a connection that could not be forwarded with an S3 error saying why, then closes it. */
	#fail(socket: net.Socket, message: string): void {
		if (socket.destroyed) {
			return;
		}

		socket.resume();
		socket.on('data', () => {});
		const line = `${message} (${this.describe()})`;
		const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>${escapeXml(line)}</Message></Error>`;
		socket.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\nx-ilum-restore-forward-error: ${encodeURIComponent(line)}\r\n\r\n${body}`);
	}
}

function apiProblem(error: unknown, what: string): PortForwardError {
	if (error instanceof ApiException) {
		let message = '';
		try {
			message = String((JSON.parse(String(error.body)) as {message?: string}).message ?? '');
		} catch {}

		const problem: PortForwardProblem = error.code === 403 || error.code === 401 ? 'denied' : (error.code === 404 ? 'not-found' : 'forward-failed');
		return new PortForwardError(problem, `${what}: ${message || `HTTP ${error.code}`}`);
	}

	// fetch failures carry the network reason (ECONNREFUSED, ENOTFOUND) in their cause.
	const code = (error as {cause?: {code?: string}} | undefined)?.cause?.code;
	return new PortForwardError('forward-failed', `${what}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}${code ? ` (${code})` : ''}`);
}

function escapeXml(text: string): string {
	return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}
