import React, {useEffect, useMemo, useRef, useState, useSyncExternalStore} from 'react';
import {Box, Text, useInput, useWindowSize} from 'ink';
import Spinner from 'ink-spinner';
import type {EngineEvent} from '../../restore/executor.js';
import type {RestoreReport} from '../../restore/report.js';
import type {RestoreSession} from '../../restore/session.js';
import type {MirrorRestoreSession, MirrorRestoreSessionRequest} from '../../restore/mirror-session.js';
import {isMirrorProgress} from '../../restore/mirror-plan.js';
import type {InClusterEvent} from '../../layers/mirrors/in-cluster.js';
import {applyJobEvent, initialJobProgress, jobProgressLines, settleJobs, type JobProgressState} from './job-progress.js';
import {applyMirrorEvent, initialMirrorProgress, mirrorProgressLines, type MirrorProgressState} from './mirror-progress.js';
import {ScreenGate} from '../screen-gate.js';
import {RestoreWizard} from './restore-wizard.js';

export type MirrorRestoreWizardProps = {
	readonly session: RestoreSession;
	/** The buckets in plan order (bars are drawn for each). */
	readonly buckets: readonly string[];
	/**
	Aborted when the operator stops the run: the copy stops at once (it is resumable) instead of
	running to its end as the engine's other mutations do.
	*/
	readonly copyStop?: AbortController;
	/** The Jobs of an in-cluster copy (`jobStore`): drawn under the bars when there are any. */
	readonly jobs?: JobStore;
	readonly onExit: (report?: RestoreReport) => void;
	readonly width?: number;
	readonly height?: number;
};

export type JobStore = {
	push(event: InClusterEvent): void;
	/** The run ended: Jobs still running are shown ended with it. */
	settle(): void;
	subscribe(listener: () => void): () => void;
	get(): JobProgressState;
};

/**
A state kept current with every event and published to React (`subscribe`/`get`, for
useSyncExternalStore) at most ten times a second, or at once when an update says so.
*/
function throttledStore<State>(initial: State) {
	let state = initial;
	let published = state;
	const listeners = new Set<() => void>();
	let timer: NodeJS.Timeout | undefined;
	const publish = () => {
		if (timer) {
			clearTimeout(timer);
			timer = undefined;
		}

		published = state;
		for (const listener of listeners) {
			listener();
		}
	};

	return {
		update(next: (state: State) => State, now: boolean) {
			state = next(state);
			if (now) {
				publish();
			} else if (state !== published && !timer) {
				timer = setTimeout(publish, 100);
			}
		},
		subscribe(listener: () => void) {
			listeners.add(listener);
			return () => {
				listeners.delete(listener);
				if (listeners.size === 0 && timer) {
					clearTimeout(timer);
					timer = undefined;
				}
			};
		},
		get: () => published,
	};
}

/** The in-cluster Jobs' state, from their events (any thread of the copy). */
export function jobStore(buckets: readonly string[]): JobStore {
	const store = throttledStore(initialJobProgress(buckets));
	return {
		push(event) {
			// A Job's end is shown at once (the result screen must not show it running).
			store.update(state => applyJobEvent(state, event), event.type === 'job-succeeded' || event.type === 'job-failed');
		},
		settle() {
			store.update(settleJobs, true);
		},
		subscribe: store.subscribe,
		get: store.get,
	};
}

const noJobState = initialJobProgress([]);
/** No Jobs (the copy runs in this process): one snapshot, always the same (useSyncExternalStore needs it stable). */
const noJobs: JobStore = {push() {}, settle() {}, subscribe: () => () => {}, get: () => noJobState};

/** The copy's figures, from the engine's events. */
function progressStore(buckets: readonly string[]) {
	const store = throttledStore<MirrorProgressState>(initialMirrorProgress(buckets));
	return {
		push(event: EngineEvent) {
			// A bucket's last figures and the end of the run are shown at once (the report must not show stale bars).
			const final = event.type === 'report' || event.type === 'step-end' || (event.type === 'step-progress' && isMirrorProgress(event.progress.data) && event.progress.data.done);
			store.update(state => applyMirrorEvent(state, event), final);
		},
		subscribe: store.subscribe,
		get: store.get,
	};
}

