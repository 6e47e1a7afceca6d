import type {Cluster} from '../../cluster/cluster.js';
import type {LayerSources} from '../../layers/inventory.js';
import type {Layer, LiveState} from '../../layers/live-inventory.js';
import type {Column} from '../presenters/columns.js';

/** A line of text with a tone the view colours: ok (green), bad (red), warn (yellow), dim (grey). */
export type Tone = 'ok' | 'bad' | 'warn' | 'dim' | 'title' | undefined;
export type ToneLine = {readonly text: string; readonly tone?: Tone};

/**
A row of a detail the operator can move to with ↑/↓ (a version in a table's history): the line it
is on, and whether an action can take it (else why not).
*/
export type DetailChoice = {readonly line: number; readonly id: string; readonly selectable: boolean; readonly current?: boolean; readonly reason?: string};

/**
What Enter opens: a title and lines (loaded once, refreshed with r). With `choices`, ↑/↓ move
between the selectable ones (starting at `choice`) and the pane's actions get the chosen one.
*/
export type Detail = {readonly title: string; readonly lines: readonly ToneLine[]; readonly choices?: readonly DetailChoice[]; readonly choice?: number};

export type DetailDeps = {readonly cluster: Cluster; readonly sources: LayerSources; readonly now: number; readonly live?: LiveState};

/**
A pane of the home screen, as data: where its rows come from, how a row is presented, what
Enter opens. Adding a pane is one file exporting one of these and one line in `panes/index.ts`
(k9s' registrar, Headlamp's router table).
*/
export type PaneDefinition<Item = any> = {
	readonly id: string;
	readonly title: string;
	readonly layer: Layer;
	readonly items: (live: LiveState) => readonly Item[];
	/** The text `/` filters on. */
	readonly search: (item: Item) => string;
	readonly columns: readonly Column[];
	readonly toRow: (item: Item, now: number) => string[];
	/** Rows shown dimmed (e.g. snapshots of other claims). */
	readonly dim?: (item: Item) => boolean;
	/** Rows shown in red (not ready, failed). */
	readonly bad?: (item: Item) => boolean;
	/** Lines above the list: readiness checks, the CronJob. */
	readonly summary: (live: LiveState, now: number) => readonly ToneLine[];
	/** One line when the layer failed; the list below keeps what was last seen. */
	readonly problem: (live: LiveState) => string | undefined;
	/** Shown when there are no rows. */
	readonly empty: (live: LiveState) => string;
	readonly detail: (item: Item, deps: DetailDeps) => Promise<Detail>;
};
