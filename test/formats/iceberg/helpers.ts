import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const fixtures = path.resolve(import.meta.dirname, '../../../../shared/fixtures/tables/iceberg');

/** A temporary copy of a fixture (restores never write into the corpus). Removed by the returned function. */
export async function copyFixture(name: string): Promise<{dir: string; remove: () => Promise<void>}> {
	const base = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-iceberg-'));
	const dir = path.join(base, name);
	await fs.cp(path.join(fixtures, name), dir, {recursive: true});
	return {dir, remove: async () => fs.rm(base, {recursive: true, force: true})};
}

export async function temporaryDir(): Promise<{dir: string; remove: () => Promise<void>}> {
	const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-iceberg-'));
	return {dir, remove: async () => fs.rm(dir, {recursive: true, force: true})};
}
