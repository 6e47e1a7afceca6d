import {existsSync} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {createInterface} from 'node:readline/promises';
import {exitCodes, refusal, usageError, UserError} from '../errors.js';
import {resolveFormat} from '../formats/index.js';
import {tableEnvironment} from '../layers/table-environment.js';
import type {TableFormat, TableRestorePlan, TableRestoreResult} from '../formats/types.js';
import {writeJson} from '../output.js';
import {AuditLog} from '../restore/audit.js';
import {abandonUnfinished, executePlan} from '../restore/executor.js';
import {describeUnfinished, findUnfinished, type JournalState} from '../restore/journal.js';
import {formatEventLine} from '../restore/log-lines.js';
import type {RestoreReport} from '../restore/report.js';
import {resolveStateDir} from '../restore/state-dir.js';
import {buildTableRestorePlan, tableName, tablePreview, tableRestoreFacts, type TableRestoreFacts} from '../restore/table-plan.js';
import type {Command, CommandContext} from './command.js';
import {exitCodeOf} from './plan-runner.js';

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

type RestoreOutcome = Pick<TableRestoreResult, 'newVersion' | 'verified' | 'checks'> & {readonly ref: string; readonly target: string};

function resultText(result: RestoreOutcome): string {
	const lines = [
		`${result.verified ? 'Restored' : 'Restored, but verification FAILED:'} ${result.ref} to ${result.target} (new version ${result.newVersion})`,
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
		  $ ilum-restore restore table <ref> [--table <schema.table>] --resume --yes   continue an interrupted restore
		  $ ilum-restore restore table <ref> [--table <schema.table>] --abandon        discard its journal

		--to takes a version/snapshot id from 'ilum-restore history', or an ISO 8601 time (the newest
		version committed at or before it). --dry-run prints the plan (files returning and leaving,
		rows and bytes before and after, schema changes, the exact commit, the checks) and changes
		nothing. --yes writes it; in a terminal without either, you confirm by typing the table name.
		Outside a terminal one of them is required. The restore runs through the restore engine:
		a journal (an interrupted run is resumed with --resume and never writes a second commit),
		the audit log and a report in the state directory (--state-dir).
		Exit codes: 0 restored, 1 failed (resume with --resume), 2 usage, 3 refused (nothing written),
		130 stopped on request (Ctrl-C: resume with --resume).

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
		resume: {type: 'boolean', default: false, description: 'Continue the unfinished restore of the same table from its journal'},
		abandon: {type: 'boolean', default: false, description: 'Discard the unfinished restore\'s journal (the table is left as it is)'},
	},
	run: runRestoreTable,
};

/**
Who acts, for the audit log: the kube context's `<user>@<context>` where a kubeconfig is given or
found (as for the other restores), else the local user (a table restore needs no cluster).
*/
async function identityOf(flags: CommandContext['flags']): Promise<string> {
	const kubeconfig = flags['kubeconfig'] as string | undefined;
	const context = flags['context'] as string | undefined;
	if (kubeconfig || context || process.env['KUBECONFIG'] || existsSync(path.join(os.homedir(), '.kube', 'config'))) {
		try {
			const {loadKubeConfig} = await import('../config/kube.js');
			const config = loadKubeConfig({kubeconfig, context});
			const current = config.getCurrentContext();
			if (current) {
				return `${config.getCurrentUser()?.name ?? 'unknown-user'}@${current}`;
			}
		} catch {
			// No usable kubeconfig: the local user below.
		}
	}

	return `${process.env['USER'] ?? process.env['LOGNAME'] ?? 'unknown-user'}@local`;
}

