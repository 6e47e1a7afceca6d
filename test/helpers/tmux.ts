import {execFile} from 'node:child_process';
import {promisify} from 'node:util';

const run = promisify(execFile);

/** A program running in a detached tmux session of a fixed size: read its screen, type keys. */
export type TmuxScreen = {
	readonly session: string;
	/** The visible screen as text (`escapes`: with colours, for screenshots). */
	capture(options?: {escapes?: boolean}): Promise<string>;
	/** `tmux send-keys` names: `Enter`, `Escape`, `Tab`, `BTab`, `Down`, `j`... */
	sendKeys(...keys: string[]): Promise<void>;
	waitForScreen(expected: string | RegExp | ((screen: string) => boolean), options?: {timeout?: number}): Promise<string>;
	/** Whether the program is still running (the pane has not died). */
	alive(): Promise<boolean>;
	kill(): Promise<void>;
};

let counter = 0;

export async function startInTmux(command: string, options: {columns?: number; rows?: number; env?: NodeJS.ProcessEnv; cwd?: string} = {}): Promise<TmuxScreen> {
	const session = `ilum-test-${process.pid}-${++counter}`;
	const environment = Object.entries(options.env ?? {}).filter(([, value]) => value !== undefined).map(([key, value]) => `${key}='${String(value).replaceAll('\'', '\'\\\'\'')}'`).join(' ');
	await run('tmux', ['new-session', '-d', '-s', session, '-x', String(options.columns ?? 160), '-y', String(options.rows ?? 48), '-c', options.cwd ?? process.cwd(), `env ${environment} ${command}`]);
	await run('tmux', ['set-option', '-t', session, 'remain-on-exit', 'on']);
	const capture = async ({escapes = false} = {}) => (await run('tmux', ['capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session])).stdout;
	return {
		session,
		capture,
		async sendKeys(...keys) {
			await run('tmux', ['send-keys', '-t', session, ...keys]);
		},
		async waitForScreen(expected, {timeout = 60_000} = {}) {
			const deadline = Date.now() + timeout;
			const matches = (screen: string) => typeof expected === 'string' ? screen.includes(expected) : expected instanceof RegExp ? expected.test(screen) : expected(screen);
			for (;;) {
				// eslint-disable-next-line no-await-in-loop
				const screen = await capture();
				if (matches(screen)) {
					return screen;
				}

				if (Date.now() > deadline) {
					throw new Error(`The screen did not show ${String(expected)} within ${timeout} ms:\n${screen}`);
				}

				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => {
					setTimeout(resolve, 100);
				});
			}
		},
		async alive() {
			const {stdout} = await run('tmux', ['display-message', '-p', '-t', session, '#{pane_dead}']);
			return stdout.trim() === '0';
		},
		async kill() {
			await run('tmux', ['kill-session', '-t', session]).catch(() => {});
		},
	};
}
