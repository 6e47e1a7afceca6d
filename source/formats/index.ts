import fs from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import {fileURLToPath} from 'node:url';
import {S3ServiceException, type S3Client} from '@aws-sdk/client-s3';
import {UserError, usageError} from '../errors.js';
import {FileNotFoundError, type FileStore} from '../storage/file-store.js';
import {LocalFileStore} from '../storage/local-file-store.js';
import {S3FileStore} from '../storage/s3-file-store.js';
import {createS3Client, s3EndpointOf} from '../storage/s3-client.js';
import type {FormatName, TableFormat, TableRef} from './types.js';
import {ducklakePlugin} from './ducklake/plugin.js';
import {deltaPlugin} from './delta/plugin.js';
import {icebergPlugin} from './iceberg/plugin.js';

/**
What a format needs from the outside world, built once per command from its flags (and replaced
by tests): how to open storage, and the S3 client behind it.
*/
export type FormatEnvironment = {
	/** A store rooted at a filesystem path, `file://` URI or `s3://bucket/prefix`. */
	readonly openStore: (location: string) => FileStore;
	/** The S3 client (built on first use) from `--s3-endpoint` / the AWS environment variables. */
	readonly s3: () => S3Client;
	/** `--s3-endpoint` or `AWS_ENDPOINT_URL`, for messages. */
	readonly s3Endpoint?: string;
	readonly env: NodeJS.ProcessEnv;
};

/**
One table format, as the resolver sees it. Adding a format is one entry in `formats` below.

A ref is offered first to every plugin's `claims` (refs a format owns by their form:
`ducklake:...`, an Iceberg REST ref); otherwise it names storage (path, `file://`, `s3://`) and
each plugin's `detect` is asked whether the table root holds its format.
*/
export type FormatPlugin = {
	readonly name: FormatName;
	/** True for refs this format owns by their form, whatever storage says. */
	readonly claims?: (ref: string) => boolean;
	/** True when the table root in `store` is this format (e.g. it has `_delta_log/`). One or two listings at most. */
	readonly detect?: (store: FileStore) => Promise<boolean>;
	/** The format's implementation; its methods open storage through `environment.openStore(ref.ref)`. */
	readonly create: (environment: FormatEnvironment) => TableFormat;
};

/** Every format, in detection order. D adds Iceberg, E adds DuckLake: one line each. */
export const formats: FormatPlugin[] = [
	deltaPlugin,
	icebergPlugin,
	ducklakePlugin,
];

/** The environment for a command, from its flags (`--s3-endpoint`) and `process.env`. */
export function formatEnvironment(options: {s3Endpoint?: string; env?: NodeJS.ProcessEnv} = {}): FormatEnvironment {
	const env = options.env ?? process.env;
	const endpoint = s3EndpointOf({endpoint: options.s3Endpoint, env});
	let client: S3Client | undefined;
	const s3 = () => {
		client ??= createS3Client({endpoint, env});
		return client;
	};

	return {
		env,
		s3Endpoint: endpoint,
		s3,
		openStore: location => openStore(location, s3),
	};
}

/** True when a ref names storage (a path, `file://` or `s3://`) rather than a catalog. */
export function isStorageRef(ref: string): boolean {
	return ref.startsWith('s3://') || ref.startsWith('file:') || !/^[a-z][a-z\d+.-]*:/i.test(ref) || /^[a-z]:[\\/]/i.test(ref);
}

/** A store for a path, `file://` URI or `s3://bucket/prefix`. Usage error (exit 2) for anything else. */
export function openStore(location: string, s3: () => S3Client): FileStore {
	if (location.startsWith('s3://')) {
		const rest = location.slice('s3://'.length);
		const slash = rest.indexOf('/');
		const bucket = slash === -1 ? rest : rest.slice(0, slash);
		const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
		if (bucket === '') {
			throw usageError(`'${location}' names no bucket`, 'write s3://<bucket>/<prefix>');
		}

		return new S3FileStore(s3(), bucket, prefix);
	}

	if (location.startsWith('file:')) {
		let directory: string;
		try {
			directory = fileURLToPath(location);
		} catch {
			throw usageError(`'${location}' is not a valid file:// URI`, 'write file:///absolute/path, or give the path itself');
		}

		return new LocalFileStore(directory);
	}

	if (!isStorageRef(location)) {
		throw usageError(`'${location}' is not a path, file:// or s3:// location`, 'give the table\'s folder or s3://bucket/prefix');
	}

	return new LocalFileStore(path.resolve(location));
}

