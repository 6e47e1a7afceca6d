import React, {type ReactElement, useCallback, useEffect, useMemo, useReducer, useRef, useState, useSyncExternalStore} from 'react';
import {Box, Text, useApp, useInput, useWindowSize} from 'ink';
import type {LiveInventory, LiveState} from '../layers/live-inventory.js';
import {itemActions, type ItemAction} from './actions.js';
import {bindingsFor, findBinding, footerHints, helpLines, keyBindings, keyName, type KeyBinding, type KeyContext} from './keys.js';
import {panes as registry} from './panes/index.js';
import {ScreenGate} from './screen-gate.js';
import type {Detail, PaneDefinition, Tone, ToneLine} from './panes/pane.js';
import {layoutColumns, renderHeader, renderRow} from './presenters/columns.js';
import {fit} from './presenters/format.js';
import {momentSteps, timelineRows} from './presenters/timeline.js';
import {initialUiState, makeReducer, type UiAction, type UiState} from './state.js';

export type AppProps = {
	readonly live: LiveInventory;
	readonly readOnly?: boolean;
	/** Builds the inventory for another namespace or context (the palette's `ns` and `ctx`). */
	readonly reconnect?: (target: {namespace?: string; context?: string}) => Promise<LiveInventory>;
	readonly panes?: readonly PaneDefinition[];
	readonly actions?: readonly ItemAction[];
	/** The clock (tests pin it). */
	readonly now?: () => number;
	/** Overrides the terminal size (tests). */
	readonly size?: {columns: number; rows: number};
	readonly onQuit?: () => void;
	/** A running drill: its clock is shown in the status bar against the target time to recover. */
	readonly drill?: DrillClock;
};

export type DrillClock = {readonly scenario: string; readonly startedAt: number; readonly deadline: number};

const clock = (ms: number) => `${Math.floor(ms / 60_000)}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}`;

/** `DRILL bucket-wipe 3:07 of 15:00`, `OVER` once past the target. */
export function drillStatus(drill: DrillClock, now: number): string {
	const elapsed = Math.max(0, now - drill.startedAt);
	const target = drill.deadline - drill.startedAt;
	return `DRILL ${drill.scenario} ${clock(elapsed)} of ${clock(target)}${now > drill.deadline ? ' OVER' : ''}`;
}

const toneColor = (tone: Tone): string | undefined => ({ok: 'green', bad: 'red', warn: 'yellow', dim: 'gray', title: 'cyan'} as Record<string, string>)[tone ?? ''];

function ToneText({line, width, inverse}: {readonly line: ToneLine; readonly width: number; readonly inverse?: boolean}) {
	return <Text color={toneColor(line.tone)} bold={line.tone === 'title'} dimColor={line.tone === 'dim'} inverse={inverse}>{fit(line.text, width)}</Text>;
}

type PaneViewProps = {
	readonly pane: PaneDefinition;
	readonly live: LiveState;
	readonly items: readonly unknown[];
	readonly focused: boolean;
	readonly selected: number;
	readonly filter: string;
	readonly width: number;
	readonly height: number;
	readonly now: number;
};

