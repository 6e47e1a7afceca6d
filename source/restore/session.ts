import {executePlan, preflight, type AccessChecker, type EngineEvent, type Gate} from './executor.js';
import {describeUnfinished, type JournalState} from './journal.js';
import type {RestorePlan} from './plan.js';
import type {RestoreReport} from './report.js';

/**
One restore, ready to be walked by a front end (the console's wizard, or the CLI): the plan, what
an unfinished journal says, and the two phases the wizard shows separately.
*/
export type RestoreSession = {
	readonly plan: RestorePlan;
	/** Set when an unfinished run of the same target will be resumed. */
	readonly resume?: JournalState;
	/** One line about the unfinished run, for the wizard's offer to resume. */
	readonly resumeNote?: string;
	readonly readOnly: boolean;
	/** Preconditions and RBAC only: changes nothing. Returns the reasons it would refuse. */
	preflight(signal?: AbortSignal): AsyncGenerator<EngineEvent, string[]>;
	/** The whole run: preflight again, gates, steps, report. */
	execute(options: {confirm: (gate: Gate) => Promise<string | undefined>; signal?: AbortSignal}): AsyncGenerator<EngineEvent, RestoreReport>;
};

export function createSession(options: {plan: RestorePlan; stateDir: string; identity: string; checkAccess?: AccessChecker; readOnly?: boolean; resume?: JournalState}): RestoreSession {
	const readOnly = Boolean(options.readOnly);
	return {
		plan: options.plan,
		readOnly,
		...(options.resume ? {resume: options.resume, resumeNote: describeUnfinished(options.resume)} : {}),
		async * preflight(signal) {
			const reasons = yield * preflight(options.plan, {
				// Read-only: not even an access review is sent.
				...(readOnly ? {} : {checkAccess: options.checkAccess}),
				skip: new Set(options.resume?.completed.keys() ?? []),
				...(signal ? {signal} : {}),
			});
			return readOnly ? [...reasons, 'read-only mode: restores are not available (drop --read-only to restore)'] : reasons;
		},
		execute: ({confirm, signal}) => executePlan({
			plan: options.plan,
			stateDir: options.stateDir,
			identity: options.identity,
			confirm,
			readOnly,
			...(options.checkAccess ? {checkAccess: options.checkAccess} : {}),
			...(options.resume ? {resume: options.resume} : {}),
			...(signal ? {signal} : {}),
		}),
	};
}
