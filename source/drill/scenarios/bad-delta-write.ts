import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {randomUUID} from 'node:crypto';
import {commitFileName, readDeltaLog} from '../../formats/delta/log.js';
import {DeltaTableWriter, type Column, type Row} from '../../formats/delta/writer.js';
import {LocalFileStore} from '../../storage/local-file-store.js';
import type {World} from '../world.js';
import type {Scenario} from './scenario.js';
import {compareWithVersion, providerStore, tableFigures} from './tables.js';

type State = {
	ref: string;
	/** The version current before the bad write: the last good one. */
	lastGood: string;
	/** Rows and live files of the last good version (read through the Delta module). */
	rows: number;
	files: number;
	badVersion: string;
	badRows: number;
	writtenAt: string;
};

const bucket = 'ilum-tables';
const prefix = 'delta/orders';
const ref = `s3://${bucket}/${prefix}`;
const jobName = 'orders-nightly-load';

/** Rows as a broken upstream extract gives them: the right columns, nonsense in them. */
function garbage(columns: readonly Column[], count: number): Row[] {
	return Array.from({length: count}, (_, index) => Object.fromEntries(columns.map(column => {
		switch (column.type) {
			case 'long':
			case 'integer': {
				return [column.name, -1 - index];
			}

			case 'double': {
				return [column.name, -999_999.99];
			}

			case 'boolean': {
				return [column.name, false];
			}

			case 'string': {
				return [column.name, index % 2 === 0 ? '#N/A' : ''];
			}

			default: {
				return [column.name, null];
			}
		}
	})));
}

/**
A nightly Spark job read an empty, broken extract and wrote it to the Delta table
`s3://ilum-tables/delta/orders` in Overwrite mode: one new commit removes every live file and adds
one of garbage rows. The old files are still in storage (no VACUUM yet), so the table's own
history can bring them back: `restore table --to <last good version>`, which writes a RESTORE
commit. Nothing is lost when it is done right (RPO 0 rows).
*/
export const badDeltaWrite: Scenario<State> = {
	name: 'bad-delta-write',
	summary: 'A job overwrote the Delta table delta/orders with garbage rows; restore it from its own history',
	briefing: {
		what: `The Spark job ${jobName} read a broken extract and wrote it to the Delta table ${ref} in Overwrite mode. Dashboards show negative amounts and "#N/A" customers: every order was replaced. The old data files are still in storage (no VACUUM has run since).`,
		success: `${ref} serves again exactly the live files and rows of the last version before the bad write (check with ilum-restore history), through a new RESTORE commit (the history stays whole).`,
		targetRtoMinutes: 10,
	},
	async inject(world: World) {
		const good = await tableFigures(world, {ref});
		const {store, client} = providerStore(world, bucket, prefix);
		const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ilum-drill-bad-delta-'));
		try {
			const log = await readDeltaLog(store);
			const current = log.current;
			if (!current?.metadata || String(log.versions.at(-1)?.version) !== good.current) {
				throw new Error(`bad-delta-write: cannot read the current version of ${ref}`);
			}

			const columns = (JSON.parse(current.metadata.schemaString) as {fields: Array<{name: string; type: string}>}).fields
				.map(field => ({name: field.name, type: field.type as Column['type']}));
			// The job's one output file: written as Spark would (Parquet through the Delta writer), then put next to the table's.
			const badRows = Math.max(7, Math.round(good.rows / 4));
			const writer = new DeltaTableWriter(new LocalFileStore(scratch), {clock: () => world.clock.now(), engineInfo: 'Apache-Spark/3.5.1 Delta-Lake/3.2.0'});
			await writer.create(columns, garbage(columns, badRows));
			const [dataFile] = writer.liveFiles();
			const add = (JSON.parse((await fs.readFile(path.join(scratch, commitFileName(0)), 'utf8')).split('\n').find(line => line.includes('"add"'))!) as {add: Record<string, unknown>}).add;
			await store.putIfAbsent(dataFile!, await fs.readFile(path.join(scratch, dataFile!)));
			const version = Number(good.current) + 1;
			const now = world.clock.now();
			const removed = [...current.files.values()];
			const actions = [
				{commitInfo: {
					timestamp: now,
					operation: 'WRITE',
					operationParameters: {mode: 'Overwrite', partitionBy: '[]'},
					readVersion: Number(good.current),
					isolationLevel: 'Serializable',
					isBlindAppend: false,
					operationMetrics: {numFiles: '1', numOutputRows: String(badRows), numOutputBytes: String(add['size']), numRemovedFiles: String(removed.length)},
					engineInfo: 'Apache-Spark/3.5.1 Delta-Lake/3.2.0',
					txnId: randomUUID(),
				}},
				{add: {...add, modificationTime: now}},
				...removed.map(file => ({remove: {path: file.add.path, deletionTimestamp: now, dataChange: true, extendedFileMetadata: true, partitionValues: file.add.partitionValues ?? {}, size: file.add.size}})),
			];
			await store.putIfAbsent(commitFileName(version), new TextEncoder().encode(actions.map(action => JSON.stringify(action)).join('\n') + '\n'));
			return {ref, lastGood: good.current, rows: good.rows, files: good.files, badVersion: String(version), badRows, writtenAt: world.clock.iso()};
		} finally {
			client.destroy();
			await fs.rm(scratch, {recursive: true, force: true});
		}
	},
	async check(world, state) {
		const findings: string[] = [];
		const now = await compareWithVersion(world, {ref: state.ref}, state.lastGood);
		const restores = now.history.entries.filter(entry => Number(entry.id) > Number(state.badVersion) && entry.operation === 'RESTORE');
		const recovered = now.equal && now.rowsNow === state.rows;
		findings.push(recovered
			? `${state.ref} is at version ${now.history.current} with the live files and ${now.rowsNow} rows of version ${state.lastGood}, the last good one (RPO 0 rows).`
			: `${state.ref} is at version ${now.history.current}: ${now.rowsNow} rows, ${now.missing} files of version ${state.lastGood} missing from the live set, ${now.extra} not in it (it had ${state.rows} rows).`);
		findings.push(`The bad write was version ${state.badVersion}: ${state.badRows} garbage rows replacing ${state.rows}.`);
		if (!recovered && restores.length > 0) {
			findings.push(`Mistake: wrong recovery point: ${state.ref} was restored (version ${restores.at(-1)!.id}) but not to version ${state.lastGood}, the last before the bad write: ${now.rowsNow} rows where it had ${state.rows}.`);
		} else if (restores.length > 1) {
			findings.push(`Mistake: ${restores.length} RESTORE commits after the bad write: a restore to the wrong version was made first (check the target with history before restoring).`);
		}

		const lost = recovered ? 0 : Math.max(0, state.rows - (now.equal ? now.rowsNow : 0));
		return {recovered, lostObjects: lost, checkedObjects: state.rows, unit: 'rows', findings};
	},
	recovery: (_world, state) => [
		{argv: ['history', state.ref], why: 'find the last version before the bad Overwrite'},
		{argv: ['restore', 'table', state.ref, '--to', state.lastGood, '--yes'], why: 'write a RESTORE commit that makes the live files those of the last good version'},
	],
};