/** One pane: title, summary lines, an error line, then a windowed list of rows. */
function PaneView({pane, live, items, focused, selected, filter, width, height, now}: PaneViewProps) {
	const inner = Math.max(10, width - 2);
	const problem = pane.problem(live);
	const summary = pane.summary(live, now).slice(0, Math.max(0, Math.floor((height - 4) / 2)));
	const widths = layoutColumns(pane.columns, inner);
	const problemLines = problem ? wrap(`✗ ${problem}`, inner, 3) : [];
	const listHeight = Math.max(1, height - 2 - 1 - summary.length - problemLines.length - 1);
	const start = Math.max(0, Math.min(selected - Math.floor(listHeight / 2), items.length - listHeight));
	const visible = items.slice(start, start + listHeight);
	const title = `${pane.title}${filter ? ` /${filter}` : ''} (${items.length})`;
	return (
		<Box flexDirection='column' width={width} height={height} borderStyle='round' borderColor={focused ? 'cyan' : 'gray'}>
			<Text bold color={focused ? 'cyan' : undefined}>{fit(title, inner)}</Text>
			{summary.map((line, index) => <ToneText key={`s${index}`} line={line} width={inner}/>)}
			{problemLines.map((text, index) => <Text key={`p${index}`} color='red'>{text}</Text>)}
			<Text dimColor>{fit(renderHeader(pane.columns, widths), inner)}</Text>
			{visible.length === 0 ? <Text dimColor>{fit(pane.empty(live), inner)}</Text> : visible.map((item, index) => {
				const isSelected = focused && start + index === selected;
				const dim = pane.dim?.(item) ?? false;
				const bad = pane.bad?.(item) ?? false;
				return (
					<Text key={start + index} inverse={isSelected} dimColor={dim && !isSelected} color={bad && !dim ? 'red' : undefined}>
						{fit(renderRow(pane.toRow(item, now), pane.columns, widths), inner)}
					</Text>
				);
			})}
		</Box>
	);
}

/** Word-wraps text into lines of `width`, at most `max` (the last one ends with … when cut). */
function wrap(text: string, width: number, max: number): string[] {
	const lines: string[] = [];
	let current = '';
	for (const word of text.split(' ')) {
		if (current && current.length + 1 + word.length > width) {
			lines.push(current);
			current = word;
		} else {
			current = current ? `${current} ${word}` : word;
		}
	}

	lines.push(current);
	return lines.length > max ? [...lines.slice(0, max - 1), fit(lines.slice(max - 1).join(' '), width)] : lines.map(line => fit(line, width));
}

function filtered(pane: PaneDefinition, live: LiveState, filter: string): readonly unknown[] {
	const items = pane.items(live);
	const needle = filter.toLowerCase();
	return needle ? items.filter(item => pane.search(item).toLowerCase().includes(needle)) : items;
}

