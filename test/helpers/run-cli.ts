import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binPath = path.join(projectRoot, 'source/bin.js');

export type CliResult = {code: number; stdout: string; stderr: string};

let isolatedState: string | undefined;

/**
The state dir (journals, audit log, reports) of CLI runs that name none: a temporary one per test
process (removed at exit), never the user's ~/.local/state, and never shared with a test file
running at the same time. `--state-dir`, or an XDG_STATE_HOME or HOME of its own in `options.env`, still wins.
*/
function testStateHome(): string {
	if (!isolatedState) {
		const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'ilum-restore-test-state-'));
		isolatedState = directory;
		process.once('exit', () => {
			fs.rmSync(directory, {recursive: true, force: true});
		});
	}

	return isolatedState;
}

/** Whether the caller chose where state goes: its own XDG_STATE_HOME or HOME (the drill fixture's). */
const ownsState = (env: NodeJS.ProcessEnv | undefined) => Boolean(env && ((env['XDG_STATE_HOME'] && env['XDG_STATE_HOME'] !== process.env['XDG_STATE_HOME']) || (env['HOME'] && env['HOME'] !== process.env['HOME'])));

/** Runs the real CLI as a user would (no terminal), and collects what it printed. */
export async function runCli(args: readonly string[], options: {env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number} = {}): Promise<CliResult> {
	const child = spawn(process.execPath, [binPath, ...args], {
		cwd: options.cwd ?? projectRoot,
		env: {...process.env, ...(ownsState(options.env) ? {} : {XDG_STATE_HOME: testStateHome()}), ...options.env},
		stdio: ['pipe', 'pipe', 'pipe'],
	});
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', chunk => {
		stdout += chunk;
	});
	child.stderr.setEncoding('utf8').on('data', chunk => {
		stderr += chunk;
	});
	child.stdin.end(options.input ?? '');
	const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
	const code = await new Promise<number>(resolve => {
		child.on('close', (exitCode, signal) => {
			resolve(exitCode ?? (signal ? 128 : 1));
		});
	});
	clearTimeout(timer);
	return {code, stdout, stderr};
}
