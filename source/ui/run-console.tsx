import React from 'react';
import {render} from 'ink';
import type {Flags} from '../commands/command.js';
import type {ConnectOptions} from '../layers/connect.js';
import {connectLayers} from '../layers/connect.js';
import {LiveInventory} from '../layers/live-inventory.js';
import {App, type DrillClock} from './app.js';

export type ConsoleOptions = {
	flags: Flags;
	signal: AbortSignal;
	/** The drill world, started by the CLI for `--drill` (ui/ never imports drill/). */
	world?: ConnectOptions['world'];
	/** Set by `drill run`: the status bar shows the drill's clock. */
	drill?: DrillClock;
};

/** Opens the full-screen console (alternate screen) and resolves with the exit code when it is quit. */
export async function runConsole(options: ConsoleOptions): Promise<number> {
	const {flags, world} = options;
	const sources = await connectLayers({flags, world});
	const readOnly = Boolean(flags['readOnly']);
	const live = new LiveInventory(sources, {readOnly});
	live.start();
	const current = {live, sources};
	// Every connection made (each holds clients and maybe a port-forward): all closed at the end.
	const opened = [sources];
	const reconnect = async (target: {namespace?: string; context?: string}) => {
		const next = await connectLayers({flags: {...flags, namespace: target.namespace ?? current.sources.namespace, context: target.context ?? flags['context']}, world: target.context ? undefined : world && {...world, close: undefined}});
		opened.push(next);
		current.sources = next;
		current.live = new LiveInventory(next, {readOnly});
		return current.live;
	};

	// The console runs only in a terminal (cli.tsx checks): render interactively there even when CI
	// is set (a shell in a CI job, the tmux tests under CI=true), where Ink would otherwise write
	// nothing but the last frame, at exit.
	const instance = render(<App live={live} readOnly={readOnly} reconnect={reconnect} drill={options.drill}/>, {alternateScreen: true, exitOnCtrlC: false, maxFps: 10, interactive: Boolean(process.stdout.isTTY)});
	const stop = () => {
		instance.unmount();
	};

	options.signal.addEventListener('abort', stop, {once: true});
	try {
		await instance.waitUntilExit();
	} finally {
		options.signal.removeEventListener('abort', stop);
		await current.live.stop();
		for (const each of opened) {
			// eslint-disable-next-line no-await-in-loop
			await each.close?.();
		}
	}

	return 0;
}
