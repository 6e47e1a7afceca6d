import fs from 'node:fs';
import {appendDurable, stateLayout} from './state-dir.js';

/**
The audit log: one JSON line per action, append-only (opened with O_APPEND, never rewritten).
`identity` is the kube context's user (and the context's name), the best a client knows.
*/
export type AuditEntry = {
	readonly time: string;
	readonly identity: string;
	/** e.g. 'restore.volume.start', 'step.delete-claim', 'restore.volume.refused'. */
	readonly action: string;
	readonly target: string;
	readonly outcome: 'started' | 'succeeded' | 'failed' | 'refused' | 'skipped' | 'stopped' | 'already-done';
	readonly runId?: string;
	readonly detail?: string;
};

export class AuditLog {
	readonly file: string;

	constructor(stateDir: string) {
		this.file = stateLayout(stateDir).audit;
	}

	record(entry: Omit<AuditEntry, 'time'> & {time?: string}): void {
		const line: AuditEntry = {time: entry.time ?? new Date().toISOString(), ...entry};
		appendDurable(this.file, JSON.stringify(line));
	}

	read(): AuditEntry[] {
		if (!fs.existsSync(this.file)) {
			return [];
		}

		return fs.readFileSync(this.file, 'utf8').split('\n').filter(Boolean).flatMap(line => {
			try {
				return [JSON.parse(line) as AuditEntry];
			} catch {
				return [];
			}
		});
	}
}
