/**
The one way a command fails on purpose: a single line that says what is wrong and what to do.

`exitCode` follows the CLI's convention: 1 failed, 2 usage error, 3 refused by a safety check,
130 stopped at the operator's request (Ctrl-C: 128 + SIGINT, as shells report it; resumable).
Anything thrown that is not a `UserError` is a bug and is reported with its stack.
*/
export class UserError extends Error {
	readonly exitCode: number;
	readonly hint?: string;

	constructor(message: string, options: {exitCode?: number; hint?: string; cause?: unknown} = {}) {
		super(message, {cause: options.cause});
		this.name = 'UserError';
		this.exitCode = options.exitCode ?? 1;
		this.hint = options.hint;
	}

	/** The line printed to stderr: the problem, then what to do about it. */
	line(): string {
		return this.hint ? `${this.message}: ${this.hint}` : this.message;
	}
}

export const exitCodes = {
	ok: 0,
	failed: 1,
	usage: 2,
	refused: 3,
	/** A restore stopped on request (Ctrl-C / SIGTERM): not a failure, the journal keeps the place for `--resume`. */
	stopped: 130,
} as const;

/** A usage error (exit 2). */
export const usageError = (message: string, hint?: string) => new UserError(message, {exitCode: exitCodes.usage, hint});

/** A refusal by a safety check (exit 3). */
export const refusal = (message: string, hint?: string) => new UserError(message, {exitCode: exitCodes.refused, hint});
