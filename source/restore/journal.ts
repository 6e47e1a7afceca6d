import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import type {PlanDescription} from './plan.js';
import {appendDurable, fsyncDirectory, stateLayout} from './state-dir.js';

/**
The journal of one restore run: JSON lines, each fsync'd before the engine goes on. A step is
recorded before it runs (`start`) and after (`done` / `failed`). After a crash the unfinished
journal of a target says exactly where the run stopped.
*/
export type JournalRecord =
	| {type: 'begin'; runId: string; at: string; identity: string; target: string; kind: string; facts: unknown; plan: PlanDescription}
	| {type: 'resume'; runId: string; at: string; identity: string}
	| {type: 'confirm'; runId: string; at: string; step: string}
	| {type: 'start'; runId: string; at: string; step: string}
	| {type: 'done'; runId: string; at: string; step: string; outcome: StepOutcome; detail?: string; result?: unknown}
	| {type: 'failed'; runId: string; at: string; step: string; error: string}
	/** A stop at the operator's request; `step`: the mutation it cut short (partly done), absent when it came between steps. */
	| {type: 'stopped'; runId: string; at: string; reason: string; step?: string}
	| {type: 'end'; runId: string; at: string; outcome: RunOutcome};

/** `done`: ran now; `already`: its effect was there (resume after a crash mid-step); `passed`: a check. */
export type StepOutcome = 'done' | 'already' | 'passed';

export type RunOutcome = 'succeeded' | 'failed' | 'abandoned';

/** What an unfinished journal tells about the run it records. */
export type JournalState = {
	readonly file: string;
	readonly runId: string;
	readonly begin: Extract<JournalRecord, {type: 'begin'}>;
	/** Steps recorded as done, with their results. */
	readonly completed: ReadonlyMap<string, {outcome: StepOutcome; result?: unknown; at: string}>;
	/** Steps recorded as started and never finished: interrupted in the middle. */
	readonly interrupted: readonly string[];
	/** The last failure, if the run stopped on one. */
	readonly lastFailure?: {step: string; error: string; at: string};
	/** The last stop at the operator's request, if the run ended on one (after any failure). */
	readonly lastStop?: {step?: string; reason: string; at: string};
	/** The time of the last record. */
	readonly lastAt: string;
	/** How many times the run was started (1 + resumes). */
	readonly attempts: number;
	readonly records: readonly JournalRecord[];
};

/** The journal file of a target: 'volume/ilum/data-x-0' -> journals/volume__ilum__data-x-0.jsonl. */
export function journalFile(stateDir: string, target: string): string {
	return path.join(stateLayout(stateDir).journals, `${target.replaceAll(/[^\w.-]+/g, '__')}.jsonl`);
}

export class Journal {
	readonly file: string;
	readonly runId: string;

	constructor(file: string, runId: string) {
		this.file = file;
		this.runId = runId;
	}

	append(record: JournalRecord): void {
		appendDurable(this.file, JSON.stringify(record));
	}

	/** Moves the journal of an ended run out of the way, so the target has no unfinished restore. */
	close(stateDir: string): string {
		const finished = path.join(stateLayout(stateDir).finished, `${this.runId}.jsonl`);
		fs.mkdirSync(path.dirname(finished), {recursive: true});
		fs.renameSync(this.file, finished);
		fsyncDirectory(path.dirname(finished));
		fsyncDirectory(path.dirname(this.file));
		return finished;
	}
}

/** Parses a journal; a torn last line (a crash in the middle of a write) is ignored. */
export function readJournal(file: string): JournalRecord[] {
	const text = fs.readFileSync(file, 'utf8');
	const records: JournalRecord[] = [];
	for (const line of text.split('\n')) {
		if (!line.trim()) {
			continue;
		}

		try {
			records.push(JSON.parse(line) as JournalRecord);
		} catch {
			// A line cut by a crash: the record it was writing never took effect for us.
		}
	}

	return records;
}

