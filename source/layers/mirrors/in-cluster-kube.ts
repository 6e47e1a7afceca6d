import {BatchV1Api, CoreV1Api, HttpMethod, PatchStrategy, RequestContext, setHeaderOptions, type KubeConfig, type V1Job, type V1Pod} from '@kubernetes/client-node';
import {fetch} from 'undici';
import {UserError} from '../../errors.js';
import type {JobCluster} from './in-cluster.js';

/** `JobCluster` over @kubernetes/client-node: Jobs and pods of one kube context, logs followed as `kubectl logs -f` does. */
export class KubeJobCluster implements JobCluster {
	private readonly config: KubeConfig;
	private readonly batch: BatchV1Api;
	private readonly core: CoreV1Api;

	constructor(config: KubeConfig) {
		this.config = config;
		this.batch = config.makeApiClient(BatchV1Api);
		this.core = config.makeApiClient(CoreV1Api);
	}

	async createJob(namespace: string, job: V1Job): Promise<V1Job> {
		return call(`create Job ${namespace}/${job.metadata?.name ?? ''}`, async () => this.batch.createNamespacedJob({namespace, body: job}));
	}

	async listJobs(namespace: string, labelSelector: string): Promise<V1Job[]> {
		return (await call(`list Jobs in ${namespace}`, async () => this.batch.listNamespacedJob({namespace, labelSelector}))).items;
	}

	async deleteJob(namespace: string, name: string): Promise<void> {
		try {
			await this.batch.deleteNamespacedJob({namespace, name, propagationPolicy: 'Background'});
		} catch (error) {
			if (statusOf(error) !== 404) {
				throw wrap(`delete Job ${namespace}/${name}`, error);
			}
		}
	}

	async annotateJob(namespace: string, name: string, annotations: Record<string, string>): Promise<void> {
		await call(`annotate Job ${namespace}/${name}`, async () => this.batch.patchNamespacedJob({namespace, name, body: {metadata: {annotations}}}, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
	}

	async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
		return (await call(`list pods in ${namespace}`, async () => this.core.listNamespacedPod({namespace, labelSelector}))).items;
	}

	async followLog(namespace: string, pod: string, container: string, options: {signal: AbortSignal; onLine: (line: string) => void}): Promise<void> {
		// As `kubectl logs -f`: GET pods/NAME/log?follow=true, read until the server ends the stream
		// (the container ended) or the signal aborts. (client-node's Log pipes a stream whose abort
		// error nobody handles: done here with fetch, errors caught.)
		const server = this.config.getCurrentCluster()?.server;
		if (!server) {
			throw new UserError('The kube context has no cluster', {hint: 'check --kubeconfig and --context'});
		}

		const url = new URL(`${server}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`);
		url.searchParams.set('container', container);
		url.searchParams.set('follow', 'true');
		const context = new RequestContext(url.toString(), HttpMethod.GET);
		await this.config.applySecurityAuthentication(context);
		let rest = '';
		const emit = (text: string) => {
			const lines = (rest + text).split('\n');
			rest = lines.pop() ?? '';
			for (const line of lines) {
				options.onLine(line.replace(/\r$/, ''));
			}
		};

		try {
			const response = await fetch(url, {method: 'GET', headers: context.getHeaders(), dispatcher: context.getDispatcher(), signal: options.signal});
			if (response.status !== 200 || !response.body) {
				await response.body?.cancel().catch(() => undefined);
				throw wrap(`follow the log of pod ${namespace}/${pod}`, {code: response.status, body: undefined});
			}

			const decoder = new TextDecoder();
			for await (const chunk of response.body) {
				emit(decoder.decode(chunk as Uint8Array, {stream: true}));
			}

			emit(decoder.decode());
			if (rest) {
				options.onLine(rest);
				rest = '';
			}
		} catch (error) {
			if (options.signal.aborted) {
				return;
			}

			throw error;
		}
	}
}

function statusOf(error: unknown): number | undefined {
	const code = (error as {code?: unknown})?.code;
	return typeof code === 'number' ? code : undefined;
}

function wrap(what: string, error: unknown): UserError {
	const status = statusOf(error);
	let body: any = (error as {body?: unknown})?.body;
	if (typeof body === 'string') {
		try {
			body = JSON.parse(body);
		} catch {
			body = {message: body};
		}
	}

	const message: string = typeof body?.message === 'string' ? body.message : (error instanceof Error ? error.message.split('\n')[0]! : String(error));
	return new UserError(`${status === 403 ? 'Forbidden by RBAC: ' : ''}${what} failed${status ? ` (${status})` : ''}: ${message}`, {
		hint: status === 403 ? 'the in-cluster restore needs create, list, patch, delete on jobs and list on pods, get on pods/log in the namespace' : 'check the cluster connection (--kubeconfig, --context)',
		cause: error,
	});
}

async function call<T>(what: string, request: () => Promise<T>): Promise<T> {
	try {
		return await request();
	} catch (error) {
		throw wrap(what, error);
	}
}
