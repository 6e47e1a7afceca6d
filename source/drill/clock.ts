/**
The drill world's clock. Every controller reads the time and sets its timers through it, so a
drill can run faster than real time (`speed` 60: one simulated minute per real second) or jump
forward (`advance`) to make a CronJob due now.

Simulated time starts at `start` (default: the real time at creation) and runs at `speed` times
real time. Timers are kept in simulated time: changing the speed or advancing re-schedules them.
*/
export type ClockTimer = {
	readonly due: number;
	cancel(): void;
};

type Entry = {
	due: number;
	sequence: number;
	callback: () => void;
	cancelled: boolean;
};

export class Clock {
	#baseSim: number;
	#baseReal: number;
	#speed: number;
	#entries: Entry[] = [];
	#sequence = 0;
	#timer: NodeJS.Timeout | undefined;
	#stopped = false;
	readonly #listeners = new Set<() => void>();

	constructor(options: {start?: number; speed?: number} = {}) {
		this.#baseReal = Date.now();
		this.#baseSim = options.start ?? this.#baseReal;
		this.#speed = options.speed ?? 1;
		if (!(this.#speed > 0)) {
			throw new RangeError('clock speed must be positive');
		}
	}

	/** Simulated milliseconds since the epoch. */
	now(): number {
		return this.#baseSim + ((Date.now() - this.#baseReal) * this.#speed);
	}

	date(): Date {
		return new Date(this.now());
	}

	/** ISO 8601 without milliseconds, as Kubernetes writes times. */
	iso(ms = this.now()): string {
		return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
	}

	get speed(): number {
		return this.#speed;
	}

	setSpeed(speed: number): void {
		if (!(speed > 0)) {
			throw new RangeError('clock speed must be positive');
		}

		this.#rebase();
		this.#speed = speed;
		this.#reschedule();
		this.#emit();
	}

	/** Jumps forward by `ms` simulated milliseconds; timers that become due fire in order. */
	advance(ms: number): void {
		if (ms < 0) {
			throw new RangeError('the clock only moves forward');
		}

		this.#rebase();
		this.#baseSim += ms;
		this.#reschedule();
		this.#emit();
	}

	/** Runs `callback` once `ms` simulated milliseconds have passed. */
	setTimeout(callback: () => void, ms: number): ClockTimer {
		return this.at(this.now() + Math.max(0, ms), callback);
	}

	/** Runs `callback` when simulated time reaches `due`. */
	at(due: number, callback: () => void): ClockTimer {
		const entry: Entry = {due, sequence: this.#sequence++, callback, cancelled: false};
		this.#entries.push(entry);
		this.#entries.sort((a, b) => a.due - b.due || a.sequence - b.sequence);
		this.#reschedule();
		return {
			due,
			cancel: () => {
				entry.cancelled = true;
				this.#entries = this.#entries.filter(other => other !== entry);
				this.#reschedule();
			},
		};
	}

	/** Resolves after `ms` simulated milliseconds (or rejects when `signal` aborts). */
	async sleep(ms: number, signal?: AbortSignal): Promise<void> {
		signal?.throwIfAborted();
		await new Promise<void>((resolve, reject) => {
			const timer = this.setTimeout(() => {
				signal?.removeEventListener('abort', onAbort);
				resolve();
			}, ms);
			const onAbort = () => {
				timer.cancel();
				reject(signal!.reason);
			};

			signal?.addEventListener('abort', onAbort, {once: true});
		});
	}

	/** Called after every speed change or jump (a UI shows the clock). */
	onChange(listener: () => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/** Cancels every pending timer; the clock still tells the time. */
	stop(): void {
		this.#stopped = true;
		this.#entries = [];
		clearTimeout(this.#timer);
		this.#timer = undefined;
	}

	#rebase(): void {
		const now = this.now();
		this.#baseReal = Date.now();
		this.#baseSim = now;
	}

	#emit(): void {
		for (const listener of this.#listeners) {
			listener();
		}
	}

	#reschedule(): void {
		clearTimeout(this.#timer);
		this.#timer = undefined;
		if (this.#stopped) {
			return;
		}

		const next = this.#entries[0];
		if (!next) {
			return;
		}

		const delay = Math.max(0, (next.due - this.now()) / this.#speed);
		// Node caps timers at 2^31-1 ms; a far timer is re-armed when it wakes.
		this.#timer = setTimeout(() => {
			this.#fire();
		}, Math.min(delay, 2_147_483_647));
		this.#timer.unref?.();
	}

	#fire(): void {
		this.#timer = undefined;
		const now = this.now();
		const due: Entry[] = [];
		while (this.#entries.length > 0 && this.#entries[0]!.due <= now) {
			due.push(this.#entries.shift()!);
		}

		this.#reschedule();
		for (const entry of due) {
			if (!entry.cancelled) {
				try {
					entry.callback();
				} catch (error) {
					queueMicrotask(() => {
						throw error;
					});
				}
			}
		}
	}
}

/**
The simulated time a world opens at, from `--clock-start`: an ISO 8601 time with a zone
(`2026-11-22T09:05:00Z`, `...+01:00`), or `HH:MM` in UTC, meaning the latest such time not after
`now` (today's, or yesterday's when today's is still ahead), so a drill's times never lie in the
future of the machine's clock. Undefined for anything else.
*/
export function parseClockStart(text: string, now = Date.now()): number | undefined {
	const trimmed = text.trim();
	const short = /^(\d{1,2}):(\d{2})$/.exec(trimmed);
	if (short) {
		const hours = Number(short[1]);
		const minutes = Number(short[2]);
		if (hours > 23 || minutes > 59) {
			return undefined;
		}

		const day = new Date(now);
		let start = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hours, minutes);
		if (start > now) {
			start -= 24 * 3_600_000;
		}

		return start;
	}

	// A full date and time with a zone (Z or an offset): no guessing at the local zone.
	if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)) {
		return undefined;
	}

	const parsed = Date.parse(trimmed);
	return Number.isFinite(parsed) ? parsed : undefined;
}
