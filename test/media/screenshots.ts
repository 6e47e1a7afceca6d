/**
Takes the readme's screenshots from a real run: the drill world served in its own process
(`drill serve`), the console given only its kubeconfig, as on a real cluster (S3 through the
API server's port-forward, named in the status line), in tmux (160x48), captured with colours,
rendered to SVG (and PNG when `rsvg-convert` is installed).

    node --import tsx test/media/screenshots.ts
*/
import {spawn} from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {startInTmux, type TmuxScreen} from '../helpers/tmux.js';
import {saveScreenshot} from './save-screenshot.js';

const home = await fs.mkdtemp(path.join(os.tmpdir(), 'screenshots-'));
const server = spawn(process.execPath, [binPath, 'drill', 'serve', '--state-dir', path.join(home, 'state')], {cwd: projectRoot, stdio: ['ignore', 'pipe', 'inherit'], env: {...process.env, HOME: home}});
const served = await new Promise<{kubeconfig: string}>((resolve, reject) => {
	readline.createInterface({input: server.stdout}).once('line', line => {
		resolve(JSON.parse(line) as {kubeconfig: string});
	});
	server.once('exit', code => {
		reject(new Error(`drill serve exited with ${code}`));
	});
});
/** The screen once two captures a quarter second apart agree (a frame is not caught half drawn; at most 30 s). */
async function settled(screen: TmuxScreen): Promise<string> {
	const deadline = Date.now() + 30_000;
	let previous = await screen.capture({escapes: true});
	while (Date.now() < deadline) {
		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 250);
		});
		// eslint-disable-next-line no-await-in-loop
		const current = await screen.capture({escapes: true});
		if (current === previous) {
			return current;
		}

		previous = current;
	}

	return previous;
}

const screen = await startInTmux(`${process.execPath} ${binPath} --kubeconfig ${served.kubeconfig}`, {cwd: projectRoot, env: {HOME: home, AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_S3: ''}});
try {
	await screen.waitForScreen(text => text.includes('S3 port-forward') && text.includes('ilum-langfuse') && /ilum-data +\d+ +\d+/.test(text) && /Tables \([1-9]/.test(text) && !text.includes('loading…') && !text.includes('counting') && !text.includes('reading table histories'), {timeout: 180_000});
	await saveScreenshot('console-home', await settled(screen), {keepAnsi: true});
	await screen.sendKeys('Tab');
	await screen.waitForScreen('Mirrors (7)');
	await screen.sendKeys('j', 'j', 'j', 'j', 'j', 'j', 'Enter');
	await screen.waitForScreen(text => text.includes('provider vs mirror') && text.includes('Backup CronJob') && text.includes('restore this bucket from the mirror'));
	await saveScreenshot('console-bucket-drift', await settled(screen), {keepAnsi: true});
	await screen.sendKeys('Escape');
	await screen.waitForScreen('Recovery points');
	await screen.sendKeys('Tab', 'Enter');
	// The whole history drawn: the current version marked, the retention line, the keys at the bottom.
	await screen.waitForScreen(text => /ID +TIME \(UTC\)/.test(text) && /\* \d+ +\d{4}-/.test(text) && text.includes('Retention:') && text.includes('R restore the table'), {timeout: 60_000});
	await saveScreenshot('console-table-history', await settled(screen), {keepAnsi: true});
	await screen.sendKeys('Escape');
	await screen.waitForScreen('Recovery points');
	await screen.sendKeys('q');
} finally {
	await screen.kill();
	if (server.exitCode === null) {
		const exited = new Promise(resolve => {
			server.once('exit', resolve);
		});
		server.kill('SIGTERM');
		await exited;
	}
	await fs.rm(home, {recursive: true, force: true});
}
