import {exitCodes, usageError} from '../errors.js';
import {writeJson} from '../output.js';
import {manifestsYaml, rbacManifests, type AccessLevel} from '../posture/rbac.js';
import type {Command} from './command.js';

export const rbacCommand: Command = {
	path: ['rbac'],
	summary: 'Print the Roles ilum-restore needs on a real cluster (read, restore, setup), to apply',
	usage: `
		$ ilum-restore rbac [--level read|restore|setup] [--group G] [-n ilum] [--json] | kubectl apply -f -

		read: the console, inventory and doctor. restore: also the restores (snapshots, claims,
		scaling, the CronJob's suspend, Jobs, the old volume's reclaim policy). setup: also the
		posture's fixes (snapshot class, schedules, the mirror CronJob and its Secret). Each level is
		a Role and a ClusterRole for the cluster-scoped kinds, bound to --group.
	`,
	flags: {
		level: {type: 'string', default: 'read', description: 'read, restore or setup (rbac)'},
		group: {type: 'string', default: 'ilum-restore-operators', description: 'The group the Roles are bound to (rbac)'},
	},
	async run({flags, stdout}) {
		const level = String(flags['level']);
		if (!['read', 'restore', 'setup'].includes(level)) {
			throw usageError(`--level must be read, restore or setup, not ${level}`);
		}

		const manifests = rbacManifests({level: level as AccessLevel, namespace: String(flags['namespace'] ?? 'ilum'), group: String(flags['group'])});
		if (flags['json']) {
			writeJson(stdout, {apiVersion: 'v1', kind: 'List', items: manifests});
		} else {
			stdout.write(manifestsYaml(manifests));
		}

		return exitCodes.ok;
	},
};