const toneColor = {good: 'green', bad: 'red', warn: 'yellow', dim: 'gray'} as const;

/**
The restore wizard over a mirror restore session, with the copy's live figures under it: per
bucket bars (objects, bytes), the aggregate rate and ETA, retries, failed keys, and each bucket's
verification. The wizard itself (plan, preflight, gates, steps, report) is the shared one.
*/
export function MirrorRestoreWizard({session, buckets, copyStop, jobs, onExit, width: givenWidth, height: givenHeight}: MirrorRestoreWizardProps) {
	const windowSize = useWindowSize();
	const width = givenWidth ?? Math.min(140, Math.max(60, windowSize.columns || 100));
	const height = givenHeight ?? (windowSize.rows || 60);
	const store = useMemo(() => progressStore(buckets), [buckets]);
	const tapped = useMemo<RestoreSession>(() => ({
		...session,
		async * execute(options) {
			options.signal?.addEventListener('abort', () => copyStop?.abort(), {once: true});
			const run = session.execute(options);
			let next = await run.next();
			while (!next.done) {
				store.push(next.value);
				if (next.value.type === 'report') {
					jobs?.settle();
				}

				yield next.value;
				next = await run.next();
			}

			return next.value;
		},
	}), [session, store, copyStop, jobs]);
	const figures = useSyncExternalStore(store.subscribe, store.get);
	const lines = figures.started ? mirrorProgressLines(figures, width - 4) : [];
	const shown = lines.slice(0, buckets.length * 2 + 8);
	const jobState = useSyncExternalStore((jobs ?? noJobs).subscribe, (jobs ?? noJobs).get);
	const jobLines = Object.keys(jobState.jobs).length > 0 ? jobProgressLines(jobState, width - 4).slice(0, buckets.length * 6 + 2) : [];
	const barRows = (figures.started ? shown.length + 3 : 0) + (jobLines.length > 0 ? jobLines.length + 3 : 0);
	return (
		<Box flexDirection='column' width={width}>
			<RestoreWizard session={tapped} onExit={onExit} width={width} height={Math.max(20, height - barRows)} stopNote='A copy running now stops at once (what it copied stays; resume copies the rest); other steps are finished first.'/>
			{figures.started ? (
				<Box flexDirection='column' borderStyle='round' borderColor='cyan' paddingX={1} width={width}>
					<Text bold>Copy by bucket</Text>
					{shown.map((line, index) => <Text key={`mirror-${index}`} color={line.tone ? toneColor[line.tone] : undefined}>{line.text.slice(0, width - 4)}</Text>)}
				</Box>
			) : null}
			{jobLines.length > 0 ? (
				<Box flexDirection='column' borderStyle='round' borderColor='magenta' paddingX={1} width={width}>
					<Text bold>Jobs in the cluster (one per bucket, mc mirror --preserve)</Text>
					{jobLines.map((line, index) => <Text key={`job-${index}`} color={line.tone ? toneColor[line.tone] : undefined}>{line.text.slice(0, width - 4)}</Text>)}
				</Box>
			) : null}
		</Box>
	);
}

export type MirrorRestoreScreenProps = {
	/** Builds the session (counting every bucket: a full diff each, which takes a while on big buckets). */
	readonly prepare: (request: MirrorRestoreSessionRequest) => Promise<MirrorRestoreSession>;
	readonly buckets: readonly string[];
	/** Copy with Kubernetes Jobs in the cluster (one per bucket) instead of through this process; the Jobs are shown. */
	readonly inCluster?: boolean;
	/** Called once the screen is left: with the report when a run happened. */
	readonly onExit: (report?: RestoreReport) => void;
	readonly width?: number;
	readonly height?: number;
};

