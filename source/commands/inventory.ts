import type {Command, CommandContext, FlagSpec, Flags} from './command.js';
import {writeJson} from '../output.js';
import {exitCodes, UserError} from '../errors.js';
import {ClusterError} from '../cluster/cluster-errors.js';
import {connectLayers, type ConnectOptions} from '../layers/connect.js';
import {gatherInventory, type Inventory} from '../layers/inventory.js';
import {bucketColumns, bucketRow, snapshotColumns, snapshotRow, tableColumns, tableRow} from '../ui/presenters/rows.js';
import {renderHeader, renderRow, type Column} from '../ui/presenters/columns.js';
import {formatAge} from '../ui/presenters/format.js';
import {clockStartOption, drillWorldFlags} from './drill-serve.js';

/** Flags shared by `inventory` and the console (cli.tsx merges every command's flags). */
export const inventoryFlags = {
	icebergCatalog: {type: 'string', isMultiple: true, description: 'Iceberg REST catalog URL whose tables to list (repeatable)'},
	tablesBucket: {type: 'string', isMultiple: true, default: ['ilum-tables'], description: 'Bucket (or s3://bucket/prefix) searched for Delta and Iceberg tables (repeatable)'},
	ducklakeCatalog: {type: 'string', isMultiple: true, description: 'DuckLake catalog (ducklake:...) whose tables to list (repeatable)'},
	mirrorEndpoint: {type: 'string', description: 'S3 endpoint of the mirror (default: $MIRROR_ENDPOINT_URL or the Secret ilum-backup-credentials)'},
	mirrorRoot: {type: 'string', description: 'Where buckets sit on the mirror, as bucket[/prefix] (default: as the backup CronJob names them)'},
	...drillWorldFlags,
} satisfies Record<string, FlagSpec>;

/** Starts the drill world in-process for `--drill` (only commands may import drill). */
export async function drillWorld(flags: Flags, signal: AbortSignal): Promise<ConnectOptions['world']> {
	const module = await import('../drill/world.js');
	signal.throwIfAborted();

	const world = await module.startWorld({stateDir: flags['stateDir'], now: clockStartOption(flags)});
	return {
		kubeconfig: world.kubeconfigPath,
		s3Endpoint: world.provider.endpoint,
		mirrorEndpoint: world.backup.endpoint,
		close: async () => world.stop(),
	};
}

const section = (title: string, columns: readonly Column[], rows: string[][], extra: readonly string[] = []) => {
	// Text output is not cut: every column is as wide as its widest cell.
	const fitted = columns.map((column, index) => ({...column, grow: false, width: Math.max(column.header.length, ...rows.map(row => (row[index] ?? '').length))}));
	const widths = fitted.map(column => column.width);
	return [`${title}`, ...extra.map(line => `  ${line}`), `  ${renderHeader(fitted, widths).trimEnd()}`, ...rows.map(row => `  ${renderRow(row, fitted, widths).trimEnd()}`), ''].join('\n');
};

/** The readable summary (without --json). */
export function formatInventory(inventory: Inventory, now: number): string {
	const parts: string[] = [];
	if (inventory.hazards.length > 0) {
		parts.push(['Hazards', ...inventory.hazards.map(hazard => `  ${hazard.severity === 'critical' ? 'CRITICAL' : 'warning '} ${hazard.title}\n           fix: ${hazard.fix}`), ''].join('\n'));
	} else {
		parts.push('Hazards\n  none\n');
	}

	const {volumes} = inventory;
	if ('error' in volumes) {
		parts.push(`Volume snapshots\n  ${volumes.error}\n`);
	} else {
		const checks = volumes.checks.map(check => `${check.ok ? 'ok  ' : check.warning ? 'warn' : 'FAIL'} ${check.title}: ${check.detail}${check.fix && !check.ok ? ` -> ${check.fix}` : ''}`);
		parts.push(section(`Volume snapshots (claim ${volumes.provider?.claim ?? 'not found'})`, snapshotColumns, volumes.snapshots.map(item => [...snapshotRow(item, now).slice(0, 1).map(name => name + (item.ofProvider ? '' : ' (other claim)')), ...snapshotRow(item, now).slice(1)]), [...checks, ...volumes.errors]));
	}

	const {mirrors} = inventory;
	const cron = mirrors.cron;
	const cronLines = cron
		? [`CronJob ${cron.name}: ${cron.schedule}${cron.suspended ? ', suspended' : ''}${cron.remove ? ', with --remove' : ''}; last run ${formatAge(cron.lastScheduleTime, now)} ago, last success ${cron.lastSuccessfulTime ? `${formatAge(cron.lastSuccessfulTime, now)} ago` : 'never'}`, `to ${cron.destination.endpoint ?? '(endpoint unknown)'} ${cron.destination.target ?? ''}`.trimEnd()]
		: [mirrors.cronProblem ?? 'no backup CronJob'];
	if (mirrors.provider) {
		const way = mirrors.provider.via ?? mirrors.provider.endpoint ?? '';
		cronLines.push(`provider ${way}${mirrors.provider.reachable ? '' : ` does not answer: ${mirrors.provider.error ?? ''}`}`.trimEnd());
	}

	if (mirrors.compareProblem) {
		cronLines.push(`buckets not compared: ${mirrors.compareProblem}`);
	}

	parts.push(section('Mirrors', bucketColumns, mirrors.buckets.map(figures => bucketRow(figures, now)), cronLines));
	parts.push(section('Tables', tableColumns, inventory.tables.tables.map(item => tableRow(item, now)), inventory.tables.errors));
	return parts.join('\n');
}

export const inventoryCommand: Command = {
	path: ['inventory'],
	summary: 'What each layer can restore from, and the hazards (the console\'s home screen as text)',
	usage: `
		$ ilum-restore inventory [--json] [-n ilum] [--drill]

		Volume snapshots of the provider's claim with the CSI readiness checks, the backup CronJob and
		the drift of every bucket against its mirror, the tables found with their history, and the
		hazards with their fixes. --json prints {"volumes", "mirrors", "tables", "hazards"}; every
		table carries the ref (and table) that history and restore table accept as is.
	`,
	flags: inventoryFlags,
	async run(context: CommandContext): Promise<number> {
		const {flags, signal, stdout} = context;
		const world = flags['drill'] ? await drillWorld(flags, signal) : undefined;
		const sources = await connectLayers({flags, world}).catch(async (error: unknown) => {
			await world?.close?.();
			throw error;
		});
		try {
			// Nothing can be read without the API: say so once (exit 1) instead of in every layer.
			const unreachable = await sources.cluster.listPersistentVolumeClaims(sources.namespace).then(() => undefined, (error: unknown) => error);
			if (unreachable instanceof ClusterError && (unreachable.kind === 'unreachable' || unreachable.kind === 'unauthorized')) {
				throw new UserError(unreachable.message, {hint: unreachable.hint.replace(/, then retry.*$/, '')});
			}

			const inventory = await gatherInventory(sources, signal);
			if (flags['json']) {
				writeJson(stdout, inventory);
			} else {
				stdout.write(formatInventory(inventory, Date.now()));
			}

			return exitCodes.ok;
		} finally {
			await sources.close?.();
		}
	},
};
