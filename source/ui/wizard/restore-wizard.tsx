import React, {useCallback, useEffect, useReducer, useRef, useState} from 'react';
import {Box, Text, useInput, useWindowSize} from 'ink';
import Spinner from 'ink-spinner';
import type {EngineEvent, Gate} from '../../restore/executor.js';
import {describePlan} from '../../restore/plan.js';
import type {RestoreReport} from '../../restore/report.js';
import type {RestoreSession} from '../../restore/session.js';
import {initialWizardState, progressLine, stallWarning, statusIcon, wizardReducer, type StepView} from './wizard-state.js';

export type RestoreWizardProps = {
	readonly session: RestoreSession;
	/** Called when the operator leaves the wizard (with the report when a run happened). */
	readonly onExit: (report?: RestoreReport) => void;
	/** The clock (tests pin it). */
	readonly now?: () => number;
	readonly width?: number;
	/** Rows available (default: the terminal's); long lists are shortened to fit. */
	readonly height?: number;
	/** The stop question's second sentence when a stop does more than wait for the step (a mirror copy stops at once). */
	readonly stopNote?: string;
};

const kindColor: Record<string, string> = {precondition: 'blue', mutation: 'yellow', wait: 'cyan', verify: 'green'};

/**
The guided restore: plan -> preflight -> (gates) -> live progress -> report, over one
`RestoreSession`. Keys: Enter goes on, Esc goes back or (while running) asks to stop after the
current step; a gate takes the typed name.
*/
export function RestoreWizard({session, onExit, now = Date.now, width: givenWidth, height: givenHeight, stopNote}: RestoreWizardProps) {
	const windowSize = useWindowSize();
	const width = givenWidth ?? Math.min(140, Math.max(60, windowSize.columns || 100));
	const height = givenHeight ?? (windowSize.rows || 60);
	const description = describePlan(session.plan);
	const [state, dispatch] = useReducer(wizardReducer, undefined, () => initialWizardState(description, [...session.resume?.completed.keys() ?? []]));
	const [clock, setClock] = useState(now());
	const buffer = useRef<EngineEvent[]>([]);
	const controller = useRef(new AbortController());
	const gateAnswer = useRef<((typed: string | undefined) => void) | undefined>(undefined);
	const started = useRef(false);

	// Redraws are throttled: events are buffered and applied at most ten times a second.
	useEffect(() => {
		const timer = setInterval(() => {
			const events = buffer.current.splice(0);
			const time = now();
			if (events.length > 0) {
				dispatch({type: 'engine', events, now: time});
			}

			setClock(time);
		}, 100);
		return () => {
			clearInterval(timer);
		};
	}, [now]);

	const runPreflight = useCallback(async () => {
		dispatch({type: 'phase', phase: 'preflight'});
		const generator = session.preflight();
		let next = await generator.next();
		while (!next.done) {
			buffer.current.push(next.value);
			next = await generator.next();
		}

		const reasons = next.value;
		// Let the buffered checks land before the phase changes.
		buffer.current.push({type: 'refused', reasons});
		setTimeout(() => {
			dispatch({type: 'phase', phase: reasons.length > 0 ? 'blocked' : 'ready'});
		}, 120);
	}, [session]);

	const execute = useCallback(async () => {
		if (started.current) {
			return;
		}

		started.current = true;
		dispatch({type: 'phase', phase: 'running'});
		const confirm = async (gate: Gate) => new Promise<string | undefined>(resolve => {
			gateAnswer.current = resolve;
			dispatch({type: 'gate-open', step: gate.step.id, title: gate.step.title, confirmText: gate.confirmText, reason: gate.reason});
		});
		for await (const event of session.execute({confirm, signal: controller.current.signal})) {
			buffer.current.push(event);
		}
	}, [session]);

	useInput((input, key) => {
		const escape = key.escape || (key.ctrl && input === 'c');
		switch (state.phase) {
			case 'plan': {
				if (key.return) {
					void runPreflight();
				} else if (escape || input === 'q') {
					onExit();
				}

				break;
			}

			case 'ready': {
				if (key.return) {
					void execute();
				} else if (escape) {
					onExit();
				}

				break;
			}

			case 'blocked': {
				if (escape || key.return || input === 'q') {
					onExit();
				}

				break;
			}

			case 'gate': {
				if (key.return) {
					const typed = state.gate?.typed ?? '';
					dispatch({type: 'gate-close'});
					gateAnswer.current?.(typed);
				} else if (escape) {
					dispatch({type: 'gate-close'});
					gateAnswer.current?.(undefined);
				} else if (key.backspace || key.delete) {
					dispatch({type: 'gate-backspace'});
				} else if (input && !key.ctrl && !key.meta) {
					dispatch({type: 'gate-key', input});
				}

				break;
			}

			case 'running': {
				if (escape) {
					dispatch({type: 'stop-ask'});
				}

				break;
			}

			case 'confirm-stop': {
				if (input === 'y') {
					controller.current.abort();
					dispatch({type: 'stop-answer', stop: true});
				} else if (input === 'n' || escape) {
					dispatch({type: 'stop-answer', stop: false});
				}

				break;
			}

			case 'report': {
				if (key.return || escape || input === 'q') {
					onExit(state.report);
				}

				break;
			}

			default: {
				break;
			}
		}
	});

	const inner = Math.max(40, width - 4);
	return (
		<Box flexDirection='column' borderStyle='round' borderColor={state.phase === 'report' && state.report?.outcome !== 'succeeded' ? 'red' : 'cyan'} paddingX={1} width={width}>
			<Text bold color='cyan'>Restore: {description.summary}</Text>
			{session.resumeNote ? <Text color='yellow'>Resuming {session.resumeNote}</Text> : null}
			{state.phase === 'plan' ? <PlanScreen state={state} width={inner} compact={height < 60}/> : null}
			{state.phase === 'preflight' || state.phase === 'blocked' || state.phase === 'ready' ? <PreflightScreen state={state} readOnly={session.readOnly}/> : null}
			{state.phase === 'running' || state.phase === 'gate' || state.phase === 'confirm-stop' || state.phase === 'report' ? <ProgressScreen state={state} now={clock} rows={Math.max(6, height - (state.phase === 'report' ? 24 : 14))}/> : null}
			{state.phase === 'gate' && state.gate ? (
				<Box flexDirection='column' borderStyle='double' borderColor='red' paddingX={1} marginTop={1}>
					<Text bold color='red'>Confirm: {state.gate.title}</Text>
					<Text>This {state.gate.reason}.</Text>
					<Text>Type <Text bold>{state.gate.confirmText}</Text> to confirm (Esc cancels, nothing is changed):</Text>
					<Text>&gt; {state.gate.typed}<Text inverse> </Text></Text>
				</Box>
			) : null}
			{state.phase === 'confirm-stop' ? <Text color='yellow' bold>Stop after the current step? {stopNote ?? 'The step running now is finished first.'} [y/n]</Text> : null}
			{state.phase === 'report' && state.report ? <ReportScreen report={state.report}/> : null}
			<Text dimColor>{footer(state.phase)}</Text>
		</Box>
	);
}

