import crypto from 'node:crypto';
import process from 'node:process';
import {AuditLog} from './audit.js';
import {acquireLock, describeUnfinished, findUnfinished, Journal, journalFile, type JournalState, type StepOutcome} from './journal.js';
import {
	assertValidPlan, describePlan, formatAccess, isStopRequest, type AccessRequirement, type PlanDescription, type RestorePlan, type Step, type StepContext, type StepProgress,
} from './plan.js';
import {saveReport, type RestoreReport, type StepRecord} from './report.js';

/**
The engine: plan -> preflight -> gates -> steps -> verify -> report, journaled and audited.

It knows nothing of terminals: the console, `--json` lines and plain log lines all consume the
same `EngineEvent`s, and the caller supplies `confirm` for the gates.
*/

export type AccessVerdict = {readonly item: AccessRequirement; readonly allowed: boolean; readonly reason?: string};

/** Asks the API server whether the current identity may do each thing (SelfSubjectAccessReview). */
export type AccessChecker = (items: readonly AccessRequirement[]) => Promise<readonly AccessVerdict[]>;

export type Gate = {
	readonly step: PlanDescription['steps'][number];
	/** What the operator must type. */
	readonly confirmText: string;
	readonly reason: string;
};

export type EngineEvent =
	| {type: 'plan'; runId: string; plan: PlanDescription; resumed: boolean; completed: readonly string[]}
	| {type: 'preflight'; check: string; ok: boolean; detail: string; hint?: string}
	| {type: 'refused'; reasons: readonly string[]}
	| {type: 'gate'; step: string; accepted: boolean}
	| {type: 'step-start'; step: string; kind: Step['kind']; title: string; index: number; count: number}
	| {type: 'step-progress'; step: string; progress: StepProgress}
	| {type: 'step-end'; step: string; outcome: StepRecord['outcome']; detail?: string; durationMs: number}
	| {type: 'stopped'; reason: string; next?: string}
	| {type: 'report'; report: RestoreReport};

export type ExecuteOptions = {
	readonly plan: RestorePlan;
	readonly stateDir: string;
	/** Who acts: the kube context's user. */
	readonly identity: string;
	/** Returns what the operator typed for a gate; undefined when they declined. */
	readonly confirm: (gate: Gate) => Promise<string | undefined>;
	readonly checkAccess?: AccessChecker;
	/** Refuse before anything is asked of the cluster. */
	readonly readOnly?: boolean;
	/** Continue this unfinished run (from `findUnfinished`). */
	readonly resume?: JournalState;
	/** Stop after the current step (a step is never abandoned half-done). */
	readonly signal?: AbortSignal;
};

/**
A test hook: SIGKILL this process at a step boundary. `before`: right after journaling the start;
`before-done`: after the step did its work but before its end is journaled (the worst moment: the
change is made and the journal does not know); `after`: right after journaling the end.
*/
const crashHook = (moment: 'before' | 'before-done' | 'after', stepId: string) => {
	const wanted = process.env[{before: 'ILUM_RESTORE_CRASH_BEFORE_STEP', 'before-done': 'ILUM_RESTORE_CRASH_BEFORE_DONE', after: 'ILUM_RESTORE_CRASH_AFTER_STEP'}[moment]];
	if (wanted && wanted === stepId) {
		process.kill(process.pid, 'SIGKILL');
	}
};

export const newRunId = (kind: string, now = new Date()) => `${kind}-${now.toISOString().replaceAll(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${crypto.randomBytes(2).toString('hex')}`;

const message = (error: unknown) => error instanceof Error ? error.message : String(error);

/** Runs the preconditions and the access checks only: what `--dry-run` shows, nothing changed. */
export async function * preflight(plan: RestorePlan, options: {checkAccess?: AccessChecker; skip?: ReadonlySet<string>; results?: ReadonlyMap<string, unknown>; signal?: AbortSignal}): AsyncGenerator<EngineEvent, string[]> {
	const reasons: string[] = [];
	const context: StepContext = {signal: options.signal ?? new AbortController().signal, results: options.results ?? new Map()};
	if (options.checkAccess && plan.access.length > 0) {
		let verdicts: readonly AccessVerdict[];
		try {
			verdicts = await options.checkAccess(plan.access);
		} catch (error) {
			verdicts = [];
			const detail = `cannot ask the API server what this identity may do (${message(error)})`;
			reasons.push(detail);
			yield {type: 'preflight', check: 'access', ok: false, detail};
		}

		for (const verdict of verdicts) {
			const what = formatAccess(verdict.item);
			if (verdict.allowed) {
				yield {type: 'preflight', check: 'access', ok: true, detail: `may ${what}`};
			} else {
				const detail = `RBAC does not allow: ${what}${verdict.reason ? ` (${verdict.reason})` : ''}`;
				reasons.push(detail);
				yield {type: 'preflight', check: 'access', ok: false, detail, hint: 'ask an administrator for a Role granting it, or use --context with an identity that has it'};
			}
		}
	}

	for (const step of plan.steps) {
		if (step.kind !== 'precondition' || options.skip?.has(step.id)) {
			continue;
		}

		let result: {ok: boolean; detail: string; hint?: string};
		try {
			result = await step.evaluate(context);
		} catch (error) {
			result = {ok: false, detail: `${step.title}: could not be checked (${message(error)})`};
		}

		if (!result.ok) {
			reasons.push(result.hint ? `${result.detail}: ${result.hint}` : result.detail);
		}

		yield {type: 'preflight', check: step.id, ok: result.ok, detail: result.detail, ...(result.hint ? {hint: result.hint} : {})};
	}

	return reasons;
}

