import {test} from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import {render} from 'ink-testing-library';
import {PostureScreen} from '../../source/ui/posture-screen.js';
import {assessPosture} from '../../source/posture/assess.js';
import {postureLines} from '../../source/posture/format.js';
import type {LayerSources} from '../../source/layers/inventory.js';
import {waitFor, waitForFrame} from '../helpers/frames.js';

const now = Date.parse('2026-11-22T12:00:00Z');
const measured = postureLines(assessPosture({
	namespace: 'ilum',
	now,
	mirrors: {cronProblem: 'no backup CronJob in namespace ilum', buckets: []},
	tables: {tables: [], errors: []},
	cronJobs: [],
	bucketSettings: [],
	secrets: [],
	volumesError: 'forbidden: list volumesnapshots',
}, {rpoMs: 86_400_000, keepMs: 604_800_000}));

test('the Posture screen shows each layer with its gaps and fixes, and Esc goes back', async () => {
	let release!: (lines: string[]) => void;
	let closed = false;
	const {lastFrame, stdin, unmount} = render(<PostureScreen sources={{} as LayerSources} measure={async () => new Promise(resolve => {
		release = resolve;
	})} onClose={() => {
		closed = true;
	}}/>);
	await waitForFrame(lastFrame, /measuring the layers/);
	release(measured);
	const frame = await waitForFrame(lastFrame, /GAP Off-cluster mirror/);
	assert.match(frame, /No off-cluster mirror: nothing survives losing the cluster/);
	assert.match(frame, /fix: ilum-restore mirror install/);
	assert.match(frame, /\? +PV snapshots/);
	assert.match(frame, /forbidden: list volumesnapshots/);
	stdin.write('\u001B');
	await waitFor(() => closed, {what: 'Esc to close the screen'});
	unmount();
});

test('a posture that cannot be measured says why in one line', async () => {
	const {lastFrame, unmount} = render(<PostureScreen sources={{} as LayerSources} measure={async () => {
		throw new Error('the API server is unreachable\nstack');
	}} onClose={() => {}}/>);
	const frame = await waitForFrame(lastFrame, /could not be measured/);
	assert.match(frame, /the API server is unreachable/);
	assert.doesNotMatch(frame, /stack/);
	unmount();
});