function footer(phase: string): string {
	return ({
		plan: 'Enter: check preconditions and permissions · Esc: back',
		preflight: 'checking…',
		blocked: 'Esc: back (nothing was changed)',
		ready: 'Enter: start (each dangerous step asks for its name) · Esc: back',
		running: 'Esc / Ctrl-C: stop after the current step',
		gate: 'Enter: confirm · Esc: cancel',
		'confirm-stop': 'y: stop after this step · n: go on',
		report: 'Enter / Esc: close',
	} as Record<string, string>)[phase] ?? '';
}

function PlanScreen({state, width, compact}: {readonly state: ReturnType<typeof initialWizardState>; readonly width: number; readonly compact: boolean}) {
	const {plan} = state;
	return (
		<Box flexDirection='column'>
			<Text bold>Plan ({plan.steps.length} steps)</Text>
			{plan.steps.map((step, index) => (
				<Box key={step.id} flexDirection='column'>
					<Text>
						{String(index + 1).padStart(2)}. <Text color={kindColor[step.kind]}>{step.kind.padEnd(13)}</Text>{step.title}{step.dangerous ? <Text color='red' bold>  [type {step.dangerous.confirmText}]</Text> : null}
						{state.steps[index]?.status === 'skipped-done' ? <Text color='green'>  (done before)</Text> : null}
					</Text>
					{step.changes && !compact ? <Text dimColor>{'      changes: '}{step.changes.slice(0, width)}</Text> : null}
				</Box>
			))}
			{plan.preview && plan.preview.length > 0 ? <Text bold>Preview</Text> : null}
			{(plan.preview ?? []).slice(0, compact ? 12 : 40).map((line, index) => <Text key={`preview-${index}`}>  {line.slice(0, width)}</Text>)}
			<Text bold>Blast radius</Text>
			{plan.blastRadius.map(line => <Text key={line} color='yellow'>  - {line}</Text>)}
			{plan.warnings.length > 0 ? <Text bold>Warnings</Text> : null}
			{plan.warnings.map(line => <Text key={line} color='yellow'>  ⚠ {line}</Text>)}
			<Text bold>Undo</Text>
			{plan.undo.map(line => <Text key={line} dimColor>  - {line}</Text>)}
		</Box>
	);
}

