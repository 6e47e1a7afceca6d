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

test('a reader that stops early (| head) ends the output quietly', async () => {
	const {execFile} = await import('node:child_process');
	const {binPath} = await import('./helpers/run-cli.js');
	const result = await new Promise<{code: number; stdout: string; stderr: string}>(resolve => {
		execFile('/bin/sh', ['-c', `"${process.execPath}" "${binPath}" rbac --level setup | head -n 1`], {env: process.env}, (error, stdout, stderr) => {
			resolve({code: error ? Number((error as {code?: number}).code ?? 1) : 0, stdout, stderr});
		});
	});
	assert.equal(result.stdout, 'apiVersion: rbac.authorization.k8s.io/v1\n');
	assert.equal(result.stderr, '');
});
