import process from 'node:process';
import {createInterface} from 'node:readline/promises';
import {refusal, usageError} from '../errors.js';
import {formatEnvironment, resolveFormat} from '../formats/index.js';
import type {TableRestorePlan, TableRestoreResult} from '../formats/types.js';
import {writeJson} from '../output.js';
import type {Command} from './command.js';

const shownFiles = 20;

function count(value: number): string {
	return Number.isNaN(value) ? 'unknown' : String(value);
}

function fileList(label: string, files: readonly string[]): string[] {
	if (files.length === 0) {
		return [`  ${label}: none`];
	}

	const lines = [`  ${label} (${files.length}):`];
	for (const file of files.slice(0, shownFiles)) {
		lines.push(`    ${file}`);
	}

	if (files.length > shownFiles) {
		lines.push(`    ... and ${files.length - shownFiles} more (--json lists them all)`);
	}

	return lines;
}

function commitLines(commit: unknown): string[] {
	if (commit && typeof commit === 'object' && 'file' in commit && 'actions' in commit && Array.isArray((commit as {actions: unknown}).actions)) {
		const {file, actions} = commit as {file: string; actions: unknown[]};
		return [`  commit it would write, ${file}:`, ...actions.map(action => `    ${JSON.stringify(action)}`)];
	}

	return ['  commit it would write:', ...JSON.stringify(commit, undefined, 2).split('\n').map(line => `    ${line}`)];
}

/** The dry run as a person reads it: what changes, the exact commit, the checks. */
export function planText(plan: TableRestorePlan): string {
	const where = plan.table ? `${plan.ref} --table ${plan.table}` : plan.ref;
	const lines = [
		`Restore ${plan.format} table ${where} from ${plan.from} to ${plan.target}`,
		`  before: ${plan.before.files} files, ${plan.before.bytes} bytes, ${count(plan.before.rows)} rows`,
		`  after:  ${plan.after.files} files, ${plan.after.bytes} bytes, ${count(plan.after.rows)} rows`,
		...fileList('files returning to the live set', plan.filesReturning),
		...fileList('files leaving the live set', plan.filesLeaving),
		plan.schemaChanges.length === 0 ? '  schema and properties: unchanged' : '  schema and properties:',
		...plan.schemaChanges.map(change => `    ${change}`),
		...plan.warnings.map(warning => `  warning: ${warning}`),
		...commitLines(plan.commit),
		'  checks:',
		...plan.checks.map(check => `    - ${check}`),
	];
	if (plan.refusal) {
		lines.push(`  REFUSED: ${plan.refusal}`);
	}

	return lines.join('\n') + '\n';
}

function resultText(result: TableRestoreResult): string {
	const lines = [
		`${result.verified ? 'Restored' : 'Restored, but verification FAILED:'} ${result.plan.ref} to ${result.plan.target} (new version ${result.newVersion})`,
		...result.checks.map(check => `  ${check.ok ? 'ok  ' : 'FAIL'} ${check.name}: ${check.detail}`),
	];
	return lines.join('\n') + '\n';
}

function planJson(plan: TableRestorePlan) {
	return {type: 'plan', ...plan, refusal: plan.refusal ?? null};
}

/** The name a person types to confirm: the table (`--table`), else the last segment of the ref. */
export function confirmationName(ref: string, table?: string): string {
	if (table) {
		return table;
	}

	const trimmed = ref.replace(/\/+$/, '');
	return trimmed.slice(trimmed.lastIndexOf('/') + 1) || trimmed;
}

async function confirm(name: string, stderr: NodeJS.WriteStream, signal: AbortSignal): Promise<boolean> {
	const prompt = createInterface({input: process.stdin, output: stderr});
	try {
		const answer = await prompt.question(`Type the table name (${name}) to write this commit, anything else to stop: `, {signal});
		return answer.trim() === name;
	} catch (error) {
		// Ctrl-C (or the input closing) at the prompt is a "no".
		if ((error as Error).name === 'AbortError' || signal.aborted) {
			return false;
		}

		throw error;
	} finally {
		prompt.close();
	}
}