function PreflightScreen({state, readOnly}: {readonly state: ReturnType<typeof initialWizardState>; readonly readOnly: boolean}) {
	return (
		<Box flexDirection='column'>
			<Text bold>Preflight {state.phase === 'preflight' ? <Spinner type='dots'/> : null}</Text>
			{readOnly ? <Text color='yellow'>--read-only: restores are not available; nothing will be changed</Text> : null}
			{state.checks.map(check => (
				<Text key={check.check + check.detail} color={check.ok ? undefined : 'red'}>  {check.ok ? '✓' : '✗'} {check.detail}{!check.ok && check.hint ? `: ${check.hint}` : ''}</Text>
			))}
			{state.phase === 'blocked' ? <Text color='red' bold>Refused: nothing was changed. {readOnly ? 'Drop --read-only to restore.' : ''}</Text> : null}
			{state.phase === 'ready' ? <Text color='green' bold>All checks passed. Enter starts the restore.</Text> : null}
		</Box>
	);
}

function StepLine({step, now}: {readonly step: StepView; readonly now: number}) {
	const color = step.status === 'failed' ? 'red' : (step.status === 'stopped' ? 'yellow' : (step.status === 'running' ? 'cyan' : (step.status === 'pending' || step.status === 'not-run' ? 'gray' : 'green')));
	const bar = step.status === 'running' ? progressLine(step, now) : undefined;
	const stall = stallWarning(step, now);
	const elapsed = step.status === 'running' && step.startedAt !== undefined ? ` ${Math.round((now - step.startedAt) / 1000)} s` : '';
	return (
		<Box flexDirection='column'>
			<Text color={color}>
				{step.status === 'running' && step.waiting ? <Spinner type='dots'/> : statusIcon(step.status)} {step.title}{elapsed}{step.status === 'already' ? ' (already in place)' : ''}{step.status === 'skipped-done' ? ' (done before)' : ''}
			</Text>
			{step.status === 'running' ? step.lines.map((line, index) => <Text key={`${step.id}-${index}`} dimColor>{'    '}{line}</Text>) : null}
			{bar ? <Text color='cyan'>{'    '}{bar}</Text> : null}
			{stall ? <Text color='yellow'>{'    ⚠ '}{stall}</Text> : null}
			{step.status === 'failed' && step.detail ? <Text color='red'>{'    '}{step.detail}</Text> : null}
			{step.status === 'stopped' && step.detail ? <Text color='yellow'>{'    '}{step.detail}</Text> : null}
		</Box>
	);
}

function ProgressScreen({state, now, rows}: {readonly state: ReturnType<typeof initialWizardState>; readonly now: number; readonly rows: number}) {
	const isDone = (step: StepView) => !['pending', 'running', 'not-run', 'failed', 'stopped'].includes(step.status);
	const done = state.steps.filter(step => isDone(step)).length;
	// Too many steps for the rows: the finished ones fold into one line (the last two stay).
	const budget = Math.max(4, rows - state.events.length);
	const folded = state.steps.length > budget ? Math.min(done - 2, state.steps.length - budget + 1) : 0;
	let hidden = 0;
	const visible = state.steps.filter(step => {
		if (hidden < folded && isDone(step)) {
			hidden++;
			return false;
		}

		return true;
	});
	return (
		<Box flexDirection='column'>
			<Text bold>Progress {done}/{state.steps.length}{state.stopRequested ? <Text color='yellow'>{state.phase === 'report' ? ' (stopped on request)' : ' (stopping after the current step)'}</Text> : null}</Text>
			{hidden > 0 ? <Text color='green'>✓ {hidden} earlier steps done</Text> : null}
			{visible.map(step => <StepLine key={step.id} step={step} now={now}/>)}
			{state.events.length > 0 ? <Text bold>Events</Text> : null}
			{state.events.map((line, index) => <Text key={`event-${index}`} dimColor>  {line}</Text>)}
		</Box>
	);
}

function ReportScreen({report}: {readonly report: RestoreReport}) {
	const color = report.outcome === 'succeeded' ? 'green' : (report.outcome === 'stopped' ? 'yellow' : 'red');
	return (
		<Box flexDirection='column' marginTop={1}>
			<Text bold color={color}>{report.outcome.toUpperCase()}: {report.summary}</Text>
			<Text>By {report.identity}, {report.startedAt} → {report.endedAt}{report.resumed ? ' (resumed)' : ''}</Text>
			{report.reasons.map(reason => <Text key={reason} color={color}>  {reason}</Text>)}
			{Object.values((report.verification ?? {}) as Record<string, {detail?: unknown}>).filter(value => typeof value?.detail === 'string').map(value => <Text key={String(value.detail)} color={color}>Verified: {String(value.detail)}</Text>)}
			{report.undo.length > 0 ? <Text bold>How to undo</Text> : null}
			{report.undo.map(line => <Text key={line}>  - {line}</Text>)}
			{report.files ? <Text dimColor>Report saved: {report.files.markdown}</Text> : null}
		</Box>
	);
}
