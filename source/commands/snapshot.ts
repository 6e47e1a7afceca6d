import {createCluster} from '../cluster/cluster.js';
import {KubeVolumeRestoreCluster} from '../cluster/mutations.js';
import {KubeProtectionWrites} from '../cluster/protection.js';
import {loadKubeConfig} from '../config/kube.js';
import {refusal, usageError, UserError} from '../errors.js';
import {reachProvider, type ProviderRoute} from '../layers/provider-route.js';
import {providerProbe} from '../layers/volumes/restore-plan.js';
import {volumeInventory, type ProviderVolume} from '../layers/volumes/volume-inventory.js';
import {parseDuration} from '../posture/assess.js';
import {snapshotClassPlan, snapshotCreatePlan, snapshotSchedulePlan, type FixDeps, type SnapshotCreateFacts} from '../posture/fixes.js';
import {cronFor} from '../posture/manifests.js';
import {abandonUnfinished} from '../restore/executor.js';
import {findUnfinished} from '../restore/journal.js';
import {s3EndpointOf} from '../storage/s3-client.js';
import type {Command, CommandContext, Flags} from './command.js';
import {planFlags, planMode, refuseReadOnly, runPlan, unfinishedRun, type PlanMode} from './plan-runner.js';

/** The clients a protection action needs, from the kube context. */
export function protectionClients(flags: Flags) {
	const config = loadKubeConfig({kubeconfig: flags['kubeconfig'] as string | undefined, context: flags['context'] as string | undefined});
	const cluster = new KubeVolumeRestoreCluster(config);
	const waitOverride = Number(process.env['ILUM_RESTORE_WAIT_TIMEOUT_MS']);
	const deps: FixDeps = {writes: new KubeProtectionWrites(config), cluster, ...(waitOverride > 0 ? {timeoutMs: waitOverride} : {})};
	return {config, deps, reads: createCluster(config), namespace: String(flags['namespace'] ?? 'ilum'), identity: cluster.identity, checkAccess: async (items: Parameters<typeof cluster.reviewAccess>[0]) => cluster.reviewAccess(items)};
}

/** The provider's volume, or one line saying why it was not found. */
async function providerVolume(clients: ReturnType<typeof protectionClients>): Promise<ProviderVolume> {
	const inventory = await volumeInventory(clients.reads, clients.namespace);
	if (!inventory.provider) {
		throw new UserError(`No object-storage volume found in namespace ${clients.namespace}`, {hint: 'check -n, or label the provider\'s claim app.kubernetes.io/name=rustfs'});
	}

	return inventory.provider;
}

const stamp = (date = new Date()) => date.toISOString().replaceAll(/[-:T]/g, '').slice(0, 14);

async function guarded(context: CommandContext, mode: PlanMode, clients: ReturnType<typeof protectionClients>, action: {name: string; target: string; command: string}) {
	refuseReadOnly(mode, {identity: clients.identity, ...action});
	return unfinishedRun(context, mode, action.target, clients.identity);
}

export const snapshotClassCreateCommand: Command = {
	path: ['snapshot', 'class', 'create'],
	summary: 'Create the VolumeSnapshotClass for the provider volume\'s CSI driver',
	usage: `
		$ ilum-restore snapshot class create [--class-name ilum-objectstorage-snapshots] [--deletion-policy Retain] (--dry-run | --yes)

		Reads the CSI driver of the provider's volume and creates a class for it, as the runbook gives it.
	`,
	flags: {
		...planFlags,
		className: {type: 'string', default: 'ilum-objectstorage-snapshots', description: 'Name of the VolumeSnapshotClass to create'},
		deletionPolicy: {type: 'string', default: 'Retain', description: 'Retain (keeps snapshot data when a VolumeSnapshot is deleted) or Delete'},
	},
	async run(context) {
		const mode = planMode(context, 'ilum-restore snapshot class create');
		const policy = String(context.flags['deletionPolicy']);
		if (policy !== 'Retain' && policy !== 'Delete') {
			throw usageError(`--deletion-policy must be Retain or Delete, not ${policy}`);
		}

		const clients = protectionClients(context.flags);
		const name = String(context.flags['className']);
		const resume = await guarded(context, mode, clients, {name: 'snapshot.class', target: `volumesnapshotclass/${name}`, command: 'snapshot class create'});
		if (resume === 'abandoned') {
			return 0;
		}

		const facts = resume ? resume.begin.facts as {name: string; driver: string; deletionPolicy: 'Retain' | 'Delete'} : {name, driver: await driverOf(clients), deletionPolicy: policy as 'Retain' | 'Delete'};
		return (await runPlan(context, mode, {plan: snapshotClassPlan(facts, clients.deps), identity: clients.identity, checkAccess: clients.checkAccess, ...(resume ? {resume} : {})})).code;
	},
};