export const restoreTableCommand: Command = {
	path: ['restore', 'table'],
	summary: 'Put one table (Delta, Iceberg, DuckLake) back to an earlier version',
	usage: `
		Usage
		  $ ilum-restore restore table <ref> --to <id|ISO-time> (--dry-run | --yes) [--table <schema.table>] [--json] [--force]

		--to takes a version/snapshot id from 'ilum-restore history', or an ISO 8601 time (the newest
		version committed at or before it). --dry-run prints the plan (files returning and leaving,
		rows and bytes before and after, schema changes, the exact commit, the checks) and changes
		nothing. --yes writes it; in a terminal without either, you confirm by typing the table name.
		Outside a terminal one of them is required.

		Examples
		  $ ilum-restore restore table ./warehouse/events --to 12 --dry-run
		  $ ilum-restore restore table s3://ilum-tables/sales --to 2025-01-31T23:00:00Z --yes
	`,
	flags: {
		table: {type: 'string', description: 'The table inside a catalog ref: schema.table (DuckLake) or namespace.table (Iceberg REST)'},
		to: {type: 'string', description: 'Version/snapshot id, or ISO 8601 time, to restore to'},
		dryRun: {type: 'boolean', default: false, description: 'Print the plan and change nothing'},
		yes: {type: 'boolean', default: false, description: 'Go ahead without asking for confirmation'},
		force: {type: 'boolean', default: false, description: 'Iceberg: allow a target that is not an ancestor; Delta: allow writer features this tool does not know'},
	},
	async run({args, flags, stdout, stderr, interactive, signal}) {
		const ref = args[0];
		if (!ref) {
			throw usageError('restore table needs a table ref', 'ilum-restore restore table <ref> --to <id|time> --dry-run (see --help)');
		}

		if (args.length > 1) {
			throw usageError(`unexpected argument '${args[1]}'`, 'give one table ref');
		}

		const to = flags['to'] as string | undefined;
		if (!to) {
			throw usageError('restore table needs --to <id|ISO-time>', 'pick one from ilum-restore history');
		}

		const dryRun = Boolean(flags['dryRun']);
		const yes = Boolean(flags['yes']);
		const json = Boolean(flags['json']);
		if (dryRun && yes) {
			throw usageError('--dry-run and --yes contradict each other', 'give one of them');
		}

		if (!dryRun && !yes && !(interactive && !json)) {
			throw refusal(json ? 'restore table --json does not ask for confirmation' : 'restore table changes the table and there is no terminal to confirm in', 'add --dry-run to see the plan, or --yes to go ahead');
		}

		if (!dryRun && flags['readOnly']) {
			throw refusal('--read-only is set: restore table would write', 'drop --read-only, or use --dry-run');
		}

		const table = flags['table'] as string | undefined;
		const tableRef = {ref, ...(table ? {table} : {})};
		const environment = formatEnvironment({s3Endpoint: flags['s3Endpoint'] as string | undefined});
		const format = await resolveFormat(tableRef, environment);
		const options = {force: Boolean(flags['force']), signal};
		const plan = await format.plan(tableRef, to, options);
		if (json) {
			writeJson(stdout, planJson(plan));
		} else {
			stdout.write(planText(plan));
		}

		if (plan.refusal) {
			if (json) {
				writeJson(stdout, {type: 'result', ok: false, refused: true, reason: plan.refusal});
			}

			throw refusal(`restore of ${ref} to ${plan.target} refused: ${plan.refusal}`);
		}

		if (dryRun) {
			if (json) {
				writeJson(stdout, {type: 'result', ok: true, dryRun: true, written: false});
			} else {
				stdout.write('Dry run: nothing was written.\n');
			}

			return 0;
		}

		if (!yes) {
			const name = confirmationName(ref, table);
			if (!await confirm(name, stderr, signal)) {
				throw refusal('not confirmed', 'nothing was written');
			}
		}

		const result = await format.execute(plan, options);
		if (json) {
			writeJson(stdout, {type: 'result', ok: result.verified, written: true, newVersion: result.newVersion, verified: result.verified, checks: result.checks});
		} else {
			stdout.write(resultText(result));
		}

		return result.verified ? 0 : 1;
	},
};
