import fs from 'node:fs/promises';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {FileExistsError, FileNotFoundError, type FileInfo, type FileStore} from './file-store.js';

/** A `FileStore` over a local folder. */
export class LocalFileStore implements FileStore {
	readonly root: string;
	readonly directory: string;

	constructor(directory: string) {
		this.directory = directory;
		this.root = pathToFileURL(path.resolve(directory)).href;
	}

	async list(prefix: string): Promise<FileInfo[]> {
		const start = path.join(this.directory, prefix);
		const base = prefix.endsWith('/') || prefix === '' ? start : path.dirname(start);
		const files: FileInfo[] = [];
		let entries;
		try {
			entries = await fs.readdir(base, {recursive: true, withFileTypes: true});
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				return [];
			}

			throw error;
		}

		await Promise.all(entries.filter(entry => entry.isFile()).map(async entry => {
			const absolute = path.join(entry.parentPath, entry.name);
			const relative = path.relative(this.directory, absolute).split(path.sep).join('/');
			if (!relative.startsWith(prefix)) {
				return;
			}

			const stat = await fs.stat(absolute);
			files.push({path: relative, size: stat.size, lastModified: stat.mtime});
		}));
		return files.sort((a, b) => a.path < b.path ? -1 : (a.path > b.path ? 1 : 0));
	}

	async read(file: string): Promise<Uint8Array> {
		try {
			return await fs.readFile(path.join(this.directory, file));
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				throw new FileNotFoundError(`${this.root}/${file}`);
			}

			throw error;
		}
	}

	async exists(file: string): Promise<boolean> {
		try {
			await fs.access(path.join(this.directory, file));
			return true;
		} catch {
			return false;
		}
	}

	async putIfAbsent(file: string, body: Uint8Array): Promise<void> {
		const target = path.join(this.directory, file);
		await fs.mkdir(path.dirname(target), {recursive: true});
		try {
			await fs.writeFile(target, body, {flag: 'wx'});
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
				throw new FileExistsError(`${this.root}/${file}`);
			}

			throw error;
		}
	}

	async put(file: string, body: Uint8Array): Promise<void> {
		const target = path.join(this.directory, file);
		await fs.mkdir(path.dirname(target), {recursive: true});
		const temporary = `${target}.ilum-restore-${process.pid}.tmp`;
		await fs.writeFile(temporary, body);
		await fs.rename(temporary, target);
	}
}
