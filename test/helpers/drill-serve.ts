/**
`ilum-restore drill serve` in a child process, as a user runs it: resolves on its ready line
(stdout's first line, JSON); `stop()` sends SIGTERM, `kill()` SIGKILL, both wait for the exit.
*/
import {spawn} from 'node:child_process';
import {binPath, projectRoot} from './run-cli.js';

export type ServedSide = {endpoint: string; accessKeyId: string; secretAccessKey: string};
export type ServeReady = {kubeconfig: string; namespace: string; clock: string; provider: ServedSide; backup: ServedSide};
export type Served = {
	readonly ready: ServeReady;
	/** stderr so far. */
	stderr(): string;
	stop(): Promise<{code: number; stdout: string; stderr: string}>;
	kill(): Promise<{signal: NodeJS.Signals | null}>;
};

export async function serveDrill(args: readonly string[], timeoutMs = 120_000): Promise<Served> {
	const child = spawn(process.execPath, [binPath, 'drill', 'serve', ...args], {cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe']});
	let stdout = '';
	let stderr = '';
	child.stderr.setEncoding('utf8').on('data', chunk => {
		stderr += chunk;
	});
	const exited = new Promise<{code: number; signal: NodeJS.Signals | null}>(resolve => {
		child.on('close', (code, signal) => {
			resolve({code: code ?? 1, signal});
		});
	});
	let line: string;
	try {
		// The line as it arrives (the benchmark times it), with a deadline.
		line = await new Promise<string>((resolve, reject) => {
			const timer = setTimeout(() => {
				reject(new Error(`timed out waiting for the ready line: ${stderr}`));
			}, timeoutMs);
			child.stdout.setEncoding('utf8').on('data', chunk => {
				stdout += chunk;
				if (stdout.includes('\n')) {
					clearTimeout(timer);
					resolve(stdout.slice(0, stdout.indexOf('\n')));
				}
			});
			void exited.then(({code}) => {
				clearTimeout(timer);
				reject(new Error(`drill serve exited ${code}: ${stderr}`));
			});
		});
	} catch (error) {
		child.kill('SIGKILL');
		throw error;
	}

	return {
		ready: JSON.parse(line) as ServeReady,
		stderr: () => stderr,
		async stop() {
			child.kill('SIGTERM');
			const {code} = await exited;
			return {code, stdout, stderr};
		},
		async kill() {
			child.kill('SIGKILL');
			const {signal} = await exited;
			return {signal};
		},
	};
}
