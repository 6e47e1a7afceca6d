import type {LiveSetSide, TableFormat, TableRestorePlan, TableRestoreResult} from '../formats/types.js';
import {describeUnfinished, findUnfinished} from './journal.js';
import type {RestorePlan, Step} from './plan.js';
import {createSession, type RestoreSession} from './session.js';

/**
A table restore (Delta, Iceberg, DuckLake through the shared `TableFormat`) as an engine plan, so
the wizard, the journal, the audit log and the report treat it as they treat a volume restore:
preconditions (the table is still where the plan saw it), one gated mutation (the format's restore
commit), verification (the format's read-back checks).

Nothing of the format's commit is journaled (it may hold 64-bit ids): the facts are the ref, the
target and the version the plan started from; every step plans again and compares, so a resumed
run never writes a second restore commit.
*/
export type TableRestoreFacts = {
	readonly format: string;
	readonly ref: string;
	readonly table?: string;
	readonly target: string;
	/** The version current when the plan was made: the restore's precondition. */
	readonly from: string;
	readonly before: LiveSetSide;
	readonly after: LiveSetSide;
	readonly filesReturning: number;
	readonly filesLeaving: number;
	readonly schemaChanges: readonly string[];
	readonly warnings: readonly string[];
	readonly force?: boolean;
};

export function tableRestoreFacts(plan: TableRestorePlan, options: {force?: boolean} = {}): TableRestoreFacts {
	return {
		format: plan.format,
		ref: plan.ref,
		...(plan.table ? {table: plan.table} : {}),
		target: plan.target,
		from: plan.from,
		before: plan.before,
		after: plan.after,
		filesReturning: plan.filesReturning.length,
		filesLeaving: plan.filesLeaving.length,
		schemaChanges: plan.schemaChanges,
		warnings: plan.warnings,
		...(options.force ? {force: true} : {}),
	};
}

/** The name an operator types at the gate: the table's name (the last part of the ref without one). */
export const tableName = (facts: Pick<TableRestoreFacts, 'ref' | 'table'>) => facts.table ?? facts.ref.replace(/\/+$/, '').split(/[/:]/).at(-1) ?? facts.ref;

const side = (value: LiveSetSide) => `${value.files} files, ${value.rows} rows, ${value.bytes} B`;

/**
A fresh plan finds the live set already the target's: nothing returns or leaves; or, for DuckLake
only, the copies stand for the target's files one for one, with the same rows and bytes. DuckLake
brings files back as copies under new names and ids (a closed catalog row is never reopened), so
after its restore a fresh plan always pairs the target's files with their copies; its own
read-back checked every copy's row count. Delta and Iceberg point at the target's own files again:
for them any file still returning or leaving means the table does not read as the target (other
files that add up to the same figures, e.g. an UPDATE that rewrote one, are not the target's).
Schema differences are not part of this check: the Iceberg restore, like Iceberg's own
rollback_to_snapshot, moves the current snapshot and keeps the table's current schema.
*/
const inPlace = (plan: TableRestorePlan) => (plan.filesReturning.length === 0 && plan.filesLeaving.length === 0)
	|| (plan.format === 'ducklake' && plan.filesReturning.length === plan.filesLeaving.length && plan.before.files === plan.after.files && plan.before.rows === plan.after.rows && plan.before.bytes === plan.after.bytes);

const shown = 8;
const list = (label: string, files: readonly string[]) => files.length === 0
	? [`${label}: none`]
	: [`${label} (${files.length}):`, ...files.slice(0, shown).map(file => `  ${file}`), ...(files.length > shown ? [`  … and ${files.length - shown} more (restore table --dry-run --json lists them all)`] : [])];

