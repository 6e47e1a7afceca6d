import type {RestoreOptions, TableFormat, TableHistory, TableRef, TableRestorePlan, TableRestoreResult} from '../types.js';
import {icebergHistory} from './history.js';
import {executeRestore, planRestore} from './restore.js';
import {openTable, openTableFast, type IcebergOptions} from './table.js';

export type {IcebergOptions, StoreOpener} from './table.js';
export {isIcebergCatalogRef, openTable} from './table.js';
export type {IcebergCommit} from './restore.js';

/**
Iceberg behind the shared `TableFormat` interface: history from the current metadata (found through
a REST or SQL catalog, the version hint or the newest metadata file), and restores that move `main`
back to a snapshot in one commit.
*/
export class IcebergFormat implements TableFormat {
	readonly name = 'iceberg' as const;
	private readonly options: IcebergOptions;

	constructor(options: IcebergOptions = {}) {
		this.options = options;
	}

	async history(ref: TableRef): Promise<TableHistory> {
		return icebergHistory(await openTableFast(ref, this.options), this.options.concurrency);
	}

	async plan(ref: TableRef, to: string, options: RestoreOptions = {}): Promise<TableRestorePlan> {
		return planRestore(await openTable(ref, this.options), to, {...options, concurrency: this.options.concurrency});
	}

	async execute(plan: TableRestorePlan, options: RestoreOptions = {}): Promise<TableRestoreResult> {
		return executeRestore(plan, {...this.options, ...options});
	}
}

export const createIcebergFormat = (options: IcebergOptions = {}): TableFormat => new IcebergFormat(options);
