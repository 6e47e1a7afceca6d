import {once} from 'node:events';
import {usageError} from '../errors.js';
import {writeJson} from '../output.js';
import {parseClockStart} from '../drill/clock.js';
import type {Command, FlagSpec, Flags} from './command.js';

/** `--clock-start`, for every command that starts a drill world (drill serve, drill run, --drill). */
export const drillWorldFlags = {
	clockStart: {type: 'string', description: 'Simulated time the drill world opens at: ISO 8601 with a zone, or HH:MM UTC (the latest one not in the future); default now'},
} satisfies Record<string, FlagSpec>;

/** The `--clock-start` time (ms since epoch), undefined when not given; a usage error when unreadable. */
export function clockStartOption(flags: Flags): number | undefined {
	const text = flags['clockStart'] as string | undefined;
	if (text === undefined) {
		return undefined;
	}

	const start = parseClockStart(String(text));
	if (start === undefined) {
		throw usageError(`--clock-start must be an ISO 8601 time with a zone (2026-11-22T09:05:00Z) or HH:MM (UTC), not '${String(text)}'`);
	}

	return start;
}

export const drillServeCommand: Command = {
	path: ['drill', 'serve'],
	summary: 'Run the simulated Ilum cluster (Kubernetes API + S3) for kubectl, aws and this tool',
	usage: `
		$ ilum-restore drill serve [--seed N] [--objects N] [--state-dir DIR] [--clock-speed X] [--clock-start TIME]

		When ready, prints one JSON line on stdout: the kubeconfig path, the namespace and both S3
		endpoints with their credentials. Logs go to stderr. Runs until SIGINT or SIGTERM, then exits 0.
		With --state-dir the world is saved there as it changes (and on exit), and loaded from there
		on the next start. --clock-start sets the simulated time the world opens at (its day of
		history ends then; the backup CronJob fires at the simulated top of each hour), e.g. 10:05.
	`,
	flags: {
		seed: {type: 'number', default: 1, description: 'Seed of the generated world (same seed, same data)'},
		objects: {type: 'number', default: 3000, description: 'How many objects the seven buckets hold'},
		clockSpeed: {type: 'number', default: 1, description: 'Simulated seconds per real second in the drill world'},
		...drillWorldFlags,
	},
	async run({flags, stdout, stderr, signal}) {
		const seed = Number(flags['seed'] ?? 1);
		const objects = Number(flags['objects'] ?? 3000);
		const clockSpeed = Number(flags['clockSpeed'] ?? 1);
		if (!Number.isInteger(seed) || seed < 0) {
			throw usageError(`--seed must be a non-negative integer, not ${String(flags['seed'])}`);
		}

		if (!Number.isInteger(objects) || objects < 10 || objects > 1_000_000) {
			throw usageError(`--objects must be an integer from 10 to 1000000, not ${String(flags['objects'])}`);
		}

		if (!(clockSpeed > 0) || clockSpeed > 10_000) {
			throw usageError(`--clock-speed must be above 0 and at most 10000, not ${String(flags['clockSpeed'])}`);
		}

		const clockStart = clockStartOption(flags);

		// The drill world is loaded only by this command (and the console's --drill).
		const {startWorld} = await import('../drill/world.js');
		const started = performance.now();
		const world = await startWorld({
			seed,
			objects,
			clockSpeed,
			now: clockStart,
			stateDir: flags['stateDir'] as string | undefined,
			log(line) {
				stderr.write(`drill: ${line}\n`);
			},
		});
		stderr.write(`drill: world ready in ${Math.round(performance.now() - started)} ms (clock ${world.clock.iso()}): Kubernetes API ${world.kubeApiUrl}, provider S3 ${world.provider.endpoint}, backup S3 ${world.backup.endpoint}\n`);
		stderr.write(`drill: export KUBECONFIG=${world.kubeconfigPath}\n`);
		writeJson(stdout, {
			kubeconfig: world.kubeconfigPath,
			kubeApi: world.kubeApiUrl,
			namespace: world.namespace,
			context: 'drill',
			provider: world.provider,
			backup: world.backup,
			seed: world.seed,
			objects: world.objects,
			clock: world.clock.iso(),
		});
		if (!signal.aborted) {
			await once(signal, 'abort');
		}

		stderr.write('drill: stopping\n');
		await world.stop();
		return 0;
	},
};
