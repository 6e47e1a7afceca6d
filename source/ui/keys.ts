import type {Mode, UiAction, UiState} from './state.js';

/** A pressed key, named: `up`, `down`, `tab`, `shift-tab`, `enter`, `escape`, `backspace`, or the character. */
export type KeyName = string;

/** What a binding's handler can do. Built by the App for every key press. */
export type KeyContext = {
	readonly state: UiState;
	readonly dispatch: (action: UiAction) => void;
	/** Rows in the focused pane after its filter. */
	readonly rowCount: number;
	readonly paneCount: number;
	/** Lines in the open detail or help, for scrolling. */
	readonly lineCount: number;
	readonly pageSize: number;
	readonly readOnly: boolean;
	readonly refresh: () => void;
	readonly quit: () => void;
	/** Runs a palette command line; returns the message to show. */
	readonly runCommand: (line: string) => void;
	readonly openDetail: () => void;
	readonly momentSteps: number;
	/**
	Moves the selection in a detail with choices (a table's history) to the next selectable row in
	that direction; false when there is none (then the key scrolls).
	*/
	readonly choose?: (direction: 1 | -1) => boolean;
};

/**
One key binding, as data: the footer hints and the `?` help are generated from this table
(lazygit's `types.Binding`, k9s' `KeyAction`). `dangerous` bindings are confirmed before they run
and, with `changes`, removed entirely under `--read-only`.
*/
export type KeyBinding = {
	/** Key names that trigger it. */
	readonly keys: readonly KeyName[];
	/** How the keys are shown: `↑/k`. */
	readonly label: string;
	readonly description: string;
	/** Where it applies. */
	readonly modes: readonly Mode[];
	readonly handler: (context: KeyContext) => void;
	/** Changes something in the cluster or storage: hidden under `--read-only`. */
	readonly changes?: boolean;
	readonly dangerous?: boolean;
	/** False: dangerous, but it asks on its own (a wizard with its own gates), so no y/n first. */
	readonly asks?: boolean;
	/** The question a dangerous binding asks before it runs. */
	readonly confirm?: (context: KeyContext) => string;
	/** Why it cannot be used now (shown in the help, greyed); undefined: usable. */
	readonly disabledReason?: (context: KeyContext) => string | undefined;
	/** Shown in the footer of its modes. */
	readonly hint?: boolean;
};

const listModes: Mode[] = ['home'];

