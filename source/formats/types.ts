/**
The one interface the three table formats share. `history` and `restore table` (and later the
console's Tables pane and the restore wizard) only ever talk to this.
*/
export type FormatName = 'delta' | 'iceberg' | 'ducklake';

export type HistoryEntry = {
	/** Decimal string: Delta version, Iceberg snapshot id (64-bit, exact), DuckLake snapshot id. */
	readonly id: string;
	/** ISO 8601 UTC. */
	readonly timestamp: string;
	readonly operation: string;
	readonly parent?: string;
	readonly current: boolean;
	/** True only when every file this version needs exists in storage. */
	readonly restorable: boolean;
	/** Why it is not restorable (names what is missing), or other notes. */
	readonly reason?: string;
	readonly summary: Readonly<Record<string, string | number>>;
};

/** What the table's own settings will keep of its history (and so how far back it can go). */
export type TableRetention = {
	/** How long versions stay restorable by the settings, in ms; undefined: until removed by hand. */
	readonly keepsMs?: number;
	/** The settings that decide it, by the format's names; `(default)` marks values not set on the table. */
	readonly settings: Readonly<Record<string, string>>;
};

export type TableHistory = {
	readonly format: FormatName;
	/** The ref as `history` and `restore table` accept it. */
	readonly ref: string;
	/** Id of the current version. */
	readonly current: string;
	/** Oldest first. */
	readonly entries: readonly HistoryEntry[];
	/** What retention will remove next; absent where the format could not say. */
	readonly retention?: TableRetention;
};

/** A table, as named by the user: resolved by `source/formats/index.ts`. */
export type TableRef = {
	/** As given: path, file:// URI, s3://bucket/prefix, ducklake:..., or an Iceberg REST ref. */
	readonly ref: string;
	/** `schema.table` for DuckLake, `namespace.table` for a catalog. */
	readonly table?: string;
};

export type LiveSetSide = {
	readonly files: number;
	readonly rows: number;
	readonly bytes: number;
};

/** What a restore will do, before it does anything. Printed by --dry-run; executed by --yes. */
export type TableRestorePlan = {
	readonly format: FormatName;
	readonly ref: string;
	readonly table?: string;
	/** The version being restored to. */
	readonly target: string;
	/** The version current when the plan was made (the restore's precondition). */
	readonly from: string;
	readonly before: LiveSetSide;
	readonly after: LiveSetSide;
	/** Files that return to the live set (paths as the format names them). */
	readonly filesReturning: readonly string[];
	/** Files that leave the live set. */
	readonly filesLeaving: readonly string[];
	/** Human lines: columns added, dropped, changed between current and target. */
	readonly schemaChanges: readonly string[];
	/** The exact commit it would write (Delta actions, Iceberg updates, DuckLake SQL). */
	readonly commit: unknown;
	/** The checks run after writing. */
	readonly checks: readonly string[];
	/** Set when the restore cannot be made safely: the reason (exit 3). */
	readonly refusal?: string;
	/** Warnings that do not block (e.g. target not an ancestor with --force). */
	readonly warnings: readonly string[];
};

export type TableRestoreResult = {
	readonly plan: TableRestorePlan;
	/** The id of the version the restore wrote (Delta version, DuckLake snapshot; Iceberg: the target, now current). */
	readonly newVersion: string;
	readonly verified: boolean;
	readonly checks: ReadonlyArray<{readonly name: string; readonly ok: boolean; readonly detail: string}>;
};

export type RestoreOptions = {
	/** Iceberg: allow a target that is not an ancestor of the current snapshot. */
	readonly force?: boolean;
	readonly signal?: AbortSignal;
};

export interface TableFormat {
	readonly name: FormatName;
	history(ref: TableRef): Promise<TableHistory>;
	/** Resolves `to` (an id or an ISO timestamp) and computes the plan. Changes nothing. */
	plan(ref: TableRef, to: string, options?: RestoreOptions): Promise<TableRestorePlan>;
	/** Writes the restore as planned (refusing if the table moved since), then verifies by reading back. */
	execute(plan: TableRestorePlan, options?: RestoreOptions): Promise<TableRestoreResult>;
}
