import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import type {ProgressEvent} from '../../../source/layers/mirrors/copy.js';
import type {EngineEvent} from '../../../source/restore/executor.js';
import {buildMirrorRestorePlan, type MirrorCopyProgress, type MirrorCopyStrategy} from '../../../source/restore/mirror-plan.js';
import {pairsFromFacts, readMirrorRestoreFacts} from '../../../source/restore/mirror-session.js';
import {createSession} from '../../../source/restore/session.js';
import {describeUnfinished, findUnfinished} from '../../../source/restore/journal.js';
import type {RestoreReport} from '../../../source/restore/report.js';
import {applyMirrorEvent, initialMirrorProgress, mirrorProgressLines} from '../../../source/ui/wizard/mirror-progress.js';
import {MirrorRestoreScreen, MirrorRestoreWizard} from '../../../source/ui/wizard/mirror-restore-wizard.js';
import type {MirrorRestoreSessionRequest} from '../../../source/restore/mirror-session.js';
import {waitForFrame} from '../../helpers/frames.js';
import {keys, renderSized} from '../../helpers/render-sized.js';
import {seedObjects, startTestS3} from '../../helpers/s3-pair.js';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
	for (const cleanup of cleanups.reverse()) {
		// eslint-disable-next-line no-await-in-loop
		await cleanup();
	}
});

const figures = (bucket: string, overrides: Partial<MirrorCopyProgress> = {}): MirrorCopyProgress => ({
	type: 'mirror-progress', phase: 'copy', bucket, done: false, objectsDone: 50, objectsTotal: 200, bytesDone: 5 * 1024 * 1024, bytesTotal: 20 * 1024 * 1024, listingDone: true,
	rate: 2 * 1024 * 1024, etaMs: 7500, retries: 0, failed: 0, deleted: 0, skipped: 0, failedKeys: [], ...overrides,
});
const progress = (data: MirrorCopyProgress, step = 'copy'): EngineEvent => ({type: 'step-progress', step, progress: {message: '', object: `bucket/${data.bucket}`, data}});

/** A mirror holding `count` objects of ilum-data, a provider without the bucket, a state dir and the restore's facts (all removed after the tests). */
async function wipedBucket(count: number) {
	const mirror = await startTestS3();
	const provider = await startTestS3();
	const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mirror-wizard-'));
	cleanups.push(async () => {
		await Promise.all([mirror.stop(), provider.stop()]);
		fs.rmSync(stateDir, {recursive: true, force: true});
	});
	await mirror.createBucket('ilum-data');
	await seedObjects(mirror.client, 'ilum-data', {count, size: 100, prefix: 'd/'});
	const facts = await readMirrorRestoreFacts({provider: provider.client, mirror: mirror.client, namespace: 'ilum', buckets: ['ilum-data'], mirrorLocation: bucket => ({bucket}), overwriteChanged: false, remove: false, verify: true});
	return {mirror, provider, stateDir, facts};
}