async function runRestoreTable(context: CommandContext): Promise<number> {
	const {args, flags, stdout, stderr, interactive, signal} = context;
	const ref = args[0];
	if (!ref) {
		throw usageError('restore table needs a table ref', 'ilum-restore restore table <ref> --to <id|time> --dry-run (see --help)');
	}

	if (args.length > 1) {
		throw usageError(`unexpected argument '${args[1]}'`, 'give one table ref');
	}

	const to = flags['to'] as string | undefined;
	const resumeWanted = Boolean(flags['resume']);
	const abandon = Boolean(flags['abandon']);
	if (resumeWanted && abandon) {
		throw usageError('--resume and --abandon contradict each other', 'give one of them');
	}

	if (!to && !resumeWanted && !abandon) {
		throw usageError('restore table needs --to <id|ISO-time>', 'pick one from ilum-restore history');
	}

	const dryRun = Boolean(flags['dryRun']);
	const yes = Boolean(flags['yes']);
	const json = Boolean(flags['json']);
	if (dryRun && yes) {
		throw usageError('--dry-run and --yes contradict each other', 'give one of them');
	}

	if (!abandon && !dryRun && !yes && !(interactive && !json)) {
		throw refusal(json ? 'restore table --json does not ask for confirmation' : 'restore table changes the table and there is no terminal to confirm in', 'add --dry-run to see the plan, or --yes to go ahead');
	}

	const table = flags['table'] as string | undefined;
	const target = `table/${ref}${table ? `#${table}` : ''}`;
	const stateDir = resolveStateDir(flags['stateDir'] as string | undefined);
	const identity = await identityOf(flags);
	if (!dryRun && flags['readOnly']) {
		new AuditLog(stateDir).record({identity, action: 'restore.table', target, outcome: 'refused', detail: '--read-only'});
		throw refusal('--read-only is set: restore table would write', 'drop --read-only, or use --dry-run');
	}

	// An unfinished restore of this table: resume it, discard it, or refuse to start another.
	const unfinished = findUnfinished(stateDir, target);
	const again = `ilum-restore restore table ${ref}${table ? ` --table ${table}` : ''}`;
	if (abandon) {
		if (!unfinished) {
			throw new UserError(`Nothing unfinished to abandon for ${target} (state dir ${stateDir})`);
		}

		const moved = abandonUnfinished(stateDir, unfinished, identity);
		stderr.write(`abandoned ${describeUnfinished(unfinished)}; journal kept at ${moved}. The table was left as it is: check it with ilum-restore history ${ref}${table ? ` --table ${table}` : ''}\n`);
		return exitCodes.ok;
	}

	if (resumeWanted && !unfinished) {
		throw new UserError(`Nothing unfinished to resume for ${target} (state dir ${stateDir})`, {hint: `start one with ${again} --to <id> --dry-run`});
	}

	if (unfinished) {
		const facts = unfinished.begin.facts as TableRestoreFacts;
		const refused = (detail: string) => {
			new AuditLog(stateDir).record({identity, action: 'restore.table', target, outcome: 'refused', detail});
		};

		if (to && to !== facts.target) {
			refused(`unfinished run ${unfinished.runId} restores to ${facts.target}, not ${to}`);
			throw refusal(`Refused: ${describeUnfinished(unfinished)}, to version ${facts.target}, not ${to}`, `finish it with ${again} --resume --yes, or discard its journal with --abandon`);
		}

		if (!resumeWanted && !dryRun) {
			refused(`unfinished run ${unfinished.runId}: neither --resume nor --abandon`);
			throw refusal(`Refused: ${describeUnfinished(unfinished)}`, `continue it with ${again} --resume${yes ? ' --yes' : ''}, or discard its journal with --abandon`);
		}
	}

	const tableRef = {ref, ...(table ? {table} : {})};
	const {environment, close} = await tableEnvironment({ref, flags, log(line) {
		stderr.write(line + '\n');
	}});
	try {
		const format = await resolveFormat(tableRef, environment);
		const options = {force: Boolean(flags['force']), signal};
		let facts: TableRestoreFacts;
		let full: TableRestorePlan | undefined;
		const resume: JournalState | undefined = unfinished;
		if (resume) {
			// The journaled facts: the same plan as the interrupted run (it plans again inside each step).
			facts = resume.begin.facts as TableRestoreFacts;
			const note = `${describeUnfinished(resume)}; ${dryRun ? '--resume would continue it' : 'resuming it'}`;
			if (json) {
				writeJson(stdout, {type: 'plan', resume: {runId: resume.runId, completed: [...resume.completed.keys()]}, ...facts});
			} else {
				stderr.write(`note: ${note}\n`);
				stdout.write(tablePreview(facts).join('\n') + '\n');
			}
		} else {
			full = await format.plan(tableRef, to!, options);
			if (json) {
				writeJson(stdout, planJson(full));
			} else {
				stdout.write(planText(full));
			}

			if (full.refusal) {
				new AuditLog(stateDir).record({identity, action: 'restore.table', target, outcome: 'refused', detail: full.refusal});
				if (json) {
					writeJson(stdout, {type: 'result', ok: false, refused: true, reason: full.refusal});
				}

				throw refusal(`restore of ${ref} to ${full.target} refused: ${full.refusal}`);
			}

			facts = tableRestoreFacts(full, {force: options.force});
		}

		if (dryRun) {
			if (json) {
				writeJson(stdout, {type: 'result', ok: true, dryRun: true, written: false});
			} else {
				stdout.write('Dry run: nothing was written.\n');
			}

			return 0;
		}

		const plan = buildTableRestorePlan(facts, format, full);
		// The name the engine's gate asks for (the table's), typed once here.
		const name = tableName(facts);
		if (!yes && !await confirm(name, stderr, signal)) {
			new AuditLog(stateDir).record({identity, action: 'restore.table', target, outcome: 'refused', detail: 'not confirmed'});
			throw refusal('not confirmed', 'nothing was written');
		}

		const report = await walk(context, {plan, stateDir, identity, json, resume});
		return finish(context, {report, format, ref, table, facts, json, again});
	} finally {
		await close();
	}
}