/** The console's home screen and its overlays: hazard banner, panes, timeline, detail, help, palette. */
export function App(props: AppProps) {
	const panes = props.panes ?? registry;
	const actions = props.actions ?? itemActions;
	const readOnly = props.readOnly ?? false;
	const {exit} = useApp();
	const windowSize = useWindowSize();
	const size = props.size ?? windowSize;
	const [live, setLive] = useState(props.live);
	const liveInUseRef = useRef(live);
	liveInUseRef.current = live;
	const liveState = useSyncExternalStore(live.subscribe, live.getSnapshot);
	const reducer = useMemo(() => makeReducer(panes.map(pane => pane.id)), [panes]);
	const [state, dispatchToReact] = useReducer(reducer, panes.map(pane => pane.id), initialUiState);
	// Keys can arrive faster than renders (typeahead, paste): handlers read and advance this ref,
	// so every key sees the state left by the key before it.
	const stateRef = useRef<UiState>(state);
	const dispatch = useCallback((action: UiAction) => {
		stateRef.current = reducer(stateRef.current, action);
		dispatchToReact(action);
	}, [reducer]);
	const pendingRef = useRef<{question: string; run: () => void} | undefined>(undefined);
	// A screen opened by an action (the restore wizard): shown instead of home, reads its own keys.
	// The ref changes at once (not at the next render): from `openScreen` to `close` the console
	// reads no key, from `close` on it reads every key, with no gap in between.
	const [screen, setScreen] = useState<{element: ReactElement; id: number} | undefined>(undefined);
	const screenRef = useRef<{element: ReactElement; id: number} | undefined>(undefined);
	const openScreen = (element: ReactElement) => {
		const opened = {element, id: (screenRef.current?.id ?? 0) + 1};
		screenRef.current = opened;
		setScreen(opened);
		return {
			close() {
				if (screenRef.current !== opened) {
					return;
				}

				screenRef.current = undefined;
				setScreen(undefined);
				// What it did (a restore) changed the world: read again what no watch carries (claims,
				// drift, tables). The detail it was opened from (a table's history) too.
				void liveInUseRef.current.refresh('all');
				const target = detailTargetRef.current;
				if (stateRef.current.mode === 'detail' && target) {
					loadDetail(target.pane, target.item);
				}
			},
		};
	};

	const liveRef = useRef(liveState);
	liveRef.current = liveState;
	const [detail, setDetail] = useState<Detail | undefined>();
	const [detailTarget, setDetailTarget] = useState<{pane: PaneDefinition; item: unknown} | undefined>();
	const detailTargetRef = useRef<{pane: PaneDefinition; item: unknown} | undefined>(undefined);
	// The chosen row of a detail with choices (a version in a table's history), read by the pane's actions.
	const detailRef = useRef<Detail | undefined>(undefined);
	const [choice, setChoiceState] = useState<number | undefined>(undefined);
	const choiceRef = useRef<number | undefined>(undefined);
	const setChoice = (index: number | undefined) => {
		choiceRef.current = index;
		setChoiceState(index);
	};

	const showDetail = (next: Detail) => {
		detailRef.current = next;
		setDetail(next);
		setChoice(next.choice);
	};

	const now = (props.now ?? Date.now)();
	// A clock tick for the ages ("12 s ago"): once a second, not a data poll.
	const [, setTick] = useState(0);
	useEffect(() => {
		const timer = setInterval(() => {
			setTick(tick => tick + 1);
		}, 1000);
		return () => {
			clearInterval(timer);
		};
	}, []);

	const selection = (from: UiState) => {
		const pane = panes[from.focus]!;
		const items = filtered(pane, liveRef.current, from.filters[pane.id] ?? '');
		const index = Math.min(from.selected[pane.id] ?? 0, Math.max(0, items.length - 1));
		return {pane, items, item: items[index]};
	};

	const focusedPane = panes[state.focus]!;
	const {item: selectedItem} = selection(state);

	const loadDetail = useCallback((pane: PaneDefinition, item: unknown) => {
		setDetailTarget({pane, item});
		detailTargetRef.current = {pane, item};
		showDetail({title: 'Loading…', lines: []});
		dispatch({type: 'open', mode: 'detail'});
		void pane.detail(item, {cluster: live.sources.cluster, sources: live.sources, now: Date.now(), live: live.getSnapshot()}).then(loaded => {
			showDetail(loaded);
			// Keep the chosen row on screen (a long history opens at its current version).
			const line = loaded.choice === undefined ? undefined : loaded.choices?.[loaded.choice]?.line;
			const height = detailHeightRef.current - 1;
			if (line !== undefined && line >= height) {
				dispatch({type: 'scroll', delta: line - height + 1, max: loaded.lines.length});
			}
		}, (error: unknown) => {
			showDetail({title: 'Detail', lines: [{text: error instanceof Error ? error.message : String(error), tone: 'bad'}]});
		});
	}, [live]);

	const currentChoice = () => {
		const index = choiceRef.current;
		return stateRef.current.mode === 'detail' && index !== undefined ? detailRef.current?.choices?.[index] : undefined;
	};

	/** ↑/↓ in a detail with choices: the next selectable row that way, scrolled into view. */
	const choose = (direction: 1 | -1): boolean => {
		const choices = detailRef.current?.choices;
		const from = choiceRef.current;
		if (!choices || from === undefined) {
			return false;
		}

		let next = from + direction;
		while (next >= 0 && next < choices.length && !choices[next]!.selectable) {
			next += direction;
		}

		if (next < 0 || next >= choices.length) {
			return false;
		}

		setChoice(next);
		const line = choices[next]!.line;
		const height = detailHeightRef.current - 1;
		const {scroll} = stateRef.current;
		if (line < scroll) {
			dispatch({type: 'scroll', delta: line - scroll, max: detailRef.current?.lines.length ?? 0});
		} else if (line >= scroll + height) {
			dispatch({type: 'scroll', delta: line - scroll - height + 1, max: detailRef.current?.lines.length ?? 0});
		}

		return true;
	};

	const quit = useCallback(() => {
		props.onQuit?.();
		exit();
	}, [exit, props.onQuit]);

	const switchTo = useCallback(async (target: {namespace?: string; context?: string}) => {
		if (!props.reconnect) {
			dispatch({type: 'message', text: 'switching is not available here'});
			return;
		}

		try {
			const next = await props.reconnect(target);
			const previous = live;
			next.start();
			setLive(next);
			dispatch({type: 'message', text: `now on ${target.context ? `context ${target.context}` : `namespace ${target.namespace}`}`});
			await previous.stop();
		} catch (error) {
			dispatch({type: 'message', text: error instanceof Error ? error.message : String(error)});
		}
	}, [live, props.reconnect]);

	const runCommand = useCallback((line: string) => {
		const [word = '', argument] = line.trim().split(/\s+/, 2);
		const pane = panes.findIndex(candidate => candidate.id.startsWith(word.toLowerCase()) || candidate.title.toLowerCase().startsWith(line.trim().toLowerCase()));
		dispatch({type: 'back'});
		if (word === '') {
			return;
		}

		if ((word === 'ns' || word === 'namespace') && argument) {
			void switchTo({namespace: argument});
		} else if ((word === 'ctx' || word === 'context') && argument) {
			void switchTo({context: argument});
		} else if (word === 'refresh') {
			void live.refresh('all');
		} else if (word === 'q' || word === 'quit') {
			quit();
		} else if (pane >= 0) {
			dispatch({type: 'focus', pane});
		} else {
			dispatch({type: 'message', text: `unknown command '${line.trim()}': try ${panes.map(candidate => candidate.id).join(', ')}, ns <name>, ctx <name>, refresh, quit`});
		}
	}, [panes, switchTo, live, quit]);

	const actionBindingsFor = (paneIndex: number): KeyBinding[] => actions.filter(action => action.panes.includes(panes[paneIndex]!.id)).map(action => ({
		keys: action.keys,
		label: action.label,
		description: action.description,
		modes: ['home', 'detail'],
		changes: action.changes,
		dangerous: action.dangerous,
		asks: action.confirm !== undefined,
		hint: true,
		confirm() {
			const {item} = selection(stateRef.current);
			return action.confirm?.(item, {live, paneId: panes[paneIndex]!.id, readOnly, openScreen, choice: currentChoice()}) ?? `${action.description}?`;
		},
		disabledReason() {
			const {item} = selection(stateRef.current);
			return item === undefined ? 'nothing selected' : action.disabledReason?.(item, {live, paneId: panes[paneIndex]!.id, readOnly, openScreen, choice: currentChoice()});
		},
		handler() {
			const {item} = selection(stateRef.current);
			if (item === undefined) {
				return;
			}

			void Promise.resolve(action.run(item, {live, paneId: panes[paneIndex]!.id, readOnly, openScreen, choice: currentChoice()})).then(message => {
				if (message) {
					dispatch({type: 'message', text: message});
				}
			});
		},
	}));
	const actionBindings = actionBindingsFor(state.focus);
	const bindings = [...keyBindings, ...actionBindings];

	const bodyRows = size.rows;
	const detailHeightRef = useRef(Math.max(3, size.rows - 4));
	detailHeightRef.current = Math.max(3, size.rows - 4);
	const makeContext = (current: UiState): KeyContext => {
		const {pane, items, item} = selection(current);
		return {
			state: current,
			dispatch,
			rowCount: items.length,
			paneCount: panes.length,
			lineCount: current.mode === 'help' ? helpLines(bindings, readOnly).length : detail?.lines.length ?? 0,
			pageSize: Math.max(1, bodyRows - 8),
			readOnly,
			refresh() {
				void live.refresh('all');
				if (current.mode === 'detail' && detailTarget) {
					loadDetail(detailTarget.pane, detailTarget.item);
				}
			},
			quit,
			runCommand,
			openDetail() {
				if (item !== undefined) {
					loadDetail(pane, item);
				}
			},
			momentSteps: momentSteps(current.span),
			choose,
		};
	};

	const context = makeContext(state);

	// Always attached, so no key falls between the console's handler and a screen's: while a screen
	// is open its own `useInput` reads the keys and this one lets them pass.
	useInput((input, key) => {
		if (screenRef.current !== undefined) {
			return;
		}

		// Keys typed faster than they are read arrive together ("j\r"): take them one by one.
		if (input.length > 1 && !key.ctrl && !key.meta && [...input].length > 1 && /^[\u0020-\u007E\r\t]+$/.test(input)) {
			for (const character of input) {
				handleKey(character === '\r' ? '' : character === '\t' ? '' : character, {...key, return: character === '\r', tab: character === '\t'});
			}

			return;
		}

		handleKey(input, key);
	});

	function handleKey(input: string, key: Parameters<typeof keyName>[1] & {meta?: boolean}) {
		const name = keyName(input, key);
		if (name === 'ctrl-c') {
			quit();
			return;
		}

		const current = stateRef.current;
		const keyContext = makeContext(current);
		// The focus may have moved since the last render (typeahead): its pane's actions count.
		const bindings = [...keyBindings, ...actionBindingsFor(current.focus)];
		if (current.mode === 'confirm') {
			const pending = pendingRef.current;
			pendingRef.current = undefined;
			dispatch({type: 'back'});
			if (name === 'y' && pending) {
				pending.run();
			} else {
				dispatch({type: 'message', text: 'cancelled: nothing was changed'});
			}

			return;
		}

		if (current.mode === 'filter' || current.mode === 'palette') {
			const binding = findBinding(name, current.mode, bindings, readOnly);
			if (binding) {
				binding.handler(keyContext);
			} else if (name === 'backspace') {
				dispatch({type: 'draft', text: current.draft.slice(0, -1)});
			} else if (input && !key.ctrl && !key.meta && !/[\u0000-\u001F]/.test(input)) {
				dispatch({type: 'draft', text: current.draft + input});
			}

			return;
		}

		const binding = findBinding(name, current.mode, bindings, readOnly);
		if (!binding) {
			return;
		}

		const reason = binding.disabledReason?.(keyContext);
		if (reason) {
			dispatch({type: 'message', text: `${binding.label}: ${reason}`});
			return;
		}

		if (binding.dangerous && binding.asks !== false) {
			pendingRef.current = {question: binding.confirm?.(keyContext) ?? `${binding.description}?`, run: () => binding.handler(makeContext(stateRef.current))};
			dispatch({type: 'open', mode: 'confirm'});
			return;
		}

		binding.handler(keyContext);
	}

	const width = size.columns;
	const hazards = liveState.hazards;
	const bannerLines = hazards.slice(0, 3).flatMap(hazard => [
		{text: `${hazard.severity === 'critical' ? '‼' : '!'} ${hazard.title}`, tone: hazard.severity === 'critical' ? 'bad' : 'warn'} as ToneLine,
		{text: `  fix: ${hazard.fix}`, tone: 'dim'} as ToneLine,
	]);
	if (hazards.length > 3) {
		bannerLines.push({text: `  … ${hazards.length - 3} more (inventory lists all)`, tone: 'dim'});
	}

	const sources = live.sources;
	const status = `ilum-restore · context ${sources.cluster.contextName} · namespace ${sources.namespace}${readOnly ? ' · READ-ONLY' : ''}${props.drill ? ` · ${drillStatus(props.drill, now)}` : ''}${sources.providerRoute ? ` · S3 ${sources.providerRoute()}` : ''}`;
	// The pane's actions first: they are what this pane is for.
	const footer = state.message ?? footerHints(state.mode, [...actionBindings, ...keyBindings], readOnly);

	if (screen !== undefined) {
		return <Box flexDirection='column' width={width}><ScreenGate key={screen.id}>{screen.element}</ScreenGate></Box>;
	}

	if (state.mode === 'help' || state.mode === 'detail') {
		const lines: readonly ToneLine[] = state.mode === 'help'
			? helpLines(bindings, readOnly, context).map(text => ({text, tone: text.startsWith(' ') ? undefined : 'title'}))
			: detail?.lines ?? [];
		const chosen = state.mode === 'detail' && choice !== undefined ? detail?.choices?.[choice] : undefined;
		const title = state.mode === 'help' ? 'Keys' : `${detail?.title ?? ''}${chosen ? ` · version ${chosen.id} selected${chosen.current ? ' (current)' : ''} · ↑/↓ choose` : ''}`;
		const height = Math.max(3, size.rows - 4);
		const visible = lines.slice(state.scroll, state.scroll + height);
		return (
			<Box flexDirection='column' width={width} height={size.rows}>
				<Text bold>{fit(status, width)}</Text>
				<Box flexDirection='column' borderStyle='round' borderColor='cyan' width={width} height={height + 2}>
					<Text bold color='cyan'>{fit(title, width - 2)}</Text>
					{visible.slice(0, height - 1).map((line, index) => <ToneText key={index} line={line} width={width - 2} inverse={chosen?.line === state.scroll + index}/>)}
				</Box>
				<Text dimColor>{fit(footer, width)}</Text>
			</Box>
		);
	}

	const stacked = width < 120;
	const timelineHeight = 6;
	const fixed = 1 + bannerLines.length + timelineHeight + 1 + (state.mode === 'filter' || state.mode === 'palette' || state.mode === 'confirm' ? 1 : 0);
	const paneArea = Math.max(panes.length * 5, size.rows - fixed);
	const paneWidth = stacked ? width : Math.floor(width / panes.length);
	const paneHeight = stacked ? Math.max(5, Math.floor(paneArea / panes.length)) : paneArea;
	// The Tables pane focused: the timeline's last row is the selected table's own history.
	const table = focusedPane.layer === 'tables' && selectedItem ? selectedItem as {name: string; points?: readonly string[]} : undefined;
	const timeline = timelineRows(liveState, {now, span: state.span, momentStep: state.momentStep, width: Math.max(8, width - 2 - 10 - 40), table: table ? {name: table.name, points: table.points ?? []} : undefined});
	return (
		<Box flexDirection='column' width={width}>
			<Text bold>{fit(status, width)}</Text>
			{bannerLines.map((line, index) => <ToneText key={`h${index}`} line={line} width={width}/>)}
			<Box flexDirection={stacked ? 'column' : 'row'}>
				{panes.map((pane, index) => {
					const filter = state.filters[pane.id] ?? '';
					const items = filtered(pane, liveState, filter);
					return (
						<PaneView
							key={pane.id}
							pane={pane}
							live={liveState}
							items={items}
							focused={index === state.focus}
							selected={Math.min(state.selected[pane.id] ?? 0, Math.max(0, items.length - 1))}
							filter={filter}
							width={index === panes.length - 1 && !stacked ? width - (paneWidth * (panes.length - 1)) : paneWidth}
							height={paneHeight}
							now={now}
						/>
					);
				})}
			</Box>
			<Box flexDirection='column' borderStyle='round' borderColor='gray' width={width} height={timelineHeight}>
				<Text bold>{fit(`Recovery points · ${timeline.header} · t day/week · [ ] move the moment`, width - 2)}</Text>
				{timeline.rows.map(row => (
					<Text key={row.label}>
						<Text>{fit(row.label, 9)} </Text>
						<Text color='green'>{row.marks}</Text>
						<Text color={row.missing ? 'red' : undefined}> {fit(row.freshest, 39)}</Text>
					</Text>
				))}
			</Box>
			{state.mode === 'confirm' ? <Text color='yellow' bold>{fit(`${pendingRef.current?.question ?? ''} y to confirm, any other key cancels`, width)}</Text> : null}
			{state.mode === 'filter' ? <Text color='cyan'>{fit(`/${state.draft}▏ (Enter apply, Esc cancel)`, width)}</Text> : null}
			{state.mode === 'palette' ? <Text color='cyan'>{fit(`:${state.draft}▏ ${panes.map(pane => pane.id).join(' | ')} | ns <name> | ctx <name> | refresh | quit`, width)}</Text> : null}
			<Text dimColor>{fit(footer, width)}</Text>
		</Box>
	);
}
