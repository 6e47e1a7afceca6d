import type {ReactElement} from 'react';
import type {LiveInventory} from '../layers/live-inventory.js';
import {postureAction} from './posture-screen.js';
import type {DetailChoice} from './panes/pane.js';
import {suspendBackupAction} from './suspend-backup-action.js';
import {restoreTableAction} from './table-restore-action.js';
import {restoreMirrorAllAction, restoreMirrorAllJobsAction, restoreMirrorBucketAction, restoreMirrorBucketJobsAction} from './mirror-restore-action.js';
import {restoreVolumeAction} from './wizard/volume-restore-action.js';

/**
Actions on a selected row, registered here (one line each) and offered as keys in the panes they
apply to. The restore wizard plugs in as `R` on a recovery point. An action with `changes` is
removed entirely under `--read-only`; a `dangerous` one is confirmed first; `disabledReason`
(e.g. RBAC denies it) greys it out in the help with the reason.
*/
export type ItemAction = {
	readonly id: string;
	readonly keys: readonly string[];
	readonly label: string;
	readonly description: string;
	/** Pane ids it applies to. */
	readonly panes: readonly string[];
	readonly changes: boolean;
	readonly dangerous: boolean;
	readonly disabledReason?: (item: unknown, context: ActionContext) => string | undefined;
	/** The question asked (y confirms) before the action runs; absent: it runs at once (a wizard with its own gates). */
	readonly confirm?: (item: unknown, context: ActionContext) => string;
	/** Starts the action; the console shows what it returns as a message, or the screen it opens. */
	readonly run: (item: unknown, context: ActionContext) => Promise<string | void> | string | void;
};

export type ActionContext = {
	readonly live: LiveInventory;
	readonly paneId: string;
	readonly readOnly: boolean;
	/**
	Replaces the home screen with a screen of the action's own (the restore wizard) until `close`
	is called. While it is open the console reads no keys: the screen's own `useInput` gets them all
	(the screen is drawn once its handler is attached, so none is lost). On `close` the console
	re-reads the layers (what the screen did changed the world).
	*/
	readonly openScreen?: (screen: ReactElement) => {close: () => void};
	/** The row chosen with ↑/↓ in the open detail (a version in a table's history); absent on the home screen. */
	readonly choice?: DetailChoice;
};

/** Every registered action: one line each. */
export const itemActions: ItemAction[] = [
	suspendBackupAction,
	restoreVolumeAction,
	restoreTableAction,
	restoreMirrorBucketAction, restoreMirrorAllAction, restoreMirrorBucketJobsAction, restoreMirrorAllJobsAction,
	postureAction,
];
