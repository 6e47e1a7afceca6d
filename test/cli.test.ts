import {test} from 'node:test';
import assert from 'node:assert/strict';
import {runCli} from './helpers/run-cli.js';

test('--help lists the commands and exit codes', async () => {
	const result = await runCli(['--help']);
	assert.equal(result.code, 0);
	assert.match(result.stdout, /Usage/);
	assert.match(result.stdout, /Exit codes/);
});

test('an unknown command is a usage error with one line saying what to do', async () => {
	const result = await runCli(['frobnicate']);
	assert.equal(result.code, 2);
	assert.equal(result.stderr.trim().split('\n').length, 1);
	assert.match(result.stderr, /Unknown command 'frobnicate'.*--help/);
});

test('an unknown flag is a usage error', async () => {
	const result = await runCli(['--no-such-flag']);
	assert.equal(result.code, 2);
});

test('without a terminal and without a command it points to inventory', async () => {
	const result = await runCli([]);
	assert.equal(result.code, 2);
	assert.match(result.stderr, /inventory/);
});
