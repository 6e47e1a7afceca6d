import type {Command} from './command.js';

/**
`restore mirror`: the command's description and flags. The work (and its modules: the S3 client,
the copy engine, the Kubernetes client) is loaded only when the command runs
(`restore-mirror-run.ts`), so other commands do not pay for it at start-up.
*/
const backupCronJobName = 'ilum-objectstorage-backup';

const usage = `
	$ ilum-restore restore mirror [--bucket B ...] [--prefix P] [--remove] [--overwrite-changed] (--dry-run | --yes) [--json]
	$ ilum-restore restore mirror --in-cluster [--keep-jobs] [--bucket B ...] (--dry-run | --yes) [--json]

	Copies back from the off-cluster mirror into the provider what the provider lacks: a plan per
	bucket (copy, overwrite, delete, skip), then a streaming copy (metadata preserved, multipart for
	large objects, retries, SlowDown backoff), then a verification drift per bucket. Resumable:
	run it again after an interruption and it copies only what is still missing or different.
	It runs on the guided-restore engine: journal (resume), audit log, report, typed gates
	('restore', and 'delete N' with --remove).

	The backup CronJob (${backupCronJobName}) is suspended for the duration and resumed at the
	end if it was active; a bucket-init Job that has not finished makes it refuse (exit 3), as does
	an empty mirror bucket whose provider bucket is not empty.

	Endpoints and credentials: the provider from --s3-endpoint or AWS_ENDPOINT_URL, else as the
	console finds it (the Service's in-cluster name, else a port-forward through the API server,
	named on stderr and closed at the end), with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY when set, else the Secret
	ilum-objectstorage-credentials; the mirror from --mirror-endpoint, MIRROR_ENDPOINT_URL or the
	Secret ilum-backup-credentials, with MIRROR_ACCESS_KEY_ID / MIRROR_SECRET_ACCESS_KEY when set,
	else that Secret's keys, else the provider's.
	The cluster (for the Secrets, the CronJob and the Jobs) from --kubeconfig / KUBECONFIG /
	~/.kube/config when there is one; without a cluster those safety steps are skipped (said on stderr).

	--in-cluster: the copy runs next to the data as Kubernetes Jobs (one per bucket, the runbook's
	minio/mc image running mc mirror --preserve from the mirror into the provider, credentials from
	the Secrets), followed from here (pod phases, logs). A rerun follows the run's Jobs (a failed one
	is retried); Ctrl-C deletes them unless --keep-jobs. Verified from here when both endpoints are
	reachable from here, else by the Jobs' exit status only.

	Exit codes: 0 restored, 1 failed, 2 usage, 3 refused (nothing changed), 130 stopped on request
	(Ctrl-C: the objects copied so far stay). After 1 or 130 the same command again continues the run.

	Examples
	  $ ilum-restore restore mirror --bucket ilum-data --dry-run
	  $ ilum-restore restore mirror --yes --json
	  $ ilum-restore restore mirror --yes --resume            continue an interrupted run (--abandon discards its journal)
	  $ ilum-restore restore mirror --in-cluster --bucket ilum-data --yes
`;

/** Flags of this command. `dryRun` and `yes` have the same meaning in every restore command. */
const flags = {
	bucket: {type: 'string', isMultiple: true, description: 'Bucket to restore (repeatable; default: every bucket on the mirror)'},
	prefix: {type: 'string', description: 'Only keys under this prefix, in every bucket'},
	remove: {type: 'boolean', default: false, description: 'Also delete from the provider what the mirror does not have'},
	overwriteChanged: {type: 'boolean', default: false, description: 'Replace provider objects that differ from the mirror'},
	dryRun: {type: 'boolean', default: false, description: 'Print the plan and change nothing'},
	yes: {type: 'boolean', default: false, description: 'Proceed without asking (required outside a terminal)'},
	resume: {type: 'boolean', default: false, description: 'Continue the unfinished restore of the same target from its journal'},
	abandon: {type: 'boolean', default: false, description: 'Discard the unfinished restore\'s journal (the cluster is left as it is)'},
	mirrorEndpoint: {type: 'string', description: 'S3 endpoint of the mirror (default: $MIRROR_ENDPOINT_URL or the Secret ilum-backup-credentials)'},
	mirrorRoot: {type: 'string', description: 'Where buckets sit on the mirror, as bucket[/prefix]: bucket B is read from <root>/B/ (default: bucket B)'},
	concurrency: {type: 'number', default: 32, description: 'Objects copied in parallel'},
	skipVerify: {type: 'boolean', default: false, description: 'Do not re-compare the buckets after copying'},
	inCluster: {type: 'boolean', default: false, description: 'Copy with Kubernetes Jobs in the cluster (one per bucket, mc mirror --preserve), followed from here'},
	keepJobs: {type: 'boolean', default: false, description: 'With --in-cluster: on Ctrl-C leave the Jobs running (default: delete them)'},
} as const;

export const restoreMirror: Command = {
	path: ['restore', 'mirror'],
	summary: 'Copy the off-cluster mirror back into the provider (plan, copy, verify)',
	usage,
	flags,
	async run(context) {
		if (context.flags['inCluster']) {
			const {runRestoreMirrorInCluster} = await import('./restore-mirror-in-cluster.js');
			return runRestoreMirrorInCluster(context);
		}

		const {runRestoreMirror} = await import('./restore-mirror-run.js');
		return runRestoreMirror(context);
	},
};
