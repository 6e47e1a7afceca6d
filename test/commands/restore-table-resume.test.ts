import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {Writable} from 'node:stream';
import {after, test} from 'node:test';
import {restoreTableCommand} from '../../source/commands/restore-table.js';
import {exitCodes, UserError} from '../../source/errors.js';
import {runCli} from '../helpers/run-cli.js';
import {copyFixture} from '../formats/delta/fixtures.js';

/*
`restore table` on the restore engine: a journal per table, the audit log, --resume and --abandon.
The kill is the engine's crash hook (SIGKILL of the CLI itself) at the worst moment: the commit is
written and the journal does not know yet.
*/

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
	for (const cleanup of cleanups) {
		// eslint-disable-next-line no-await-in-loop
		await cleanup();
	}
});

async function setup() {
	const copied = await copyFixture('simple_table');
	cleanups.push(copied.remove);
	const state = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-table-state-'));
	cleanups.push(() => fs.rmSync(state, {recursive: true, force: true}));
	return {dir: copied.dir, state};
}

const commits = (dir: string) => fs.readdirSync(path.join(dir, '_delta_log')).filter(name => /^\d{20}\.json$/.test(name)).length;
const audit = (state: string) => fs.readFileSync(path.join(state, 'audit.jsonl'), 'utf8').trimEnd().split('\n').map(line => JSON.parse(line) as {action: string; target: string; outcome: string});

test('killed after writing the commit: a plain retry is refused, --resume finishes without a second commit', async () => {
	const {dir, state} = await setup();
	const killed = await runCli(['restore', 'table', dir, '--to', '1', '--yes', '--state-dir', state], {env: {ILUM_RESTORE_CRASH_BEFORE_DONE: 'write-restore'}});
	assert.notEqual(killed.code, 0, killed.stderr);
	assert.equal(commits(dir), 6, 'the restore commit was written before the kill');
	assert.equal(fs.readdirSync(path.join(state, 'journals')).filter(name => name.endsWith('.jsonl')).length, 1, 'an unfinished journal is left');

	const retry = await runCli(['restore', 'table', dir, '--to', '1', '--yes', '--state-dir', state]);
	assert.equal(retry.code, 3, retry.stderr);
	assert.match(retry.stderr, /unfinished[\s\S]*--resume[\s\S]*--abandon/);
	assert.equal(commits(dir), 6);

	const resumed = await runCli(['restore', 'table', dir, '--resume', '--yes', '--state-dir', state]);
	assert.equal(resumed.code, 0, resumed.stderr);
	assert.match(resumed.stdout, /Restored .* to 1 \(new version 5\)/);
	assert.match(resumed.stdout, /not written again/);
	assert.match(resumed.stderr, /resuming run/);
	assert.equal(commits(dir), 6, 'no second restore commit');

	const history = JSON.parse((await runCli(['history', dir, '--json'])).stdout) as {current: string; entries: Array<{operation: string}>};
	assert.equal(history.current, '5');
	assert.equal(history.entries.filter(entry => entry.operation === 'RESTORE').length, 1);
	assert.deepEqual(fs.readdirSync(path.join(state, 'journals')).filter(name => name.endsWith('.jsonl')), [], 'the journal is closed');
	const lines = audit(state).filter(line => line.target === `table/${dir}`);
	assert.ok(lines.some(line => line.outcome === 'succeeded'), JSON.stringify(lines));
	assert.ok(lines.some(line => line.outcome === 'refused'), 'the refused retry is audited');
});

test('--abandon discards the journal of an interrupted run; a new restore can start', async () => {
	const {dir, state} = await setup();
	const killed = await runCli(['restore', 'table', dir, '--to', '2', '--yes', '--json', '--state-dir', state], {env: {ILUM_RESTORE_CRASH_BEFORE_STEP: 'write-restore'}});
	assert.notEqual(killed.code, 0);
	assert.equal(commits(dir), 5, 'killed before the commit: nothing written');
	const wrong = await runCli(['restore', 'table', dir, '--to', '1', '--resume', '--yes', '--state-dir', state]);
	assert.equal(wrong.code, 3, 'the journal restores to 2, not 1');
	assert.match(wrong.stderr, /to version 2, not 1/);
	const abandoned = await runCli(['restore', 'table', dir, '--abandon', '--state-dir', state]);
	assert.equal(abandoned.code, 0, abandoned.stderr);
	assert.match(abandoned.stderr, /abandoned/);
	const fresh = await runCli(['restore', 'table', dir, '--to', '2', '--yes', '--json', '--state-dir', state]);
	assert.equal(fresh.code, 0, fresh.stderr);
	const result = JSON.parse(fresh.stdout.trimEnd().split('\n').at(-1)!) as {type: string; newVersion: string; verified: boolean; report: string};
	assert.equal(result.type, 'result');
	assert.equal(result.newVersion, '5');
	assert.equal(result.verified, true);
	assert.ok(fs.existsSync(result.report), 'the report is saved');
	assert.equal(commits(dir), 6);
});

test('the audit log names the kube context\'s user when there is a kubeconfig', async () => {
	const {dir, state} = await setup();
	const kubeconfig = path.join(state, 'kubeconfig');
	fs.writeFileSync(kubeconfig, ['apiVersion: v1', 'kind: Config', 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]', 'users: [{name: alice, user: {token: x}}]', 'contexts: [{name: prod, context: {cluster: c, user: alice}}]', 'current-context: prod', ''].join('\n'));
	const result = await runCli(['restore', 'table', dir, '--to', '2', '--yes', '--state-dir', state, '--kubeconfig', kubeconfig]);
	assert.equal(result.code, 0, result.stderr);
	const lines = audit(state).filter(line => line.target === `table/${dir}`) as Array<{identity?: string; outcome: string}>;
	assert.ok(lines.length > 0);
	assert.deepEqual([...new Set(lines.map(line => line.identity))], ['alice@prod']);
});

test('--resume with nothing unfinished: one line, exit 1', async () => {
	const {dir, state} = await setup();
	const result = await runCli(['restore', 'table', dir, '--resume', '--yes', '--state-dir', state]);
	assert.equal(result.code, 1);
	assert.match(result.stderr, /Nothing unfinished to resume/);
});

test('stopped on request (Ctrl-C once the plan is out): exit 130 as every restore, nothing written, --resume finishes it', async () => {
	const {dir, state} = await setup();
	const controller = new AbortController();
	// The signal SIGINT would abort, aborted as the plan is printed: the engine stops before its first step.
	const stdout = new Writable({write(_chunk, _encoding, done) {
		controller.abort();
		done();
	}}) as unknown as NodeJS.WriteStream;
	const stderr = new Writable({write(_chunk, _encoding, done) {
		done();
	}}) as unknown as NodeJS.WriteStream;
	await assert.rejects(restoreTableCommand.run({args: [dir], flags: {to: '1', yes: true, stateDir: state}, stdout, stderr, interactive: false, signal: controller.signal}), (error: unknown) => {
		assert.ok(error instanceof UserError, String(error));
		assert.equal(error.exitCode, exitCodes.stopped, error.message);
		assert.match(error.message, /stopped/);
		return true;
	});
	assert.equal(commits(dir), 5, 'nothing written');
	const resumed = await runCli(['restore', 'table', dir, '--resume', '--yes', '--state-dir', state]);
	assert.equal(resumed.code, 0, resumed.stderr);
	assert.equal(commits(dir), 6);
});
