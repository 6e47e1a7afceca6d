import process from 'node:process';
import readline from 'node:readline/promises';
import {exitCodes, refusal, usageError, UserError} from '../errors.js';
import {writeJson} from '../output.js';
import {AuditLog} from '../restore/audit.js';
import {abandonUnfinished, executePlan, preflight, type AccessChecker, type Gate} from '../restore/executor.js';
import {describeUnfinished, findUnfinished, type JournalState} from '../restore/journal.js';
import {formatEventLine} from '../restore/log-lines.js';
import {describePlan, formatPlan, type RestorePlan} from '../restore/plan.js';
import type {RestoreReport} from '../restore/report.js';
import {resolveStateDir} from '../restore/state-dir.js';
import type {CommandContext, FlagSpec} from './command.js';

/**
The CLI side of any plan-shaped action (posture fixes, snapshots): `--dry-run` prints the plan
and the preflight and changes nothing; `--yes` walks it through the engine (journal, audit,
report); in a terminal without either, the plan is shown and each gate asks for its text.
Outside a terminal without either it refuses with exit 3. An unfinished run of the same target
is resumed with `--resume` or discarded with `--abandon`.
*/
export const planFlags = {
	dryRun: {type: 'boolean', default: false, description: 'Print the plan and change nothing'},
	yes: {type: 'boolean', default: false, description: 'Carry out the plan without asking (confirms every gate)'},
	resume: {type: 'boolean', default: false, description: 'Continue the unfinished restore of the same target from its journal'},
	abandon: {type: 'boolean', default: false, description: 'Discard the unfinished restore\'s journal (the cluster is left as it is)'},
} as const satisfies Record<string, FlagSpec>;

export type PlanMode = {readonly dryRun: boolean; readonly yes: boolean; readonly json: boolean; readonly readOnly: boolean; readonly stateDir: string};

/** Reads and checks the mode flags before anything is read from the cluster. */
export function planMode(context: CommandContext, example: string): PlanMode {
	const {flags} = context;
	const mode = {
		dryRun: Boolean(flags['dryRun']),
		yes: Boolean(flags['yes']),
		json: Boolean(flags['json']),
		readOnly: Boolean(flags['readOnly']),
		stateDir: resolveStateDir(flags['stateDir'] as string | undefined),
	};
	if (mode.dryRun && mode.yes) {
		throw usageError('--dry-run and --yes contradict each other', 'choose one');
	}

	if (!mode.dryRun && !mode.yes && !(context.interactive && !mode.json)) {
		throw refusal('Not run: outside a terminal this needs --dry-run (show the plan) or --yes (carry it out)', `${example} --dry-run`);
	}

	return mode;
}

/** Refuses an action under --read-only before a single request is sent, and audits the refusal. */
export function refuseReadOnly(mode: PlanMode, action: {identity: string; name: string; target: string; command: string}): void {
	if (mode.readOnly && !mode.dryRun) {
		new AuditLog(mode.stateDir).record({identity: action.identity, action: action.name, target: action.target, outcome: 'refused', detail: '--read-only'});
		throw refusal(`Refused: --read-only is set, so ${action.command} changes nothing`, 'drop --read-only, or add --dry-run to see the plan');
	}
}

/** The unfinished run of this target: resume it, discard it, or refuse to start another. */
export function unfinishedRun(context: CommandContext, mode: PlanMode, target: string, identity: string): JournalState | 'abandoned' | undefined {
	const state = findUnfinished(mode.stateDir, target);
	const {flags} = context;
	if (!state) {
		if (flags['resume'] || flags['abandon']) {
			throw new UserError(`Nothing unfinished to ${flags['resume'] ? 'resume' : 'abandon'} for ${target} (state dir ${mode.stateDir})`);
		}

		return undefined;
	}

	if (flags['abandon']) {
		const moved = abandonUnfinished(mode.stateDir, state, identity);
		context.stderr.write(`abandoned ${describeUnfinished(state)}; journal kept at ${moved}\n`);
		return 'abandoned';
	}

	if (!flags['resume'] && !mode.dryRun) {
		throw refusal(`Refused: ${describeUnfinished(state)}`, 'continue it with the same command and --resume, or discard its journal with --abandon');
	}

	return state;
}

