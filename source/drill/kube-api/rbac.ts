/**
RBAC from the objects in the store, for identities marked `rbac: true`: the rules of every
ClusterRole bound to the identity by a ClusterRoleBinding (everywhere), and of every Role or
ClusterRole bound by a RoleBinding in the namespace asked about (there only). Subjects match as
in Kubernetes: `User` by name, `Group` by the identity's groups (and `system:authenticated`),
`ServiceAccount` as the user `system:serviceaccount:<namespace>:<name>`. Aggregated ClusterRoles
and non-resource URLs are not evaluated.
*/
import type {Identity, PolicyRule} from './identity.js';
import type {KubeObject, ObjectStore} from './store.js';

type Subject = {kind?: string; name?: string; namespace?: string; apiGroup?: string};
type StoredRule = {verbs?: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[]};

function matches(subject: Subject, identity: Identity, bindingNamespace: string | undefined): boolean {
	switch (subject.kind) {
		case 'User': {
			return subject.name === identity.name;
		}

		case 'Group': {
			return subject.name === 'system:authenticated' || (identity.groups ?? []).includes(subject.name ?? '');
		}

		case 'ServiceAccount': {
			return identity.name === `system:serviceaccount:${subject.namespace ?? bindingNamespace ?? ''}:${subject.name ?? ''}`;
		}

		default: {
			return false;
		}
	}
}

function rulesOf(role: KubeObject | undefined, namespace: string | undefined): PolicyRule[] {
	const rules = (role?.['rules'] ?? []) as StoredRule[];
	return rules.map(rule => ({
		verbs: rule.verbs ?? [],
		apiGroups: rule.apiGroups ?? [],
		resources: rule.resources ?? [],
		...(rule.resourceNames?.length ? {resourceNames: rule.resourceNames} : {}),
		...(namespace ? {namespaces: [namespace]} : {}),
	}));
}

function has(store: ObjectStore, plural: string): boolean {
	return store.resources.byPlural(plural) !== undefined;
}

/** The rules the store's bindings give `identity` for a request in `namespace` (undefined: cluster scope). */
export function rbacRules(store: ObjectStore, identity: Identity, namespace: string | undefined): PolicyRule[] {
	const rules: PolicyRule[] = [];
	const bound = (binding: KubeObject) => ((binding['subjects'] ?? []) as Subject[]).some(subject => matches(subject, identity, binding.metadata.namespace));
	if (has(store, 'clusterrolebindings') && has(store, 'clusterroles')) {
		for (const binding of store.list('clusterrolebindings').items) {
			const reference = binding['roleRef'] as {kind?: string; name?: string} | undefined;
			if (bound(binding) && reference?.kind === 'ClusterRole' && reference.name) {
				rules.push(...rulesOf(store.get('clusterroles', undefined, reference.name), undefined));
			}
		}
	}

	if (namespace && has(store, 'rolebindings')) {
		for (const binding of store.list('rolebindings', namespace).items) {
			const reference = binding['roleRef'] as {kind?: string; name?: string} | undefined;
			if (!bound(binding) || !reference?.name) {
				continue;
			}

			if (reference.kind === 'Role' && has(store, 'roles')) {
				rules.push(...rulesOf(store.get('roles', namespace, reference.name), namespace));
			} else if (reference.kind === 'ClusterRole' && has(store, 'clusterroles')) {
				rules.push(...rulesOf(store.get('clusterroles', undefined, reference.name), namespace));
			}
		}
	}

	return rules;
}