export const keyBindings: readonly KeyBinding[] = [
	{keys: ['up', 'k'], label: '↑/k', description: 'Move up', modes: ['home'], handler: ({dispatch, rowCount}) => dispatch({type: 'move', delta: -1, count: rowCount})},
	{keys: ['down', 'j'], label: '↓/j', description: 'Move down', modes: ['home'], handler: ({dispatch, rowCount}) => dispatch({type: 'move', delta: 1, count: rowCount}), hint: true},
	{keys: ['pageup'], label: 'PgUp', description: 'Page up', modes: ['home'], handler: ({dispatch, rowCount, pageSize}) => dispatch({type: 'move', delta: -pageSize, count: rowCount})},
	{keys: ['pagedown'], label: 'PgDn', description: 'Page down', modes: ['home'], handler: ({dispatch, rowCount, pageSize}) => dispatch({type: 'move', delta: pageSize, count: rowCount})},
	{keys: ['tab', 'right', 'l'], label: 'Tab/→/l', description: 'Next pane', modes: listModes, handler: ({dispatch, paneCount}) => dispatch({type: 'focus-next', panes: paneCount, delta: 1}), hint: true},
	{keys: ['shift-tab', 'left', 'h'], label: 'S-Tab/←/h', description: 'Previous pane', modes: listModes, handler: ({dispatch, paneCount}) => dispatch({type: 'focus-next', panes: paneCount, delta: -1})},
	{keys: ['enter'], label: 'Enter', description: 'Open the detail of the selected row', modes: ['home'], handler: ({openDetail}) => openDetail(), disabledReason: ({rowCount}) => rowCount === 0 ? 'nothing selected' : undefined, hint: true},
	{keys: ['/'], label: '/', description: 'Filter the focused pane', modes: ['home'], handler: ({dispatch}) => dispatch({type: 'open', mode: 'filter'}), hint: true},
	{keys: ['t'], label: 't', description: 'Timeline: switch between the last day and week', modes: ['home'], handler: ({dispatch}) => dispatch({type: 'span'})},
	{keys: ['['], label: '[', description: 'Timeline: move the chosen moment back', modes: ['home'], handler: ({dispatch, momentSteps}) => dispatch({type: 'moment', delta: 1, max: momentSteps})},
	{keys: [']'], label: ']', description: 'Timeline: move the chosen moment forward', modes: ['home'], handler: ({dispatch, momentSteps}) => dispatch({type: 'moment', delta: -1, max: momentSteps})},
	{keys: ['r'], label: 'r', description: 'Refresh (re-read claims, Secrets, drift, tables)', modes: ['home', 'detail'], handler: ({refresh}) => refresh(), hint: true},
	{keys: [':'], label: ':', description: 'Command palette (go to a pane, switch namespace or context)', modes: ['home', 'detail'], handler: ({dispatch}) => dispatch({type: 'open', mode: 'palette'}), hint: true},
	{keys: ['?'], label: '?', description: 'Help: every key', modes: ['home', 'detail'], handler: ({dispatch}) => dispatch({type: 'open', mode: 'help'}), hint: true},
	{keys: ['up', 'k'], label: '↑/k', description: 'Scroll up (in a table\'s history: select the previous restorable version)', modes: ['detail', 'help'], handler({state, dispatch, lineCount, choose}) {
		if (!(state.mode === 'detail' && choose?.(-1))) {
			dispatch({type: 'scroll', delta: -1, max: lineCount});
		}
	}},
	{keys: ['down', 'j'], label: '↓/j', description: 'Scroll down (in a table\'s history: select the next restorable version)', modes: ['detail', 'help'], handler({state, dispatch, lineCount, choose}) {
		if (!(state.mode === 'detail' && choose?.(1))) {
			dispatch({type: 'scroll', delta: 1, max: lineCount});
		}
	}, hint: true},
	{keys: ['pagedown', ' '], label: 'PgDn/Space', description: 'Scroll a page down', modes: ['detail', 'help'], handler: ({dispatch, lineCount, pageSize}) => dispatch({type: 'scroll', delta: pageSize, max: lineCount})},
	{keys: ['pageup'], label: 'PgUp', description: 'Scroll a page up', modes: ['detail', 'help'], handler: ({dispatch, lineCount, pageSize}) => dispatch({type: 'scroll', delta: -pageSize, max: lineCount})},
	{keys: ['enter'], label: 'Enter', description: 'Apply', modes: ['filter', 'palette'], handler({state, dispatch, runCommand}) {
		if (state.mode === 'palette') {
			runCommand(state.draft);
		} else {
			dispatch({type: 'apply-filter', pane: ''});
		}
	}, hint: true},
	{keys: ['escape'], label: 'Esc', description: 'Back (closes a detail, the help, a filter)', modes: ['home', 'detail', 'help', 'filter', 'palette'], handler: ({dispatch}) => dispatch({type: 'back'}), hint: true},
	{keys: ['q'], label: 'q', description: 'Quit', modes: ['home', 'detail', 'help'], handler({state, dispatch, quit}) {
		if (state.mode === 'home') {
			quit();
		} else {
			dispatch({type: 'back'});
		}
	}, hint: true},
];

/** The bindings of a mode, the action registry's included, without what `--read-only` removes. */
export function bindingsFor(mode: Mode, bindings: readonly KeyBinding[], readOnly: boolean): KeyBinding[] {
	return bindings.filter(binding => binding.modes.includes(mode) && !(readOnly && binding.changes));
}

