import type {Command} from './command.js';

/** A subcommand's words, and how to load it: only the command that runs is loaded. */
export type CommandEntry = {
	readonly path: readonly string[];
	load(): Promise<Command>;
};

/**
Every subcommand, in the order `--help` lists them. Adding one is a file and a line here.
Loading is lazy: `history` never pays for the Kubernetes client, `--version` for nothing at all.
*/
export const commands: readonly CommandEntry[] = [
	{path: ['inventory'], load: async () => (await import('./inventory.js')).inventoryCommand},
	{path: ['history'], load: async () => (await import('./history.js')).historyCommand},
	{path: ['restore', 'table'], load: async () => (await import('./restore-table.js')).restoreTableCommand},
	{path: ['restore', 'mirror'], load: async () => (await import('./restore-mirror.js')).restoreMirror},
	{path: ['restore', 'volume'], load: async () => (await import('./restore-volume.js')).restoreVolumeCommand},
	{path: ['doctor'], load: async () => (await import('./doctor.js')).doctorCommand},
	{path: ['snapshot', 'create'], load: async () => (await import('./snapshot.js')).snapshotCreateCommand},
	{path: ['snapshot', 'class', 'create'], load: async () => (await import('./snapshot.js')).snapshotClassCreateCommand},
	{path: ['snapshot', 'schedule', 'install'], load: async () => (await import('./snapshot.js')).snapshotScheduleInstallCommand},
	{path: ['mirror', 'install'], load: async () => (await import('./mirror-setup.js')).mirrorInstallCommand},
	{path: ['mirror', 'run'], load: async () => (await import('./mirror-setup.js')).mirrorRunCommand},
	{path: ['buckets', 'export'], load: async () => (await import('./buckets.js')).bucketsExportCommand},
	{path: ['buckets', 'import'], load: async () => (await import('./buckets.js')).bucketsImportCommand},
	{path: ['rbac'], load: async () => (await import('./rbac.js')).rbacCommand},
	{path: ['drill', 'serve'], load: async () => (await import('./drill-serve.js')).drillServeCommand},
	{path: ['drill', 'list'], load: async () => (await import('./drill-run.js')).drillListCommand},
	{path: ['drill', 'run'], load: async () => (await import('./drill-run.js')).drillRunCommand},
];

/** The entry whose words start the input (the longest such), if any. */
export function findCommand(input: readonly string[]): CommandEntry | undefined {
	const matches = commands.filter(command => command.path.every((word, index) => input[index] === word));
	return matches.sort((a, b) => b.path.length - a.path.length)[0];
}
