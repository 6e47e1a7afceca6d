import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import React from 'react';
import {render} from 'ink-testing-library';
import {createSession, type RestorePlan, type RestoreReport, type Step} from '../../../source/restore/index.js';
import {RestoreWizard} from '../../../source/ui/wizard/restore-wizard.js';
import {initialWizardState, progressLine, stallWarning, wizardReducer} from '../../../source/ui/wizard/wizard-state.js';
import {describePlan} from '../../../source/restore/plan.js';
import {waitForFrame} from '../../helpers/frames.js';

const dirs: string[] = [];
const tempState = () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-wizard-'));
	dirs.push(dir);
	return dir;
};

after(() => {
	for (const dir of dirs) {
		fs.rmSync(dir, {recursive: true, force: true});
	}
});

type World = {claim: 'old' | 'new'; replicas: number; calls: string[]; release?: () => void};

function plan(world: World, options: {ready?: boolean; hold?: boolean} = {}): RestorePlan {
	const steps: Step[] = [
		{id: 'ready', kind: 'precondition', title: 'Snapshot s1 is ready', async evaluate() {
			return options.ready === false ? {ok: false, detail: 'snapshot s1 is not ready', hint: 'pick another'} : {ok: true, detail: 'snapshot s1 is ready'};
		}},
		{id: 'scale-down', kind: 'mutation', title: 'Scale provider to 0', changes: 'replicas 1 -> 0', undo: 'scale to 1',
			async check() {
				return world.replicas === 0;
			},
			async * run() {
				world.calls.push('scale-down');
				world.replicas = 0;
				yield {message: 'scaled'};
			}},
		{id: 'pods-gone', kind: 'wait', title: 'Wait for the pods to go', timeoutMs: 60_000,
			async check() {
				return false;
			},
			async * run() {
				yield {message: '1 pod left', kind: 'wait'};
				yield {message: 'Killing container', kind: 'event', object: 'Pod/p-0'};
				if (options.hold) {
					await new Promise<void>(resolve => {
						world.release = resolve;
					});
				}

				yield {message: 'copying', current: 5, total: 10, unit: 'objects'};
			}},
		{id: 'swap', kind: 'mutation', title: 'Swap claim data-0', changes: 'claim replaced', undo: 'rebind', dangerous: {confirmText: 'data-0', reason: 'deletes claim data-0'},
			async check() {
				return world.claim === 'new';
			},
			async * run() {
				world.calls.push('swap');
				world.claim = 'new';
				yield {message: 'swapped'};
			}},
	];
	return {kind: 'fake', target: 'fake/ns/data-0', summary: 'restore data-0 from s1', facts: {}, blastRadius: ['provider offline'], warnings: ['a warning'], access: [], steps, undo: ['restore the safety snapshot']};
}

test('the wizard walks plan, preflight, the typed gate and live progress to the report', async () => {
	const world: World = {claim: 'old', replicas: 1, calls: []};
	let exited: RestoreReport | undefined | 'none' = 'none';
	const session = createSession({plan: plan(world), stateDir: tempState(), identity: 'op@ctx'});
	const {lastFrame, stdin, unmount} = render(<RestoreWizard session={session} onExit={report => {
		exited = report;
	}}/>);
	try {
		await waitForFrame(lastFrame, /Plan \(4 steps\)[\s\S]*\[type data-0\][\s\S]*Blast radius[\s\S]*provider offline/);
		stdin.write('\r');
		await waitForFrame(lastFrame, /All checks passed/);
		stdin.write('\r');
		await waitForFrame(lastFrame, /Type data-0 to confirm/);
		assert.deepEqual(world.calls, [], 'the gate comes before any change');
		stdin.write('data-0');
		await waitForFrame(lastFrame, /> data-0/);
		stdin.write('\r');
		const frame = await waitForFrame(lastFrame, /SUCCEEDED: restore data-0 from s1/);
		assert.match(frame, /How to undo[\s\S]*restore the safety snapshot/);
		assert.match(frame, /Report saved: .*\.md/);
		assert.deepEqual(world.calls, ['scale-down', 'swap']);
		stdin.write('\r');
		await waitForFrame(() => (exited === 'none' ? '' : 'exited'), /exited/);
		assert.equal((exited as unknown as RestoreReport).outcome, 'succeeded');
	} finally {
		unmount();
	}
});

test('a wrong name at the gate refuses and changes nothing', async () => {
	const world: World = {claim: 'old', replicas: 1, calls: []};
	const session = createSession({plan: plan(world), stateDir: tempState(), identity: 'op@ctx'});
	const {lastFrame, stdin, unmount} = render(<RestoreWizard session={session} onExit={() => {}}/>);
	try {
		await waitForFrame(lastFrame, /Plan/);
		stdin.write('\r');
		await waitForFrame(lastFrame, /All checks passed/);
		stdin.write('\r');
		await waitForFrame(lastFrame, /Type data-0 to confirm/);
		stdin.write('data-1');
		await waitForFrame(lastFrame, /> data-1/);
		stdin.write('\r');
		await waitForFrame(lastFrame, /REFUSED[\s\S]*typed 'data-1', expected 'data-0'/);
		assert.deepEqual(world.calls, []);
	} finally {
		unmount();
	}
});

