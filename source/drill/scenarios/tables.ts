/**
Table helpers for the table scenarios: every figure (current version, live files, rows) is read
through the format modules (`history` and a restore plan, which changes nothing), the same code
`ilum-restore history` and `restore table --dry-run` run, never hard-coded.
*/
import type {S3Client} from '@aws-sdk/client-s3';
import process from 'node:process';
import {formatEnvironment, openStore, resolveFormat} from '../../formats/index.js';
import type {TableFormat, TableHistory, TableRef} from '../../formats/types.js';
import type {FileStore} from '../../storage/file-store.js';
import {S3FileStore} from '../../storage/s3-file-store.js';
import {drillS3Client} from '../jobs/s3-client.js';
import type {World} from '../world.js';

/** The provider's credentials as an operator exports them (AWS_* variables). */
export function providerEnv(world: World): Record<string, string> {
	return {AWS_ACCESS_KEY_ID: world.provider.accessKeyId, AWS_SECRET_ACCESS_KEY: world.provider.secretAccessKey, AWS_REGION: 'us-east-1'};
}

/** Runs `work` with the table's format (resolved as the CLI resolves it), closing its S3 client after. */
export async function withFormat<T>(world: World, ref: TableRef, work: (format: TableFormat) => Promise<T>): Promise<T> {
	const environment = formatEnvironment({s3Endpoint: world.provider.endpoint, env: {...process.env, ...providerEnv(world)}});
	let client: S3Client | undefined;
	const tracked = {...environment, s3: () => (client ??= environment.s3())};
	try {
		return await work(await resolveFormat(ref, {...tracked, openStore: location => openStore(location, tracked.s3)}));
	} finally {
		client?.destroy();
	}
}

/** A store over the provider's bucket through S3 (the way a job writes), and its client to destroy. */
export function providerStore(world: World, bucket: string, prefix: string): {store: FileStore; client: S3Client} {
	const client = drillS3Client(world.provider.endpoint, world.provider.accessKeyId, world.provider.secretAccessKey);
	return {store: new S3FileStore(client, bucket, prefix), client};
}

export type TableFigures = {
	/** Id of the current version. */
	readonly current: string;
	readonly rows: number;
	readonly files: number;
	readonly bytes: number;
};

/** The current version of a table and its live set's size, as a restore plan reads it. */
export async function tableFigures(world: World, ref: TableRef): Promise<TableFigures> {
	return withFormat(world, ref, async format => {
		const history = await format.history(ref);
		const other = history.entries.find(entry => entry.id !== history.current);
		if (!other) {
			throw new Error(`${ref.ref}${ref.table ? ` ${ref.table}` : ''} has a single version: nothing to read its live set against`);
		}

		const plan = await format.plan(ref, other.id);
		return {current: history.current, rows: plan.before.rows, files: plan.before.files, bytes: plan.before.bytes};
	});
}

export type VersionComparison = {
	readonly history: TableHistory;
	/** True when the live set (files, rows) is the one of the version compared with. */
	readonly equal: boolean;
	readonly rowsNow: number;
	readonly rowsThen: number;
	/** Files of that version missing from the live set now, and live files it did not have. */
	readonly missing: number;
	readonly extra: number;
};

/** Compares the live table with version `id` (through a restore plan to it, which changes nothing). */
export async function compareWithVersion(world: World, ref: TableRef, id: string): Promise<VersionComparison> {
	const history = await withFormat(world, ref, async format => format.history(ref));
	if (history.current === id) {
		const figures = await tableFigures(world, ref);
		return {history, equal: true, rowsNow: figures.rows, rowsThen: figures.rows, missing: 0, extra: 0};
	}

	const plan = await withFormat(world, ref, async format => format.plan(ref, id));
	return {
		history,
		// DuckLake restores bring returning files back as copies under new names (see the plan's warning): there the
		// live set matches by count, bytes and rows rather than by name.
		equal: plan.before.rows === plan.after.rows && ((plan.filesReturning.length === 0 && plan.filesLeaving.length === 0)
			|| (plan.format === 'ducklake' && plan.before.files === plan.after.files && plan.before.bytes === plan.after.bytes)),
		rowsNow: plan.before.rows,
		rowsThen: plan.after.rows,
		missing: plan.filesReturning.length,
		extra: plan.filesLeaving.length,
	};
}

/** A ConfigMap value of the world's namespace (where the table catalogs are named). */
export function configValue(world: World, name: string, key: string): string {
	const value = world.store.get('configmaps', world.namespace, name)?.data?.[key];
	if (typeof value !== 'string') {
		throw new TypeError(`ConfigMap ${name} has no '${key}': start the drill world with its table seeders`);
	}

	return value;
}
