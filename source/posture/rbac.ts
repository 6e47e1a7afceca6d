/**
The least privilege ilum-restore needs on a real cluster, as manifests to apply: `read` for the
console, `inventory` and `doctor`; `restore` adds what the restores change; `setup` adds what the
posture's fixes install. Each level is a namespaced Role (+ binding) and a ClusterRole (+ binding)
for the cluster-scoped kinds, bound to a group the operator chooses.
*/
export type AccessLevel = 'read' | 'restore' | 'setup';

type Rule = {apiGroups: string[]; resources: string[]; verbs: string[]};

const read = ['get', 'list', 'watch'];

const namespaced: Record<AccessLevel, Rule[]> = {
	read: [
		{apiGroups: [''], resources: ['pods', 'persistentvolumeclaims', 'services', 'events', 'configmaps'], verbs: read},
		{apiGroups: [''], resources: ['pods/log'], verbs: ['get']},
		// Reaching the provider's S3 port without --s3-endpoint: a port-forward through the API server
		// (a WebSocket GET needs get before Kubernetes 1.35, create since; kubectl's SPDY POST needs create).
		{apiGroups: [''], resources: ['pods/portforward'], verbs: ['get', 'create']},
		// The provider's and the mirror's credentials: without it, pass them by flags and AWS variables.
		{apiGroups: [''], resources: ['secrets'], verbs: ['get']},
		{apiGroups: ['apps'], resources: ['statefulsets'], verbs: read},
		{apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: read},
		{apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: read},
	],
	restore: [
		{apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: ['create']},
		{apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['create', 'delete']},
		{apiGroups: ['apps'], resources: ['statefulsets', 'statefulsets/scale'], verbs: ['patch', 'update']},
		{apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['patch']},
		{apiGroups: ['batch'], resources: ['jobs'], verbs: ['create']},
	],
	setup: [
		{apiGroups: [''], resources: ['secrets', 'serviceaccounts'], verbs: ['create', 'update']},
		{apiGroups: ['batch'], resources: ['cronjobs'], verbs: ['create', 'update']},
		{apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles', 'rolebindings'], verbs: ['create', 'update']},
	],
};

const clusterWide: Record<AccessLevel, Rule[]> = {
	read: [
		{apiGroups: [''], resources: ['persistentvolumes'], verbs: read},
		{apiGroups: ['storage.k8s.io'], resources: ['storageclasses', 'csidrivers'], verbs: read},
		{apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshotclasses', 'volumesnapshotcontents'], verbs: read},
		{apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews'], verbs: ['create']},
	],
	restore: [
		// Reclaim policy Retain on the old volume, and a cleared claimRef when a volume is rebound.
		{apiGroups: [''], resources: ['persistentvolumes'], verbs: ['patch', 'update']},
	],
	setup: [
		{apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshotclasses'], verbs: ['create']},
	],
};

const levels: AccessLevel[] = ['read', 'restore', 'setup'];

/** Every rule of a level, the lower levels' included. */
function rulesUpTo(level: AccessLevel, table: Record<AccessLevel, Rule[]>): Rule[] {
	return levels.slice(0, levels.indexOf(level) + 1).flatMap(name => table[name]);
}

export function rbacManifests(options: {level: AccessLevel; namespace: string; group: string}): object[] {
	const name = `ilum-restore-${options.level}`;
	const labels = {'app.kubernetes.io/name': 'ilum-restore', 'app.kubernetes.io/component': options.level};
	const subjects = [{kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: options.group}];
	return [
		{apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: {name, namespace: options.namespace, labels}, rules: rulesUpTo(options.level, namespaced)},
		{apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: {name, namespace: options.namespace, labels}, roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name}, subjects},
		{apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: {name, labels}, rules: rulesUpTo(options.level, clusterWide)},
		{apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: {name, labels}, roleRef: {apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name}, subjects},
	];
}

/** YAML for plain JSON data (maps, lists, strings, numbers, booleans): enough for manifests. */
export function toYaml(value: unknown, indent = ''): string {
	if (Array.isArray(value)) {
		if (value.length === 0) {
			return '[]';
		}

		return value.map(item => {
			const text = toYaml(item, indent + '  ');
			return `\n${indent}- ${typeof item === 'object' && item !== null ? text.trimStart() : text}`;
		}).join('');
	}

	if (typeof value === 'object' && value !== null) {
		const entries = Object.entries(value);
		if (entries.length === 0) {
			return '{}';
		}

		return entries.map(([key, item]) => {
			const text = toYaml(item, indent + '  ');
			const nested = typeof item === 'object' && item !== null && (Array.isArray(item) ? item.length > 0 : Object.keys(item).length > 0);
			return `\n${indent}${key}:${nested ? (Array.isArray(item) ? text : text) : ` ${text}`}`;
		}).join('');
	}

	if (typeof value === 'string') {
		return /^[\w./-]+$/.test(value) && !/^(true|false|null|yes|no|on|off|~|[\d.]+)$/i.test(value) ? value : JSON.stringify(value);
	}

	return JSON.stringify(value);
}

export function manifestsYaml(manifests: readonly object[]): string {
	return manifests.map(manifest => toYaml(manifest).trimStart()).join('\n---\n') + '\n';
}
