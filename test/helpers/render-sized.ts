import {EventEmitter} from 'node:events';
import type {ReactElement} from 'react';
import {render as inkRender} from 'ink';

/**
ink-testing-library's `render`, with a terminal of a chosen size (its own is fixed at 100 columns,
and Ink cuts lines wider than the terminal). Frames, `lastFrame()`, `stdin.write()` as there.
*/
class Stdout extends EventEmitter {
	readonly frames: string[] = [];
	columns: number;
	rows: number;
	isTTY = true;
	private last: string | undefined;
	private readonly onFrame: ((frame: string) => void) | undefined;

	constructor(columns: number, rows: number, onFrame?: (frame: string) => void) {
		super();
		this.columns = columns;
		this.rows = rows;
		this.onFrame = onFrame;
	}

	write = (frame: string) => {
		this.frames.push(frame);
		this.last = frame;
		this.onFrame?.(frame);
		return true;
	};

	lastFrame = () => this.last;
}

class Stdin extends EventEmitter {
	isTTY = true;
	private data: string | null = null;
	write = (data: string) => {
		this.data = data;
		this.emit('readable');
		this.emit('data', data);
	};

	setEncoding() {}
	setRawMode() {}
	resume() {}
	pause() {}
	ref() {}
	unref() {}
	read = () => {
		const {data} = this;
		this.data = null;
		return data;
	};
}

/** `onFrame` is called with each frame as Ink writes it (inside React's commit: a key written there arrives before any effect runs). */
export function renderSized(tree: ReactElement, size: {columns: number; rows: number} = {columns: 160, rows: 48}, options: {onFrame?: (frame: string) => void} = {}) {
	const stdout = new Stdout(size.columns, size.rows, options.onFrame);
	const stderr = new Stdout(size.columns, size.rows);
	const stdin = new Stdin();
	const instance = inkRender(tree, {stdout: stdout as any, stderr: stderr as any, stdin: stdin as any, debug: true, exitOnCtrlC: false, patchConsole: false});
	return {
		lastFrame: stdout.lastFrame,
		frames: stdout.frames,
		stdin,
		unmount: instance.unmount,
		waitUntilExit: instance.waitUntilExit,
	};
}

/** Keys as a terminal sends them. */
export const keys = {up: '\u001B[A', down: '\u001B[B', right: '\u001B[C', left: '\u001B[D', enter: '\r', escape: '\u001B', tab: '\t', shiftTab: '\u001B[Z', backspace: '\u007F'} as const;
