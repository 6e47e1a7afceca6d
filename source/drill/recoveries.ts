/**
The recommended recovery of each scenario, as the CLI commands an operator would type (without
the binary and the connection flags). `drill run --auto` runs exactly these, through the same
engine and gates as a person would.
*/
import type {World} from './world.js';

export type RecoveryCommand = {readonly argv: readonly string[]; readonly why: string};

type State = Record<string, unknown>;

export const recoveries: Readonly<Record<string, (world: World, state: State) => readonly RecoveryCommand[]>> = {
	'bucket-wipe': () => [
		{argv: ['restore', 'mirror', '--bucket', 'ilum-data', '--yes'], why: 'copy ilum-data back from the mirror; the command holds the backup CronJob (--remove) for the duration'},
	],
	'pv-loss': (_world, state) => [
		{argv: ['restore', 'volume', String(state['lastGood']), '--yes'], why: 'put the last good VolumeSnapshot under the provider claim, after a safety snapshot of the corrupted volume'},
	],
};
