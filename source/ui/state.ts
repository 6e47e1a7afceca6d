/** The console's UI state: a reducer with discriminated-union actions. No ink, no react. */
export type Mode = 'home' | 'detail' | 'help' | 'palette' | 'filter' | 'confirm';

export type UiState = {
	readonly mode: Mode;
	/** Index into the pane registry. */
	readonly focus: number;
	/** Selected row per pane id. */
	readonly selected: Readonly<Record<string, number>>;
	/** Applied filter per pane id. */
	readonly filters: Readonly<Record<string, string>>;
	/** What is being typed in the filter or palette line. */
	readonly draft: string;
	/** Timeline: 'day' or 'week', and how many steps back from now the chosen moment is. */
	readonly span: 'day' | 'week';
	readonly momentStep: number;
	/** First line shown in a detail or the help. */
	readonly scroll: number;
	/** A one-line message in the footer (palette results, refusals). */
	readonly message?: string;
};

export type UiAction =
	| {type: 'move'; delta: number; count: number}
	| {type: 'move-to'; index: number}
	| {type: 'focus'; pane: number}
	| {type: 'focus-next'; panes: number; delta: 1 | -1}
	| {type: 'open'; mode: Mode}
	| {type: 'back'}
	| {type: 'draft'; text: string}
	| {type: 'apply-filter'; pane: string}
	| {type: 'scroll'; delta: number; max: number}
	| {type: 'span'}
	| {type: 'moment'; delta: number; max: number}
	| {type: 'message'; text?: string};

export const initialUiState = (paneIds: readonly string[]): UiState => ({
	mode: 'home',
	focus: 0,
	selected: Object.fromEntries(paneIds.map(id => [id, 0])),
	filters: Object.fromEntries(paneIds.map(id => [id, ''])),
	draft: '',
	span: 'day',
	momentStep: 0,
	scroll: 0,
});

/** `paneIds` fixes which pane `focus` and `move` act on. */
export function makeReducer(paneIds: readonly string[]) {
	return function reduce(state: UiState, action: UiAction): UiState {
		const pane = paneIds[state.focus]!;
		switch (action.type) {
			case 'move': {
				const current = state.selected[pane] ?? 0;
				const next = Math.max(0, Math.min(action.count - 1, current + action.delta));
				return {...state, selected: {...state.selected, [pane]: next}};
			}

			case 'move-to': {
				return {...state, selected: {...state.selected, [pane]: Math.max(0, action.index)}};
			}

			case 'focus': {
				return {...state, focus: Math.max(0, Math.min(paneIds.length - 1, action.pane)), mode: 'home'};
			}

			case 'focus-next': {
				return {...state, focus: (state.focus + action.delta + action.panes) % action.panes};
			}

			case 'open': {
				const draft = action.mode === 'filter' ? state.filters[pane] ?? '' : '';
				return {...state, mode: action.mode, draft, scroll: 0, message: undefined};
			}

			case 'back': {
				if (state.mode === 'home' && state.filters[pane]) {
					return {...state, filters: {...state.filters, [pane]: ''}, selected: {...state.selected, [pane]: 0}};
				}

				return {...state, mode: 'home', draft: '', scroll: 0};
			}

			case 'draft': {
				return {...state, draft: action.text};
			}

			case 'apply-filter': {
				const target = action.pane || pane;
				return {...state, mode: 'home', filters: {...state.filters, [target]: state.draft}, selected: {...state.selected, [target]: 0}, draft: ''};
			}

			case 'scroll': {
				return {...state, scroll: Math.max(0, Math.min(action.max, state.scroll + action.delta))};
			}

			case 'span': {
				return {...state, span: state.span === 'day' ? 'week' : 'day', momentStep: 0};
			}

			case 'moment': {
				return {...state, momentStep: Math.max(0, Math.min(action.max, state.momentStep + action.delta))};
			}

			case 'message': {
				return {...state, message: action.text};
			}
		}
	};
}
