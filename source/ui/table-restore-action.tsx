import React from 'react';
import type {TableItem} from '../layers/tables/table-inventory.js';
import type {RestoreReport} from '../restore/report.js';
import type {RestoreSession} from '../restore/session.js';
import type {ActionContext, ItemAction} from './actions.js';
import {RestoreWizard} from './wizard/restore-wizard.js';

export type TableRestoreTarget = {readonly ref: string; readonly table?: string; readonly to: string};

export type TableRestoreActionOptions = {
	/** Builds the session for a table and a version (`prepareTableRestore` with the console's formats and state dir). */
	readonly prepare?: (target: TableRestoreTarget) => Promise<RestoreSession>;
	/** Shows a full screen over the console until `close` is called (the wizard takes the keys). */
	readonly open?: (screen: React.ReactElement) => {close: () => void};
	/** Told when the wizard closes, with its report. */
	readonly onClosed?: (report?: RestoreReport) => void;
};

/** The registry's action: `R` in a table's history, with what it needs taken from the console's context. */
export const restoreTableAction: ItemAction = tableRestoreAction((context: ActionContext) => ({
	prepare: (context.live.sources as {prepareTableRestore?: TableRestoreActionOptions['prepare']}).prepareTableRestore,
	// The console re-reads the layers when the screen closes.
	open: context.openScreen,
}));

/**
`R` on a version chosen (↑/↓) in a table's history (Enter on a table in the Tables pane): opens the
restore wizard for that table and version, whose plan screen previews the files returning and
leaving, rows and bytes before and after, schema differences and the commit it will write, then
preflight, a gate where the table's name is typed, progress, verification and the report.
Dangerous and changing: hidden under `--read-only`; greyed, with the reason, for a version that
cannot be restored or is already current.
*/
export function tableRestoreAction(given: TableRestoreActionOptions | ((context: ActionContext) => TableRestoreActionOptions)): ItemAction {
	const resolve = (context: ActionContext) => typeof given === 'function' ? given(context) : given;
	const why = (item: unknown, context: ActionContext): string | undefined => {
		const table = item as TableItem;
		if (context.readOnly) {
			return 'read-only mode: restores are not available';
		}

		const options = resolve(context);
		if (!options.prepare || !options.open) {
			return `the restore wizard is not available with this connection (use ilum-restore restore table ${table.ref}${table.table ? ` --table ${table.table}` : ''})`;
		}

		const {choice} = context;
		if (!choice) {
			return `open ${table.name}'s history (Enter) and choose a version with ↑/↓`;
		}

		if (!choice.selectable) {
			return `version ${choice.id} cannot be restored: ${choice.reason ?? 'not restorable'}`;
		}

		if (choice.current) {
			return `version ${choice.id} is already current: choose an earlier one with ↑`;
		}

		return undefined;
	};

	return {
		id: 'restore-table',
		keys: ['R'],
		label: 'R',
		description: 'Restore the table to the version chosen in its history (guided: preview, checks, typed name, progress, report)',
		panes: ['tables'],
		changes: true,
		dangerous: true,
		disabledReason: why,
		async run(item, context) {
			const reason = why(item, context);
			if (reason) {
				return reason;
			}

			const table = item as TableItem;
			const {prepare, open, onClosed} = resolve(context);
			const to = context.choice!.id;
			try {
				const session = await prepare!({ref: table.ref, ...(table.table ? {table: table.table} : {}), to});
				const handle = open!(<RestoreWizard session={session} onExit={report => {
					handle.close();
					onClosed?.(report);
				}}/>);
				return undefined;
			} catch (error) {
				return `restore of ${table.name} to version ${to} not started: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
			}
		},
	};
}
