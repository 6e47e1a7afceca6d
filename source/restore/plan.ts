/**
A restore is data before it is action: a `RestorePlan` is a list of typed steps, each saying
what it will change, how it is checked and how it is undone. `--dry-run` prints the plan
(`describePlan`), the executor walks it, the journal and report record it.

Steps are idempotent: `run` may be called again after a crash, and `check` tells whether the
step's effect is already there, so a resumed restore never repeats a completed mutation.
*/

export type StepKind = 'precondition' | 'mutation' | 'wait' | 'verify';

/** A permission a plan needs, asked of the API server as a SelfSubjectAccessReview. */
export type AccessRequirement = {
	readonly verb: string;
	/** '' for the core group. */
	readonly group: string;
	readonly resource: string;
	readonly subresource?: string;
	/** Undefined for cluster-scoped resources. */
	readonly namespace?: string;
	readonly name?: string;
};

/** Something a step reports while it runs: a line, a quantity, a Kubernetes event. */
export type StepProgress = {
	readonly message: string;
	/** A quantity when there is one: objects, bytes, replicas. */
	readonly current?: number;
	readonly total?: number;
	readonly unit?: string;
	/** The object this line is about, e.g. 'StatefulSet/ilum-objectstorage'. */
	readonly object?: string;
	/** 'event' for Kubernetes events of the objects involved, 'wait' while waiting. */
	readonly kind?: 'info' | 'wait' | 'event' | 'warning';
	/** Structured figures for front ends that draw more than a line (a mirror copy's per-bucket counters). JSON. */
	readonly data?: unknown;
};

/**
Thrown by a mutation that stopped part-way because the operator asked it to (Ctrl-C, the wizard's
stop): what it did so far is in place and a resume finishes it. The engine records the run as
`stopped` (resumable), not `failed`. Only the copy of a mirror restore stops mid-step today; other
mutations run to their end.
*/
export class StoppedError extends Error {
	constructor(message: string, options?: {cause?: unknown}) {
		super(message, options);
		this.name = 'StoppedError';
	}
}

/** A `StoppedError`, or an `AbortError` (a signal's), anywhere in the error's cause chain. */
export function isStopRequest(error: unknown): boolean {
	for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
		if (current instanceof StoppedError || current.name === 'AbortError') {
			return true;
		}
	}

	return false;
}

/** The outcome of a precondition: passed or not, and why, in words the operator can act on. */
export type CheckResult = {
	readonly ok: boolean;
	readonly detail: string;
	/** What to do when it failed. */
	readonly hint?: string;
};

export type StepContext = {
	readonly signal: AbortSignal;
	/** Results recorded by earlier steps (also after a resume: they come from the journal). */
	readonly results: ReadonlyMap<string, unknown>;
};

/**
What a step yields while it runs; its return value is the step's result, journaled and given to
later steps through `StepContext.results` (so a resumed run sees it too). Must be JSON.
*/
export type StepRun = AsyncGenerator<StepProgress, unknown, void>;

type BaseStep = {
	readonly id: string;
	readonly kind: StepKind;
	/** One line: what the step does. */
	readonly title: string;
	/** Objects this step touches, e.g. ['PersistentVolumeClaim/ilum/data-x-0']. */
	readonly objects?: readonly string[];
};

export type PreconditionStep = BaseStep & {
	readonly kind: 'precondition';
	evaluate(context: StepContext): Promise<CheckResult>;
};

export type MutationStep = BaseStep & {
	readonly kind: 'mutation';
	/** What it changes, in words. */
	readonly changes: string;
	/** How it is undone, in words (a command where there is one). */
	readonly undo: string;
	/** Present when the step needs a typed confirmation: the text the operator must type. */
	readonly dangerous?: {readonly confirmText: string; readonly reason: string};
	/** True when the step's effect is already there (then it is not run again). */
	check(context: StepContext): Promise<boolean>;
	run(context: StepContext): StepRun;
};

export type WaitStep = BaseStep & {
	readonly kind: 'wait';
	/** The deadline for the condition, in milliseconds. */
	readonly timeoutMs: number;
	check(context: StepContext): Promise<boolean>;
	run(context: StepContext): StepRun;
};

export type VerifyStep = BaseStep & {
	readonly kind: 'verify';
	run(context: StepContext): StepRun;
};

export type Step = PreconditionStep | MutationStep | WaitStep | VerifyStep;

