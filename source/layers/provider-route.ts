import dns from 'node:dns/promises';
import net from 'node:net';
import type {KubeConfig} from '@kubernetes/client-node';
import {PortForwardError, ServicePortForward} from '../cluster/port-forward.js';

/** The provider's Service and S3 port (the chart's alias). */
export const providerService = {name: 'ilum-objectstorage', port: 9000} as const;

/** How the S3 clients reach the provider, and how that is said in the console's status line. */
export type ProviderRoute = {
	/** The URL the S3 clients use; undefined when there is none (`problem` says why). */
	readonly endpoint?: string;
	readonly kind: 'flag' | 'direct' | 'port-forward' | 'none';
	/** One line for the status bar and `inventory --json` (`port-forward ilum/svc/ilum-objectstorage:9000 -> pod ilum-objectstorage-0`). */
	describe(): string;
	/** Why there is no endpoint (no Service, RBAC refuses the forward): one line. */
	readonly problem?: string;
	/** Throws a one-line error when the route cannot carry a request now (no ready pod behind the forward). */
	check?(): Promise<void>;
	close(): Promise<void>;
};

export type ReachOptions = {
	readonly config: KubeConfig;
	readonly namespace: string;
	/** `--s3-endpoint`, the drill world's, or `AWS_ENDPOINT_URL`. */
	readonly endpoint?: string;
	/** Where the endpoint came from, for the status line (`--s3-endpoint`). */
	readonly endpointSource?: string;
	/** How long the in-cluster name may take to answer (default 1.5 s). */
	readonly directTimeoutMs?: number;
};

/**
Picks the way to the provider: the endpoint given (the override), else the Service's in-cluster
name when it answers (running inside the cluster), else a port-forward through the API server.
When the forward is refused (RBAC, no Service) there is no endpoint and `problem` says what to do.
*/
export async function reachProvider(options: ReachOptions): Promise<ProviderRoute> {
	const {namespace} = options;
	const close = async () => {};
	if (options.endpoint) {
		const endpoint = options.endpoint;
		return {endpoint, kind: 'flag', describe: () => `${endpoint}${options.endpointSource ? ` (${options.endpointSource})` : ''}`, close};
	}

	const host = `${providerService.name}.${namespace}.svc`;
	if (await answers(host, providerService.port, options.directTimeoutMs ?? 1500)) {
		const endpoint = `http://${host}:${providerService.port}`;
		return {endpoint, kind: 'direct', describe: () => `${endpoint} (in-cluster)`, close};
	}

	const forward = await ServicePortForward.start({config: options.config, namespace, service: providerService.name, port: providerService.port});
	const check = async () => {
		await forward.check();
	};

	try {
		await forward.check();
	} catch (error) {
		const problem = error instanceof PortForwardError ? error.problem : 'forward-failed';
		// No ready pod is a state that passes (a restore in progress): keep the forward, the probe says so.
		if (problem !== 'no-ready-pod') {
			await forward.close();
			const reason = error instanceof Error ? error.message : String(error);
			const manual = `kubectl -n ${namespace} port-forward svc/${providerService.name} ${providerService.port}, then --s3-endpoint http://127.0.0.1:${providerService.port}`;
			return {
				kind: 'none',
				describe: () => 'not connected (see Mirrors)',
				problem: problem === 'denied'
					? `port-forward to svc/${providerService.name} refused: ${reason}: grant create pods/portforward (ilum-restore rbac) or run ${manual}`
					: `port-forward to svc/${providerService.name} failed: ${reason}: run ${manual}`,
				close,
			};
		}
	}

	return {endpoint: forward.endpoint, kind: 'port-forward', describe: () => forward.describe(), check, close: async () => forward.close()};
}

/** Whether `host:port` resolves and accepts a TCP connection within the time. */
async function answers(host: string, port: number, timeoutMs: number): Promise<boolean> {
	const deadline = AbortSignal.timeout(timeoutMs);
	const attempt = (async () => {
		const {address} = await dns.lookup(host);
		return new Promise<boolean>(resolve => {
			const socket = net.connect({host: address, port, timeout: timeoutMs});
			const done = (ok: boolean) => {
				socket.destroy();
				resolve(ok);
			};

			socket.once('connect', () => {
				done(true);
			});
			socket.once('error', () => {
				done(false);
			});
			socket.once('timeout', () => {
				done(false);
			});
			deadline.addEventListener('abort', () => {
				done(false);
			});
		});
	})().catch(() => false);
	const timeout = new Promise<boolean>(resolve => {
		deadline.addEventListener('abort', () => {
			resolve(false);
		});
	});
	return Promise.race([attempt, timeout]);
}