export async function runPlan(context: CommandContext, mode: PlanMode, options: {plan: RestorePlan; identity: string; checkAccess?: AccessChecker; resume?: JournalState; confirmLabel?: string}): Promise<{code: number; report?: RestoreReport}> {
	const {plan} = options;
	if (mode.dryRun) {
		return {code: await printDryRun(context, mode, plan, options.checkAccess, options.resume)};
	}

	if (context.interactive && !mode.json) {
		context.stdout.write(formatPlan(describePlan(plan)));
	}

	const confirm = async (gate: Gate): Promise<string | undefined> => mode.yes ? gate.confirmText : ask(`\nStep '${gate.step.title}' ${gate.reason}.\nType ${options.confirmLabel ? `${options.confirmLabel} ` : ''}'${gate.confirmText}' to confirm: `);
	let report: RestoreReport | undefined;
	for await (const event of executePlan({plan, stateDir: mode.stateDir, identity: options.identity, confirm, ...(options.checkAccess ? {checkAccess: options.checkAccess} : {}), ...(options.resume ? {resume: options.resume} : {}), signal: context.signal})) {
		if (event.type === 'report') {
			report = event.report;
		}

		if (mode.json) {
			writeJson(context.stdout, event.type === 'report' ? {type: 'result', outcome: event.report.outcome, report: event.report} : event);
		} else {
			const line = formatEventLine(event);
			if (line !== undefined) {
				(event.type === 'report' ? context.stdout : context.stderr).write(line + '\n');
			}
		}
	}

	if (report?.outcome === 'refused' && !mode.json) {
		context.stderr.write(`ilum-restore: refused: ${report.reasons.join('; ')}\n`);
	}

	return {code: exitCodeOf(report?.outcome), ...(report ? {report} : {})};
}

/** The exit code of a run that ended so: 0 succeeded, 3 refused, 130 stopped on request, else (no report either) 1. */
export function exitCodeOf(outcome: RestoreReport['outcome'] | undefined): number {
	return outcome === 'succeeded' ? exitCodes.ok : (outcome === 'refused' ? exitCodes.refused : (outcome === 'stopped' ? exitCodes.stopped : exitCodes.failed));
}

async function printDryRun(context: CommandContext, mode: PlanMode, plan: RestorePlan, checkAccess: AccessChecker | undefined, resume: JournalState | undefined): Promise<number> {
	const description = describePlan(plan);
	const checks: Array<{check: string; ok: boolean; detail: string; hint?: string}> = [];
	// A SelfSubjectAccessReview changes nothing, but read-only means not one write request.
	const generator = preflight(plan, {...(mode.readOnly || !checkAccess ? {} : {checkAccess}), skip: new Set(resume?.completed.keys() ?? [])});
	let next = await generator.next();
	while (!next.done) {
		if (next.value.type === 'preflight') {
			checks.push({check: next.value.check, ok: next.value.ok, detail: next.value.detail, ...(next.value.hint ? {hint: next.value.hint} : {})});
		}

		next = await generator.next();
	}

	const reasons = next.value;
	if (mode.json) {
		writeJson(context.stdout, {type: 'plan', dryRun: true, plan: description, preflight: checks, wouldRefuse: reasons, ...(resume ? {resume: {runId: resume.runId, completed: [...resume.completed.keys()]}} : {})});
	} else {
		context.stdout.write(formatPlan(description));
		if (resume) {
			context.stdout.write(`\nAlready done by run ${resume.runId}: ${[...resume.completed.keys()].join(', ') || 'nothing'}\n`);
		}

		context.stdout.write('\nPreflight:\n' + checks.map(check => `  ${check.ok ? 'ok  ' : 'FAIL'} ${check.detail}${!check.ok && check.hint ? `: ${check.hint}` : ''}`).join('\n') + '\n');
		if (mode.readOnly) {
			context.stdout.write('  (permissions not checked: --read-only sends no request that could change anything)\n');
		}

		context.stdout.write(reasons.length > 0 ? `\nWould be refused:\n${reasons.map(reason => `  - ${reason}`).join('\n')}\n` : '\nNothing was changed (dry run). Run again with --yes to carry it out.\n');
	}

	return reasons.length > 0 ? exitCodes.refused : exitCodes.ok;
}

/** One line typed at the terminal (the prompt on stderr), trimmed. */
export async function ask(question: string): Promise<string> {
	const prompt = readline.createInterface({input: process.stdin, output: process.stderr});
	try {
		return (await prompt.question(question)).trim();
	} finally {
		prompt.close();
	}
}
