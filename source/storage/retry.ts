import {setTimeout as sleep} from 'node:timers/promises';

/**
Retries for S3 data transfer: which failures are transient, the backoff between attempts, and an
AIMD concurrency limit that halves on `503 SlowDown` (or 429) and creeps back up on success.
*/

/** An S3 error answer (non-2xx), with the XML `Code` when the server sent one. */
export class S3Error extends Error {
	readonly status: number;
	readonly code: string;

	constructor(status: number, code: string, message: string) {
		super(message);
		this.name = 'S3Error';
		this.status = status;
		this.code = code;
	}
}

/** The copied bytes did not check out (ETag of the PUT differs from the source's, short body). */
export class IntegrityError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'IntegrityError';
	}
}

const transientCodes = new Set([
	'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED', 'EHOSTUNREACH',
	'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT',
	'UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Whether trying again may succeed: resets, timeouts, truncated bodies, 5xx, 429, integrity mismatches. */
export function isTransient(error: unknown): boolean {
	if (error instanceof S3Error) {
		return error.status >= 500 || error.status === 429 || error.code === 'RequestTimeout' || error.code === 'SlowDown' || error.code === 'InternalError';
	}

	if (error instanceof IntegrityError) {
		return true;
	}

	if (error instanceof Error) {
		const code = (error as {code?: string}).code;
		if (code && transientCodes.has(code)) {
			return true;
		}

		if (error.name === 'AbortError') {
			return false;
		}

		const cause = (error as {cause?: unknown}).cause;
		if (cause && cause !== error) {
			return isTransient(cause);
		}

		return /socket|terminated|premature|reset|other side closed/i.test(error.message);
	}

	return false;
}

/** The server asks us to slow down (503 SlowDown, 429). */
export function isSlowDown(error: unknown): boolean {
	return error instanceof S3Error && (error.code === 'SlowDown' || error.status === 429 || error.status === 503);
}

export type RetryOptions = {
	readonly attempts?: number;
	readonly baseDelayMs?: number;
	readonly maxDelayMs?: number;
	readonly signal?: AbortSignal;
	/** Called before each new attempt, with the error that ended the previous one. */
	readonly onRetry?: (error: unknown, attempt: number) => void;
};

/** Runs `task` until it succeeds, a non-transient error, or the attempts are used up (full-jitter backoff). */
export async function withRetry<T>(task: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
	const attempts = options.attempts ?? 8;
	const base = options.baseDelayMs ?? 50;
	const max = options.maxDelayMs ?? 5000;
	for (let attempt = 1; ; attempt++) {
		try {
			// eslint-disable-next-line no-await-in-loop
			return await task(attempt);
		} catch (error) {
			if (attempt >= attempts || !isTransient(error) || options.signal?.aborted) {
				throw error;
			}

			options.onRetry?.(error, attempt);
			const delay = Math.random() * Math.min(max, base * (2 ** attempt));
			// eslint-disable-next-line no-await-in-loop
			await sleep(delay, undefined, {signal: options.signal});
		}
	}
}

/**
A semaphore whose size adapts: additive increase on success, multiplicative decrease on
SlowDown (at most once per `cooldownMs`, so one burst of 503s halves it once).
*/
export class AdaptiveLimiter {
	readonly max: number;
	private limitValue: number;
	private active = 0;
	private readonly waiters: Array<() => void> = [];
	private lastDecrease = 0;
	private readonly cooldownMs: number;

	constructor(max: number, options: {cooldownMs?: number} = {}) {
		this.max = Math.max(1, max);
		this.limitValue = this.max;
		this.cooldownMs = options.cooldownMs ?? 1000;
	}

	get limit(): number {
		return Math.max(1, Math.floor(this.limitValue));
	}

	get running(): number {
		return this.active;
	}

	async acquire(): Promise<void> {
		if (this.active < this.limit) {
			this.active++;
			return;
		}

		await new Promise<void>(resolve => {
			this.waiters.push(resolve);
		});
	}

	release(): void {
		this.active--;
		this.wake();
	}

	success(): void {
		if (this.limitValue < this.max) {
			this.limitValue = Math.min(this.max, this.limitValue + (1 / this.limitValue));
			this.wake();
		}
	}

	slowDown(): void {
		const now = Date.now();
		if (now - this.lastDecrease >= this.cooldownMs) {
			this.lastDecrease = now;
			this.limitValue = Math.max(1, this.limitValue / 2);
		}
	}

	private wake(): void {
		while (this.waiters.length > 0 && this.active < this.limit) {
			this.active++;
			this.waiters.shift()!();
		}
	}
}
