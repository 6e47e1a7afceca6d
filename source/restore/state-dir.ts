import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

/**
Where journals, the audit log and reports live:

```
<state dir>/                     --state-dir, else $XDG_STATE_HOME/ilum-restore, else ~/.local/state/ilum-restore
  audit.jsonl                    one JSON line per action, append-only
  journals/<target>.jsonl        the journal of the unfinished restore of a target (at most one)
  journals/finished/<run>.jsonl  journals of restores that ended (done, failed for good, abandoned)
  reports/<run>.json, .md        the report of each run
```
*/
export function resolveStateDir(flag?: string): string {
	if (flag) {
		return path.resolve(flag);
	}

	const xdg = process.env['XDG_STATE_HOME'];
	if (xdg) {
		return path.join(xdg, 'ilum-restore');
	}

	return path.join(os.homedir(), '.local', 'state', 'ilum-restore');
}

export const stateLayout = (stateDir: string) => ({
	audit: path.join(stateDir, 'audit.jsonl'),
	journals: path.join(stateDir, 'journals'),
	finished: path.join(stateDir, 'journals', 'finished'),
	reports: path.join(stateDir, 'reports'),
});

/** Appends one line and makes it durable before returning (the point of a journal). */
export function appendDurable(file: string, line: string): void {
	fs.mkdirSync(path.dirname(file), {recursive: true});
	const created = !fs.existsSync(file);
	const fd = fs.openSync(file, 'a', 0o600);
	try {
		fs.writeSync(fd, line.endsWith('\n') ? line : line + '\n');
		fs.fsyncSync(fd);
	} finally {
		fs.closeSync(fd);
	}

	if (created) {
		fsyncDirectory(path.dirname(file));
	}
}

/** Makes a file's creation or rename in `directory` durable (where the platform allows it). */
export function fsyncDirectory(directory: string): void {
	let fd: number | undefined;
	try {
		fd = fs.openSync(directory, 'r');
		fs.fsyncSync(fd);
	} catch {
		// Not every platform can fsync a directory; the data itself is already synced.
	} finally {
		if (fd !== undefined) {
			fs.closeSync(fd);
		}
	}
}

/** Writes a whole file through a temporary name, so a reader never sees half of it. */
export function writeFileAtomic(file: string, content: string): void {
	fs.mkdirSync(path.dirname(file), {recursive: true});
	const temporary = `${file}.${process.pid}.tmp`;
	const fd = fs.openSync(temporary, 'w', 0o600);
	try {
		fs.writeSync(fd, content);
		fs.fsyncSync(fd);
	} finally {
		fs.closeSync(fd);
	}

	fs.renameSync(temporary, file);
	fsyncDirectory(path.dirname(file));
}
