/**
Discovery documents from the resource table: legacy (`APIResourceList` per group version,
`APIGroup`), and aggregated (`apidiscovery.k8s.io/v2`, every group version's resources in one
document, for `/api` and `/apis`). Subresources are listed as kubectl needs them (`statefulsets/scale`
as `autoscaling/v1` Scale, for `kubectl scale --current-replicas`).
*/
import type {ResourceTable} from './resources.js';

export function apiResourceList(table: ResourceTable, group: string, versionName: string) {
	const defs = table.all.filter(def => def.group === group && def.version === versionName);
	const entries: unknown[] = [];
	for (const def of defs) {
		const entry: Record<string, unknown> = {name: def.plural, singularName: def.singular, namespaced: def.namespaced, kind: def.kind, verbs: def.verbs};
		if (def.shortNames.length > 0) {
			entry['shortNames'] = def.shortNames;
		}

		if (def.categories) {
			entry['categories'] = def.categories;
		}

		entries.push(entry);
		if (def.subresources.status) {
			entries.push({name: `${def.plural}/status`, singularName: '', namespaced: def.namespaced, kind: def.kind, verbs: ['get', 'patch', 'update']});
		}

		if (def.plural === 'pods' && !def.group) {
			entries.push({name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get']}, {name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get']});
		}

		if (def.subresources.scale) {
			entries.push({name: `${def.plural}/scale`, singularName: '', namespaced: def.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update']});
		}
	}

	return {kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${versionName}` : versionName, resources: entries};
}

export function apiGroup(group: string, versions: string[]) {
	const list = versions.map(v => ({groupVersion: `${group}/${v}`, version: v}));
	return {name: group, versions: list, preferredVersion: list[0]};
}

/** Aggregated discovery (`apidiscovery.k8s.io/v2`): every group version's resources in one document. */
export function aggregatedDiscovery(table: ResourceTable, core: boolean) {
	const groups = core ? [{group: '', versions: ['v1']}] : table.groups();
	return {
		kind: 'APIGroupDiscoveryList',
		apiVersion: 'apidiscovery.k8s.io/v2',
		metadata: {},
		items: groups.map(g => ({
			metadata: core ? {creationTimestamp: null} : {name: g.group, creationTimestamp: null},
			versions: g.versions.map(v => ({
				version: v,
				resources: table.all.filter(def => def.group === g.group && def.version === v).map(def => {
					const responseKind = {group: def.group, version: def.version, kind: def.kind};
					const subresources: unknown[] = [];
					if (def.subresources.scale) {
						subresources.push({subresource: 'scale', responseKind: {group: 'autoscaling', version: 'v1', kind: 'Scale'}, verbs: ['get', 'patch', 'update']});
					}

					if (def.subresources.status) {
						subresources.push({subresource: 'status', responseKind, verbs: ['get', 'patch', 'update']});
					}

					if (def.plural === 'pods' && !def.group) {
						subresources.push({subresource: 'log', responseKind: {group: '', version: 'v1', kind: 'Pod'}, verbs: ['get']}, {subresource: 'portforward', responseKind: {group: '', version: 'v1', kind: 'PodPortForwardOptions'}, verbs: ['create', 'get']});
					}

					return {
						resource: def.plural,
						responseKind,
						scope: def.namespaced ? 'Namespaced' : 'Cluster',
						singularResource: def.singular,
						verbs: def.verbs,
						...(def.shortNames.length > 0 ? {shortNames: def.shortNames} : {}),
						...(def.categories ? {categories: def.categories} : {}),
						...(subresources.length > 0 ? {subresources} : {}),
					};
				}),
				freshness: 'Current',
			})),
		})),
	};
}
