/**
Errors of the simulated Kubernetes API, shaped exactly like the real server's `Status` objects
(k8s.io/apimachinery `pkg/api/errors`): kubectl and @kubernetes/client-node read `reason`,
`code`, `message` and `details` from them, so the wording follows the real server's.
*/

export type StatusCause = {reason: string; message: string; field?: string};

export type StatusDetails = {
	name?: string;
	group?: string;
	kind?: string;
	uid?: string;
	causes?: StatusCause[];
	retryAfterSeconds?: number;
};

export type KubeStatus = {
	kind: 'Status';
	apiVersion: 'v1';
	metadata: Record<string, unknown>;
	status: 'Failure' | 'Success';
	message: string;
	reason: string;
	details?: StatusDetails;
	code: number;
};

/** A resource as error messages name it: `pods`, `volumesnapshots.snapshot.storage.k8s.io`. */
export type ResourceName = {group: string; plural: string; kind?: string};

function qualified(resource: ResourceName): string {
	return resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
}

function qualifiedKind(resource: ResourceName): string {
	const kind = resource.kind ?? resource.plural;
	return resource.group ? `${kind}.${resource.group}` : kind;
}

function details(resource: ResourceName | undefined, name: string | undefined, kind?: string): StatusDetails {
	const result: StatusDetails = {};
	if (name) {
		result.name = name;
	}

	if (resource?.group) {
		result.group = resource.group;
	}

	if (kind ?? resource?.plural) {
		result.kind = kind ?? resource?.plural;
	}

	return result;
}

export class ApiError extends Error {
	readonly code: number;
	readonly reason: string;
	readonly details: StatusDetails | undefined;

	constructor(code: number, reason: string, message: string, statusDetails?: StatusDetails) {
		super(message);
		this.name = 'ApiError';
		this.code = code;
		this.reason = reason;
		this.details = statusDetails;
	}

	/** The `Status` object the real server sends for this error. */
	status(): KubeStatus {
		const result: KubeStatus = {
			kind: 'Status',
			apiVersion: 'v1',
			metadata: {},
			status: 'Failure',
			message: this.message,
			reason: this.reason,
			code: this.code,
		};
		if (!this.reason) {
			delete (result as Partial<KubeStatus>).reason;
		}

		if (this.details && Object.keys(this.details).length > 0) {
			result.details = this.details;
		}

		return result;
	}

	static notFound(resource: ResourceName, name: string): ApiError {
		return new ApiError(404, 'NotFound', `${qualified(resource)} "${name}" not found`, details(resource, name));
	}

	/** 404 for a path the server does not serve (unknown resource or group version). */
	static pathNotFound(): ApiError {
		return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
	}

	static alreadyExists(resource: ResourceName, name: string): ApiError {
		return new ApiError(409, 'AlreadyExists', `${qualified(resource)} "${name}" already exists`, details(resource, name));
	}

	static conflict(resource: ResourceName, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): ApiError {
		return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource)} "${name}": ${why}`, details(resource, name));
	}

	static invalid(resource: ResourceName, name: string, causes: StatusCause[]): ApiError {
		const parts = causes.map(cause => cause.field ? `${cause.field}: ${cause.message}` : cause.message);
		const summary = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
		const statusDetails = details(resource, name, resource.kind);
		statusDetails.causes = causes;
		return new ApiError(422, 'Invalid', `${qualifiedKind(resource)} "${name}" is invalid: ${summary}`, statusDetails);
	}

	static badRequest(message: string): ApiError {
		return new ApiError(400, 'BadRequest', message);
	}

	static methodNotAllowed(): ApiError {
		return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
	}

	static unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
		return new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`, {});
	}

	static notAcceptable(accepted: string[]): ApiError {
		return new ApiError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`, {});
	}

	static expired(message: string): ApiError {
		return new ApiError(410, 'Expired', message);
	}

	static gone(message: string): ApiError {
		return new ApiError(410, 'Gone', message);
	}

	static forbidden(resource: ResourceName, name: string | undefined, user: string, verb: string, namespace: string | undefined, subresource?: string): ApiError {
		const target = name ? `${qualified(resource)} "${name}"` : qualified(resource);
		const what = subresource ? `${resource.plural}/${subresource}` : resource.plural;
		const where = namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope';
		return new ApiError(403, 'Forbidden', `${target} is forbidden: User "${user}" cannot ${verb} resource "${what}" in API group "${resource.group}"${where}`, details(resource, name));
	}

	static unauthorized(): ApiError {
		return new ApiError(401, 'Unauthorized', 'Unauthorized');
	}

	static internal(message: string): ApiError {
		return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, {causes: [{reason: 'UnexpectedServerResponse', message}]});
	}

	static notFoundNamespace(namespace: string): ApiError {
		return ApiError.notFound({group: '', plural: 'namespaces'}, namespace);
	}
}

export function isApiError(error: unknown): error is ApiError {
	return error instanceof ApiError;
}
