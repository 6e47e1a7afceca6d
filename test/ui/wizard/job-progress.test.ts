import {test} from 'node:test';
import assert from 'node:assert/strict';
import {applyJobEvent, initialJobProgress, jobProgressLines, settleJobs} from '../../../source/ui/wizard/job-progress.js';
import type {InClusterEvent} from '../../../source/layers/mirrors/in-cluster.js';

const run = (events: InClusterEvent[]) => events.reduce(applyJobEvent, initialJobProgress(['ilum-data', 'ilum-files']));

test('per bucket: the Job, its pod\'s phase, objects copied so far, the last log lines; a bucket without a Job waits', () => {
	const state = run([
		{type: 'job-created', bucket: 'ilum-data', job: 'ilum-restore-mirror-r1-ilum-data', attempt: 1},
		{type: 'pod', bucket: 'ilum-data', job: 'ilum-restore-mirror-r1-ilum-data', pod: 'ilum-restore-mirror-r1-ilum-data-x1', phase: 'Running'},
		...[1, 2, 3, 4].map(index => ({type: 'log' as const, bucket: 'ilum-data', job: 'ilum-restore-mirror-r1-ilum-data', pod: 'ilum-restore-mirror-r1-ilum-data-x1', line: `\`backup/ilum-data/k${index}\` -> \`ilum/ilum-data/k${index}\``})),
	]);
	const text = jobProgressLines(state, 200).map(line => line.text);
	assert.equal(text[0], 'ilum-data  Job ilum-restore-mirror-r1-ilum-data: Running');
	assert.equal(text[1], '           pod ilum-restore-mirror-r1-ilum-data-x1 Running · 4 objects copied so far');
	assert.deepEqual(text.slice(2, 5), ['k2', 'k3', 'k4'].map(key => `           │ \`backup/ilum-data/${key}\` -> \`ilum/ilum-data/${key}\``), 'the last three log lines');
	assert.equal(text[5], 'ilum-files no Job yet');
});

test('mc\'s transferred total replaces the running count; a failed Job shows its reason, message and last lines in red', () => {
	const state = run([
		{type: 'job-created', bucket: 'ilum-data', job: 'j1', attempt: 1},
		{type: 'log', bucket: 'ilum-data', job: 'j1', pod: 'p1', line: 'Total: 9.75 MiB, Transferred: 9.75 MiB, Speed: 6.23 MiB/s (copied 86, removed 0, unchanged 0)'},
		{type: 'job-succeeded', bucket: 'ilum-data', job: 'j1', elapsedMs: 2000},
		{type: 'job-created', bucket: 'ilum-files', job: 'j2', attempt: 1},
		{type: 'pod', bucket: 'ilum-files', job: 'j2', pod: 'p2', phase: 'Failed', reason: 'Error'},
		{type: 'job-failed', bucket: 'ilum-files', job: 'j2', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastLines: ['mc: <ERROR> Unable to validate source `backup/ilum-files`: Access Denied.']},
	]);
	const lines = jobProgressLines(state, 200);
	const text = lines.map(line => line.text);
	assert.equal(text[0], 'ilum-data  Job j1: Succeeded in 2.0 s');
	assert.equal(lines[0]!.tone, 'good');
	assert.match(text[1]!, /Total: 9\.75 MiB, Transferred: 9\.75 MiB, Speed: 6\.23 MiB\/s$/);
	const failed = text.indexOf('ilum-files Job j2: FAILED');
	assert.ok(failed > 0, text.join('\n'));
	assert.equal(lines[failed]!.tone, 'bad');
	assert.equal(text[failed + 1], '           pod p2 Failed (Error) · 0 objects copied so far');
	assert.equal(text[failed + 2], '           failed: BackoffLimitExceeded: Job has reached the specified backoff limit');
	assert.match(text[failed + 3]!, /Access Denied/);
});

test('when the run ends, a Job still shown running is shown ended with it; finished ones keep their outcome', () => {
	const state = settleJobs(run([
		{type: 'job-created', bucket: 'ilum-data', job: 'j1', attempt: 1},
		{type: 'pod', bucket: 'ilum-data', job: 'j1', pod: 'p1', phase: 'Running'},
		{type: 'job-created', bucket: 'ilum-files', job: 'j2', attempt: 1},
		{type: 'job-succeeded', bucket: 'ilum-files', job: 'j2'},
	]));
	const lines = jobProgressLines(state, 200);
	assert.equal(lines[0]!.text, 'ilum-data  Job j1: stopped with the run (see the copy step)');
	assert.equal(lines[0]!.tone, 'warn');
	assert.ok(lines.some(line => line.text === 'ilum-files Job j2: Succeeded'));
});