/** The unfinished restore of a target, if there is one. */
export function findUnfinished(stateDir: string, target: string): JournalState | undefined {
	const file = journalFile(stateDir, target);
	if (!fs.existsSync(file)) {
		return undefined;
	}

	const records = readJournal(file);
	const begin = records.find(record => record.type === 'begin');
	if (!begin || begin.type !== 'begin' || records.some(record => record.type === 'end')) {
		return undefined;
	}

	const completed = new Map<string, {outcome: StepOutcome; result?: unknown; at: string}>();
	const started = new Set<string>();
	let lastFailure: JournalState['lastFailure'];
	let lastStop: JournalState['lastStop'];
	let attempts = 0;
	for (const record of records) {
		switch (record.type) {
			case 'begin':
			case 'resume': {
				attempts++;
				break;
			}

			case 'start': {
				started.add(record.step);
				break;
			}

			case 'done': {
				started.delete(record.step);
				completed.set(record.step, {outcome: record.outcome, result: record.result, at: record.at});
				break;
			}

			case 'failed': {
				started.delete(record.step);
				lastFailure = {step: record.step, error: record.error, at: record.at};
				lastStop = undefined;
				break;
			}

			case 'stopped': {
				if (record.step) {
					// The mutation ended there (partly done): not a crash in the middle of it.
					started.delete(record.step);
				}

				lastStop = {...(record.step ? {step: record.step} : {}), reason: record.reason, at: record.at};
				break;
			}

			default: {
				break;
			}
		}
	}

	return {
		file,
		runId: begin.runId,
		begin,
		completed,
		interrupted: [...started],
		lastFailure,
		...(lastStop ? {lastStop} : {}),
		lastAt: records.at(-1)!.at,
		attempts,
		records,
	};
}

/** One line saying where an unfinished restore stopped. */
export function describeUnfinished(state: JournalState): string {
	const steps = state.begin.plan.steps;
	const doneCount = steps.filter(step => state.completed.has(step.id)).length;
	const next = steps.find(step => !state.completed.has(step.id));
	const where = state.interrupted.length > 0
		? `interrupted during step '${state.interrupted[0]}'`
		: (state.lastStop?.step
			? `stopped on request during step '${state.lastStop.step}' (partly done; a resume finishes it)`
			: (state.lastFailure && !state.lastStop ? `failed at step '${state.lastFailure.step}' (${state.lastFailure.error})` : `stopped before step '${next?.id ?? '(none)'}'`));
	return `an unfinished restore of ${state.begin.target} (run ${state.runId}, started ${state.begin.at} by ${state.begin.identity}) is ${where}; ${doneCount} of ${steps.length} steps done`;
}

/** Every unfinished restore in the state dir (one per target at most). */
export function listUnfinished(stateDir: string): JournalState[] {
	const directory = stateLayout(stateDir).journals;
	if (!fs.existsSync(directory)) {
		return [];
	}

	return fs.readdirSync(directory).filter(name => name.endsWith('.jsonl')).flatMap(name => {
		const records = readJournal(path.join(directory, name));
		const begin = records.find(record => record.type === 'begin');
		const state = begin?.type === 'begin' ? findUnfinished(stateDir, begin.target) : undefined;
		return state ? [state] : [];
	});
}

/**
Holds a target while a run walks it, so two processes never execute the same restore at once.
A lock left by a process that died (a crash, SIGKILL) is taken over.
*/
export function acquireLock(stateDir: string, target: string): {release: () => void} | {heldBy: number} {
	const file = `${journalFile(stateDir, target)}.lock`;
	fs.mkdirSync(path.dirname(file), {recursive: true});
	for (let attempt = 0; attempt < 2; attempt++) {
		try {
			const fd = fs.openSync(file, 'wx', 0o600);
			fs.writeSync(fd, String(process.pid));
			fs.closeSync(fd);
			return {
				release() {
					try {
						if (fs.readFileSync(file, 'utf8') === String(process.pid)) {
							fs.unlinkSync(file);
						}
					} catch {}
				},
			};
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
				throw error;
			}

			const pid = Number(fs.readFileSync(file, 'utf8'));
			if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
				return {heldBy: pid};
			}

			fs.rmSync(file, {force: true});
		}
	}

	return {heldBy: -1};
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
