/**
What the table formats need from storage: a flat namespace of files under a root, the same
whether the root is a local folder or an S3 prefix. Paths are relative to the root, with `/`.
*/
export type FileInfo = {
	/** Relative to the store's root, `/`-separated. */
	readonly path: string;
	readonly size: number;
	readonly lastModified?: Date;
};

export interface FileStore {
	/** A URI naming the root (`file:///...` or `s3://bucket/prefix`), for messages and refs. */
	readonly root: string;
	/** Every file under `prefix` (relative), sorted by path. One listing, not a request per file. */
	list(prefix: string): Promise<FileInfo[]>;
	/** The file's bytes; throws `FileNotFoundError` when it does not exist. */
	read(path: string): Promise<Uint8Array>;
	exists(path: string): Promise<boolean>;
	/** Writes only if nothing is there (S3 `If-None-Match: *`, exclusive create on disk); throws `FileExistsError` otherwise. */
	putIfAbsent(path: string, body: Uint8Array): Promise<void>;
	/** Writes, replacing what is there (for hint files and the like). */
	put(path: string, body: Uint8Array): Promise<void>;
}

export class FileNotFoundError extends Error {
	readonly uri: string;

	constructor(uri: string) {
		super(`${uri}: no such file`);
		this.uri = uri;
		this.name = 'FileNotFoundError';
	}
}

export class FileExistsError extends Error {
	readonly uri: string;

	constructor(uri: string) {
		super(`${uri}: already exists (another writer committed first)`);
		this.uri = uri;
		this.name = 'FileExistsError';
	}
}
