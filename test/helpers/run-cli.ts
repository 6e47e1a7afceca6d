import {spawn} from 'node:child_process';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const binPath = path.join(projectRoot, 'source/bin.js');

export type CliResult = {code: number; stdout: string; stderr: string};

/** Runs the real CLI as a user would (no terminal), and collects what it printed. */
export async function runCli(args: readonly string[], options: {env?: NodeJS.ProcessEnv; input?: string; cwd?: string; timeoutMs?: number} = {}): Promise<CliResult> {
	const child = spawn(process.execPath, [binPath, ...args], {
		cwd: options.cwd ?? projectRoot,
		env: {...process.env, ...options.env},
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