async function driverOf(clients: ReturnType<typeof protectionClients>): Promise<string> {
	const provider = await providerVolume(clients);
	if (!provider.driver) {
		throw new UserError(`The CSI driver of claim ${provider.claim} is unknown (no CSI volume and no StorageClass provisioner)`, {hint: 'the volume must be provisioned by a CSI driver to be snapshotted'});
	}

	return provider.driver;
}

export const snapshotCreateCommand: Command = {
	path: ['snapshot', 'create'],
	summary: 'Take a VolumeSnapshot of the provider volume now (--quiesce: application-consistent)',
	usage: `
		$ ilum-restore snapshot create [--quiesce] (--dry-run | --yes)

		Takes a VolumeSnapshot of the provider's claim and waits until it is ready. --quiesce pauses
		writes first by scaling the provider to 0 (every writer goes through it), and scales it back
		afterwards, also when interrupted (Ctrl-C: at once; a killed run: --resume or --abandon).
		It lists the provider's buckets just before the cut and writes their objects and bytes on the
		snapshot (ilum.cloud/bucket-summary): a restore from it then verifies exactly that every bucket
		came back. The provider is reached at --s3-endpoint (or AWS_ENDPOINT_URL), else as the console
		reaches it (its in-cluster name, else a port-forward through the API server).
	`,
	flags: {
		...planFlags,
		quiesce: {type: 'boolean', default: false, description: 'Pause writes (scale the provider to 0) for an application-consistent snapshot'},
	},
	async run(context) {
		const mode = planMode(context, 'ilum-restore snapshot create');
		const clients = protectionClients(context.flags);
		const ns = clients.namespace;
		const provider = await providerVolume(clients);
		const target = `snapshot/${ns}/${provider.claim}`;
		refuseReadOnly(mode, {identity: clients.identity, name: 'snapshot.create', target, command: 'snapshot create'});
		const unfinished = findUnfinished(mode.stateDir, target);
		if (unfinished && context.flags['abandon']) {
			// Abandoning a paused snapshot must not leave the writers paused.
			await resumeWriters(context, clients, unfinished.begin.facts as SnapshotCreateFacts);
		}

		const resume = unfinishedRun(context, mode, target, clients.identity);
		if (resume === 'abandoned') {
			return 0;
		}

		const given = s3EndpointOf({endpoint: context.flags['s3Endpoint'] as string | undefined});
		// No endpoint given: the provider as the console reaches it (closed when the command ends).
		// Finding no way is not a reason to take no snapshot: it is taken without the summary (the plan says so).
		const route = given ? undefined : await reachProvider({config: clients.config, namespace: ns}).catch((error: unknown) => {
			context.stderr.write(`ilum-restore: no way to the provider's S3 endpoint (${error instanceof Error ? error.message.split('\n')[0] : String(error)})\n`);
			return undefined;
		});
		try {
			const endpoint = given ?? route?.endpoint;
			if (route?.problem) {
				context.stderr.write(`ilum-restore: ${route.problem}\n`);
			} else if (route) {
				context.stderr.write(`ilum-restore: provider ${route.describe()}\n`);
			}

			let facts: SnapshotCreateFacts;
			if (resume) {
				// The snapshot carries a summary of the provider's buckets (what a restore from it verifies
				// against) when the journaled run knew an endpoint: listed where the provider is now.
				const journaled = resume.begin.facts as SnapshotCreateFacts;
				facts = journaled.s3Endpoint && endpoint ? {...journaled, s3Endpoint: endpoint} : journaled;
			} else {
				const classes = await clients.deps.cluster.listVolumeSnapshotClasses();
				const forDriver = classes.filter(item => item.driver === provider.driver);
				const chosen = forDriver.find(item => item.metadata.annotations?.['snapshot.storage.kubernetes.io/is-default-class'] === 'true') ?? forDriver[0];
				if (!chosen && !mode.dryRun) {
					throw refusal(`No VolumeSnapshotClass for driver ${provider.driver ?? '(unknown)'}: a snapshot cannot be taken`, `ilum-restore snapshot class create -n ${ns} --yes`);
				}

				let quiesce: SnapshotCreateFacts['quiesce'];
				if (context.flags['quiesce']) {
					if (!provider.statefulSet) {
						throw refusal(`--quiesce: no StatefulSet owns claim ${provider.claim}, so writes cannot be paused`, 'take a crash-consistent snapshot without --quiesce');
					}

					const statefulSet = await clients.deps.cluster.getStatefulSet(ns, provider.statefulSet);
					const labels = statefulSet?.spec?.selector?.matchLabels ?? {};
					const replicas = statefulSet?.spec?.replicas ?? 1;
					if (replicas === 0) {
						throw refusal(`--quiesce: StatefulSet ${provider.statefulSet} already runs 0 replicas, so there are no writes to pause`, 'take the snapshot without --quiesce');
					}

					quiesce = {statefulSet: provider.statefulSet, replicas, selector: Object.entries(labels).map(([key, value]) => `${key}=${value}`).join(',')};
				}

				facts = {namespace: ns, name: `${provider.claim}-${stamp()}`, claim: provider.claim, ...(chosen?.metadata.name ? {className: chosen.metadata.name} : {}), ...(quiesce ? {quiesce} : {}), ...(endpoint ? {s3Endpoint: endpoint} : {})};
			}

			// Messages name the way taken (`port-forward ilum/svc/ilum-objectstorage:9000 -> pod ...`), not a local port.
			const probe = facts.s3Endpoint ? await providerProbe(clients.deps.cluster, ns, facts.s3Endpoint, route && route.endpoint === facts.s3Endpoint ? route.describe() : undefined) : undefined;
			const result = await runPlan(context, mode, {plan: snapshotCreatePlan(facts, {...clients.deps, ...(probe ? {probe} : {})}), identity: clients.identity, checkAccess: clients.checkAccess, ...(resume ? {resume} : {})});
			if (!mode.dryRun && result.report && result.report.outcome !== 'succeeded' && result.report.outcome !== 'refused' && facts.quiesce) {
				// Interrupted or failed between the pause and the end: writers come back now, and the
				// run is closed (resuming it later would snapshot a provider that is writing again).
				await resumeWriters(context, clients, facts);
				const state = findUnfinished(mode.stateDir, target);
				if (state) {
					abandonUnfinished(mode.stateDir, state, clients.identity);
				}
			}

			return result.code;
		} finally {
			await route?.close();
		}
	},
};

