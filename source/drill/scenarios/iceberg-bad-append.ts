import crypto from 'node:crypto';
import {readAvro, writeAvro} from '../../formats/iceberg/avro.js';
import {idString, idValue} from '../../formats/iceberg/metadata.js';
import {RestCatalogClient} from '../../formats/iceberg/rest-client.js';
import {manifestEntrySchema, manifestFileSchema} from '../catalogs/iceberg-writer.js';
import {icebergBucket, icebergConfigMap} from '../seed/iceberg-tables.js';
import type {World} from '../world.js';
import type {Scenario} from './scenario.js';
import {compareWithVersion, configValue, providerStore, tableFigures} from './tables.js';

type State = {
	ref: string;
	table: string;
	/** The snapshot current before the duplicate append: the last good one. */
	lastGood: string;
	rows: number;
	files: number;
	badSnapshot: string;
	duplicatedRows: number;
	appendedAt: string;
};

const table = 'sales.orders';
const jobName = 'orders-ingest';

/**
The ingest job of the Iceberg table `sales.orders` (in the world's REST catalog) timed out after
its commit and was retried: the retry appended the same batch again, a new snapshot with a second
copy of the last batch's rows. Recovery: move `main` back to the snapshot before the append
(`restore table <catalog> --table sales.orders --to <snapshot>`), which tags the bad snapshot so
it can still be inspected. Nothing is lost (RPO 0 rows).
*/
export const icebergBadAppend: Scenario<State> = {
	name: 'iceberg-bad-append',
	summary: 'A retried job appended the same batch twice to the Iceberg table sales.orders; roll main back',
	briefing: {
		what: `The job ${jobName} timed out after committing its batch to the Iceberg table ${table} (REST catalog in ConfigMap ${icebergConfigMap}) and was retried: the retry appended the same rows again. Revenue reports now count the last batch twice.`,
		success: `${table}'s main branch is back at the snapshot before the duplicate append: the same live files and row count as then (check with ilum-restore history), the bad snapshot still in the history for analysis (ilum-restore tags it).`,
		targetRtoMinutes: 10,
	},
	async inject(world: World) {
		const ref = configValue(world, icebergConfigMap, 'ref');
		const good = await tableFigures(world, {ref, table});
		const [namespace, name] = table.split('.') as [string, string];
		const catalog = new RestCatalogClient(ref);
		const loaded = await catalog.loadTable([namespace], name);
		const raw = loaded.metadata;
		const currentId = idString(raw['refs']?.['main']?.['snapshot-id'] ?? raw['current-snapshot-id']);
		if (currentId !== good.current) {
			throw new Error(`iceberg-bad-append: ${table} moved while the drill was set up`);
		}

		const snapshot = (raw['snapshots'] as any[]).find(item => idString(item['snapshot-id']) === currentId);
		const location = String(raw['location']).replace(/\/+$/, '');
		const bucketRoot = `s3://${icebergBucket}/`;
		const key = (uri: string) => uri.startsWith(bucketRoot) ? uri.slice(bucketRoot.length) : uri.replace(/^s3a?:\/\/[^/]+\//, '');
		const {store, client} = providerStore(world, icebergBucket, '');
		try {
			// The batch the retry repeats: the data file the current snapshot (an append) added.
			const list = readAvro(await store.read(key(String(snapshot['manifest-list'])))).records;
			const ownManifest = list.find(record => idString(record.added_snapshot_id) === currentId && Number(record.added_files_count) > 0);
			if (!ownManifest) {
				throw new Error(`iceberg-bad-append: the current snapshot of ${table} added no data file to repeat`);
			}

			const entries = readAvro(await store.read(key(String(ownManifest.manifest_path)))).records;
			const original = entries.find(entry => Number(entry.status) === 1)!;
			const id = (crypto.randomBytes(8).readBigUInt64BE() & 0x7F_FF_FF_FF_FF_FF_FF_FFn).toString();
			const sequence = Number(raw['last-sequence-number'] ?? 0) + 1;
			const dataPath = `${location}/data/00000-retry-${crypto.randomUUID()}.parquet`;
			await store.putIfAbsent(key(dataPath), await store.read(key(String(original.data_file.file_path))));
			const records = Number(original.data_file.record_count);
			const bytes = Number(original.data_file.file_size_in_bytes);
			const manifestPath = `${location}/metadata/${crypto.randomUUID()}-m0.avro`;
			const manifest = writeAvro(manifestEntrySchema, [{...original, status: 1, snapshot_id: BigInt(id), sequence_number: sequence, file_sequence_number: sequence, data_file: {...original.data_file, file_path: dataPath}}], {meta: {
				schema: JSON.stringify((raw['schemas'] as any[]).find(item => Number(item['schema-id']) === Number(raw['current-schema-id']))),
				'schema-id': String(raw['current-schema-id']),
				'partition-spec': '[]',
				'partition-spec-id': '0',
				'format-version': String(raw['format-version']),
				content: 'data',
			}});
			await store.putIfAbsent(key(manifestPath), manifest);
			const listPath = `${location}/metadata/snap-${id}-1-${crypto.randomUUID()}.avro`;
			const newList = writeAvro(manifestFileSchema, [
				{manifest_path: manifestPath, manifest_length: manifest.byteLength, partition_spec_id: 0, content: 0, sequence_number: sequence, min_sequence_number: sequence, added_snapshot_id: BigInt(id), added_files_count: 1, existing_files_count: 0, deleted_files_count: 0, added_rows_count: records, existing_rows_count: 0, deleted_rows_count: 0, partitions: [], key_metadata: null},
				...list,
			], {meta: {'snapshot-id': id, 'parent-snapshot-id': currentId, 'sequence-number': String(sequence), 'format-version': String(raw['format-version'])}});
			await store.putIfAbsent(key(listPath), newList);
			const summary = snapshot.summary ?? {};
			const total = (field: string, add: number) => String(Number(summary[field] ?? 0) + add);
			await catalog.commit([namespace], name, {
				requirements: [{type: 'assert-ref-snapshot-id', ref: 'main', 'snapshot-id': idValue(currentId)}],
				updates: [
					{action: 'add-snapshot', snapshot: {
						'snapshot-id': idValue(id),
						'parent-snapshot-id': idValue(currentId),
						'sequence-number': sequence,
						'timestamp-ms': Math.max(world.clock.now(), Number(snapshot['timestamp-ms']) + 1),
						'manifest-list': listPath,
						summary: {
							operation: 'append',
							'added-data-files': '1',
							'added-records': String(records),
							'added-files-size': String(bytes),
							'total-data-files': total('total-data-files', 1),
							'total-delete-files': '0',
							'total-records': total('total-records', records),
							'total-files-size': total('total-files-size', bytes),
							'total-position-deletes': '0',
							'total-equality-deletes': '0',
						},
						'schema-id': Number(raw['current-schema-id']),
					}},
					{action: 'set-snapshot-ref', 'ref-name': 'main', type: 'branch', 'snapshot-id': idValue(id)},
				],
			});
			return {ref, table, lastGood: good.current, rows: good.rows, files: good.files, badSnapshot: id, duplicatedRows: records, appendedAt: world.clock.iso()};
		} finally {
			client.destroy();
		}
	},
	async check(world, state) {
		const findings: string[] = [];
		const now = await compareWithVersion(world, {ref: state.ref, table: state.table}, state.lastGood);
		const recovered = now.equal && now.rowsNow === state.rows;
		const current = now.history.current;
		findings.push(recovered
			? `${state.table} is at snapshot ${current}${current === state.lastGood ? ' (the one before the duplicate append)' : ''} with its live files and ${now.rowsNow} rows (RPO 0 rows).`
			: `${state.table} is at snapshot ${current}: ${now.rowsNow} rows where the snapshot before the duplicate append had ${state.rows}; ${now.missing} of its files missing, ${now.extra} extra.`);
		findings.push(`The retried append was snapshot ${state.badSnapshot}: ${state.duplicatedRows} rows a second time.`);
		if (!recovered && current !== state.badSnapshot) {
			findings.push(`Mistake: wrong recovery point: main was moved to snapshot ${current}, not to ${state.lastGood} (the one before the duplicate append): ${now.rowsNow} rows where it had ${state.rows}.`);
		}

		if (!now.history.entries.some(entry => entry.id === state.badSnapshot)) {
			findings.push('Mistake: the bad snapshot is gone from the history (expired or dropped): keep it (a tag) until the incident is understood.');
		}

		// Lost: rows of the good snapshot that are not live now (duplicates still live are not a loss but leave it unrecovered).
		const lost = recovered ? 0 : Math.max(0, state.rows - now.rowsNow);
		return {recovered, lostObjects: lost, checkedObjects: state.rows, unit: 'rows', findings};
	},
	recovery: (_world, state) => [
		{argv: ['history', state.ref, '--table', state.table], why: 'find the snapshot before the duplicate append'},
		{argv: ['restore', 'table', state.ref, '--table', state.table, '--to', state.lastGood, '--yes'], why: 'move main back to it (the bad snapshot is tagged, not deleted)'},
	],
};
