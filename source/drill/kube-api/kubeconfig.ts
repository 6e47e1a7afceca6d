import fs from 'node:fs';
import path from 'node:path';

export type KubeconfigUser = {name: string; token: string};

/**
Writes a kubeconfig for the server (plain HTTP on loopback), one context per user: `drill` for
the first, `drill-<user>` for the others. kubectl sends no credentials over plain HTTP, so each
context has its own cluster whose server URL carries the identity as a path prefix
(`http://127.0.0.1:PORT/as/<user>`); the bearer token is there too for clients that do send it.
Returns the path.
*/
export function writeKubeconfig(file: string, options: {server: string; namespace?: string; users?: KubeconfigUser[]; name?: string}): string {
	const base = options.name ?? 'drill';
	const users = options.users ?? [{name: 'admin', token: 'drill-admin-token'}];
	const quote = (value: string) => JSON.stringify(value);
	const server = options.server.replace(/\/+$/, '');
	const contextName = (index: number, user: KubeconfigUser) => index === 0 ? base : `${base}-${user.name}`;
	const lines = [
		'apiVersion: v1',
		'kind: Config',
		'clusters:',
		...users.flatMap((user, index) => [
			`- name: ${quote(contextName(index, user))}`,
			'  cluster:',
			`    server: ${quote(`${server}/as/${encodeURIComponent(user.name)}`)}`,
			'    insecure-skip-tls-verify: true',
		]),
		'users:',
		...users.flatMap(user => [`- name: ${quote(user.name)}`, '  user:', `    token: ${quote(user.token)}`]),
		'contexts:',
		...users.flatMap((user, index) => [
			`- name: ${quote(contextName(index, user))}`,
			'  context:',
			`    cluster: ${quote(contextName(index, user))}`,
			`    user: ${quote(user.name)}`,
			...(options.namespace ? [`    namespace: ${quote(options.namespace)}`] : []),
		]),
		`current-context: ${quote(base)}`,
		'',
	];
	fs.mkdirSync(path.dirname(file), {recursive: true});
	fs.writeFileSync(file, lines.join('\n'), {mode: 0o600});
	return file;
}
