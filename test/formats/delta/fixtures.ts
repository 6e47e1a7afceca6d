import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {projectRoot} from '../../helpers/run-cli.js';

/** The Delta tables other engines wrote (read-only: restores run on copies). */
export const deltaFixtures = path.resolve(projectRoot, '../shared/fixtures/tables/delta');

export function fixture(name: string): string {
	return path.join(deltaFixtures, name);
}

/** A writable temporary copy of a fixture table; `remove()` deletes it. */
export async function copyFixture(name: string): Promise<{dir: string; remove: () => Promise<void>}> {
	const parent = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-delta-'));
	const dir = path.join(parent, name);
	await fs.cp(fixture(name), dir, {recursive: true});
	await makeWritable(dir);
	return {dir, remove: async () => fs.rm(parent, {recursive: true, force: true})};
}

async function makeWritable(dir: string): Promise<void> {
	await fs.chmod(dir, 0o755);
	for (const entry of await fs.readdir(dir, {withFileTypes: true})) {
		const full = path.join(dir, entry.name);
		if (entry.isDirectory()) {
			// eslint-disable-next-line no-await-in-loop
			await makeWritable(full);
		} else {
			// eslint-disable-next-line no-await-in-loop
			await fs.chmod(full, 0o644);
		}
	}
}

export const commitName = (version: number) => `${String(version).padStart(20, '0')}.json`;

/** Deletes the JSON commits `from`..`to` (log cleanup, as `delta.logRetentionDuration` does). */
export async function deleteCommits(dir: string, from: number, to: number): Promise<void> {
	for (let version = from; version <= to; version++) {
		// eslint-disable-next-line no-await-in-loop
		await fs.rm(path.join(dir, '_delta_log', commitName(version)));
	}
}
