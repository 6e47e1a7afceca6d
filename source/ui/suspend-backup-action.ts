import type {ItemAction} from './actions.js';

/**
`s` in the Mirrors pane: suspend the backup CronJob, the fix of the most urgent hazard (a run with
`--remove` would delete from the backup what the provider lost). Changes the cluster: confirmed
first, gone under `--read-only`, greyed when RBAC does not allow patching CronJobs.
*/
export const suspendBackupAction: ItemAction = {
	id: 'suspend-backup',
	keys: ['s'],
	label: 's',
	description: 'Suspend the backup CronJob (its next --remove run cannot delete from the backup)',
	panes: ['mirrors'],
	changes: true,
	dangerous: true,
	disabledReason(_item, {live}) {
		const mirrors = live.getSnapshot().mirrors.value;
		if (!live.sources.setBackupSuspended) {
			return 'not available with this connection';
		}

		if (!mirrors?.cron) {
			return 'no backup CronJob';
		}

		if (mirrors.cron.suspended) {
			return 'already suspended';
		}

		return mirrors.canPatchCronJob === false ? `RBAC does not allow patch on cronjobs.batch in ${live.sources.namespace}` : undefined;
	},
	confirm: (_item, {live}) => `Suspend CronJob ${live.getSnapshot().mirrors.value?.cron?.name ?? ''}? No mirror runs until it is resumed.`,
	async run(_item, {live}) {
		const name = live.getSnapshot().mirrors.value?.cron?.name;
		if (!name || !live.sources.setBackupSuspended) {
			return 'no backup CronJob';
		}

		try {
			await live.sources.setBackupSuspended(name, true);
			return `CronJob ${name} suspended (resume: kubectl -n ${live.sources.namespace} patch cronjob ${name} -p '{"spec":{"suspend":false}}')`;
		} catch (error) {
			return `suspending ${name} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
		}
	},
};
