/**
A fauxqs S3 server in its own process (benchmarks and CLI tests): listens on 127.0.0.1 (random
port), prints `{"endpoint": "http://127.0.0.1:PORT"}` as one line on stdout, and exits when its
stdin closes (so it never outlives the process that started it) or on SIGTERM.
*/
import process from 'node:process';
import {spawn, type ChildProcess} from 'node:child_process';
import {fileURLToPath} from 'node:url';
import {buildApp} from 'fauxqs';

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const app = buildApp({logger: false});
	const address = await app.listen({port: 0, host: '127.0.0.1'});
	process.stdout.write(JSON.stringify({endpoint: address, pid: process.pid}) + '\n');
	const stop = async () => {
		await app.close();
		process.exit(0);
	};

	process.stdin.on('end', stop).on('close', stop).resume();
	process.once('SIGTERM', stop);
}

export type ServerProcess = {endpoint: string; child: ChildProcess; stop(): Promise<void>};

/** Starts `fauxqs-server.ts` as a child process and waits for its endpoint line. */
export async function startServerProcess(): Promise<ServerProcess> {
	const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {stdio: ['pipe', 'pipe', 'inherit']});
	const endpoint = await new Promise<string>((resolve, reject) => {
		let buffer = '';
		child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
			buffer += chunk;
			const newline = buffer.indexOf('\n');
			if (newline !== -1) {
				resolve((JSON.parse(buffer.slice(0, newline)) as {endpoint: string}).endpoint);
			}
		});
		child.once('exit', code => {
			reject(new Error(`fauxqs server exited with ${code}`));
		});
	});
	return {
		endpoint,
		child,
		async stop() {
			if (child.exitCode === null && child.signalCode === null) {
				const exited = new Promise(resolve => child.once('exit', resolve));
				child.kill('SIGTERM');
				await exited;
			}
		},
	};
}
