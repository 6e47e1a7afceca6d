import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {binPath, projectRoot, runCli} from '../helpers/run-cli.js';
import {startDrillWorld} from '../helpers/drill-world.js';
import {startInTmux} from '../helpers/tmux.js';

/**
A Delta table of the drill world restored by keys through the real console in a real terminal
(tmux): the Tables pane, Enter on the table (its history), ↑ to an earlier version, R, the plan
with the table preview, the preflight, the table's name typed at the gate, the report. Then the
`history` CLI says the table's current version is the restore, and its live rows are the target's.
*/
test('R in a Delta table\'s history restores it to the chosen version, driven by keys', {timeout: 900_000}, async () => {
	const drill = await startDrillWorld({objects: 300});
	const {world} = drill;
	const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'console-table-restore-'));
	const ref = 's3://ilum-tables/delta/orders';
	const s3 = ['--s3-endpoint', world.provider.endpoint];
	const cliEnv = {...drill.env, AWS_ACCESS_KEY_ID: world.provider.accessKeyId, AWS_SECRET_ACCESS_KEY: world.provider.secretAccessKey, AWS_REGION: 'us-east-1', XDG_STATE_HOME: stateDir};
	const history = async () => {
		const result = await runCli(['history', ref, ...s3, '--json'], {env: cliEnv});
		assert.equal(result.code, 0, result.stderr);
		return JSON.parse(result.stdout) as {current: string; entries: Array<{id: string; operation: string; restorable: boolean; current: boolean}>};
	};

	/** The live set and rows a restore to `to` would leave (a dry run: changes nothing). */
	const planTo = async (to: string) => {
		const result = await runCli(['restore', 'table', ref, '--to', to, ...s3, '--dry-run', '--json'], {env: cliEnv});
		assert.equal(result.code, 0, result.stderr);
		return JSON.parse(result.stdout.split('\n')[0]!) as {from: string; before: {rows: number; files: number}; after: {rows: number; files: number}; filesReturning: string[]; filesLeaving: string[]};
	};

	const screen = await startInTmux(`${process.execPath} ${binPath} --kubeconfig ${world.kubeconfigPath} --s3-endpoint ${world.provider.endpoint} --state-dir ${stateDir}`, {cwd: projectRoot, env: drill.env, rows: 48});
	try {
		const before = await history();
		const entries = before.entries;
		const currentIndex = entries.findIndex(entry => entry.current);
		// ↑ once lands on the nearest earlier restorable version.
		const target = entries.slice(0, currentIndex).reverse().find(entry => entry.restorable);
		assert.ok(target, 'the drill table has an earlier restorable version');
		const expected = await planTo(target.id);

		await screen.waitForScreen(text => /Tables \((\d+)\)/.test(text) && text.includes('orders'), {timeout: 240_000});
		// Tables is the last pane: Shift-Tab from the first. Filter it down to the Delta orders table.
		await screen.sendKeys('BTab');
		await screen.sendKeys('/');
		await screen.sendKeys('-l', 'delta/orders');
		await screen.sendKeys('Enter');
		await screen.waitForScreen(/Tables \/delta\/orders \(1\)/, {timeout: 60_000});
		await screen.sendKeys('Enter');
		await screen.waitForScreen(new RegExp(`version ${before.current} selected \\(current\\)`), {timeout: 120_000});
		await screen.sendKeys('Up');
		await screen.waitForScreen(`version ${target.id} selected`, {timeout: 60_000});
		await screen.sendKeys('R');
		const plan = await screen.waitForScreen(/Plan \(3 steps\)[\s\S]*Undo/, {timeout: 120_000});
		assert.match(plan, new RegExp(`delta table orders: version ${before.current} \\(current\\) -> ${target.id}`));
		assert.match(plan, new RegExp(`after: +${expected.after.files} files, ${expected.after.rows} rows`));
		assert.match(plan, /files returning to the live set/);
		assert.match(plan, /schema and properties/);
		assert.match(plan, /commit it will write: _delta_log\/\d{20}\.json/);
		assert.match(plan, /\[type orders\]/);
		const mutatingBefore = world.api.stats().mutating;
		// The first key, sent the moment the plan shows: the wizard reads it (it is drawn only once it reads keys).
		await screen.sendKeys('Enter');
		await screen.waitForScreen(/Preflight/, {timeout: 120_000});
		await screen.waitForScreen('All checks passed', {timeout: 120_000});
		await screen.sendKeys('Enter');
		await screen.waitForScreen('Type orders to confirm', {timeout: 120_000});
		assert.equal((await history()).current, before.current, 'nothing written before the gate');
		await screen.sendKeys('-l', 'orders');
		await screen.waitForScreen('> orders');
		await screen.sendKeys('Enter');
		const report = await screen.waitForScreen(/SUCCEEDED|FAILED|REFUSED/, {timeout: 300_000});
		assert.match(report, new RegExp(`SUCCEEDED: restore delta table orders to version ${target.id}`), report);
		assert.match(report, /Report saved: /);
		assert.equal(world.api.stats().mutating, mutatingBefore, 'a table restore sends the Kubernetes API nothing that changes it');
		await screen.sendKeys('Enter');
		// Back in the history, read again: the restore is the current version.
		const after = await history();
		const newCurrent = String(Number(before.current) + 1);
		assert.equal(after.current, newCurrent);
		assert.equal(after.entries.find(entry => entry.current)?.operation, 'RESTORE');
		await screen.waitForScreen(new RegExp(`version ${newCurrent} selected \\(current\\)`), {timeout: 120_000});

		// The live rows are the target's: a plan back to the target finds nothing to change.
		const check = await planTo(target.id);
		assert.equal(check.from, newCurrent);
		assert.equal(check.before.rows, expected.after.rows);
		assert.equal(check.before.files, expected.after.files);
		assert.deepEqual([check.filesReturning.length, check.filesLeaving.length], [0, 0]);

		const audit = (await fs.readFile(path.join(stateDir, 'audit.jsonl'), 'utf8')).trim().split('\n').map(line => JSON.parse(line) as {target: string; outcome: string});
		assert.equal(audit.filter(line => line.target === `table/${ref}`).at(-1)?.outcome, 'succeeded');
	} finally {
		await screen.kill();
		await drill.stop();
		await fs.rm(stateDir, {recursive: true, force: true});
	}
});