/**
Executes a plan. Yields events; returns the report (also yielded as the last event, and saved).
A refusal (preflight, gates, read-only, an unfinished run of the same target) changes nothing.
*/
export async function * executePlan(options: ExecuteOptions): AsyncGenerator<EngineEvent, RestoreReport> {
	const {plan, stateDir, identity} = options;
	assertValidPlan(plan);
	const description = describePlan(plan);
	const audit = new AuditLog(stateDir);
	const resume = options.resume;
	const runId = resume?.runId ?? newRunId(plan.kind);
	const startedAt = new Date().toISOString();
	const results = new Map<string, unknown>();
	const records = new Map<string, StepRecord>();
	for (const [id, done] of resume?.completed ?? []) {
		results.set(id, done.result);
	}

	const completedBefore = new Set(resume?.completed.keys() ?? []);
	yield {type: 'plan', runId, plan: description, resumed: Boolean(resume), completed: [...completedBefore]};

	/** The undo lines of the mutations done so far, last first. */
	const doneUndo = () => plan.steps.filter(step => step.kind === 'mutation' && (completedBefore.has(step.id) || records.get(step.id)?.outcome === 'done' || records.get(step.id)?.outcome === 'already')).toReversed().map(step => step.kind === 'mutation' ? `${step.title}: ${step.undo}` : '');

	const finish = (outcome: RestoreReport['outcome'], reasons: string[], extra: {undo?: string[]} = {}): RestoreReport => {
		const steps: StepRecord[] = plan.steps.map(step => records.get(step.id) ?? (completedBefore.has(step.id)
			? {id: step.id, kind: step.kind, title: step.title, outcome: 'skipped-done', endedAt: resume?.completed.get(step.id)?.at}
			: {id: step.id, kind: step.kind, title: step.title, outcome: 'not-run'}));
		const undo = extra.undo ?? (outcome === 'succeeded' ? [...plan.undo] : doneUndo());
		const verification = Object.fromEntries(plan.steps.filter(step => step.kind === 'verify' && results.has(step.id)).map(step => [step.id, results.get(step.id)]));
		const report: RestoreReport = {
			runId,
			kind: plan.kind,
			target: plan.target,
			summary: plan.summary,
			identity,
			startedAt: resume?.begin.at ?? startedAt,
			endedAt: new Date().toISOString(),
			outcome,
			reasons,
			resumed: Boolean(resume),
			steps,
			undo,
			warnings: plan.warnings,
			...(Object.keys(verification).length > 0 ? {verification} : {}),
			plan: description,
		};
		return saveReport(stateDir, report);
	};

	const refuse = async function * (reasons: string[]): AsyncGenerator<EngineEvent, RestoreReport> {
		audit.record({identity, action: `restore.${plan.kind}`, target: plan.target, outcome: 'refused', runId, detail: reasons.join('; ')});
		yield {type: 'refused', reasons};
		const report = finish('refused', reasons, {undo: completedBefore.size > 0 ? undefined : []});
		yield {type: 'report', report};
		return report;
	};

	if (options.readOnly) {
		return yield * refuse(['read-only mode: restores are not available (drop --read-only to restore)']);
	}

	if (resume) {
		if (resume.begin.target !== plan.target) {
			throw new Error(`The journal ${resume.file} is for ${resume.begin.target}, not ${plan.target}`);
		}
	} else {
		const unfinished = findUnfinished(stateDir, plan.target);
		if (unfinished) {
			return yield * refuse([`${describeUnfinished(unfinished)}: run the same command with --resume to continue it, or --abandon to discard its journal`]);
		}
	}

	const lock = acquireLock(stateDir, plan.target);
	if ('heldBy' in lock) {
		return yield * refuse([`another ilum-restore process${lock.heldBy > 0 ? ` (pid ${lock.heldBy})` : ''} is running a restore of ${plan.target} now: wait for it, or stop it (it stops after its current step)`]);
	}

	try {
		return yield * walk();
	} finally {
		lock.release();
	}

	async function * walk(): AsyncGenerator<EngineEvent, RestoreReport> {
		// Preflight: access, then preconditions (those passed before a crash are not asked again).
		const reasons = yield * preflight(plan, {checkAccess: options.checkAccess, skip: completedBefore, results});
		if (reasons.length > 0) {
			return yield * refuse(reasons);
		}

		// Gates: every remaining dangerous step is confirmed before anything changes.
		for (const step of description.steps) {
			if (!step.dangerous || completedBefore.has(step.id)) {
				continue;
			}

			const typed = await options.confirm({step, confirmText: step.dangerous.confirmText, reason: step.dangerous.reason});
			const accepted = typed !== undefined && typed.trim() === step.dangerous.confirmText;
			yield {type: 'gate', step: step.id, accepted};
			if (!accepted) {
				const why = typed === undefined || typed.trim() === ''
					? `confirmation for '${step.title}' was not given`
					: `confirmation for '${step.title}' did not match: typed '${typed.trim()}', expected '${step.dangerous.confirmText}'`;
				return yield * refuse([`${why}; nothing was changed`]);
			}
		}

		const journal = new Journal(resume?.file ?? journalFile(stateDir, plan.target), runId);
		if (resume) {
			journal.append({type: 'resume', runId, at: startedAt, identity});
			audit.record({identity, action: `restore.${plan.kind}`, target: plan.target, outcome: 'started', runId, detail: `resumed: ${describeUnfinished(resume)}`});
		} else {
			journal.append({type: 'begin', runId, at: startedAt, identity, target: plan.target, kind: plan.kind, facts: plan.facts, plan: description});
			audit.record({identity, action: `restore.${plan.kind}`, target: plan.target, outcome: 'started', runId, detail: plan.summary});
		}

		for (const step of description.steps) {
			if (step.dangerous && !completedBefore.has(step.id)) {
				journal.append({type: 'confirm', runId, at: new Date().toISOString(), step: step.id});
			}
		}

		const never = new AbortController().signal;
		let index = 0;
		for (const step of plan.steps) {
			index++;
			if (completedBefore.has(step.id)) {
				continue;
			}

			if (options.signal?.aborted) {
				journal.append({type: 'stopped', runId, at: new Date().toISOString(), reason: 'stop requested'});
				audit.record({identity, action: `restore.${plan.kind}`, target: plan.target, outcome: 'stopped', runId, detail: `before step ${step.id}`});
				yield {type: 'stopped', reason: 'stop requested', next: step.id};
				const report = finish('stopped', [`stopped on request before step '${step.id}'; run the same command with --resume to continue`]);
				yield {type: 'report', report};
				return report;
			}

			const began = Date.now();
			const stepStartedAt = new Date().toISOString();
			yield {type: 'step-start', step: step.id, kind: step.kind, title: step.title, index, count: plan.steps.length};
			journal.append({type: 'start', runId, at: stepStartedAt, step: step.id});
			crashHook('before', step.id);
			// Waits may be cut short by a stop request (nothing is half-changed); mutations never are.
			const context: StepContext = {signal: step.kind === 'wait' || step.kind === 'verify' ? (options.signal ?? never) : never, results};
			let outcome: StepOutcome;
			let result: unknown;
			let detail: string | undefined;
			try {
				if (step.kind === 'precondition') {
					const checked = await step.evaluate(context);
					if (!checked.ok) {
						throw new Error(checked.detail);
					}

					outcome = 'passed';
					detail = checked.detail;
				} else if ((step.kind === 'mutation' || step.kind === 'wait') && await step.check(context)) {
					outcome = 'already';
					detail = 'already in place';
				} else {
					if (step.kind === 'mutation') {
						// Recorded before the change is made, so a crash mid-step still leaves the attempt audited.
						audit.record({identity, action: `step.${step.id}`, target: plan.target, outcome: 'started', runId, detail: step.changes});
					}

					const run = step.run(context);
					let next = await run.next();
					while (!next.done) {
						yield {type: 'step-progress', step: step.id, progress: next.value};
						next = await run.next();
					}

					result = next.value;
					outcome = 'done';
					if (result && typeof result === 'object' && 'detail' in result && typeof result.detail === 'string') {
						detail = result.detail;
					}
				}
			} catch (error) {
				const endedAt = new Date().toISOString();
				if (step.kind !== 'mutation' && options.signal?.aborted) {
					journal.append({type: 'stopped', runId, at: endedAt, reason: `stop requested during ${step.id}`});
					audit.record({identity, action: `restore.${plan.kind}`, target: plan.target, outcome: 'stopped', runId, detail: `during ${step.kind} ${step.id}`});
					records.set(step.id, {id: step.id, kind: step.kind, title: step.title, outcome: 'not-run', startedAt: stepStartedAt, detail: 'stopped on request'});
					yield {type: 'stopped', reason: 'stop requested', next: step.id};
					const report = finish('stopped', [`stopped on request during ${step.kind} '${step.id}' (nothing half-changed); run the same command with --resume to continue`]);
					yield {type: 'report', report};
					return report;
				}

				if (step.kind === 'mutation' && options.signal?.aborted && isStopRequest(error)) {
					// The operator's stop cut this mutation short (a mirror copy): partly done, resumable; not a failure.
					const detail = message(error);
					journal.append({type: 'stopped', runId, at: endedAt, reason: `stop requested during ${step.id}: ${detail}`, step: step.id});
					audit.record({identity, action: `step.${step.id}`, target: plan.target, outcome: 'stopped', runId, detail});
					audit.record({identity, action: `restore.${plan.kind}`, target: plan.target, outcome: 'stopped', runId, detail: `during mutation ${step.id}`});
					records.set(step.id, {id: step.id, kind: step.kind, title: step.title, outcome: 'stopped', startedAt: stepStartedAt, endedAt, detail});
					yield {type: 'step-end', step: step.id, outcome: 'stopped', detail, durationMs: Date.now() - began};
					yield {type: 'stopped', reason: 'stop requested', next: step.id};
					const report = finish('stopped', [`stopped on request during '${step.id}' (${detail})`, 'the journal keeps the place: run the same command with --resume to continue (in the console: open the same restore again)'], {undo: [`${step.title}: partly done; ${step.undo}`, ...doneUndo()]});
					yield {type: 'report', report};
					return report;
				}

				const error_ = message(error);
				journal.append({type: 'failed', runId, at: endedAt, step: step.id, error: error_});
				audit.record({identity, action: `step.${step.id}`, target: plan.target, outcome: 'failed', runId, detail: error_});
				records.set(step.id, {id: step.id, kind: step.kind, title: step.title, outcome: 'failed', startedAt: stepStartedAt, endedAt, detail: error_});
				yield {type: 'step-end', step: step.id, outcome: 'failed', detail: error_, durationMs: Date.now() - began};
				audit.record({identity, action: `restore.${plan.kind}`, target: plan.target, outcome: 'failed', runId, detail: `step ${step.id}: ${error_}`});
				const report = finish('failed', [`step '${step.id}' failed: ${error_}`, 'the journal keeps the place: fix the cause and run the same command with --resume to retry from this step']);
				yield {type: 'report', report};
				return report;
			}

			crashHook('before-done', step.id);
			const endedAt = new Date().toISOString();
			journal.append({type: 'done', runId, at: endedAt, step: step.id, outcome, ...(detail ? {detail} : {}), ...(result === undefined ? {} : {result})});
			if (step.kind === 'mutation') {
				audit.record({identity, action: `step.${step.id}`, target: plan.target, outcome: outcome === 'already' ? 'already-done' : 'succeeded', runId, detail: step.changes});
			}

			results.set(step.id, result);
			records.set(step.id, {id: step.id, kind: step.kind, title: step.title, outcome, startedAt: stepStartedAt, endedAt, ...(detail ? {detail} : {}), ...(result === undefined ? {} : {result})});
			yield {type: 'step-end', step: step.id, outcome, ...(detail ? {detail} : {}), durationMs: Date.now() - began};
			crashHook('after', step.id);
		}

		journal.append({type: 'end', runId, at: new Date().toISOString(), outcome: 'succeeded'});
		journal.close(stateDir);
		audit.record({identity, action: `restore.${plan.kind}`, target: plan.target, outcome: 'succeeded', runId, detail: plan.summary});
		const report = finish('succeeded', []);
		yield {type: 'report', report};
		return report;
	}
}

/** Discards the unfinished journal of a target (recorded, moved aside, audited). */
export function abandonUnfinished(stateDir: string, state: JournalState, identity: string): string {
	const journal = new Journal(state.file, state.runId);
	journal.append({type: 'end', runId: state.runId, at: new Date().toISOString(), outcome: 'abandoned'});
	const moved = journal.close(stateDir);
	new AuditLog(stateDir).record({identity, action: `restore.${state.begin.kind}`, target: state.begin.target, outcome: 'stopped', runId: state.runId, detail: `abandoned: ${describeUnfinished(state)}`});
	return moved;
}