async function resumeWriters(context: CommandContext, clients: ReturnType<typeof protectionClients>, facts: SnapshotCreateFacts): Promise<void> {
	if (!facts.quiesce) {
		return;
	}

	const current = await clients.deps.cluster.getStatefulSet(facts.namespace, facts.quiesce.statefulSet);
	if (current?.spec?.replicas !== facts.quiesce.replicas) {
		await clients.deps.cluster.scaleStatefulSet(facts.namespace, facts.quiesce.statefulSet, facts.quiesce.replicas);
		context.stderr.write(`writers resumed: StatefulSet ${facts.quiesce.statefulSet} scaled back to ${facts.quiesce.replicas}\n`);
	}
}

export const snapshotScheduleInstallCommand: Command = {
	path: ['snapshot', 'schedule', 'install'],
	summary: 'Install a CronJob that snapshots the provider volume on a schedule, keeping N',
	usage: `
		$ ilum-restore snapshot schedule install [--every 1h] [--retain 24] (--dry-run | --yes)

		Installs a CronJob (with its own ServiceAccount, and a Role that may only create, list and
		delete VolumeSnapshots) taking a snapshot of the provider's claim every --every and deleting
		its own oldest beyond --retain.
	`,
	flags: {
		...planFlags,
		every: {type: 'string', default: '1h', description: 'How often: 15m, 30m, 1h, 6h, 1d'},
		retain: {type: 'number', default: 24, description: 'How many scheduled snapshots to keep'},
		scheduleName: {type: 'string', default: 'ilum-objectstorage-snapshots', description: 'Name of the CronJob, ServiceAccount, Role and RoleBinding'},
	},
	async run(context) {
		const mode = planMode(context, 'ilum-restore snapshot schedule install');
		const everyMs = parseDuration(String(context.flags['every']));
		const schedule = everyMs ? cronFor(everyMs) : undefined;
		if (!schedule) {
			throw usageError(`Cannot schedule every ${String(context.flags['every'])}`, 'use minutes dividing an hour (15m, 30m), hours dividing a day (1h, 6h), or 1d');
		}

		const retain = Number(context.flags['retain']);
		if (!Number.isInteger(retain) || retain < 1) {
			throw usageError('--retain must be a whole number of at least 1');
		}

		const clients = protectionClients(context.flags);
		const name = String(context.flags['scheduleName']);
		const resume = await guarded(context, mode, clients, {name: 'snapshot.schedule', target: `snapshot-schedule/${clients.namespace}/${name}`, command: 'snapshot schedule install'});
		if (resume === 'abandoned') {
			return 0;
		}

		let facts;
		if (resume) {
			facts = resume.begin.facts as Parameters<typeof snapshotSchedulePlan>[0];
		} else {
			const provider = await providerVolume(clients);
			const classes = await clients.deps.cluster.listVolumeSnapshotClasses();
			const chosen = classes.find(item => item.driver === provider.driver);
			if (!chosen) {
				throw refusal(`No VolumeSnapshotClass for driver ${provider.driver ?? '(unknown)'}: a schedule would only fail`, `ilum-restore snapshot class create -n ${clients.namespace} --yes`);
			}

			facts = {namespace: clients.namespace, name, schedule, claim: provider.claim, snapshotClass: chosen.metadata.name!, retain};
		}

		return (await runPlan(context, mode, {plan: snapshotSchedulePlan(facts, clients.deps), identity: clients.identity, checkAccess: clients.checkAccess, ...(resume ? {resume} : {})})).code;
	},
};
