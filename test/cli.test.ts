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

test('a reader that goes away (| head) ends the output quietly', async () => {
	const {spawn} = await import('node:child_process');
	const {binPath} = await import('./helpers/run-cli.js');
	const child = spawn(process.execPath, [binPath, 'rbac', '--level', 'setup'], {stdio: ['ignore', 'pipe', 'pipe']});
	// The reader is gone before the first byte: every write meets EPIPE.
	child.stdout.destroy();
	let stderr = '';
	child.stderr.setEncoding('utf8').on('data', chunk => {
		stderr += chunk;
	});
	const code = await new Promise<number | null>(resolve => {
		child.on('close', resolve);
	});
	assert.equal(stderr, '');
	assert.equal(code, 0);
});
