import type {EngineEvent} from '../../restore/executor.js';
import type {PlanDescription} from '../../restore/plan.js';
import type {RestoreReport, StepRecord} from '../../restore/report.js';

/**
The restore wizard's state: a reducer over the engine's events plus the operator's keys. Pure, so
the screens are tested with plain fixtures and the component stays thin.
*/
export type WizardPhase = 'plan' | 'preflight' | 'blocked' | 'ready' | 'running' | 'gate' | 'confirm-stop' | 'report';

export type StepStatus = 'pending' | 'running' | StepRecord['outcome'];

export type StepView = {
	readonly id: string;
	readonly kind: string;
	readonly title: string;
	readonly status: StepStatus;
	/** The last few progress lines. */
	readonly lines: readonly string[];
	readonly quantity?: {readonly current: number; readonly total?: number; readonly unit?: string};
	/** First quantity seen and when, for the rate and ETA. */
	readonly firstQuantity?: {readonly current: number; readonly at: number};
	readonly startedAt?: number;
	readonly lastActivity?: number;
	readonly waiting: boolean;
	readonly detail?: string;
	readonly dangerous?: {readonly confirmText: string; readonly reason: string};
};

export type WizardState = {
	readonly phase: WizardPhase;
	readonly plan: PlanDescription;
	readonly checks: ReadonlyArray<{check: string; ok: boolean; detail: string; hint?: string}>;
	readonly refusals: readonly string[];
	readonly gate?: {readonly step: string; readonly title: string; readonly confirmText: string; readonly reason: string; readonly typed: string};
	readonly steps: readonly StepView[];
	/** Kubernetes events and warnings of the objects involved, newest last. */
	readonly events: readonly string[];
	readonly report?: RestoreReport;
	readonly stopRequested: boolean;
	/** The phase to return to when a stop question is answered no. */
	readonly before?: WizardPhase;
};

export type WizardAction =
	| {type: 'engine'; events: readonly EngineEvent[]; now: number}
	| {type: 'phase'; phase: WizardPhase}
	| {type: 'gate-open'; step: string; title: string; confirmText: string; reason: string}
	| {type: 'gate-key'; input: string}
	| {type: 'gate-backspace'}
	| {type: 'gate-close'}
	| {type: 'stop-ask'}
	| {type: 'stop-answer'; stop: boolean};

export function initialWizardState(plan: PlanDescription, completed: readonly string[] = []): WizardState {
	return {
		phase: 'plan',
		plan,
		checks: [],
		refusals: [],
		steps: plan.steps.map(step => ({
			id: step.id, kind: step.kind, title: step.title, status: completed.includes(step.id) ? 'skipped-done' : 'pending', lines: [], waiting: false,
			...(step.dangerous ? {dangerous: step.dangerous} : {}),
		})),
		events: [],
		stopRequested: false,
	};
}

const keepLast = <T>(list: readonly T[], item: T, count: number) => [...list, item].slice(-count);

function applyEvent(state: WizardState, event: EngineEvent, now: number): WizardState {
	const updateStep = (id: string, update: (step: StepView) => StepView) => ({...state, steps: state.steps.map(step => step.id === id ? update(step) : step)});
	switch (event.type) {
		case 'plan': {
			return {...state, steps: state.steps.map(step => event.completed.includes(step.id) ? {...step, status: 'skipped-done'} : step)};
		}

		case 'preflight': {
			// The executor checks again before it acts: keep one line per check.
			const checks = state.checks.filter(check => !(check.check === event.check && check.detail === event.detail));
			return {...state, checks: [...checks, {check: event.check, ok: event.ok, detail: event.detail, ...(event.hint ? {hint: event.hint} : {})}]};
		}

		case 'refused': {
			return {...state, refusals: event.reasons};
		}

		case 'gate': {
			return {...state, gate: undefined, phase: state.phase === 'gate' ? 'running' : state.phase};
		}

		case 'step-start': {
			return updateStep(event.step, step => ({...step, status: 'running', startedAt: now, lastActivity: now, waiting: step.kind === 'wait'}));
		}

		case 'step-progress': {
			const {progress} = event;
			const line = `${progress.object ? progress.object + ': ' : ''}${progress.message}`;
			const next = updateStep(event.step, step => ({
				...step,
				lines: keepLast(step.lines, line, 3),
				// A "nothing moved" warning is not movement: the stall warning stays.
				lastActivity: progress.kind === 'warning' ? step.lastActivity : now,
				waiting: progress.kind === 'wait' || (step.kind === 'wait' && progress.current === undefined),
				...(progress.current === undefined ? {} : {
					quantity: {current: progress.current, ...(progress.total === undefined ? {} : {total: progress.total}), ...(progress.unit ? {unit: progress.unit} : {})},
					firstQuantity: step.firstQuantity ?? {current: progress.current, at: now},
				}),
			}));
			return progress.kind === 'event' || progress.kind === 'warning' ? {...next, events: keepLast(next.events, `${progress.kind === 'warning' ? '⚠ ' : ''}${line}`, 6)} : next;
		}

		case 'step-end': {
			return updateStep(event.step, step => ({...step, status: event.outcome, waiting: false, lastActivity: now, ...(event.detail ? {detail: event.detail} : {})}));
		}

		case 'stopped': {
			return {...state, stopRequested: true};
		}

		case 'report': {
			return {...state, phase: 'report', report: event.report, gate: undefined, steps: state.steps.map(step => {
				const record = event.report.steps.find(candidate => candidate.id === step.id);
				return record && step.status !== 'running' ? {...step, status: record.outcome} : step;
			})};
		}

		default: {
			return state;
		}
	}
}

