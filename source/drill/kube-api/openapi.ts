/**
OpenAPI v3 documents generated from the resource table: `GET /openapi/v3` (the index of group
versions) and `GET /openapi/v3/api/v1`, `/openapi/v3/apis/G/V`. They declare every operation
with `x-kubernetes-action` and `x-kubernetes-group-version-kind` and the `dryRun`,
`fieldValidation` and `fieldManager` query parameters: kubectl reads them to decide that the
server validates fields itself (`kubectl apply` sends `fieldValidation=Strict`).

Kind schemas are deliberately open (`x-kubernetes-preserve-unknown-fields`) and carry no
group-version-kind, so kubectl computes strategic merge patches from its own built-in types, as
it would against a server that publishes the full schemas.
*/
import {createHash} from 'node:crypto';
import {type ResourceDef, type ResourceTable, apiVersionOf} from './resources.js';

const meta = 'io.k8s.apimachinery.pkg.apis.meta.v1';

function schemaName(def: ResourceDef): string {
	const group = def.group ? def.group.split('.').reverse().join('.') : 'core';
	return `io.k8s.api.${group}.${def.version}.${def.kind}`;
}

function gvk(def: ResourceDef, kind = def.kind) {
	return {group: def.group, version: def.version, kind};
}

function queryParameter(name: string, description: string) {
	return {name, in: 'query', description, schema: {type: 'string', uniqueItems: true}};
}

