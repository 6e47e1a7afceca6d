import {Worker, isMainThread, parentPort, workerData} from 'node:worker_threads';
import {FastS3Client, type FastS3Options, type S3Endpoint} from '../../storage/fast-s3.js';
import {IntegrityError, S3Error} from '../../storage/retry.js';
import {copyMirror, type CopyOptions, type MirrorPair, type ProgressEvent} from './copy.js';

/**
`copyMirror` in a worker thread whose young generation is capped, for the restore's own process.

Measured (1 KiB objects, the CLI): V8's young generation, not data, is what made the peak RSS of
a long copy grow: it grows to its default maximum under the copy's allocation rate (the whole CLI
with `--max-semi-space-size=8`: 180 MB instead of 273 MB at 100,000 objects, slightly less CPU).
V8 takes that limit only when a heap is created: a worker's `resourceLimits` is the way to set it
from inside the process. With the copy here: 190-207 MB at 100,000 objects, 218 MB at 300,000
(293 MB in the main thread); the main thread only relays the events.

The same API as `copyMirror` (the pairs' clients are rebuilt in the worker from their endpoints
and options; the events are the same plain objects). Stopping (the signal, or the consumer
leaving early) stops the copy in the worker and ends it.
*/

type SideData = {endpoint: S3Endpoint; options: FastS3Options; bucket: string; prefix?: string};
type PairData = {name: string; source: SideData; target: SideData};
type Message =
	| {type: 'event'; event: ProgressEvent}
	| {type: 'end'}
	| {type: 'error'; error: {name: string; message: string; status?: number; code?: string}};

/** Young generation of the worker (MB): semi-spaces of 8 MB. */
const youngGenerationMb = 24;

export async function * copyMirrorInWorker(pairs: readonly MirrorPair[], options: CopyOptions = {}): AsyncGenerator<ProgressEvent> {
	options.signal?.throwIfAborted();
	const side = (value: MirrorPair['source']): SideData => ({endpoint: value.client.endpoint, options: value.client.options, bucket: value.bucket, ...(value.prefix === undefined ? {} : {prefix: value.prefix})});
	const {signal, ...rest} = options;
	const worker = new Worker(bootstrap(), {
		workerData: {pairs: pairs.map(pair => ({name: pair.name, source: side(pair.source), target: side(pair.target)})), options: rest},
		resourceLimits: {maxYoungGenerationSizeMb: youngGenerationMb},
	});
	const queue: Message[] = [];
	let wake: (() => void) | undefined;
	const push = (message: Message) => {
		queue.push(message);
		wake?.();
	};

	worker.on('message', (message: Message) => {
		push(message);
	});
	worker.on('error', error => {
		push({type: 'error', error: {name: error.name, message: error.message}});
	});
	worker.on('exit', code => {
		push(code === 0 ? {type: 'end'} : {type: 'error', error: {name: 'Error', message: `the copy's worker thread exited with ${code}`}});
	});
	const stop = () => {
		worker.postMessage('stop');
	};

	signal?.addEventListener('abort', stop, {once: true});
	try {
		for (;;) {
			if (queue.length === 0) {
				// eslint-disable-next-line no-await-in-loop
				await new Promise<void>(resolve => {
					wake = resolve;
				});
				wake = undefined;
				continue;
			}

			const message = queue.shift()!;
			if (message.type === 'event') {
				yield message.event;
			} else if (message.type === 'end') {
				return;
			} else {
				signal?.throwIfAborted();
				throw errorOf(message.error);
			}
		}
	} finally {
		signal?.removeEventListener('abort', stop);
		await worker.terminate();
	}
}

/**
The worker's entry: a small ES module that lets `.js` specifiers resolve to this project's `.ts`
files (as the source imports them) and imports this file, which Node runs with its own type
stripping (the code base is erasable-syntax-only TypeScript). The CLI's tsx loader (registered in
bin.js) does not reach worker threads, and loading tsx again there cost about twice the start-up
(0.75-0.85 s against 0.35-0.4 s measured under load).
*/
function bootstrap(): URL {
	const code = `import {registerHooks} from 'node:module';
registerHooks({resolve(specifier, context, next) {
	try {
		return next(specifier, context);
	} catch (error) {
		if (specifier.endsWith('.js') && (specifier.startsWith('.') || specifier.startsWith('file:'))) {
			return next(specifier.slice(0, -3) + '.ts', context);
		}

		throw error;
	}
}});
await import(${JSON.stringify(import.meta.url)});
`;
	return new URL('data:text/javascript,' + encodeURIComponent(code));
}

function errorOf(error: {name: string; message: string; status?: number; code?: string}): Error {
	if (error.name === 'S3Error') {
		return new S3Error(error.status ?? 0, error.code ?? '', error.message);
	}

	if (error.name === 'IntegrityError') {
		return new IntegrityError(error.message);
	}

	const copy = new Error(error.message);
	copy.name = error.name;
	if (error.code) {
		(copy as Error & {code?: string}).code = error.code;
	}

	return copy;
}

/** The worker's side: rebuild the clients, copy, post every event. */
async function runInWorker(): Promise<void> {
	const data = workerData as {pairs: PairData[]; options: Omit<CopyOptions, 'signal'>};
	const controller = new AbortController();
	parentPort!.on('message', message => {
		if (message === 'stop') {
			controller.abort();
		}
	});
	const clients: FastS3Client[] = [];
	const client = (side: SideData) => {
		const built = new FastS3Client(side.endpoint, side.options);
		clients.push(built);
		return built;
	};

	const pairs: MirrorPair[] = data.pairs.map(pair => ({
		name: pair.name,
		source: {client: client(pair.source), bucket: pair.source.bucket, ...(pair.source.prefix === undefined ? {} : {prefix: pair.source.prefix})},
		target: {client: client(pair.target), bucket: pair.target.bucket, ...(pair.target.prefix === undefined ? {} : {prefix: pair.target.prefix})},
	}));
	try {
		for await (const event of copyMirror(pairs, {...data.options, signal: controller.signal})) {
			parentPort!.postMessage({type: 'event', event} satisfies Message);
		}

		parentPort!.postMessage({type: 'end'} satisfies Message);
	} catch (error) {
		const value = error as {name?: string; message?: string; status?: number; code?: string};
		parentPort!.postMessage({type: 'error', error: {name: value.name ?? 'Error', message: value.message ?? String(error), ...(typeof value.status === 'number' ? {status: value.status} : {}), ...(typeof value.code === 'string' ? {code: value.code} : {})}} satisfies Message);
	} finally {
		await Promise.all(clients.map(async built => built.destroy()));
		parentPort!.close();
	}
}

if (!isMainThread && (workerData as {pairs?: unknown} | undefined)?.pairs) {
	await runInWorker();
}