test('a failed precondition blocks with its reason; read-only says restores are unavailable', async () => {
	const world: World = {claim: 'old', replicas: 1, calls: []};
	const session = createSession({plan: plan(world, {ready: false}), stateDir: tempState(), identity: 'op', readOnly: true});
	const {lastFrame, stdin, unmount} = render(<RestoreWizard session={session} onExit={() => {}}/>);
	try {
		await waitForFrame(lastFrame, /Plan/);
		stdin.write('\r');
		const frame = await waitForFrame(lastFrame, /Refused: nothing was changed/);
		assert.match(frame, /✗ snapshot s1 is not ready: pick another/);
		assert.match(frame, /--read-only: restores are not available/);
	} finally {
		unmount();
	}
});

test('Esc while running asks, then stops after the current step; spinner, events and bars show meanwhile', async () => {
	const world: World = {claim: 'old', replicas: 1, calls: []};
	const session = createSession({plan: plan(world, {hold: true}), stateDir: tempState(), identity: 'op'});
	const {lastFrame, stdin, unmount} = render(<RestoreWizard session={session} onExit={() => {}}/>);
	try {
		await waitForFrame(lastFrame, /Plan/);
		stdin.write('\r');
		await waitForFrame(lastFrame, /All checks passed/);
		stdin.write('\r');
		await waitForFrame(lastFrame, /Type data-0/);
		stdin.write('data-0');
		await waitForFrame(lastFrame, /> data-0/);
		stdin.write('\r');
		const running = await waitForFrame(lastFrame, /Wait for the pods to go[\s\S]*Events[\s\S]*Pod\/p-0: Killing container/);
		assert.match(running, /1 pod left|Killing container/);
		stdin.write('\u001B');
		await waitForFrame(lastFrame, /Stop after the current step\?/);
		stdin.write('y');
		await waitForFrame(lastFrame, /stopping after the current step/);
		world.release!();
		await waitForFrame(lastFrame, /STOPPED/);
		assert.deepEqual(world.calls, ['scale-down'], 'the swap after the stop point did not run');
	} finally {
		unmount();
	}
});

test('presenters: progress bar with rate and ETA, stall warning', () => {
	const state = initialWizardState(describePlan(plan({claim: 'old', replicas: 1, calls: []})));
	let next = wizardReducer(state, {type: 'engine', now: 0, events: [{type: 'step-start', step: 'pods-gone', kind: 'wait', title: 't', index: 3, count: 4}, {type: 'step-progress', step: 'pods-gone', progress: {message: 'm', current: 0, total: 100, unit: 'objects'}}]});
	next = wizardReducer(next, {type: 'engine', now: 10_000, events: [{type: 'step-progress', step: 'pods-gone', progress: {message: 'm', current: 50, total: 100, unit: 'objects'}}]});
	const step = next.steps.find(candidate => candidate.id === 'pods-gone')!;
	assert.equal(progressLine(step, 10_000, 10), '[#####-----] 50 objects/100 objects  5 objects/s  ETA 10 s');
	assert.equal(stallWarning(step, 20_000), undefined);
	assert.match(stallWarning(step, 45_000)!, /nothing moved for 35 s/);
});

test('the registry action is greyed with the reason until the console offers the wizard\'s seams', async () => {
	const {restoreVolumeAction} = await import('../../../source/ui/wizard/volume-restore-action.js');
	const item = {name: 's1', namespace: 'ilum', ofProvider: true, ready: true};
	const bare = {live: {sources: {}, refresh: async () => {}} as any, paneId: 'volumes', readOnly: false};
	assert.match(restoreVolumeAction.disabledReason!(item, bare)!, /not available with this connection/);
	assert.match(String(await restoreVolumeAction.run(item, bare)), /restore volume s1 --dry-run/);
	let opened = false;
	const world: World = {claim: 'old', replicas: 1, calls: []};
	const wired = {...bare, live: {sources: {prepareVolumeRestore: async () => createSession({plan: plan(world), stateDir: tempState(), identity: 'op'})}, refresh: async () => {}} as any, openScreen: () => {
		opened = true;
		return {close() {}};
	}};
	assert.equal(restoreVolumeAction.disabledReason!(item, wired), undefined);
	assert.equal(restoreVolumeAction.disabledReason!({...item, ofProvider: false}, wired), 's1 is not a snapshot of the object-storage provider\'s claim');
	assert.equal(restoreVolumeAction.disabledReason!(item, {...wired, readOnly: true}), 'read-only mode: restores are not available');
	assert.equal(await restoreVolumeAction.run(item, wired as any), undefined);
	assert.ok(opened);
});
