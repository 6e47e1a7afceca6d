import process from 'node:process';
import {usageError} from '../errors.js';
import {defaultBuckets} from '../layers/inventory.js';
import {providerSecretName} from '../layers/connect.js';
import {backupSecretName} from '../layers/mirrors/cron.js';
import {mirrorInstallPlan, mirrorRunPlan, type MirrorInstallFacts, type MirrorRunFacts} from '../posture/fixes.js';
import type {Command} from './command.js';
import {planFlags, planMode, refuseReadOnly, runPlan, unfinishedRun} from './plan-runner.js';
import {protectionClients} from './snapshot.js';

const backupCronJobName = 'ilum-objectstorage-backup';

export const mirrorInstallCommand: Command = {
	path: ['mirror', 'install'],
	summary: 'Install or repair the off-cluster mirror CronJob (mc mirror --preserve) and its Secret',
	usage: `
		$ ilum-restore mirror install --destination https://backup.example:9000 [--bucket B ...] [--mirror-schedule '0 * * * *'] [--append-only] (--dry-run | --yes)

		Installs the runbook's CronJob ${backupCronJobName}: every bucket mirrored with mc mirror --preserve
		(and --remove unless --append-only) to the destination. The Secret ${backupSecretName} gets the
		endpoint and the keys from MIRROR_ACCESS_KEY_ID and MIRROR_SECRET_ACCESS_KEY when they are set;
		otherwise the existing Secret is kept. Running it again repairs a CronJob that drifted.
	`,
	flags: {
		...planFlags,
		destination: {type: 'string', description: 'The mirror\'s S3 endpoint URL (mirror install)'},
		bucket: {type: 'string', isMultiple: true, description: 'A bucket (repeatable; default: every Ilum bucket)'},
		mirrorSchedule: {type: 'string', default: '0 * * * *', description: 'Cron schedule of the mirror'},
		appendOnly: {type: 'boolean', default: false, description: 'Mirror without --remove: deletions never reach the backup'},
	},
	async run(context) {
		const {flags} = context;
		const mode = planMode(context, 'ilum-restore mirror install --destination URL');
		const destination = flags['destination'] as string | undefined;
		if (!destination || !/^https?:\/\/[^\s/@]+/.test(destination)) {
			throw usageError(destination ? `--destination ${destination} is not an http(s) URL` : 'Name the mirror\'s S3 endpoint with --destination', 'e.g. --destination https://backup.example:9000 (keys from MIRROR_ACCESS_KEY_ID, MIRROR_SECRET_ACCESS_KEY)');
		}

		if (/\/\/[^/]*@/.test(destination)) {
			throw usageError('--destination must not carry credentials', 'put the keys in MIRROR_ACCESS_KEY_ID and MIRROR_SECRET_ACCESS_KEY');
		}

		const clients = protectionClients(flags);
		const ns = clients.namespace;
		const target = `mirror/${ns}/${backupCronJobName}`;
		refuseReadOnly(mode, {identity: clients.identity, name: 'mirror.install', target, command: 'mirror install'});
		const resume = unfinishedRun(context, mode, target, clients.identity);
		if (resume === 'abandoned') {
			return 0;
		}

		const accessKey = process.env['MIRROR_ACCESS_KEY_ID'];
		const secretKey = process.env['MIRROR_SECRET_ACCESS_KEY'];
		const keys = accessKey && secretKey ? {accessKey, secretKey} : undefined;
		let facts: MirrorInstallFacts;
		if (resume) {
			facts = resume.begin.facts as MirrorInstallFacts;
		} else {
			const existing = await clients.deps.cluster.readSecret(ns, backupSecretName).catch(() => undefined);
			if (!keys && !existing) {
				throw usageError(`Secret ${backupSecretName} does not exist and no keys were given`, 'export MIRROR_ACCESS_KEY_ID and MIRROR_SECRET_ACCESS_KEY');
			}

			const buckets = (flags['bucket'] as string[] | undefined)?.length ? flags['bucket'] as string[] : defaultBuckets;
			facts = {
				namespace: ns,
				name: backupCronJobName,
				schedule: String(flags['mirrorSchedule']),
				buckets,
				remove: !flags['appendOnly'],
				source: 'http://ilum-objectstorage:9000',
				credentialsSecret: providerSecretName,
				backupSecret: backupSecretName,
				endpoint: destination.replace(/\/+$/, ''),
				writeSecret: Boolean(keys) || existing?.['endpoint'] !== destination.replace(/\/+$/, ''),
			};
		}

		return (await runPlan(context, mode, {plan: mirrorInstallPlan(facts, clients.deps, keys ?? await existingKeys(clients, ns)), identity: clients.identity, checkAccess: clients.checkAccess, ...(resume ? {resume} : {})})).code;
	},
};

/** Keeps the Secret's keys when only the endpoint changes. Never printed. */
async function existingKeys(clients: ReturnType<typeof protectionClients>, namespace: string) {
	const secret = await clients.deps.cluster.readSecret(namespace, backupSecretName).catch(() => undefined);
	return secret?.['access-key'] && secret['secret-key'] ? {accessKey: secret['access-key'], secretKey: secret['secret-key']} : undefined;
}

export const mirrorRunCommand: Command = {
	path: ['mirror', 'run'],
	summary: 'Run the mirror now (a Job from the backup CronJob) and follow it',
	usage: `
		$ ilum-restore mirror run (--dry-run | --yes)

		Creates a Job from CronJob ${backupCronJobName} (as kubectl create job --from=cronjob/... does)
		and waits until it completes or fails.
	`,
	flags: planFlags,
	async run(context) {
		const mode = planMode(context, 'ilum-restore mirror run');
		const clients = protectionClients(context.flags);
		const ns = clients.namespace;
		const target = `mirror-run/${ns}/${backupCronJobName}`;
		refuseReadOnly(mode, {identity: clients.identity, name: 'mirror.run', target, command: 'mirror run'});
		const resume = unfinishedRun(context, mode, target, clients.identity);
		if (resume === 'abandoned') {
			return 0;
		}

		const facts: MirrorRunFacts = resume ? resume.begin.facts as MirrorRunFacts : {namespace: ns, cronJob: backupCronJobName, job: `${backupCronJobName}-manual-${Date.now().toString(36)}`};
		return (await runPlan(context, mode, {plan: mirrorRunPlan(facts, clients.deps), identity: clients.identity, checkAccess: clients.checkAccess, ...(resume ? {resume} : {})})).code;
	},
};
