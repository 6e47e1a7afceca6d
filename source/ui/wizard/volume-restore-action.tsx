import React from 'react';
import type {SnapshotItem} from '../../layers/volumes/volume-inventory.js';
import type {RestoreReport} from '../../restore/report.js';
import type {RestoreSession} from '../../restore/session.js';
import type {ActionContext, ItemAction} from '../actions.js';
import {RestoreWizard} from './restore-wizard.js';

export type VolumeRestoreActionOptions = {
	/** Builds the session for a snapshot (e.g. `prepareVolumeRestore` with the console's kube context and state dir). */
	readonly prepare?: (snapshot: string) => Promise<RestoreSession>;
	/**
	Shows a full screen over the console until `close` is called: the seam the console must offer
	(the wizard takes the keys while it is open).
	*/
	readonly open?: (screen: React.ReactElement) => {close: () => void};
	/** Told when a wizard closes, with its report. */
	readonly onClosed?: (report?: RestoreReport) => void;
};

/**
What the console has to offer for `restoreVolumeAction` to work, read from the action's context:
`live.sources.prepareVolumeRestore` (built where the kube context and state dir are known, with
`prepareVolumeRestore` from layers/volumes/restore-plan.ts) and `openScreen` on the context.
*/
export type RestoreCapabilities = {
	readonly prepareVolumeRestore?: (snapshot: string) => Promise<RestoreSession>;
};
export type ScreenOpener = {
	readonly openScreen?: (screen: React.ReactElement) => {close: () => void};
};

/** The registry's action: `R`, with what it needs taken from the console's context (greyed when missing). */
export const restoreVolumeAction: ItemAction = volumeRestoreAction((context: ActionContext) => ({
	prepare: (context.live.sources as RestoreCapabilities).prepareVolumeRestore,
	// The console re-reads the layers when the screen closes.
	open: (context as ActionContext & ScreenOpener).openScreen,
}));

/**
`R` on a recovery point in the Volume snapshots pane: opens the restore wizard for it. Dangerous
and changing, so the console hides it under `--read-only`; greyed out for snapshots that cannot
be restored, with the reason.
*/
export function volumeRestoreAction(given: VolumeRestoreActionOptions | ((context: ActionContext) => VolumeRestoreActionOptions)): ItemAction {
	const resolve = (context: ActionContext) => typeof given === 'function' ? given(context) : given;
	return {
		id: 'restore-volume',
		keys: ['R'],
		label: 'R',
		description: 'Restore the provider\'s volume from this snapshot (guided: plan, checks, confirmation, progress, report)',
		panes: ['volumes'],
		changes: true,
		dangerous: true,
		disabledReason(item, context) {
			const snapshot = item as SnapshotItem;
			if (context.readOnly) {
				return 'read-only mode: restores are not available';
			}

			const options = resolve(context);
			if (!options.prepare || !options.open) {
				return 'the restore wizard is not available with this connection (use ilum-restore restore volume)';
			}

			if (!snapshot.ofProvider) {
				return `${snapshot.name} is not a snapshot of the object-storage provider's claim`;
			}

			if (!snapshot.ready) {
				return `${snapshot.name} is not ready to use${snapshot.error ? ` (${snapshot.error})` : ''}`;
			}

			return undefined;
		},
		async run(item, context) {
			const snapshot = item as SnapshotItem;
			if (context.readOnly) {
				return 'read-only mode: restores are not available';
			}

			const options = resolve(context);
			const {prepare, open} = options;
			if (!prepare || !open) {
				return `the restore wizard is not available with this connection: ilum-restore restore volume ${snapshot.name} --dry-run`;
			}

			try {
				const session = await prepare(snapshot.name);
				const handle = open(<RestoreWizard session={session} onExit={report => {
					handle.close();
					options.onClosed?.(report);
				}}/>);
				return undefined;
			} catch (error) {
				return `restore of ${snapshot.name} not started: ${error instanceof Error ? error.message : String(error)}`;
			}
		},
	};
}