type Preparing =
	| {readonly phase: 'planning'; readonly compared: Readonly<Record<string, {source: number; target: number}>>}
	| {readonly phase: 'ready'; readonly session: MirrorRestoreSession}
	| {readonly phase: 'error'; readonly message: string};

/**
What `R`/`A` in the Mirrors pane open at once: the buckets being counted (objects compared so far,
Esc leaves and stops the counting), then the wizard over the session; an error stays on screen
until Esc. The session's S3 clients are closed when the screen is left.
*/
export function MirrorRestoreScreen({prepare, buckets, inCluster, onExit, width, height}: MirrorRestoreScreenProps) {
	const [state, setState] = useState<Preparing>({phase: 'planning', compared: {}});
	const jobs = useMemo(() => inCluster ? jobStore(buckets) : undefined, [inCluster, buckets]);
	const copyStop = useRef(new AbortController());
	const planning = useRef(new AbortController());
	const session = useRef<MirrorRestoreSession | undefined>(undefined);
	useEffect(() => {
		const controller = planning.current;
		let pending: Record<string, {source: number; target: number}> = {};
		const timer = setInterval(() => {
			const compared = pending;
			setState(current => current.phase === 'planning' ? {phase: 'planning', compared} : current);
		}, 200);
		prepare({
			buckets,
			copySignal: copyStop.current.signal,
			signal: controller.signal,
			...(jobs ? {inCluster: true, onJobEvent: event => jobs.push(event)} : {}),
			onPlanProgress(bucket, figures) {
				pending = {...pending, [bucket]: figures};
			},
		}).then(prepared => {
			if (controller.signal.aborted) {
				void prepared.close();
				return;
			}

			session.current = prepared;
			setState({phase: 'ready', session: prepared});
		}, (error: unknown) => {
			if (!controller.signal.aborted) {
				setState({phase: 'error', message: error instanceof Error ? error.message.split('\n')[0]! : String(error)});
			}
		}).finally(() => {
			clearInterval(timer);
		});
		return () => {
			clearInterval(timer);
			controller.abort();
		};
	}, [prepare, buckets, jobs]);

	const leave = (report?: RestoreReport) => {
		planning.current.abort();
		void session.current?.close();
		onExit(report);
	};

	useInput((input, key) => {
		if (key.escape || input === 'q' || (key.ctrl && input === 'c')) {
			leave();
		}
	}, {isActive: state.phase !== 'ready'});

	// The wizard replaces the planning screen inside an open screen, so the console's gate (drawn
	// once listening) does not cover it: the same gate here, so a key typed the instant the plan shows is read.
	if (state.phase === 'ready') {
		return <ScreenGate><MirrorRestoreWizard session={state.session} buckets={state.session.facts.buckets.map(bucket => bucket.name)} copyStop={copyStop.current} {...(jobs ? {jobs} : {})} onExit={leave} {...(width ? {width} : {})} {...(height ? {height} : {})}/></ScreenGate>;
	}

	return (
		<Box flexDirection='column' borderStyle='round' borderColor={state.phase === 'error' ? 'red' : 'cyan'} paddingX={1} {...(width ? {width} : {})}>
			<Text bold color='cyan'>Restore {buckets.join(', ')} from the mirror{inCluster ? ' with Kubernetes Jobs in the cluster' : ''}</Text>
			{state.phase === 'planning' ? (
				<>
					<Text><Spinner type='dots'/> Planning: comparing each bucket with the mirror (what to copy, overwrite, delete, skip)…</Text>
					{buckets.map(bucket => {
						const compared = state.compared[bucket];
						return <Text key={bucket} dimColor={!compared}>  {bucket}{compared ? `: ${compared.source} objects on the mirror, ${compared.target} in the provider compared so far` : ''}</Text>;
					})}
				</>
			) : <Text color='red'>Not started: {state.message}</Text>}
			<Text dimColor>Esc: back{state.phase === 'planning' ? ' (stops the planning; nothing was changed)' : ' (nothing was changed)'}</Text>
		</Box>
	);
}
