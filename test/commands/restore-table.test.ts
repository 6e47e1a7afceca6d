import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import {after, describe, test} from 'node:test';
import {binPath, projectRoot, runCli} from '../helpers/run-cli.js';
import {commitName, copyFixture} from '../formats/delta/fixtures.js';

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
	await Promise.all(cleanups.map(async cleanup => cleanup()));
});

async function copy(name: string) {
	const copied = await copyFixture(name);
	cleanups.push(copied.remove);
	return copied.dir;
}

/** Runs the CLI in a pseudo-terminal (util-linux `script`), answers the prompt with `answer` once it shows. */
async function inTerminal(args: readonly string[], answer: string): Promise<{code: number; output: string}> {
	const quote = (word: string) => `'${word.replaceAll('\'', '\'\\\'\'')}'`;
	const command = [process.execPath, binPath, ...args].map(word => quote(word)).join(' ');
	const child = spawn('script', ['-qec', command, '/dev/null'], {cwd: projectRoot, stdio: ['pipe', 'pipe', 'pipe']});
	let output = '';
	let answered = false;
	const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
		output += chunk;
		if (!answered && output.includes('Type the table name')) {
			answered = true;
			child.stdin.write(`${answer}\r`);
		}
	});
	const code = await new Promise<number>(resolve => {
		child.on('close', exitCode => {
			resolve(exitCode ?? 1);
		});
	});
	clearTimeout(timer);
	return {code, output};
}

const logOf = async (dir: string) => (await fs.readdir(path.join(dir, '_delta_log'))).sort();

describe('ilum-restore restore table (Delta)', () => {
	test('--dry-run prints the plan and the exact commit, and writes nothing', async () => {
		const dir = await copy('simple_table');
		const before = await logOf(dir);
		const result = await runCli(['restore', 'table', dir, '--to', '1', '--dry-run']);
		assert.equal(result.code, 0, result.stderr);
		assert.match(result.stdout, /Restore delta table .* from 4 to 1/);
		assert.match(result.stdout, /before: 5 files, 1811 bytes, 3 rows/);
		assert.match(result.stdout, /after: {2}22 files, 9104 bytes, 20 rows/);
		assert.match(result.stdout, /files returning to the live set \(22\)/);
		assert.match(result.stdout, /files leaving the live set \(5\)/);
		assert.match(result.stdout, /commit it would write, _delta_log\/00000000000000000005\.json:\n {4}\{"commitInfo":\{"timestamp":\d+,"operation":"RESTORE"/);
		assert.match(result.stdout, /checks:\n {4}- /);
		assert.match(result.stdout, /Dry run: nothing was written/);
		assert.deepEqual(await logOf(dir), before);
	});

	test('--dry-run --json: a plan line and a result line', async () => {
		const dir = await copy('simple_table');
		const result = await runCli(['restore', 'table', dir, '--to', '2', '--dry-run', '--json']);
		assert.equal(result.code, 0, result.stderr);
		const lines = result.stdout.trimEnd().split('\n').map(line => JSON.parse(line) as Record<string, any>);
		assert.equal(lines.length, 2);
		assert.equal(lines[0]!['type'], 'plan');
		assert.equal(lines[0]!['target'], '2');
		assert.equal(lines[0]!['commit'].file, '_delta_log/00000000000000000005.json');
		assert.deepEqual(lines[1], {type: 'result', ok: true, dryRun: true, written: false});
	});

	test('neither --dry-run nor --yes outside a terminal: refused with exit 3, nothing written', async () => {
		const dir = await copy('simple_table');
		const before = await logOf(dir);
		const result = await runCli(['restore', 'table', dir, '--to', '1']);
		assert.equal(result.code, 3);
		assert.match(result.stderr, /no terminal to confirm in: add --dry-run to see the plan, or --yes to go ahead/);
		assert.deepEqual(await logOf(dir), before);
	});

	test('--yes writes the RESTORE commit and verifies it; history shows it', async () => {
		const dir = await copy('simple_table');
		const result = await runCli(['restore', 'table', dir, '--to', '1', '--yes']);
		assert.equal(result.code, 0, result.stderr);
		assert.match(result.stdout, /Restored .* to 1 \(new version 5\)/);
		assert.match(result.stdout, /ok {3}live set: version 5 has the same 22 live files as version 1/);
		assert.match(result.stdout, /ok {3}rows: 20 rows/);
		const history = JSON.parse((await runCli(['history', dir, '--json'])).stdout) as {current: string; entries: Array<{operation: string}>};
		assert.equal(history.current, '5');
		assert.equal(history.entries.at(-1)!.operation, 'RESTORE');
	});

	test('the vacuumed table: refused with exit 3 naming the missing files, nothing written', async () => {
		const dir = await copy('snapshot-vacuumed');
		const before = await logOf(dir);
		const result = await runCli(['restore', 'table', dir, '--to', '0', '--yes']);
		assert.equal(result.code, 3);
		assert.match(result.stderr, /refused: not all files of version 0 exist \(vacuumed\?\): part-00000-0441e99a-c421-400e-83a1-212aa6c84c73-c000\.snappy\.parquet, part-00001-34c8c673-3f44-4fa7-b94e-07357ec28a7d-c000\.snappy\.parquet missing/);
		assert.equal(result.stderr.trimEnd().split('\n').length, 1);
		assert.deepEqual(await logOf(dir), before);
		assert.equal(before.includes(commitName(6)), false);
	});

	test('in a terminal without --yes: the plan, then typing the table name confirms; anything else stops', async () => {
		const dir = await copy('simple_table');
		const before = await logOf(dir);
		const refused = await inTerminal(['restore', 'table', dir, '--to', '1'], 'orders');
		assert.equal(refused.code, 3, refused.output);
		assert.match(refused.output, /Type the table name \(simple_table\) to write this commit/);
		assert.match(refused.output, /not confirmed: nothing was written/);
		assert.deepEqual(await logOf(dir), before);
		const confirmed = await inTerminal(['restore', 'table', dir, '--to', '1'], 'simple_table');
		assert.equal(confirmed.code, 0, confirmed.output);
		assert.match(confirmed.output, /Restored .* to 1 \(new version 5\)/);
		assert.deepEqual(await logOf(dir), [...before, commitName(5)].sort());
	});

	test('--to missing or --dry-run with --yes: usage errors (exit 2)', async () => {
		const dir = await copy('simple_table');
		assert.equal((await runCli(['restore', 'table', dir, '--dry-run'])).code, 2);
		assert.equal((await runCli(['restore', 'table', dir, '--to', '1', '--dry-run', '--yes'])).code, 2);
	});
});