export function wizardReducer(state: WizardState, action: WizardAction): WizardState {
	switch (action.type) {
		case 'engine': {
			let next = state;
			for (const event of action.events) {
				next = applyEvent(next, event, action.now);
			}

			if (next.phase === 'preflight' && action.events.length === 0) {
				return next;
			}

			return next;
		}

		case 'phase': {
			return {...state, phase: action.phase};
		}

		case 'gate-open': {
			return {...state, phase: 'gate', gate: {step: action.step, title: action.title, confirmText: action.confirmText, reason: action.reason, typed: ''}};
		}

		case 'gate-key': {
			return state.gate ? {...state, gate: {...state.gate, typed: state.gate.typed + action.input}} : state;
		}

		case 'gate-backspace': {
			return state.gate ? {...state, gate: {...state.gate, typed: state.gate.typed.slice(0, -1)}} : state;
		}

		case 'gate-close': {
			return {...state, gate: undefined, phase: 'running'};
		}

		case 'stop-ask': {
			return state.phase === 'running' ? {...state, phase: 'confirm-stop', before: state.phase} : state;
		}

		case 'stop-answer': {
			return {...state, phase: state.phase === 'confirm-stop' ? (state.before ?? 'running') : state.phase, stopRequested: state.stopRequested || action.stop};
		}
	}
}

/** Seconds without any progress after which a running step is flagged as stalled. */
export const stallAfterMs = 30_000;

export function stallWarning(step: StepView, now: number): string | undefined {
	if (step.status !== 'running' || step.lastActivity === undefined) {
		return undefined;
	}

	const quiet = now - step.lastActivity;
	return quiet >= stallAfterMs ? `nothing moved for ${Math.round(quiet / 1000)} s: check the events below, or stop after this step (Esc)` : undefined;
}

const formatQuantity = (value: number, unit?: string) => unit === 'bytes' ? formatBytes(value) : `${value}${unit ? ' ' + unit : ''}`;

export function formatBytes(bytes: number): string {
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes;
	let index = 0;
	while (value >= 1024 && index < units.length - 1) {
		value /= 1024;
		index++;
	}

	return `${index === 0 ? value : value.toFixed(1)} ${units[index]}`;
}

/** A progress bar line: `[#####-----] 5/10 objects  2.0/s  ETA 3 s`. */
export function progressLine(step: StepView, now: number, width = 20): string | undefined {
	const quantity = step.quantity;
	if (!quantity) {
		return undefined;
	}

	const elapsed = step.firstQuantity ? (now - step.firstQuantity.at) / 1000 : 0;
	const rate = elapsed > 0.5 && step.firstQuantity ? (quantity.current - step.firstQuantity.current) / elapsed : undefined;
	if (quantity.total === undefined || quantity.total <= 0) {
		return `${formatQuantity(quantity.current, quantity.unit)}${rate ? `  ${formatQuantity(Math.round(rate), quantity.unit)}/s` : ''}`;
	}

	const fraction = Math.max(0, Math.min(1, quantity.current / quantity.total));
	const filled = Math.round(fraction * width);
	const eta = rate && rate > 0 ? Math.ceil((quantity.total - quantity.current) / rate) : undefined;
	return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${formatQuantity(quantity.current, quantity.unit)}/${formatQuantity(quantity.total, quantity.unit)}${rate ? `  ${formatQuantity(Math.round(rate * 10) / 10, quantity.unit)}/s` : ''}${eta === undefined ? '' : `  ETA ${eta} s`}`;
}

export const statusIcon = (status: StepStatus): string => ({
	pending: '·', running: '▸', done: '✓', already: '✓', passed: '✓', 'skipped-done': '✓', failed: '✗', 'not-run': '○', stopped: '■',
} as Record<string, string>)[status] ?? '?';
