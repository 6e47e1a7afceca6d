/**
A cache of seeding results that do not depend on the time the world starts, kept between
processes under the user's cache directory (`$XDG_CACHE_HOME/ilum-restore/drill/`, default
`~/.cache/...`). A seeder computes a key from everything its result depends on (the seed's
generator, the source of the code that writes it, library versions), reads the entry, and on a
miss (or an unreadable, corrupt or mismatched entry) computes the result and writes it.

Entries are JSON with a SHA-256 of their payload: a truncated or edited file fails the check and
is rebuilt, never trusted. Writes are atomic (temporary file, fsync, rename), so a process killed
mid-write or two worlds starting at once leave either the old entry or a whole new one.
`ILUM_DRILL_CACHE=off` turns the cache off (every start computes everything).
*/
import {createHash} from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export function cacheDirectory(): string {
	const base = process.env['XDG_CACHE_HOME'] || path.join(os.homedir(), '.cache');
	return path.join(base, 'ilum-restore', 'drill');
}

export const cacheEnabled = () => !['off', '0', 'false', 'no'].includes((process.env['ILUM_DRILL_CACHE'] ?? '').toLowerCase());

/** SHA-256 (hex) of the parts, in order, each length-prefixed. */
export function digest(parts: ReadonlyArray<string | Uint8Array>): string {
	const hash = createHash('sha256');
	for (const part of parts) {
		const bytes = typeof part === 'string' ? Buffer.from(part) : part;
		hash.update(`${bytes.length}:`);
		hash.update(bytes);
	}

	return hash.digest('hex');
}

/** A module's file as this process has it: the `.js` itself when built, its `.ts`/`.tsx` source when run through tsx. */
export async function moduleFile(url: URL): Promise<URL | undefined> {
	for (const candidate of [url.href, url.href.replace(/\.js$/, '.ts'), url.href.replace(/\.js$/, '.tsx')]) {
		try {
			// eslint-disable-next-line no-await-in-loop
			await fs.access(new URL(candidate));
			return new URL(candidate);
		} catch {}
	}

	return undefined;
}

/** The source text of modules (given as URLs relative to `base`, `import.meta.url` style), for a key. */
export async function sourceTexts(base: string, modules: readonly string[]): Promise<string[]> {
	return Promise.all(modules.map(async module => {
		const file = await moduleFile(new URL(module, base));
		const text = file ? await fs.readFile(file, 'utf8').catch(() => undefined) : undefined;
		return `${module}\n${text ?? '(missing)'}`;
	}));
}

/** The version of an installed package (`unknown` when it cannot be read). */
export async function packageVersion(name: string): Promise<string> {
	let directory: string;
	try {
		directory = path.dirname(fileURLToPath(import.meta.resolve(name)));
	} catch {
		return 'unknown';
	}

	for (;;) {
		try {
			// eslint-disable-next-line no-await-in-loop
			const manifest = JSON.parse(await fs.readFile(path.join(directory, 'package.json'), 'utf8')) as {name?: string; version?: string};
			if (manifest.name === name) {
				return manifest.version ?? 'unknown';
			}
		} catch {}

		const parent = path.dirname(directory);
		if (parent === directory) {
			return 'unknown';
		}

		directory = parent;
	}
}

type Envelope = {format: 'ilum-drill-cache/1'; name: string; key: string; sha256: string; payload: string};

const entryFile = (name: string, key: string) => path.join(cacheDirectory(), `${name}-${key.slice(0, 32)}.json`);

/** The entry's payload, or undefined when there is none or it fails its checks (it is then removed). */
export async function readCache<T>(name: string, key: string): Promise<T | undefined> {
	if (!cacheEnabled()) {
		return undefined;
	}

	const file = entryFile(name, key);
	let text: string;
	try {
		text = await fs.readFile(file, 'utf8');
	} catch {
		return undefined;
	}

	try {
		const envelope = JSON.parse(text) as Envelope;
		if (envelope.format !== 'ilum-drill-cache/1' || envelope.name !== name || envelope.key !== key || typeof envelope.payload !== 'string' || digest([envelope.payload]) !== envelope.sha256) {
			throw new Error('mismatch');
		}

		return JSON.parse(envelope.payload) as T;
	} catch {
		await fs.rm(file, {force: true});
		return undefined;
	}
}

/** Writes the entry atomically; a failure to write (read-only home, full disk) is not an error. */
export async function writeCache(name: string, key: string, payload: unknown): Promise<boolean> {
	if (!cacheEnabled()) {
		return false;
	}

	const file = entryFile(name, key);
	const text = JSON.stringify(payload);
	const envelope: Envelope = {format: 'ilum-drill-cache/1', name, key, sha256: digest([text]), payload: text};
	const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
	try {
		await fs.mkdir(path.dirname(file), {recursive: true});
		const handle = await fs.open(temporary, 'w');
		try {
			await handle.writeFile(JSON.stringify(envelope));
			await handle.sync();
		} finally {
			await handle.close();
		}

		await fs.rename(temporary, file);
		return true;
	} catch {
		await fs.rm(temporary, {force: true}).catch(() => undefined);
		return false;
	}
}
