import {usageError} from '../errors.js';
import {connectLayers} from '../layers/connect.js';
import {writeJson} from '../output.js';
import {assessPosture, parseDuration} from '../posture/assess.js';
import {formatPosture} from '../posture/format.js';
import {gatherPosture} from '../posture/gather.js';
import {resolveStateDir} from '../restore/state-dir.js';
import type {Command, CommandContext} from './command.js';
import {drillWorld, inventoryFlags} from './inventory.js';

export const doctorCommand: Command = {
	path: ['doctor'],
	summary: 'What each layer protects today, against your objective, with a fix per gap',
	usage: `
		$ ilum-restore doctor [--rpo 24h] [--keep 7d] [--json] [-n ilum] [--drill]

		Measures each layer from the live cluster and storage: PV snapshots (class, schedule, age of
		the newest ready snapshot, failures), the mirror (CronJob, runs, destination, buckets covered,
		--remove, what is not mirrored yet), table history (how far back each table can go) and what
		no layer covers (bucket policies, lifecycle rules, versioning, Secrets). Each gap comes with
		its fix as a command. Exit 0 when every layer meets the objective, 1 when a gap exists.
	`,
	flags: {
		// Where tables are looked for, as for inventory and the console.
		...inventoryFlags,
		rpo: {type: 'string', default: '24h', description: 'Most data you accept to lose: the freshest recovery point must be younger (e.g. 1h, 24h)'},
		keep: {type: 'string', default: '7d', description: 'How far back tables must stay restorable (e.g. 7d, 30d)'},
	},
	async run(context: CommandContext): Promise<number> {
		const {flags, signal, stdout} = context;
		const rpoMs = parseDuration(String(flags['rpo']));
		const keepMs = parseDuration(String(flags['keep']));
		if (!rpoMs || !keepMs) {
			throw usageError(`Cannot read ${rpoMs ? `--keep ${String(flags['keep'])}` : `--rpo ${String(flags['rpo'])}`} as a duration`, 'use a number with a unit: 90m, 24h, 7d, 2w');
		}

		const world = flags['drill'] ? await drillWorld(flags, signal) : undefined;
		const sources = await connectLayers({flags, world}).catch(async (error: unknown) => {
			await world?.close?.();
			throw error;
		});
		try {
			const facts = await gatherPosture(sources, {signal, stateDir: resolveStateDir(flags['stateDir'] as string | undefined)});
			const posture = assessPosture(facts, {rpoMs, keepMs});
			if (flags['json']) {
				writeJson(stdout, posture);
			} else {
				stdout.write(formatPosture(posture));
			}

			return posture.ok ? 0 : 1;
		} finally {
			await sources.close?.();
		}
	},
};