function commitPreview(commit: unknown): string[] {
	if (commit && typeof commit === 'object' && 'file' in commit && Array.isArray((commit as {actions?: unknown}).actions)) {
		const {file, actions} = commit as {file: string; actions: unknown[]};
		const kinds = new Map<string, number>();
		for (const action of actions) {
			const kind = action && typeof action === 'object' ? Object.keys(action)[0] ?? '?' : '?';
			kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
		}

		return [`commit it will write: ${file} (${[...kinds].map(([kind, count]) => `${count} ${kind}`).join(', ')})`];
	}

	const text = JSON.stringify(commit, (_key, value: unknown) => typeof value === 'bigint' ? value.toString() : value) ?? '';
	return [`commit it will write: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`];
}

/**
What the restore will look like, for the wizard's plan screen and the dry run: files returning to
and leaving the live set, rows and bytes before and after, schema differences, the commit. From the
format's full plan when there is one, else (a resumed run) from the journaled facts.
*/
export function tablePreview(facts: TableRestoreFacts, plan?: TableRestorePlan): string[] {
	const rows = (value: LiveSetSide) => Number.isNaN(value.rows) ? 'unknown' : String(value.rows);
	return [
		`${facts.format} table ${tableName(facts)}: version ${facts.from} (current) -> ${facts.target}`,
		`before: ${facts.before.files} files, ${rows(facts.before)} rows, ${facts.before.bytes} bytes`,
		`after:  ${facts.after.files} files, ${rows(facts.after)} rows, ${facts.after.bytes} bytes`,
		...(plan ? list('files returning to the live set', plan.filesReturning) : [`files returning to the live set: ${facts.filesReturning}`]),
		...(plan ? list('files leaving the live set', plan.filesLeaving) : [`files leaving the live set: ${facts.filesLeaving}`]),
		...(facts.schemaChanges.length === 0 ? ['schema and properties: unchanged'] : ['schema and properties:', ...facts.schemaChanges.map(change => `  ${change}`)]),
		...(plan ? commitPreview(plan.commit) : [`commit it will write: one ${facts.format} restore commit (planned again when it runs)`]),
	];
}

