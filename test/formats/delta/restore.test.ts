import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {after, describe, test} from 'node:test';
import {UserError} from '../../../source/errors.js';
import {DeltaFormat} from '../../../source/formats/delta/index.js';
import {readDeltaLog} from '../../../source/formats/delta/log.js';
import type {DeltaCommit} from '../../../source/formats/delta/restore.js';
import {formatEnvironment, type FormatEnvironment} from '../../../source/formats/index.js';
import type {FileStore} from '../../../source/storage/file-store.js';
import {LocalFileStore} from '../../../source/storage/local-file-store.js';
import {commitName, copyFixture} from './fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
	await Promise.all(cleanups.map(async cleanup => cleanup()));
});

async function copy(name: string) {
	const copied = await copyFixture(name);
	cleanups.push(copied.remove);
	return copied.dir;
}

const delta = (environment: FormatEnvironment = formatEnvironment()) => new DeltaFormat(environment);

async function logFiles(dir: string): Promise<string[]> {
	return (await fs.readdir(path.join(dir, '_delta_log'))).filter(name => name.endsWith('.json')).sort();
}

async function readCommit(dir: string, version: number): Promise<Array<Record<string, any>>> {
	const text = await fs.readFile(path.join(dir, '_delta_log', commitName(version)), 'utf8');
	return text.trim().split('\n').map(line => JSON.parse(line) as Record<string, any>);
}

async function liveKeys(dir: string, version: number): Promise<string[]> {
	const log = await readDeltaLog(new LocalFileStore(dir), {capture: () => [version]});
	return [...log.captured.get(version)!.files.keys()].sort();
}

async function rejectsWith(promise: Promise<unknown>, exitCode: number, pattern: RegExp) {
	await assert.rejects(promise, (error: unknown) => {
		assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
		assert.equal(error.exitCode, exitCode);
		assert.match(error.line(), pattern);
		assert.ok(!error.line().includes('\n'), 'one line');
		return true;
	});
}

