/**
Who a request is, and what it may do: identities with RBAC-like allow rules, checked the way
RBAC checks a request (verb, API group, resource or `resource/subresource`, namespace, name).
`rbac: true` identities also get what the store's Roles and bindings grant (`rbac.ts`).
*/
export type PolicyRule = {
	verbs: string[];
	/** '' for the core group, '*' for all. */
	apiGroups: string[];
	/** Plural names, `plural/subresource`, or '*'. */
	resources: string[];
	/** Limits the rule to these namespaces (cluster-scoped resources are never matched then). */
	namespaces?: string[];
	/** Limits the rule to objects of these names (so never to create, list or watch, as in RBAC). */
	resourceNames?: string[];
};

export type Identity = {
	name: string;
	groups?: string[];
	/** get, list and watch on everything; nothing else. */
	readOnly?: boolean;
	/** Explicit allow rules (like an RBAC role); when set, readOnly is ignored. */
	rules?: PolicyRule[];
	/**
	Also allowed: what the store's ClusterRoleBindings and RoleBindings grant this identity (by
	name, by `groups`, or as `system:serviceaccount:<ns>:<name>`); see `rbac.ts`. Without
	`rules` or `readOnly`, only that.
	*/
	rbac?: boolean;
};

const readVerbs = new Set(['get', 'list', 'watch']);

function allowedByRule(rule: PolicyRule, verb: string, group: string, resource: string, namespace: string | undefined, name: string | undefined): boolean {
	const verbOk = rule.verbs.includes('*') || rule.verbs.includes(verb);
	const groupOk = rule.apiGroups.includes('*') || rule.apiGroups.includes(group);
	const resourceOk = rule.resources.includes('*') || rule.resources.includes(resource) || (resource.includes('/') && rule.resources.includes(`${resource.split('/')[0]}/*`));
	const namespaceOk = !rule.namespaces || (namespace !== undefined && rule.namespaces.includes(namespace));
	const nameOk = !rule.resourceNames || rule.resourceNames.length === 0 || (name !== undefined && rule.resourceNames.includes(name));
	return verbOk && groupOk && resourceOk && namespaceOk && nameOk;
}

/** Whether the identity may do `verb` on `resource` (`plural` or `plural/subresource`), as RBAC would decide. */
export function authorize(identity: Identity, verb: string, group: string, resource: string, namespace: string | undefined, name?: string): boolean {
	if (identity.rules) {
		return identity.rules.some(rule => allowedByRule(rule, verb, group, resource, namespace, name));
	}

	if (identity.readOnly) {
		return readVerbs.has(verb);
	}

	return true;
}
