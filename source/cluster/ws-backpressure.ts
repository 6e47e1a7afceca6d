import type {WebSocket} from 'ws';

/** Unsent bytes a WebSocket may hold before its source is paused, and the level it resumes at. */
const high = 4 * 1024 * 1024;
const low = 1024 * 1024;

/**
Call after each `ws.send` of bytes read from `source`: when the WebSocket holds more than 4 MiB
unsent, pauses `source` until it is down to 1 MiB (or the WebSocket is no longer open). `ws` has
no drain event, so its level is looked at every 5 ms meanwhile.
*/
export function pauseWhileBuffered(ws: WebSocket, source: {pause(): unknown; resume(): unknown}): void {
	if (ws.bufferedAmount <= high) {
		return;
	}

	source.pause();
	const timer = setInterval(() => {
		if (ws.bufferedAmount < low || ws.readyState !== ws.OPEN) {
			clearInterval(timer);
			source.resume();
		}
	}, 5);
}
