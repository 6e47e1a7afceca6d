import type {V1Container, V1CronJob, V1Job} from '@kubernetes/client-node';

/** The Secret the chart's backup CronJob takes the mirror's endpoint and credentials from. */
export const backupSecretName = 'ilum-backup-credentials';

/** A run of the backup CronJob (one Job). */
export type MirrorRun = {
	readonly name: string;
	readonly startedAt?: string;
	readonly finishedAt?: string;
	readonly outcome: 'succeeded' | 'failed' | 'running';
};

/** Where the mirror goes, as far as it can be read without showing credentials. */
export type MirrorDestination = {
	/** The mirror's S3 endpoint (userinfo stripped). */
	readonly endpoint?: string;
	/** `dst/ilum-backup` style targets found in the command, or a bucket prefix. */
	readonly target?: string;
	readonly secretName: string;
	/** Names of the Secret's keys (never their values); undefined when it could not be read. */
	readonly secretKeys?: readonly string[];
	/** Why the Secret could not be read (RBAC, missing). */
	readonly secretProblem?: string;
};

/** The backup CronJob, read from the cluster. */
export type BackupCron = {
	readonly name: string;
	readonly namespace: string;
	readonly schedule: string;
	readonly suspended: boolean;
	readonly lastScheduleTime?: string;
	readonly lastSuccessfulTime?: string;
	/** The mirror deletes on the target what is gone from the source (`mc mirror --remove`, `rclone sync`). */
	readonly remove: boolean;
	readonly tool: 'mc' | 'rclone' | 'aws' | 'unknown';
	/** The container's command line, with anything that looks like a credential masked. */
	readonly command: string;
	/** Buckets named in the command (empty: all). */
	readonly buckets: readonly string[];
	readonly destination: MirrorDestination;
	/** Newest first. */
	readonly runs: readonly MirrorRun[];
};

const credentialPattern = /(secret|password|token|key)[=:]\S+/gi;

/** Masks credentials in a command line or URL: `https://user:pass@host` and `--secret=...`. */
export function maskCredentials(text: string): string {
	return text
		.replaceAll(/(\w+:\/\/)[^\s/@]+(?::[^\s/@]*)?@/g, '$1***@')
		.replaceAll(credentialPattern, (match: string) => match.replace(/([=:]).*$/, '$1***'));
}

function commandLine(container: V1Container | undefined): string {
	return [...(container?.command ?? []), ...(container?.args ?? [])].join(' ');
}

function isBackupContainer(container: V1Container): boolean {
	const line = commandLine(container);
	const usesSecret = [...(container.env ?? []).map(env => env.valueFrom?.secretKeyRef?.name), ...(container.envFrom ?? []).map(source => source.secretRef?.name)].includes(backupSecretName);
	return usesSecret || /\bmc\b.*\bmirror\b|\brclone\b.*\b(sync|copy)\b|\baws\b.*\bs3\b.*\bsync\b/.test(line);
}

/** The CronJob that mirrors the provider: it uses `ilum-backup-credentials` or runs `mc mirror` / `rclone sync`. */
export function findBackupCronJob(cronJobs: readonly V1CronJob[]): V1CronJob | undefined {
	const containers = (cronJob: V1CronJob) => cronJob.spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];
	return cronJobs.find(cronJob => containers(cronJob).some(container => isBackupContainer(container)));
}

function toolOf(line: string): BackupCron['tool'] {
	if (/\bmc\b/.test(line)) {
		return 'mc';
	}

	if (/\brclone\b/.test(line)) {
		return 'rclone';
	}

	return /\baws\b/.test(line) ? 'aws' : 'unknown';
}

