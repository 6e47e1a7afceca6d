/**
The worker-thread side of `startPgliteServer({thread: true})`: hosts PGlite and its socket server
(ducklake-pglite.ts), answers the parent's requests one at a time, in order (one session).

Messages in: `{id, type: 'query', sql, params}`, `{id, type: 'exec', script}`, `{id, type: 'dump'}`,
`{id, type: 'stop'}`. Out: `{type: 'ready', port}` or `{type: 'failed', message}` once, then
`{id, ok: true, ...}` / `{id, ok: false, message}` per request.
*/
import {parentPort, workerData} from 'node:worker_threads';
import {hostPglite, type HostOptions, type PgliteHost} from './ducklake-pglite.js';

type Request = {id: number; type: 'query'; sql: string; params: unknown[]} | {id: number; type: 'exec'; script: string} | {id: number; type: 'dump'} | {id: number; type: 'stop'};

const port = parentPort!;
const options = workerData as Omit<HostOptions, 'loadDataDir' | 'unref'> & {loadDataDir?: Uint8Array};
let host: PgliteHost;
try {
	host = await hostPglite({...options, loadDataDir: options.loadDataDir ? new Blob([options.loadDataDir as Uint8Array<ArrayBuffer>]) : undefined});
	port.postMessage({type: 'ready', port: host.port});
} catch (error) {
	port.postMessage({type: 'failed', message: error instanceof Error ? error.message : String(error)});
	port.close();
}

let queue = Promise.resolve();
port.on('message', (request: Request) => {
	queue = queue.then(async () => {
		try {
			switch (request.type) {
				case 'query': {
					const result = await host.query(request.sql, request.params);
					port.postMessage({id: request.id, ok: true, ...result});
					break;
				}

				case 'exec': {
					await host.exec(request.script);
					port.postMessage({id: request.id, ok: true});
					break;
				}

				case 'dump': {
					const bytes = await (await host.dump()).arrayBuffer();
					port.postMessage({id: request.id, ok: true, bytes}, [bytes]);
					break;
				}

				case 'stop': {
					await host.stop();
					port.postMessage({id: request.id, ok: true});
					port.close();
					break;
				}
			}
		} catch (error) {
			port.postMessage({id: request.id, ok: false, message: error instanceof Error ? error.message : String(error)});
		}
	});
});
