/**
How a Kubernetes request can fail, as the console and `inventory` show it: one line saying what
is wrong and what to do. Panes show `error.line()`; nothing else in the error is user-facing.
*/
export type ClusterErrorKind = 'unreachable' | 'unauthorized' | 'forbidden' | 'not-found' | 'missing-api' | 'failed';

export class ClusterError extends Error {
	readonly kind: ClusterErrorKind;
	readonly status?: number;
	readonly verb: string;
	readonly resource: string;
	readonly hint: string;

	constructor(kind: ClusterErrorKind, message: string, options: {verb: string; resource: string; hint: string; status?: number; cause?: unknown}) {
		super(message, {cause: options.cause});
		this.name = 'ClusterError';
		this.kind = kind;
		this.verb = options.verb;
		this.resource = options.resource;
		this.hint = options.hint;
		this.status = options.status;
	}

	/** What a pane shows: the problem, then what to do. */
	line(): string {
		return `${this.message}: ${this.hint}`;
	}
}

export type RequestInfo = {
	/** get, list, watch, create ... */
	readonly verb: string;
	/** `volumesnapshots.snapshot.storage.k8s.io`, `pods`, ... */
	readonly resource: string;
	readonly namespace?: string;
	/** The API server, for messages (never credentials). */
	readonly server?: string;
};

const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

function networkCode(error: unknown): string | undefined {
	let current: any = error;
	for (let depth = 0; current && depth < 5; depth++) {
		if (typeof current.code === 'string' && networkCodes.has(current.code)) {
			return current.code;
		}

		if (typeof current.errno === 'string' && networkCodes.has(current.errno)) {
			return current.errno;
		}

		current = current.cause;
	}

	return undefined;
}

function statusMessage(body: unknown): string | undefined {
	if (typeof body === 'string') {
		try {
			return statusMessage(JSON.parse(body));
		} catch {
			return undefined;
		}
	}

	if (body && typeof body === 'object' && typeof (body as any).message === 'string') {
		return (body as any).message as string;
	}

	return undefined;
}

/** Turns whatever `@kubernetes/client-node` threw into a `ClusterError` that names the request. */
export function toClusterError(error: unknown, request: RequestInfo): ClusterError {
	if (error instanceof ClusterError) {
		return error;
	}

	const where = request.namespace ? ` in namespace ${request.namespace}` : '';
	const what = `${request.verb} ${request.resource}${where}`;
	const status = typeof (error as any)?.code === 'number' ? (error as any).code as number : undefined;
	const options = {verb: request.verb, resource: request.resource, status, cause: error};
	if (status === 401) {
		return new ClusterError('unauthorized', `The cluster rejected the credentials (401) for ${what}`, {...options, hint: 'the token or certificate has expired: log in again (refresh your kubeconfig), then retry (r in the console)'});
	}

	if (status === 403) {
		return new ClusterError('forbidden', `Forbidden: RBAC does not allow ${request.verb} on ${request.resource}${where}`, {...options, hint: `ask for a Role granting '${request.verb}' on '${request.resource}'${where}`});
	}

	if (status === 404) {
		const message = statusMessage((error as any).body) ?? 'not found';
		return new ClusterError('not-found', `${what}: ${message}`, {...options, hint: 'check the namespace (-n) and that the API is installed'});
	}

	const network = networkCode(error);
	if (network || (status === undefined && /fetch failed|socket|connect/i.test(String((error as any)?.message ?? '')))) {
		return new ClusterError('unreachable', `The Kubernetes API${request.server ? ` at ${request.server}` : ''} is unreachable (${network ?? 'connection failed'})`, {...options, hint: 'check the context (--context), VPN or port-forward, then retry (r in the console)'});
	}

	const message = statusMessage((error as any)?.body) ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
	return new ClusterError('failed', `${what} failed${status ? ` (${status})` : ''}: ${message}`, {...options, hint: 'retry with r; if it persists, check the API server'});
}