/** The binding a key triggers in a mode (the first match wins: actions come after the table). */
export function findBinding(name: KeyName, mode: Mode, bindings: readonly KeyBinding[], readOnly: boolean): KeyBinding | undefined {
	return bindingsFor(mode, bindings, readOnly).find(binding => binding.keys.includes(name));
}

/** Footer hints: `↓/j move down · Tab next pane ...`. */
export function footerHints(mode: Mode, bindings: readonly KeyBinding[], readOnly: boolean): string {
	return bindingsFor(mode, bindings, readOnly).filter(binding => binding.hint).map(binding => `${binding.label} ${binding.description.split(' (')[0]!.toLowerCase()}`).join(' · ');
}

/** The `?` help: one line per binding, grouped by mode; unusable ones carry their reason. */
export function helpLines(bindings: readonly KeyBinding[], readOnly: boolean, context?: KeyContext): string[] {
	const titles: Record<Mode, string> = {home: 'Home (panes)', detail: 'Detail', help: 'Help', filter: 'Filter line', palette: 'Command palette', confirm: 'Confirmation'};
	const lines: string[] = [];
	for (const mode of ['home', 'detail', 'filter', 'palette'] as const) {
		lines.push(titles[mode]);
		for (const binding of bindingsFor(mode, bindings, readOnly)) {
			const reason = context ? binding.disabledReason?.(context) : undefined;
			lines.push(`  ${binding.label.padEnd(8)} ${binding.description}${binding.dangerous ? ' (asks to confirm)' : ''}${reason ? ` [unavailable: ${reason}]` : ''}`);
		}
	}

	return lines;
}

/** The key table (and the pane actions) as a Markdown table, for readme.md. */
export function keysMarkdown(bindings: readonly KeyBinding[] = keyBindings, actions: ReadonlyArray<{label: string; description: string; panes: readonly string[]; changes: boolean; dangerous: boolean}> = []): string {
	const seen = new Set<string>();
	const rows = ['| key | where | what |', '|---|---|---|'];
	for (const binding of bindings) {
		const id = `${binding.label}|${binding.description}`;
		if (!seen.has(id)) {
			seen.add(id);
			rows.push(`| \`${binding.label.replace('|', '\\|')}\` | ${binding.modes.join(', ')} | ${binding.description} |`);
		}
	}

	for (const action of actions) {
		const notes = [action.dangerous ? 'asks to confirm' : '', action.changes ? 'not in --read-only' : ''].filter(Boolean).join(', ');
		rows.push(`| \`${action.label}\` | ${action.panes.join(', ')} pane | ${action.description}${notes ? ` (${notes})` : ''} |`);
	}

	return rows.join('\n');
}

/** Names an ink key press. */
export function keyName(input: string, key: {upArrow?: boolean; downArrow?: boolean; leftArrow?: boolean; rightArrow?: boolean; pageUp?: boolean; pageDown?: boolean; home?: boolean; end?: boolean; return?: boolean; escape?: boolean; tab?: boolean; shift?: boolean; backspace?: boolean; delete?: boolean; ctrl?: boolean}): KeyName {
	if (key.upArrow) {
		return 'up';
	}

	if (key.downArrow) {
		return 'down';
	}

	if (key.leftArrow) {
		return 'left';
	}

	if (key.rightArrow) {
		return 'right';
	}

	if (key.pageUp) {
		return 'pageup';
	}

	if (key.pageDown) {
		return 'pagedown';
	}

	if (key.return) {
		return 'enter';
	}

	if (key.escape) {
		return 'escape';
	}

	if (key.tab) {
		return key.shift ? 'shift-tab' : 'tab';
	}

	if (key.backspace || key.delete) {
		return 'backspace';
	}

	if (key.ctrl) {
		return `ctrl-${input}`;
	}

	return input;
}
