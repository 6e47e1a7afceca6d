import process from 'node:process';
import {KubeVolumeRestoreCluster, MutationError, type VolumeRestoreCluster} from '../cluster/mutations.js';
import {loadKubeConfig} from '../config/kube.js';
import {exitCodes, refusal, usageError, UserError} from '../errors.js';
import {buildVolumeRestorePlan, providerProbe, readVolumeRestoreFacts, restoreSourceName, withEndpoint, type VolumeRestoreFacts} from '../layers/volumes/restore-plan.js';
import type {ProviderProbe} from '../restore/bucket-summary.js';
import {abandonUnfinished} from '../restore/executor.js';
import {AuditLog} from '../restore/audit.js';
import {resolveStateDir} from '../restore/state-dir.js';
import {describeUnfinished, listUnfinished, type JournalState} from '../restore/journal.js';
import {reachProvider} from '../layers/provider-route.js';
import {s3EndpointOf} from '../storage/s3-client.js';
import type {Command, CommandContext} from './command.js';
import {ask, runPlan} from './plan-runner.js';

/**
`ilum-restore restore volume <snapshot> (--dry-run | --yes)`: put a VolumeSnapshot's data back
under the provider's claim, through the restore engine (plan, preflight, gates, journal, audit,
report). The steps are in `layers/volumes/restore-plan.ts`.
*/
export const restoreVolumeCommand: Command = {
	path: ['restore', 'volume'],
	summary: 'Restore the object-storage volume from a VolumeSnapshot (plan, gates, resume)',
	usage: `
		$ ilum-restore restore volume <snapshot> --dry-run      print the plan and the preflight; change nothing
		$ ilum-restore restore volume <snapshot> --yes          carry it out (confirms the gates)
		$ ilum-restore restore volume <snapshot>                in a terminal: show the plan, then type the claim's name to confirm
		$ ilum-restore restore volume <snapshot> --yes --resume continue an interrupted restore where it stopped
		$ ilum-restore restore volume --from-volume <pv> --yes  bind a retained volume again (the undo of a restore)

		Takes a safety snapshot of the current claim, suspends the backup CronJob, scales the
		provider to 0, keeps the old volume (Retain), recreates the claim from the snapshot, scales
		back, verifies, resumes the CronJob. Journal, audit log and report: see --state-dir.
		Exit codes: 0 restored, 1 failed (resume with --resume), 2 usage, 3 refused (nothing changed),
		130 stopped on request (Ctrl-C: the current step is finished first; resume with --resume).
	`,
	flags: {
		dryRun: {type: 'boolean', default: false, description: 'Print the plan and change nothing'},
		yes: {type: 'boolean', default: false, description: 'Carry out the plan without asking (confirms every gate)'},
		resume: {type: 'boolean', default: false, description: 'Continue the unfinished restore of the same target from its journal'},
		abandon: {type: 'boolean', default: false, description: 'Discard the unfinished restore\'s journal (the cluster is left as it is)'},
		safetySnapshot: {type: 'boolean', default: true, description: 'Take a VolumeSnapshot of the current claim first (--no-safety-snapshot to skip)'},
		fromVolume: {type: 'string', description: 'Bind this Released PersistentVolume to the claim again (e.g. the one a restore retained) instead of a snapshot'},
	},
	run: runRestoreVolume,
};

export type RestoreVolumeDeps = {
	/** Tests and the console pass their own; the CLI builds it from the kubeconfig. */
	readonly cluster?: VolumeRestoreCluster;
	readonly probe?: ProviderProbe;
};