function isoTime(value: unknown): string | undefined {
	if (!value) {
		return undefined;
	}

	const date = new Date(value as string);
	return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The endpoint part of `https://key:secret@host:port`, or a plain URL. */
function endpointOf(value: string | undefined): string | undefined {
	if (!value) {
		return undefined;
	}

	const match = /(\w+:\/\/)(?:[^\s/@]+@)?([^\s/]+)/.exec(value);
	return match ? `${match[1]}${match[2]}` : undefined;
}

/** Runs of a CronJob: Jobs it owns, newest first. */
export function runsOf(cronJob: V1CronJob, jobs: readonly V1Job[]): MirrorRun[] {
	const name = cronJob.metadata?.name;
	return jobs
		.filter(job => job.metadata?.ownerReferences?.some(owner => owner.kind === 'CronJob' && owner.name === name) ?? job.metadata?.name?.startsWith(`${name}-`))
		.map(job => {
			const failed = job.status?.conditions?.some(condition => condition.type === 'Failed' && condition.status === 'True') ?? false;
			const complete = job.status?.conditions?.some(condition => condition.type === 'Complete' && condition.status === 'True') ?? false;
			return {
				name: job.metadata?.name ?? '',
				startedAt: isoTime(job.status?.startTime ?? job.metadata?.creationTimestamp),
				finishedAt: isoTime(job.status?.completionTime ?? job.status?.conditions?.find(condition => condition.type === 'Failed')?.lastTransitionTime),
				outcome: complete || (job.status?.succeeded ?? 0) > 0 ? 'succeeded' as const : failed ? 'failed' as const : 'running' as const,
			};
		})
		.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
}

/**
Reads the backup CronJob: schedule, suspension, last schedule and success, whether its mirror
deletes (`--remove`), and the destination from its command, env and the Secret's non-secret
keys. Pure: `secret` is the decoded Secret (its values are only searched for an endpoint).
*/
export function describeBackupCron(cronJob: V1CronJob, options: {jobs?: readonly V1Job[]; secret?: Readonly<Record<string, string>>; secretProblem?: string} = {}): BackupCron {
	const containers = cronJob.spec?.jobTemplate?.spec?.template?.spec?.containers ?? [];
	const container = containers.find(candidate => isBackupContainer(candidate)) ?? containers[0];
	const line = commandLine(container);
	const tool = toolOf(line);
	const remove = /--remove\b/.test(line) || (tool === 'rclone' && /\bsync\b/.test(line)) || (tool === 'aws' && /--delete\b/.test(line));
	// `mc mirror [flags] src/<bucket> dst/<bucket>[/<prefix>]`: the sources are the first of each pair.
	const words = line.split(/\s+/);
	const buckets = words.flatMap((word, index) => {
		const source = /^[\w-]+\/([\w.-]+)\/?$/.exec(word);
		const next = words[index + 1];
		return source && next && /^[\w-]+\/[\w.-]+/.test(next) && !/^[\w-]+\/[\w.-]+/.test(words[index - 1] ?? '') ? [source[1]!] : [];
	}).filter((bucket, index, all) => all.indexOf(bucket) === index);
	const env = container?.env ?? [];
	const fromEnv = env.find(variable => /ENDPOINT|MC_HOST|_URL$/i.test(variable.name) && variable.value && !/source|src|provider/i.test(variable.name))?.value;
	const fromSecret = options.secret ? Object.entries(options.secret).find(([key]) => /endpoint|url|host/i.test(key) && !/source|src/i.test(key))?.[1] : undefined;
	const target = /\s(\S+\/\S*)\s*$/.exec(line)?.[1];
	const runs = runsOf(cronJob, options.jobs ?? []);
	return {
		name: cronJob.metadata?.name ?? '',
		namespace: cronJob.metadata?.namespace ?? '',
		schedule: cronJob.spec?.schedule ?? '',
		suspended: cronJob.spec?.suspend === true,
		lastScheduleTime: isoTime(cronJob.status?.lastScheduleTime),
		lastSuccessfulTime: isoTime(cronJob.status?.lastSuccessfulTime) ?? runs.find(run => run.outcome === 'succeeded')?.finishedAt,
		remove,
		tool,
		command: maskCredentials(line),
		buckets,
		destination: {
			endpoint: endpointOf(fromSecret) ?? endpointOf(fromEnv),
			target: target ? maskCredentials(target) : undefined,
			secretName: backupSecretName,
			secretKeys: options.secret ? Object.keys(options.secret).sort() : undefined,
			secretProblem: options.secretProblem,
		},
		runs,
	};
}

const fieldRanges = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 7]] as const;

function parseField(field: string, [min, max]: readonly [number, number]): Set<number> | undefined {
	const values = new Set<number>();
	for (const part of field.split(',')) {
		const [range, stepText] = part.split('/');
		const step = stepText ? Number(stepText) : 1;
		let from = min;
		let to = max;
		if (range !== '*') {
			const [a, b] = range!.split('-').map(Number);
			from = a!;
			to = b ?? (stepText ? max : a!);
		}

		if (![from, to, step].every(Number.isInteger) || step < 1) {
			return undefined;
		}

		for (let value = from; value <= to; value += step) {
			values.add(value);
		}
	}

	return values;
}

const macros: Record<string, string> = {'@hourly': '0 * * * *', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@weekly': '0 0 * * 0', '@monthly': '0 0 1 * *', '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *'};

/**
The longest gap between two runs of a cron schedule (UTC, five fields or a macro), in ms; scanned
over a week of minutes. Undefined for schedules it cannot read (then no staleness hazard is raised).
*/
export function scheduleIntervalMs(schedule: string): number | undefined {
	const fields = (macros[schedule.trim()] ?? schedule).trim().split(/\s+/);
	if (fields.length !== 5) {
		return undefined;
	}

	const sets = fields.map((field, index) => parseField(field, fieldRanges[index]!));
	if (sets.some(set => !set || set.size === 0)) {
		return undefined;
	}

	const [minutes, hours, days, months, weekdays] = sets as Array<Set<number>>;
	if (weekdays!.has(7)) {
		weekdays!.add(0);
	}

	const start = Date.UTC(2024, 0, 1);
	let previous: number | undefined;
	let longest = 0;
	const span = 35 * 24 * 60;
	for (let minute = 0; minute < span; minute++) {
		const time = new Date(start + (minute * 60_000));
		if (minutes!.has(time.getUTCMinutes()) && hours!.has(time.getUTCHours()) && days!.has(time.getUTCDate()) && months!.has(time.getUTCMonth() + 1) && weekdays!.has(time.getUTCDay())) {
			if (previous !== undefined) {
				longest = Math.max(longest, time.getTime() - previous);
			}

			previous = time.getTime();
		}
	}

	return longest > 0 ? longest : undefined;
}