export type RestorePlan = {
	/** What kind of restore, e.g. 'volume'. */
	readonly kind: string;
	/**
	What is being restored, as a stable key: one unfinished journal per target
	(e.g. 'volume/ilum/data-ilum-objectstorage-0').
	*/
	readonly target: string;
	/** One line for people. */
	readonly summary: string;
	/**
	Everything the plan was built from, as JSON. Journaled at the start, so a resumed run rebuilds
	exactly the same plan instead of re-reading a cluster the restore has already changed.
	*/
	readonly facts: unknown;
	/** What goes offline, for how long, what is overwritten or deleted. */
	readonly blastRadius: readonly string[];
	/** Hazards the operator should know about (not refusals). */
	readonly warnings: readonly string[];
	/** What the result will look like, when the kind has a preview (a table restore's files, rows, schema, commit). */
	readonly preview?: readonly string[];
	readonly access: readonly AccessRequirement[];
	readonly steps: readonly Step[];
	/** How to undo the whole restore once it is done. */
	readonly undo: readonly string[];
};

/** The plan as plain data: what `--dry-run --json` prints and the report records. */
export type PlanDescription = {
	readonly kind: string;
	readonly target: string;
	readonly summary: string;
	readonly blastRadius: readonly string[];
	readonly warnings: readonly string[];
	readonly preview?: readonly string[];
	readonly access: readonly AccessRequirement[];
	readonly undo: readonly string[];
	readonly steps: ReadonlyArray<{
		readonly id: string;
		readonly kind: StepKind;
		readonly title: string;
		readonly objects?: readonly string[];
		readonly changes?: string;
		readonly undo?: string;
		readonly dangerous?: {readonly confirmText: string; readonly reason: string};
		readonly timeoutMs?: number;
	}>;
};

export function describePlan(plan: RestorePlan): PlanDescription {
	return {
		kind: plan.kind,
		target: plan.target,
		summary: plan.summary,
		blastRadius: plan.blastRadius,
		warnings: plan.warnings,
		...(plan.preview ? {preview: plan.preview} : {}),
		access: plan.access,
		undo: plan.undo,
		steps: plan.steps.map(step => ({
			id: step.id,
			kind: step.kind,
			title: step.title,
			...(step.objects ? {objects: step.objects} : {}),
			...(step.kind === 'mutation' ? {changes: step.changes, undo: step.undo, ...(step.dangerous ? {dangerous: step.dangerous} : {})} : {}),
			...(step.kind === 'wait' ? {timeoutMs: step.timeoutMs} : {}),
		})),
	};
}

/** Checks a plan's shape: ids unique and non-empty. Throws on a programming error. */
export function assertValidPlan(plan: RestorePlan): void {
	const seen = new Set<string>();
	for (const step of plan.steps) {
		if (!/^[a-z\d][a-z\d-]*$/.test(step.id)) {
			throw new Error(`Step id '${step.id}' must be kebab-case`);
		}

		if (seen.has(step.id)) {
			throw new Error(`Step id '${step.id}' appears twice in the plan`);
		}

		seen.add(step.id);
	}
}

/** The plan as text, the way `--dry-run` prints it. */
export function formatPlan(description: PlanDescription): string {
	const lines: string[] = [`Plan: ${description.summary}`, `Target: ${description.target}`, ''];
	let index = 0;
	for (const step of description.steps) {
		index++;
		const mark = step.dangerous ? ' [confirm: type ' + step.dangerous.confirmText + ']' : '';
		lines.push(`${String(index).padStart(2)}. ${step.kind.padEnd(12)} ${step.title}${mark}`);
		if (step.changes) {
			lines.push(`      changes: ${step.changes}`);
		}

		if (step.undo) {
			lines.push(`      undo:    ${step.undo}`);
		}
	}

	if (description.preview && description.preview.length > 0) {
		lines.push('', 'Preview:', ...description.preview.map(line => `  ${line}`));
	}

	if (description.blastRadius.length > 0) {
		lines.push('', 'Blast radius:', ...description.blastRadius.map(line => `  - ${line}`));
	}

	if (description.warnings.length > 0) {
		lines.push('', 'Warnings:', ...description.warnings.map(line => `  - ${line}`));
	}

	if (description.access.length > 0) {
		lines.push('', 'Permissions needed:', ...description.access.map(item => `  - ${formatAccess(item)}`));
	}

	if (description.undo.length > 0) {
		lines.push('', 'Undo after it is done:', ...description.undo.map(line => `  - ${line}`));
	}

	return lines.join('\n') + '\n';
}

export function formatAccess(item: AccessRequirement): string {
	const resource = (item.group ? `${item.resource}.${item.group}` : item.resource) + (item.subresource ? `/${item.subresource}` : '');
	const where = item.namespace ? ` in namespace ${item.namespace}` : ' (cluster-wide)';
	return `${item.verb} ${resource}${item.name ? ` '${item.name}'` : ''}${where}`;
}
