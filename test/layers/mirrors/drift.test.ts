import {test} from 'node:test';
import assert from 'node:assert/strict';
import {compareObjects, drift, summarizeDrift, type DriftEntry} from '../../../source/layers/mirrors/drift.js';
import type {ObjectInfo} from '../../../source/storage/fast-s3.js';
import {compareKeys} from '../../../source/storage/key-order.js';

const object = (key: string, size: number, etag: string): ObjectInfo => ({key, size, etag: `"${etag}"`});

async function * listing(objects: readonly ObjectInfo[]) {
	yield * objects;
}

async function collect(entries: AsyncIterable<DriftEntry>) {
	const all: Array<{kind: string; key: string}> = [];
	let last: DriftEntry | undefined;
	for await (const entry of entries) {
		all.push({kind: entry.kind, key: entry.key});
		last = entry;
	}

	return {all, totals: last ? {...last.totals} : undefined};
}

test('drift marks each key as rclone check does, with running totals', async () => {
	const source = [
		object('a', 10, 'aaa'),
		object('b', 20, 'bbb'),
		object('c', 30, 'ccc'),
		object('e', 50, 'eee'),
	];
	const target = [
		object('a', 10, 'aaa'),
		object('b', 21, 'bbx'),
		object('d', 40, 'ddd'),
		object('e', 50, 'eex'),
	];
	const {all, totals} = await collect(drift(listing(source), listing(target)));
	assert.deepEqual(all, [
		{kind: '=', key: 'a'},
		{kind: '*', key: 'b'},
		{kind: '+', key: 'c'},
		{kind: '-', key: 'd'},
		{kind: '*', key: 'e'},
	]);
	assert.deepEqual(totals, {same: 1, onlySource: 1, onlyTarget: 1, differs: 2, unverifiable: 0, sourceObjects: 4, sourceBytes: 110, targetObjects: 4, targetBytes: 121, bytesToCopy: 100});
});

test('multipart ETags are not compared with single-part ones: same size is unverifiable, not different', () => {
	assert.equal(compareObjects(object('k', 100, 'abc-3'), object('k', 100, 'def')), '?');
	assert.equal(compareObjects(object('k', 100, 'abc-3'), object('k', 100, 'abc-3')), '=');
	assert.equal(compareObjects(object('k', 100, 'abc-3'), object('k', 100, 'xyz-2')), '?');
	assert.equal(compareObjects(object('k', 100, 'abc-3'), object('k', 101, 'abc-3')), '*', 'a size difference is always a difference');
	assert.equal(compareObjects(object('k', 100, 'abc'), object('k', 100, 'abd')), '*');
	assert.equal(compareObjects({key: 'k', size: 1, etag: ''}, object('k', 1, 'a')), '?');
});

test('one side empty: everything is + or -', async () => {
	const objects = [object('x/1', 1, 'a'), object('x/2', 2, 'b')];
	assert.deepEqual((await collect(drift(listing(objects), listing([])))).all.map(entry => entry.kind), ['+', '+']);
	assert.deepEqual((await collect(drift(listing([]), listing(objects)))).all.map(entry => entry.kind), ['-', '-']);
	assert.equal((await collect(drift(listing([]), listing([])))).totals, undefined);
});

test('keys are compared relative to each side\'s prefix', async () => {
	const source = [object('backup/ilum-data/a', 1, 'a'), object('backup/ilum-data/b', 1, 'b')];
	const target = [object('b', 1, 'b'), object('c', 1, 'c')];
	const {all} = await collect(drift(listing(source), listing(target), {sourcePrefix: 'backup/ilum-data/'}));
	assert.deepEqual(all, [{kind: '+', key: 'a'}, {kind: '=', key: 'b'}, {kind: '-', key: 'c'}]);
});

test('key order is S3\'s (UTF-8 bytes), not JavaScript\'s UTF-16 order', async () => {
	// U+FF5E (3 UTF-8 bytes) sorts before U+1F600 (4 bytes) in S3; JavaScript's < says the opposite.
	const keys = ['a', 'a\uFF5E', 'a\u{1F600}', 'b'];
	assert.ok('a\u{1F600}' < 'a\uFF5E', 'JavaScript disagrees with S3 here');
	assert.deepEqual([...keys].reverse().sort(compareKeys), keys);
	const source = keys.map(key => object(key, 1, 'x'));
	const {all} = await collect(drift(listing(source), listing(source)));
	assert.deepEqual(all.map(entry => entry.kind), ['=', '=', '=', '=']);
});

test('the merge reads each listing at most one object ahead: memory does not grow with the object count', async () => {
	let pulledSource = 0;
	let pulledTarget = 0;
	const count = 50_000;
	async function * generate(side: 'source' | 'target') {
		for (let index = 0; index < count; index++) {
			// The target misses every third key.
			if (side === 'target' && index % 3 === 0) {
				continue;
			}

			if (side === 'source') {
				pulledSource++;
			} else {
				pulledTarget++;
			}

			yield object(`key-${String(index).padStart(6, '0')}`, index, 'e');
		}
	}

	let seen = 0;
	let maxLead = 0;
	for await (const entry of drift(generate('source'), generate('target'))) {
		seen++;
		maxLead = Math.max(maxLead, pulledSource - entry.totals.sourceObjects, pulledTarget - entry.totals.targetObjects);
	}

	assert.equal(seen, count);
	assert.ok(maxLead <= 1, `the merge ran ${maxLead} objects ahead`);
});

test('summarizeDrift keeps totals and only the first differing keys', async () => {
	const source = Array.from({length: 500}, (_, index) => object(`k${String(index).padStart(4, '0')}`, 1, 'a'));
	const summary = await summarizeDrift(drift(listing(source), listing([])), {keep: 10});
	assert.equal(summary.totals.onlySource, 500);
	assert.equal(summary.differences.length, 10);
	assert.equal(summary.differences[0]!.key, 'k0000');
});