/** Walks the plan through the engine; events go to stderr (or stdout as JSON lines). */
async function walk(context: CommandContext, options: {plan: ReturnType<typeof buildTableRestorePlan>; stateDir: string; identity: string; json: boolean; resume?: JournalState}): Promise<RestoreReport | undefined> {
	let report: RestoreReport | undefined;
	// Confirmed already (typed, or --yes): every gate gets its text.
	for await (const event of executePlan({plan: options.plan, stateDir: options.stateDir, identity: options.identity, confirm: async gate => gate.confirmText, ...(options.resume ? {resume: options.resume} : {}), signal: context.signal})) {
		if (event.type === 'report') {
			report = event.report;
			continue;
		}

		if (options.json) {
			writeJson(context.stdout, {...event, type: `engine-${event.type}`});
		} else {
			const line = formatEventLine(event);
			if (line !== undefined) {
				context.stderr.write(line + '\n');
			}
		}
	}

	return report;
}

async function finish(context: CommandContext, options: {report: RestoreReport | undefined; format: TableFormat; ref: string; table?: string; facts: TableRestoreFacts; json: boolean; again: string}): Promise<number> {
	const {report, json, facts} = options;
	const {stdout} = context;
	if (!report || report.outcome !== 'succeeded') {
		const outcome = report?.outcome ?? 'failed';
		const reasons = report?.reasons ?? ['the run ended without a report'];
		const hint = outcome === 'refused' ? 'nothing was written' : `the journal is kept: ${options.again} --resume --yes continues it (never a second commit), --abandon discards it`;
		if (json) {
			writeJson(stdout, {type: 'result', ok: false, outcome, written: outcome !== 'refused' && report?.steps.some(step => step.id === 'write-restore' && (step.outcome === 'done' || step.outcome === 'already')), reasons, ...(report?.files ? {report: report.files.json} : {})});
		}

		// 3 refused, 130 stopped on request (resumable), else 1: as every restore.
		throw new UserError(`restore of ${options.ref} to ${facts.target} ${outcome}: ${reasons.join('; ')}`, {exitCode: exitCodeOf(outcome), hint});
	}

	const written = report.steps.find(step => step.id === 'write-restore');
	const result = written?.result as Pick<TableRestoreResult, 'newVersion' | 'verified' | 'checks'> | undefined;
	// Written by an earlier, interrupted attempt: the table's current version is the restore's.
	const newVersion = result?.newVersion ?? (await options.format.history({ref: options.ref, ...(options.table ? {table: options.table} : {})})).current;
	const verifyDetail = (report.verification as Record<string, {detail?: string}> | undefined)?.['verify-table']?.detail ?? '';
	const checks = result?.checks ?? [{name: 'live set', ok: true, detail: verifyDetail}];
	const outcome: RestoreOutcome = {ref: options.ref, target: facts.target, newVersion, verified: true, checks};
	if (json) {
		writeJson(stdout, {type: 'result', ok: true, written: true, newVersion, verified: true, checks, runId: report.runId, resumed: report.resumed, ...(report.files ? {report: report.files.json} : {})});
	} else {
		stdout.write(resultText(outcome));
		if (written?.outcome === 'already') {
			stdout.write('  (the commit was written by the interrupted run; not written again)\n');
		}

		if (report.files) {
			stdout.write(`Report: ${report.files.markdown}\n`);
		}
	}

	return exitCodes.ok;
}