describe('Delta RESTORE', () => {
	test('simple_table back to version 1: the commit has Spark\'s RESTORE shape and the live set comes back', async () => {
		const dir = await copy('simple_table');
		const format = delta();
		const plan = await format.plan({ref: dir}, '1');
		assert.equal(plan.refusal, undefined);
		assert.equal(plan.from, '4');
		assert.equal(plan.target, '1');
		assert.deepEqual(plan.before, {files: 5, bytes: 1811, rows: 3});
		assert.deepEqual(plan.after, {files: 22, bytes: 9104, rows: 20});
		assert.equal(plan.filesReturning.length, 22);
		assert.equal(plan.filesLeaving.length, 5);
		assert.deepEqual(plan.schemaChanges, []);
		assert.deepEqual(await logFiles(dir), ['0', '1', '2', '3', '4'].map(version => commitName(Number(version))), 'planning writes nothing');

		const result = await format.execute(plan);
		assert.equal(result.newVersion, '5');
		assert.equal(result.verified, true, JSON.stringify(result.checks));
		const actions = await readCommit(dir, 5);
		assert.deepEqual(actions, (plan.commit as DeltaCommit).actions, 'the dry run showed the exact commit');
		const [first, second] = actions;
		const info = first!['commitInfo'];
		assert.equal(info.operation, 'RESTORE');
		assert.deepEqual(info.operationParameters, {version: 1, timestamp: null});
		assert.equal(info.readVersion, 4);
		assert.equal(info.isBlindAppend, false);
		assert.deepEqual(info.operationMetrics, {
			numRestoredFiles: '22',
			restoredFilesSize: '9104',
			numRemovedFiles: '5',
			removedFilesSize: '1811',
			numOfFilesAfterRestore: '22',
			tableSizeAfterRestore: '9104',
		});
		assert.equal(typeof info.timestamp, 'number');
		assert.equal(second!['metaData'].id, '5fba94ed-9794-4965-ba6e-6ee3c0d22af9');
		const adds = actions.filter(action => action['add']).map(action => action['add']);
		const removes = actions.filter(action => action['remove']).map(action => action['remove']);
		assert.equal(adds.length, 22);
		assert.ok(adds.every(add => add.dataChange === true && typeof add.size === 'number'));
		assert.equal(removes.length, 5);
		for (const remove of removes) {
			assert.equal(remove.dataChange, true);
			assert.equal(remove.extendedFileMetadata, true);
			assert.equal(remove.deletionTimestamp, info.timestamp);
			assert.equal(typeof remove.size, 'number');
			assert.deepEqual(remove.partitionValues, {});
		}

		assert.deepEqual(actions.at(-1), {protocol: {minReaderVersion: 1, minWriterVersion: 2}});
		assert.deepEqual(await liveKeys(dir, 5), await liveKeys(dir, 1));
		const history = await format.history({ref: dir});
		assert.equal(history.current, '5');
		assert.equal(history.entries.at(-1)!.operation, 'RESTORE');
	});

	test('--to an ISO time picks the newest version committed at or before it', async () => {
		const dir = await copy('simple_table');
		// Version 2 was committed at 1587968604143, version 3 at 1587968614187.
		const plan = await delta().plan({ref: dir}, '2020-04-27T06:23:30Z');
		assert.equal(plan.target, '2');
		const info = (plan.commit as DeltaCommit).actions[0]!['commitInfo'];
		assert.deepEqual(info.operationParameters, {version: null, timestamp: '2020-04-27T06:23:30Z'});
		await rejectsWith(delta().plan({ref: dir}, '2019-01-01T00:00:00Z'), 2, /no version .* at or before 2019-01-01T00:00:00Z.*oldest kept is version 0/);
		await rejectsWith(delta().plan({ref: dir}, 'yesterday'), 2, /neither a version number nor an ISO 8601 time/);
		await rejectsWith(delta().plan({ref: dir}, '9'), 2, /version 9 is not in the log/);
		await rejectsWith(delta().plan({ref: dir}, '4'), 3, /already the current version/);
	});

	test('deletion vectors: restored files keep their DV descriptors, row counts subtract them', async () => {
		const dir = await copy('dv-with-columnmapping');
		const format = delta();
		const plan = await format.plan({ref: dir}, '3');
		assert.equal(plan.refusal, undefined);
		// 50 rows written, one row deleted per DELETE.
		assert.equal(plan.before.rows, 35);
		assert.equal(plan.after.rows, 47);
		const adds = (plan.commit as DeltaCommit).actions.filter(action => action['add']).map(action => action['add']);
		const withDv = adds.filter(add => add.deletionVector);
		assert.equal(withDv.length, 3);
		assert.deepEqual(withDv.map(add => add.deletionVector.pathOrInlineDv).sort(), ['&9sA9{u>E#S[qd3XLIaZ', '5DxE90SCJoMhWOS&LEbJ', 'bmfc5TmwY>TJV$^4Zs$+'].sort());
		const result = await format.execute(plan);
		assert.equal(result.verified, true, JSON.stringify(result.checks));
		assert.deepEqual(await liveKeys(dir, 16), await liveKeys(dir, 3));
		const history = await format.history({ref: dir});
		assert.ok(history.entries.every(entry => entry.restorable), 'no DV file was lost');
		const protocol = (await readCommit(dir, 16)).at(-1)!['protocol'];
		assert.deepEqual(protocol, {minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors', 'columnMapping'], writerFeatures: ['deletionVectors', 'columnMapping']});
	});

	test('identity columns: the restored schema keeps the current high-water mark (ids are never handed out twice)', async () => {
		const dir = await copy('checkpoint-v2-table');
		const plan = await delta().plan({ref: dir}, '3');
		const metaData = (plan.commit as DeltaCommit).actions[1]!['metaData'];
		const id = JSON.parse(metaData.schemaString).fields.find((field: {name: string}) => field.name === 'id');
		assert.equal(id.metadata['delta.identity.highWaterMark'], 44);
		assert.equal(plan.after.rows, 21);
		const result = await delta().execute(plan);
		assert.equal(result.verified, true, JSON.stringify(result.checks));
	});

	test('the vacuumed table is refused, naming the missing files; nothing is written', async () => {
		const dir = await copy('snapshot-vacuumed');
		const plan = await delta().plan({ref: dir}, '3');
		assert.match(plan.refusal!, /not all files of version 3 exist.*part-00000-842017c2-3e02-44b5-a3d6-5b9ae1745045-c000\.snappy\.parquet/);
		await rejectsWith(delta().execute(plan), 3, /refused.*part-00001-e62ca5a1/);
		assert.equal((await logFiles(dir)).length, 6);
	});

	test('a writer that commits between plan and execute makes the restore fail cleanly', async () => {
		const dir = await copy('simple_table');
		const plan = await delta().plan({ref: dir}, '1');
		const theirs = '{"commitInfo":{"timestamp":1,"operation":"WRITE"}}\n';
		await fs.writeFile(path.join(dir, '_delta_log', commitName(5)), theirs);
		await rejectsWith(delta().execute(plan), 3, /moved since the plan: version 5 is now the newest.*nothing was written/);
		assert.equal(await fs.readFile(path.join(dir, '_delta_log', commitName(5)), 'utf8'), theirs);
	});

	test('a writer that wins the race for the same commit file: put-if-absent fails, theirs is kept', async () => {
		const dir = await copy('simple_table');
		const inner = new LocalFileStore(dir);
		const theirs = '{"commitInfo":{"timestamp":2,"operation":"WRITE"}}\n';
		const racing: FileStore = Object.assign(Object.create(inner) as FileStore, {
			async putIfAbsent(file: string, body: Uint8Array) {
				await fs.writeFile(path.join(dir, file), theirs);
				return inner.putIfAbsent(file, body);
			},
		});
		const environment = {...formatEnvironment(), openStore: () => racing};
		const plan = await delta(environment).plan({ref: dir}, '1');
		await rejectsWith(delta(environment).execute(plan), 3, /another writer committed version 5.*wrote nothing/);
		assert.equal(await fs.readFile(path.join(dir, '_delta_log', commitName(5)), 'utf8'), theirs);
	});

	test('storage that ignores put-if-absent: the read-back catches the other writer and says so', async () => {
		const dir = await copy('simple_table');
		const inner = new LocalFileStore(dir);
		const theirs = '{"commitInfo":{"timestamp":3,"operation":"WRITE"}}\n';
		const careless: FileStore = Object.assign(Object.create(inner) as FileStore, {
			async putIfAbsent(file: string, body: Uint8Array) {
				await inner.put(file, body);
				await inner.put(file, new TextEncoder().encode(theirs));
			},
		});
		const environment = {...formatEnvironment(), openStore: () => careless};
		const plan = await delta(environment).plan({ref: dir}, '1');
		await rejectsWith(delta(environment).execute(plan), 1, /holds another writer's commit.*did not honour the conditional write/);
	});

	test('In-Commit Timestamps: history uses inCommitTimestamp; the restore commit carries a later one', async () => {
		const dir = await copy('simple_table');
		const metaData = (await readCommit(dir, 0))[2]!['metaData'];
		const enabled = {...metaData, configuration: {'delta.enableInCommitTimestamps': 'true', 'delta.inCommitTimestampEnablementVersion': '5', 'delta.inCommitTimestampEnablementTimestamp': '4102444800000'}};
		await fs.writeFile(path.join(dir, '_delta_log', commitName(5)), [
			JSON.stringify({commitInfo: {inCommitTimestamp: 4_102_444_800_000, timestamp: 1_587_968_700_000, operation: 'SET TBLPROPERTIES'}}),
			JSON.stringify({metaData: enabled}),
			JSON.stringify({protocol: {minReaderVersion: 3, minWriterVersion: 7, readerFeatures: [], writerFeatures: ['inCommitTimestamp', 'appendOnly', 'invariants']}}),
		].join('\n') + '\n');
		const history = await delta().history({ref: dir});
		assert.equal(history.entries[5]!.timestamp, '2100-01-01T00:00:00.000Z');
		const plan = await delta().plan({ref: dir}, '1');
		const info = (plan.commit as DeltaCommit).actions[0]!['commitInfo'];
		assert.equal(info.inCommitTimestamp, 4_102_444_800_001, 'strictly after the previous commit, even with the clock behind');
		assert.equal(Object.keys(info)[0], 'inCommitTimestamp');
		const restoredConfiguration = (plan.commit as DeltaCommit).actions[1]!['metaData'].configuration;
		assert.equal(restoredConfiguration['delta.enableInCommitTimestamps'], 'true', 'ICT is never switched back off');
		assert.match(plan.warnings.join(' '), /In-Commit Timestamps stay on/);
	});

	test('writer features it does not know: refused unless --force', async () => {
		const dir = await copy('simple_table');
		await fs.writeFile(path.join(dir, '_delta_log', commitName(5)), [
			'{"commitInfo":{"timestamp":1587968700000,"operation":"UPGRADE PROTOCOL"}}',
			'{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":[],"writerFeatures":["fancyNewThing"]}}',
		].join('\n') + '\n');
		const plan = await delta().plan({ref: dir}, '1');
		assert.match(plan.refusal!, /writer features this tool does not know: fancyNewThing/);
		const forced = await delta().plan({ref: dir}, '1', {force: true});
		assert.equal(forced.refusal, undefined);
		assert.match(forced.warnings.join(' '), /fancyNewThing/);
		// Never a protocol downgrade: the restored version keeps the newer protocol.
		assert.deepEqual((forced.commit as DeltaCommit).actions.at(-1), {protocol: {minReaderVersion: 3, minWriterVersion: 7, readerFeatures: [], writerFeatures: ['fancyNewThing', 'appendOnly', 'invariants']}});
	});
});
