import React, {useMemo, useSyncExternalStore} from 'react';
import {Box, Text, useWindowSize} from 'ink';
import type {EngineEvent} from '../../restore/executor.js';
import type {RestoreReport} from '../../restore/report.js';
import type {RestoreSession} from '../../restore/session.js';
import {applyMirrorEvent, initialMirrorProgress, mirrorProgressLines, type MirrorProgressState} from './mirror-progress.js';
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
	readonly onExit: (report?: RestoreReport) => void;
	readonly width?: number;
	readonly height?: number;
};

/** The figures, updated for every event, published to React at most ten times a second. */
function progressStore(buckets: readonly string[]) {
	let state: MirrorProgressState = initialMirrorProgress(buckets);
	let published = state;
	const listeners = new Set<() => void>();
	let timer: NodeJS.Timeout | undefined;
	return {
		push(event: EngineEvent) {
			state = applyMirrorEvent(state, event);
			if (state !== published && !timer) {
				timer = setTimeout(() => {
					timer = undefined;
					published = state;
					for (const listener of listeners) {
						listener();
					}
				}, 100);
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

const toneColor = {good: 'green', bad: 'red', warn: 'yellow', dim: 'gray'} as const;

/**
The restore wizard over a mirror restore session, with the copy's live figures under it: per
bucket bars (objects, bytes), the aggregate rate and ETA, retries, failed keys, and each bucket's
verification. The wizard itself (plan, preflight, gates, steps, report) is the shared one.
*/
export function MirrorRestoreWizard({session, buckets, copyStop, onExit, width: givenWidth, height: givenHeight}: MirrorRestoreWizardProps) {
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
				yield next.value;
				next = await run.next();
			}

			return next.value;
		},
	}), [session, store, copyStop]);
	const figures = useSyncExternalStore(store.subscribe, store.get);
	const lines = figures.started ? mirrorProgressLines(figures, width - 4) : [];
	const shown = lines.slice(0, buckets.length * 2 + 8);
	const barRows = figures.started ? shown.length + 3 : 0;
	return (
		<Box flexDirection='column' width={width}>
			<RestoreWizard session={tapped} onExit={onExit} width={width} height={Math.max(20, height - barRows)} stopNote='A copy running now stops at once (what it copied stays; resume copies the rest); other steps are finished first.'/>
			{figures.started ? (
				<Box flexDirection='column' borderStyle='round' borderColor='cyan' paddingX={1} width={width}>
					<Text bold>Copy by bucket</Text>
					{shown.map((line, index) => <Text key={`mirror-${index}`} color={line.tone ? toneColor[line.tone] : undefined}>{line.text.slice(0, width - 4)}</Text>)}
				</Box>
			) : null}
		</Box>
	);
}