export function buildTableRestorePlan(facts: TableRestoreFacts, format: TableFormat, full?: TableRestorePlan): RestorePlan {
	const ref = {ref: facts.ref, ...(facts.table ? {table: facts.table} : {})};
	const name = tableName(facts);
	const options = facts.force ? {force: true} : {};
	const again = `ilum-restore restore table ${facts.ref}${facts.table ? ` --table ${facts.table}` : ''}`;
	const replan = async () => format.plan(ref, facts.target, options);
	const steps: Step[] = [
		{
			id: 'table-unchanged', kind: 'precondition', title: `${name} is still at version ${facts.from} and can go back to ${facts.target}`,
			async evaluate() {
				const fresh = await replan();
				if (fresh.refusal) {
					return {ok: false, detail: fresh.refusal, hint: 'pick another version (ilum-restore history)'};
				}

				if (fresh.from !== facts.from) {
					return {ok: false, detail: `${name} moved since the plan was made (now at version ${fresh.from}, was ${facts.from})`, hint: 'plan again: someone else committed'};
				}

				return {ok: true, detail: `${name} at version ${facts.from}; ${fresh.filesReturning.length} files return, ${fresh.filesLeaving.length} leave`};
			},
		},
		{
			id: 'write-restore', kind: 'mutation', title: `Write the restore of ${name} to version ${facts.target} (one ${facts.format} commit)`,
			changes: `one new commit on ${name}: ${facts.filesReturning} files return, ${facts.filesLeaving} leave; live set ${side(facts.before)} -> ${side(facts.after)}${facts.schemaChanges.length > 0 ? `; schema: ${facts.schemaChanges.join(', ')}` : ''}`,
			undo: `${again} --to ${facts.from} --yes (restores forward to the version current before; history keeps both)`,
			dangerous: {confirmText: name, reason: `changes what every reader of ${name} sees (${side(facts.before)} -> ${side(facts.after)})`},
			async check() {
				// Written already (a crash before the journal knew): the table moved, and to the target's live set.
				const fresh = await replan();
				return fresh.from !== facts.from && inPlace(fresh);
			},
			async * run(context) {
				const fresh = await replan();
				if (fresh.refusal) {
					throw new Error(fresh.refusal);
				}

				if (fresh.from !== facts.from) {
					throw new Error(`${name} moved since the plan was made (now at version ${fresh.from}, was ${facts.from}): plan again`);
				}

				yield {message: `writing the commit (${fresh.filesReturning.length} files return, ${fresh.filesLeaving.length} leave)`, kind: 'wait'};
				const result: TableRestoreResult = await format.execute(fresh, {...options, signal: context.signal});
				yield {message: `version ${result.newVersion} written`};
				return {detail: `wrote version ${result.newVersion}`, newVersion: result.newVersion, verified: result.verified, checks: result.checks};
			},
		},
		{
			id: 'verify-table', kind: 'verify', title: `Verify: ${name} reads as version ${facts.target}`,
			async * run(context) {
				const written = context.results.get('write-restore') as {newVersion: string; verified: boolean; checks: TableRestoreResult['checks']} | undefined;
				for (const check of written?.checks ?? []) {
					yield {message: `${check.ok ? 'ok' : 'FAILED'} ${check.name}: ${check.detail}`, ...(check.ok ? {} : {kind: 'warning' as const})};
				}

				const failed = (written?.checks ?? []).filter(check => !check.ok);
				if (failed.length > 0 || written?.verified === false) {
					throw new Error(`read-back checks failed: ${failed.map(check => `${check.name} (${check.detail})`).join('; ') || 'not verified'}`);
				}

				// Whatever the format checked, plan again: the live set must be the target's.
				const fresh = await replan();
				if (!inPlace(fresh)) {
					throw new Error(`${name} does not read as version ${facts.target}: ${fresh.filesReturning.length} files would still return, ${fresh.filesLeaving.length} leave`);
				}

				return {detail: `${name} reads as version ${facts.target}${written ? ` (new version ${written.newVersion}; ${written.checks.length} checks passed)` : ''}`, newVersion: written?.newVersion};
			},
		},
	];
	return {
		kind: 'table',
		target: `table/${facts.ref}${facts.table ? `#${facts.table}` : ''}`,
		summary: `restore ${facts.format} table ${name} to version ${facts.target}`,
		facts,
		blastRadius: [
			`${name}: live set ${side(facts.before)} -> ${side(facts.after)}; readers see it from their next read`,
			`versions after ${facts.target} stay in the history (time travel still reaches them) until retention removes them`,
			...facts.schemaChanges.map(change => `schema: ${change}`),
		],
		warnings: [...facts.warnings],
		preview: tablePreview(facts, full),
		access: [],
		steps,
		undo: [`${again} --to ${facts.from} --yes`],
	};
}

/**
A table restore ready for the wizard: planned now, or the unfinished run of the same table
resumed from its journal (refused when that run restores to another version).
*/
export async function prepareTableRestore(options: {format: TableFormat; ref: string; table?: string; to: string; stateDir: string; identity: string; readOnly?: boolean; force?: boolean}): Promise<RestoreSession> {
	const target = `table/${options.ref}${options.table ? `#${options.table}` : ''}`;
	const unfinished = findUnfinished(options.stateDir, target);
	let facts: TableRestoreFacts;
	let full: TableRestorePlan | undefined;
	if (unfinished) {
		facts = unfinished.begin.facts as TableRestoreFacts;
		if (facts.target !== options.to) {
			throw new Error(`${describeUnfinished(unfinished)}, to version ${facts.target}: finish or abandon it first`);
		}
	} else {
		full = await options.format.plan({ref: options.ref, ...(options.table ? {table: options.table} : {})}, options.to, options.force ? {force: true} : {});
		facts = tableRestoreFacts(full, {force: options.force});
	}

	return createSession({
		plan: buildTableRestorePlan(facts, options.format, full),
		stateDir: options.stateDir,
		identity: options.identity,
		readOnly: options.readOnly ?? false,
		...(unfinished ? {resume: unfinished} : {}),
	});
}
