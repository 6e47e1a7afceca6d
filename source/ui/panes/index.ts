import {mirrorsPane} from './mirrors-pane.js';
import type {PaneDefinition} from './pane.js';
import {tablesPane} from './tables-pane.js';
import {volumeSnapshotsPane} from './volume-snapshots-pane.js';

/** The home screen's panes, left to right (top to bottom when stacked). Adding one: a file and a line. */
export const panes: readonly PaneDefinition[] = [
	volumeSnapshotsPane,
	mirrorsPane,
	tablesPane,
];