test('the per-bucket bars: objects and bytes, rate and ETA while running, the aggregate, retries, failed keys, the verification', () => {
	let state = initialMirrorProgress(['ilum-data', 'ilum-files', 'ilum-tables']);
	state = applyMirrorEvent(state, progress(figures('ilum-data')));
	state = applyMirrorEvent(state, progress(figures('ilum-files', {objectsDone: 10, objectsTotal: 10, bytesDone: 1024, bytesTotal: 1024, done: true, retries: 3, failed: 2, failedKeys: ['a/1: 500 InternalError', 'a/2: reset']})));
	state = applyMirrorEvent(state, {type: 'step-progress', step: 'verify', progress: {message: 'no drift (10 same, 0 missing, 0 differ, 0 unverifiable)', object: 'bucket/ilum-files'}});
	const lines = mirrorProgressLines(state, 160).map(line => line.text);
	assert.match(lines[0]!, /^ilum-data +█{8}░{22} 50\/200 objects {2}5\.0 MiB\/20\.0 MiB {2}2\.0 MiB\/s ETA 8 s$/);
	assert.match(lines[1]!, /^ilum-files +█{30} 10\/10 objects {2}1\.0 KiB\/1\.0 KiB {2}FAILED {2}3 retries {2}2 failed$/);
	assert.match(lines[2]!, /verify: no drift \(10 same/);
	assert.match(lines[3]!, /^ilum-tables +waiting$/);
	assert.equal(lines[4], 'All: 60/210 objects, 5.0 MiB/20.0 MiB, 2.0 MiB/s, ETA 8 s, 3 retries, 2 failed');
	assert.deepEqual(lines.slice(5), ['  failed ilum-files: a/1: 500 InternalError', '  failed ilum-files: a/2: reset']);
	// Events that are not mirror figures leave the state as it is.
	assert.equal(applyMirrorEvent(state, {type: 'gate', step: 'copy', accepted: true}), state);
});

test('the wizard: gate, live bars while copying; Esc + y stops the copy at once (a mutation the engine would otherwise finish), the report says how to go on', async () => {
	const {mirror, provider, stateDir, facts} = await wipedBucket(20);
	// A copy that reports progress and then waits until it is stopped (as a long one would).
	const slow: MirrorCopyStrategy = {
		name: 'slow',
		title: 'Copy slowly',
		async * copy(request) {
			const base = {bucket: 'ilum-data', objectsTotal: 20, bytesTotal: 2000, objectsDone: 7, bytesDone: 700, listingDone: true, deleted: 0, skipped: 0, changedKept: 0, onlyTargetKept: 0, retries: 1, failed: 0, unverified: 0, rate: 350, etaMs: 4000, concurrency: 4, elapsedMs: 2000};
			yield {type: 'bucket-start', bucket: 'ilum-data'} satisfies ProgressEvent;
			yield {type: 'progress', ...base} satisfies ProgressEvent;
			await new Promise((_resolve, reject) => {
				request.signal.addEventListener('abort', () => {
					reject(new Error('aborted'));
				}, {once: true});
			});
		},
	};
	const copyStop = new AbortController();
	const plan = buildMirrorRestorePlan(facts, {pairs: pairsFromFacts(facts, {provider: provider.client, mirror: mirror.client}), copy: slow, signal: copyStop.signal});
	const session = createSession({plan, stateDir, identity: 'op@test'});
	let exited: RestoreReport | undefined;
	let closed = false;
	const ui = renderSized(<MirrorRestoreWizard session={session} buckets={['ilum-data']} copyStop={copyStop} width={150} height={50} onExit={report => {
		exited = report;
		closed = true;
	}}/>, {columns: 160, rows: 60});
	cleanups.push(() => {
		ui.unmount();
	});
	let frame = await waitForFrame(ui.lastFrame, /Plan \(\d+ steps\)/);
	assert.match(frame, /ilum-data \(new\) +20 \(2\.0 KiB\)/, 'the plan per bucket (the provider lacks the bucket)');
	ui.stdin.write(keys.enter);
	await waitForFrame(ui.lastFrame, 'All checks passed');
	ui.stdin.write(keys.enter);
	await waitForFrame(ui.lastFrame, 'Type restore to confirm');
	ui.stdin.write('restore');
	await waitForFrame(ui.lastFrame, '> restore');
	ui.stdin.write(keys.enter);
	frame = await waitForFrame(ui.lastFrame, /Copy by bucket/);
	assert.match(frame, /ilum-data +█+░+ 7\/20 objects {2}700 B\/2\.0 KiB {2}350 B\/s ETA 4 s {2}1 retries/);
	assert.match(frame, /All: 7\/20 objects, 700 B\/2\.0 KiB, 350 B\/s, ETA 4 s, 1 retries, 0 failed/);
	ui.stdin.write(keys.escape);
	await waitForFrame(ui.lastFrame, /Stop after the current step\? A copy running now stops at once/);
	ui.stdin.write('y');
	frame = await waitForFrame(ui.lastFrame, /FAILED|STOPPED|SUCCEEDED/, {timeout: 30_000});
	assert.match(frame, /STOPPED: /, 'stopped, not failed');
	assert.match(frame, /Progress \d+\/\d+ \(stopped on request\)/);
	assert.match(frame, /■ Copy slowly/, 'the copy step is marked stopped');
	assert.match(frame, /stopped on request in the middle of the copy: the objects copied so far are in place; resume to copy the rest/);
	assert.ok(copyStop.signal.aborted);
	ui.stdin.write(keys.enter);
	await waitForFrame(ui.lastFrame, () => closed);
	assert.equal(exited?.outcome, 'stopped', 'a stop at the operator\'s request is not a failure');
	const copyRecord = exited!.steps.find(step => step.id === 'copy');
	assert.equal(copyRecord?.outcome, 'stopped');
	// The journal keeps the place: the same restore opened again resumes it (not a crash mid-step, not a failure).
	const unfinished = findUnfinished(stateDir, exited!.target);
	assert.ok(unfinished, 'the run is resumable');
	assert.match(describeUnfinished(unfinished), /stopped on request during step 'copy'/);
	assert.deepEqual(unfinished.interrupted, []);
});

test('the screen R/A open at once: counting figures while planning, Esc stops the planning; a failure to start stays on screen until Esc', async () => {
	let asked: MirrorRestoreSessionRequest | undefined;
	let exits = 0;
	const slow = renderSized(<MirrorRestoreScreen buckets={['ilum-data', 'ilum-files']} width={140} onExit={() => exits++} prepare={async request => {
		asked = request;
		request.onPlanProgress?.('ilum-data', {source: 1200, target: 300});
		return new Promise((_resolve, reject) => {
			request.signal?.addEventListener('abort', () => {
				reject(new Error('aborted'));
			});
		});
	}}/>, {columns: 160, rows: 30});
	cleanups.push(() => {
		slow.unmount();
	});
	await waitForFrame(slow.lastFrame, /ilum-data: 1200 objects on the mirror, 300 in the provider compared so far/);
	assert.match(slow.lastFrame() ?? '', /Planning: comparing each bucket/);
	assert.deepEqual(asked?.buckets, ['ilum-data', 'ilum-files']);
	slow.stdin.write(keys.escape);
	await waitForFrame(slow.lastFrame, () => exits === 1);
	assert.equal(asked?.signal?.aborted, true, 'the planning was stopped');

	let failedExits = 0;
	const failing = renderSized(<MirrorRestoreScreen buckets={['ilum-data']} width={140} onExit={() => failedExits++} prepare={async () => {
		throw new Error('an unfinished restore of mirror/ilum-data exists and it was started with other options (--remove was given)');
	}}/>, {columns: 160, rows: 30});
	cleanups.push(() => {
		failing.unmount();
	});
	await waitForFrame(failing.lastFrame, /Not started: an unfinished restore of mirror\/ilum-data exists/);
	assert.equal(failedExits, 0);
	failing.stdin.write(keys.escape);
	await waitForFrame(failing.lastFrame, () => failedExits === 1);
});

test('Enter typed the instant the plan replaces the planning screen is read (the wizard is drawn once it listens)', async () => {
	const {mirror, provider, stateDir, facts} = await wipedBucket(5);
	const prepare = async () => ({
		...createSession({plan: buildMirrorRestorePlan(facts, {pairs: pairsFromFacts(facts, {provider: provider.client, mirror: mirror.client})}), stateDir, identity: 'op@test'}),
		facts,
		async close() {},
	});
	let typed = false;
	const ui = renderSized(<MirrorRestoreScreen buckets={['ilum-data']} width={140} onExit={() => {}} prepare={prepare}/>, {columns: 160, rows: 50}, {
		onFrame(frame) {
			if (!typed && /Plan \(\d+ steps\)/.test(frame)) {
				typed = true;
				ui.stdin.write(keys.enter);
			}
		},
	});
	cleanups.push(() => {
		ui.unmount();
	});
	await waitForFrame(ui.lastFrame, 'All checks passed');
	assert.ok(typed);
});
