/**
Shared by the benchmarks that race another tool (not a benchmark itself: run.ts skips it).

`timed(command, args, env)` runs a child process under `/usr/bin/time -v` and returns its wall
time, CPU seconds and peak RSS (the tool's own process); `rcloneRemote(name, endpoint, keys)` is
the `RCLONE_CONFIG_<NAME>_*` environment for an S3 remote on a path-style endpoint (no config file).
*/
import {spawn} from 'node:child_process';
import path from 'node:path';
import process from 'node:process';

export type Run = {tool: string; wallMs: number; cpuS: number; peakRssMb: number; exitCode: number; stderrTail: string};

/** Runs `command` under `/usr/bin/time -v`; `onStdout` sees its stdout (else it is dropped). */
export async function timed(command: string, args: string[], env: NodeJS.ProcessEnv, onStdout?: (chunk: string) => void): Promise<Run> {
	const child = spawn('/usr/bin/time', ['-v', command, ...args], {env, stdio: ['ignore', 'pipe', 'pipe']});
	let stderr = '';
	if (onStdout) {
		child.stdout.setEncoding('utf8').on('data', onStdout);
	} else {
		child.stdout.resume();
	}

	child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
		stderr += chunk;
		if (stderr.length > 200_000) {
			stderr = stderr.slice(-100_000);
		}
	});
	const started = process.hrtime.bigint();
	const exitCode = await new Promise<number>(resolve => {
		child.on('close', code => {
			resolve(code ?? 1);
		});
	});
	const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
	const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
	const user = /User time \(seconds\): ([\d.]+)/.exec(stderr);
	const system = /System time \(seconds\): ([\d.]+)/.exec(stderr);
	const cpuS = Number(user?.[1] ?? Number.NaN) + Number(system?.[1] ?? Number.NaN);
	return {tool: path.basename(command), wallMs, cpuS, peakRssMb: rss ? Number(rss[1]) / 1024 : Number.NaN, exitCode, stderrTail: stderr.split('\n').filter(line => !line.startsWith('\t')).slice(-6).join('\n')};
}

/** The environment that defines the rclone remote `name` (upper case) as S3 at `endpoint`, path-style. */
export function rcloneRemote(name: string, endpoint: string, keys: {accessKeyId: string; secretAccessKey: string}): Record<string, string> {
	return {
		[`RCLONE_CONFIG_${name}_TYPE`]: 's3',
		[`RCLONE_CONFIG_${name}_PROVIDER`]: 'Other',
		[`RCLONE_CONFIG_${name}_ENDPOINT`]: endpoint,
		[`RCLONE_CONFIG_${name}_ACCESS_KEY_ID`]: keys.accessKeyId,
		[`RCLONE_CONFIG_${name}_SECRET_ACCESS_KEY`]: keys.secretAccessKey,
		[`RCLONE_CONFIG_${name}_REGION`]: 'us-east-1',
		[`RCLONE_CONFIG_${name}_FORCE_PATH_STYLE`]: 'true',
	};
}