const dryRun = queryParameter('dryRun', 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed');
const fieldManager = queryParameter('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.');
const fieldValidation = queryParameter('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict');
const pretty = queryParameter('pretty', 'If \'true\', then the output is pretty printed.');

function jsonResponse(ref: string) {
	return {
		content: {
			'application/json': {schema: {$ref: `#/components/schemas/${ref}`}},
			'application/yaml': {schema: {$ref: `#/components/schemas/${ref}`}},
		},
		description: 'OK',
	};
}

function operations(def: ResourceDef, basePath: string): Record<string, unknown> {
	const paths: Record<string, unknown> = {};
	const ref = schemaName(def);
	const id = `${def.kind}`;
	const namespaceParameter = {name: 'namespace', in: 'path', required: true, description: 'object name and auth scope, such as for teams and projects', schema: {type: 'string', uniqueItems: true}};
	const nameParameter = {name: 'name', in: 'path', required: true, description: `name of the ${def.kind}`, schema: {type: 'string', uniqueItems: true}};
	const scoped = def.namespaced ? `${basePath}/namespaces/{namespace}/${def.plural}` : `${basePath}/${def.plural}`;
	const commonParameters = def.namespaced ? [namespaceParameter, pretty] : [pretty];
	const patchBody = {
		content: Object.fromEntries((def.custom ? ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'] : ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']).map(type => [type, {schema: {$ref: `#/components/schemas/${meta}.Patch`}}])),
		required: true,
	};
	const body = {content: {'*/*': {schema: {$ref: `#/components/schemas/${ref}`}}}, required: true};
	if (def.verbs.includes('create') && def.virtual) {
		paths[`${basePath}/${def.plural}`] = {
			post: {operationId: `create${id}`, parameters: [dryRun, fieldManager, fieldValidation], requestBody: body, responses: {200: jsonResponse(ref), 201: jsonResponse(ref)}, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk(def)},
			parameters: [pretty],
		};
		return paths;
	}

	paths[scoped] = {
		get: {operationId: `list${id}`, responses: {200: jsonResponse(`${ref}List`)}, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk(def)},
		post: {operationId: `create${id}`, parameters: [dryRun, fieldManager, fieldValidation], requestBody: body, responses: {200: jsonResponse(ref), 201: jsonResponse(ref), 202: jsonResponse(ref)}, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk(def)},
		delete: {operationId: `deletecollection${id}`, responses: {200: jsonResponse(`${meta}.Status`)}, 'x-kubernetes-action': 'deletecollection', 'x-kubernetes-group-version-kind': gvk(def)},
		parameters: commonParameters,
	};
	paths[`${scoped}/{name}`] = {
		get: {operationId: `read${id}`, responses: {200: jsonResponse(ref)}, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk(def)},
		put: {operationId: `replace${id}`, parameters: [dryRun, fieldManager, fieldValidation], requestBody: body, responses: {200: jsonResponse(ref), 201: jsonResponse(ref)}, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk(def)},
		patch: {operationId: `patch${id}`, parameters: [dryRun, fieldManager, fieldValidation, queryParameter('force', 'Force is going to "force" Apply requests.')], requestBody: patchBody, responses: {200: jsonResponse(ref), 201: jsonResponse(ref)}, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk(def)},
		delete: {operationId: `delete${id}`, parameters: [dryRun], responses: {200: jsonResponse(`${meta}.Status`), 202: jsonResponse(`${meta}.Status`)}, 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk(def)},
		parameters: [nameParameter, ...commonParameters],
	};
	if (def.subresources.status) {
		paths[`${scoped}/{name}/status`] = {
			get: {operationId: `read${id}Status`, responses: {200: jsonResponse(ref)}, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk(def)},
			put: {operationId: `replace${id}Status`, parameters: [dryRun, fieldManager, fieldValidation], requestBody: body, responses: {200: jsonResponse(ref)}, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk(def)},
			patch: {operationId: `patch${id}Status`, parameters: [dryRun, fieldManager, fieldValidation], requestBody: patchBody, responses: {200: jsonResponse(ref)}, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk(def)},
			parameters: [nameParameter, ...commonParameters],
		};
	}

	if (def.subresources.scale) {
		const scale = {group: 'autoscaling', version: 'v1', kind: 'Scale'};
		const scaleRef = 'io.k8s.api.autoscaling.v1.Scale';
		paths[`${scoped}/{name}/scale`] = {
			get: {operationId: `read${id}Scale`, responses: {200: jsonResponse(scaleRef)}, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': scale},
			put: {operationId: `replace${id}Scale`, parameters: [dryRun, fieldManager, fieldValidation], requestBody: {content: {'*/*': {schema: {$ref: `#/components/schemas/${scaleRef}`}}}, required: true}, responses: {200: jsonResponse(scaleRef)}, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': scale},
			patch: {operationId: `patch${id}Scale`, parameters: [dryRun, fieldManager, fieldValidation], requestBody: patchBody, responses: {200: jsonResponse(scaleRef)}, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': scale},
			parameters: [nameParameter, ...commonParameters],
		};
	}

	if (def.namespaced) {
		paths[`${basePath}/${def.plural}`] = {
			get: {operationId: `list${id}ForAllNamespaces`, responses: {200: jsonResponse(`${ref}List`)}, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk(def)},
			parameters: [pretty],
		};
	}

	return paths;
}

function openSchema(description: string) {
	return {type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true};
}

/** The OpenAPI v3 document of one group version (`api/v1`, `apis/G/V`), or undefined. */
export function groupVersionDocument(table: ResourceTable, key: string, serverVersion: string): Record<string, unknown> | undefined {
	const defs = table.all.filter(def => (def.group ? `apis/${def.group}/${def.version}` : `api/${def.version}`) === key);
	if (defs.length === 0) {
		return undefined;
	}

	const basePath = `/${key}`;
	const paths: Record<string, unknown> = {};
	const schemas: Record<string, unknown> = {
		[`${meta}.Patch`]: {type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.'},
		[`${meta}.Status`]: {...openSchema('Status is a return value for calls that don\'t return other objects.'), 'x-kubernetes-group-version-kind': [{group: '', version: 'v1', kind: 'Status'}]},
		[`${meta}.DeleteOptions`]: openSchema('DeleteOptions may be provided when deleting an API object.'),
		'io.k8s.api.autoscaling.v1.Scale': openSchema('Scale represents a scaling request for a resource.'),
	};
	for (const def of defs) {
		Object.assign(paths, operations(def, basePath));
		schemas[schemaName(def)] = openSchema(`${def.kind} (${apiVersionOf(def)})`);
		schemas[`${schemaName(def)}List`] = openSchema(`${def.kind}List is a list of ${def.kind}`);
	}

	return {
		openapi: '3.0.0',
		info: {title: 'Kubernetes', version: serverVersion},
		paths,
		components: {schemas},
	};
}

export function groupVersionKeys(table: ResourceTable): string[] {
	const keys = new Set<string>();
	for (const def of table.all) {
		keys.add(def.group ? `apis/${def.group}/${def.version}` : `api/${def.version}`);
	}

	return [...keys];
}

/** `GET /openapi/v3`: where each group version's document is. */
export function openApiIndex(table: ResourceTable, serverVersion: string): Record<string, unknown> {
	const paths: Record<string, {serverRelativeURL: string}> = {};
	for (const key of groupVersionKeys(table)) {
		const hash = createHash('sha512').update(JSON.stringify(groupVersionDocument(table, key, serverVersion))).digest('hex').slice(0, 128).toUpperCase();
		paths[key] = {serverRelativeURL: `/openapi/v3/${key}?hash=${hash}`};
	}

	return {paths};
}
