import type {Duplex} from 'node:stream';
import type {WebSocket} from 'ws';
import type {ForwardTarget} from './port-forward.js';

/** The WebSocket subprotocol kubectl 1.31+ offers: SPDY/3.1 frames carried in binary messages. */
export const spdyTunnelProtocol = 'SPDY/3.1+portforward.k8s.io';

export function serveSpdyForward(socket: Duplex, _head: Buffer, _target: ForwardTarget): void {
	socket.destroy();
}

export function serveTunnelledSpdyForward(ws: WebSocket, _target: ForwardTarget): void {
	ws.close(1011);
}