async function runRestoreVolume(context: CommandContext, deps: RestoreVolumeDeps = {}): Promise<number> {
	const {flags, args} = context;
	const json = Boolean(flags['json']);
	const namespace = String(flags['namespace'] ?? 'ilum');
	const fromVolume = typeof flags['fromVolume'] === 'string' && flags['fromVolume'] !== '' ? flags['fromVolume'] as string : undefined;
	if (fromVolume ? args.length > 0 : args.length !== 1) {
		throw usageError(fromVolume ? 'Name either a snapshot or --from-volume, not both' : (args.length === 0 ? 'Name the VolumeSnapshot to restore' : `One snapshot at a time (got ${args.join(', ')})`), 'ilum-restore restore volume <snapshot> --dry-run (see ilum-restore inventory for the list)');
	}

	/** The snapshot, or the PersistentVolume to bind again. */
	const snapshotName = fromVolume ?? args[0]!;
	const again = fromVolume ? `--from-volume ${fromVolume}` : snapshotName;
	const dryRun = Boolean(flags['dryRun']);
	const yes = Boolean(flags['yes']);
	if (dryRun && yes) {
		throw usageError('--dry-run and --yes contradict each other', 'choose one');
	}

	if (!dryRun && !yes && !(context.interactive && !json)) {
		throw refusal('Not run: outside a terminal a restore needs --dry-run (show the plan) or --yes (carry it out)', `ilum-restore restore volume ${again} --dry-run`);
	}

	if (flags['drill'] && !flags['kubeconfig']) {
		throw usageError('restore volume works on a cluster or a running drill world', 'start one with ilum-restore drill serve and pass the kubeconfig it prints (--kubeconfig)');
	}

	const stateDir = resolveStateDir(flags['stateDir'] as string | undefined);
	const config = deps.cluster ? undefined : loadKubeConfig({kubeconfig: flags['kubeconfig'] as string | undefined, context: flags['context'] as string | undefined});
	const identity = deps.cluster?.identity ?? `${config!.getCurrentUser()?.name ?? 'unknown-user'}@${config!.getCurrentContext()}`;
	const readOnly = Boolean(flags['readOnly']);
	if (readOnly && !dryRun) {
		// Before any request: in read-only mode the cluster hears nothing from a restore.
		new AuditLog(stateDir).record({identity, action: 'restore.volume', target: `volume/${namespace}/?`, outcome: 'refused', detail: `--read-only: restore of ${snapshotName} not performed`});
		throw refusal(`Refused: --read-only is set, so restore volume ${snapshotName} changes nothing`, 'drop --read-only to restore, or add --dry-run to see the plan');
	}

	const cluster = deps.cluster ?? new KubeVolumeRestoreCluster(config!);
	const log = (line: string | undefined) => {
		if (line !== undefined) {
			context.stderr.write(line + '\n');
		}
	};

	// An unfinished restore of this namespace's provider claim: resume it, discard it, or refuse.
	const unfinished = listUnfinished(stateDir).filter(state => state.begin.kind === 'volume' && (state.begin.facts as VolumeRestoreFacts).namespace === namespace);
	let resume: JournalState | undefined;
	if (unfinished.length > 0) {
		const state = unfinished[0]!;
		const facts = state.begin.facts as VolumeRestoreFacts;
		if (flags['abandon']) {
			const moved = abandonUnfinished(stateDir, state, identity);
			log(`abandoned ${describeUnfinished(state)}; journal kept at ${moved}. The cluster was left as it is: check it (ilum-restore inventory) before restoring again.`);
			return exitCodes.ok;
		}

		if (restoreSourceName(facts) !== snapshotName) {
			const other = facts.rebind ? `--from-volume ${facts.rebind.volume}` : facts.snapshot.name;
			throw refusal(`Refused: ${describeUnfinished(state)}, from ${facts.rebind ? 'volume' : 'snapshot'} ${restoreSourceName(facts)}, not ${snapshotName}`, `finish it with ilum-restore restore volume ${other} --resume --yes, or discard its journal with --abandon`);
		}

		let wantResume = Boolean(flags['resume']);
		if (!wantResume && !dryRun && context.interactive && !yes && !json) {
			wantResume = await ask(`Found ${describeUnfinished(state)}.\nResume it where it stopped? [y/N] `) === 'y';
		}

		if (!wantResume && !dryRun) {
			throw refusal(`Refused: ${describeUnfinished(state)}`, `continue it with ilum-restore restore volume ${again} --resume ${yes ? '--yes' : ''}`.trimEnd() + ', or discard its journal with --abandon');
		}

		// A dry run shows the journaled plan, with what is already done.
		resume = wantResume || dryRun ? state : undefined;
		if (dryRun) {
			log(`note: ${describeUnfinished(state)}; --resume would continue it`);
		}
	} else if (flags['resume']) {
		throw new UserError(`No unfinished restore in namespace ${namespace} to resume (state dir ${stateDir})`, {hint: `start one with ilum-restore restore volume ${again} --dry-run`});
	} else if (flags['abandon']) {
		throw new UserError(`No unfinished restore in namespace ${namespace} to abandon (state dir ${stateDir})`);
	}

	// Without --s3-endpoint the provider is reached as the console reaches it (its in-cluster name,
	// else a port-forward through the API server), so that the restore can verify the buckets.
	const givenEndpoint = s3EndpointOf({endpoint: flags['s3Endpoint'] as string | undefined});
	const route = givenEndpoint || !config ? undefined : await reachProvider({config, namespace});
	try {
		return await restoreThrough(givenEndpoint ?? route?.endpoint);
	} finally {
		await route?.close();
	}

	async function restoreThrough(s3Endpoint: string | undefined): Promise<number> {
		let facts: VolumeRestoreFacts;
		try {
			facts = resume ? withEndpoint(resume.begin.facts as VolumeRestoreFacts, s3Endpoint) : await readVolumeRestoreFacts(cluster, {
				namespace,
				snapshot: snapshotName,
				safetySnapshot: flags['safetySnapshot'] !== false,
				s3Endpoint,
				...(fromVolume ? {fromVolume: true} : {}),
			});
		} catch (error) {
			if (error instanceof MutationError && error.status === 403) {
				throw refusal(`Refused before anything was changed: ${error.message}`, 'ask for a Role that allows it, or use --context with an identity that has it');
			}

			if (error instanceof MutationError) {
				throw new UserError(error.message, {exitCode: exitCodes.failed, hint: 'check the name (ilum-restore inventory) and the namespace (-n)'});
			}

			throw error;
		}

		const probe = deps.probe ?? (facts.s3Endpoint ? await providerProbe(cluster, namespace, facts.s3Endpoint) : undefined);
		const plan = buildVolumeRestorePlan(facts, {cluster, probe, timeouts: timeoutsFromEnv()});

		const mode = {dryRun, yes, json, readOnly, stateDir};
		return (await runPlan(context, mode, {plan, identity, checkAccess: async items => cluster.reviewAccess(items), ...(resume ? {resume} : {}), confirmLabel: 'the claim\'s name'})).code;
	}
}


/** Wait deadlines can be shortened for tests: ILUM_RESTORE_WAIT_TIMEOUT_MS. */
function timeoutsFromEnv() {
	const value = Number(process.env['ILUM_RESTORE_WAIT_TIMEOUT_MS']);
	return Number.isFinite(value) && value > 0 ? {snapshot: value, pods: value, claim: value, ready: value, provider: value} : undefined;
}