/**
Turns a storage failure into the one line a user sees: a 403, a missing bucket, an endpoint that
does not answer. Anything else is returned unchanged (a bug, shown with its stack).
*/
export function storageError(error: unknown, what: string, environment?: Pick<FormatEnvironment, 's3Endpoint'>): unknown {
	if (error instanceof UserError) {
		return error;
	}

	if (error instanceof FileNotFoundError) {
		return new UserError(error.message, {hint: `a file ${what} needs is gone; check the table with ilum-restore history`, cause: error});
	}

	const s3Error = findS3Error(error);
	if (s3Error) {
		const status = s3Error.$metadata?.httpStatusCode;
		if (status === 403 || s3Error.name === 'AccessDenied' || s3Error.name === 'InvalidAccessKeyId' || s3Error.name === 'SignatureDoesNotMatch') {
			const code = s3Error.name === 'Unknown' || s3Error.name === 'Forbidden' ? '' : ` ${s3Error.name}`;
			return new UserError(`${what}: access denied (403${code})`, {hint: 'check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy', cause: error});
		}

		if (s3Error.name === 'NoSuchBucket') {
			return new UserError(`${what}: no such bucket`, {hint: 'check the bucket name and --s3-endpoint', cause: error});
		}

		return new UserError(`${what}: S3 error ${status ?? ''} ${s3Error.name}`.replaceAll(/\s+/g, ' '), {hint: 'check --s3-endpoint and the credentials', cause: error});
	}

	const code = (error as NodeJS.ErrnoException | undefined)?.code ?? ((error as {cause?: NodeJS.ErrnoException} | undefined)?.cause?.code);
	if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET') {
		const endpoint = environment?.s3Endpoint ?? 'the S3 endpoint';
		return new UserError(`${what}: cannot reach ${endpoint} (${code})`, {hint: 'check --s3-endpoint / AWS_ENDPOINT_URL'});
	}

	if (code === 'EACCES' || code === 'EPERM') {
		return new UserError(`${what}: permission denied`, {hint: 'check the folder\'s permissions'});
	}

	if (error instanceof Error && error.message.includes('Could not load credentials')) {
		return new UserError(`${what}: no S3 credentials`, {hint: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'});
	}

	return error;
}

function findS3Error(error: unknown): S3ServiceException | undefined {
	for (let current = error, depth = 0; current && depth < 4; current = (current as Error).cause, depth++) {
		if (current instanceof S3ServiceException) {
			return current;
		}
	}

	return undefined;
}

/**
Finds the format of a table ref and returns its implementation. Errors (exit 1 or 2): a path that
does not exist, storage that holds neither Delta nor Iceberg, a 403, an unknown ref form.
*/
export async function resolveFormat(ref: TableRef, environment: FormatEnvironment, registry: readonly FormatPlugin[] = formats): Promise<TableFormat> {
	const claimed = registry.find(plugin => plugin.claims?.(ref.ref));
	if (claimed) {
		return claimed.create(environment);
	}

	if (!isStorageRef(ref.ref)) {
		throw usageError(`'${ref.ref}' is not a table ref I know`, 'give a folder, file://..., s3://bucket/prefix, ducklake:... or an Iceberg REST ref (see ilum-restore history --help)');
	}

	const store = environment.openStore(ref.ref);
	if (store instanceof LocalFileStore) {
		const stat = await fs.stat(store.directory).catch(() => undefined);
		if (!stat) {
			throw new UserError(`${ref.ref}: no such folder`, {hint: 'check the path to the table\'s root'});
		}

		if (!stat.isDirectory()) {
			throw new UserError(`${ref.ref}: not a folder`, {hint: 'give the table\'s root folder (the one holding _delta_log/ or metadata/)'});
		}
	}

	for (const plugin of registry) {
		let found: boolean | undefined;
		try {
			// eslint-disable-next-line no-await-in-loop
			found = await plugin.detect?.(store);
		} catch (error) {
			// Listing a prefix never 404s; only a missing bucket does.
			if (error instanceof FileNotFoundError && store instanceof S3FileStore) {
				throw new UserError(`${store.root}: no such bucket`, {hint: 'check the bucket name and --s3-endpoint'});
			}

			throw storageError(error, store.root, environment);
		}

		if (found) {
			return plugin.create(environment);
		}
	}

	throw new UserError(`${store.root}: not a Delta table (no _delta_log/) nor an Iceberg table (no metadata/)`, {hint: 'point at the table\'s root folder or prefix'});
}
