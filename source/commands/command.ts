/**
A subcommand of the CLI: one file in `source/commands/`, one line in `source/commands/index.ts`.

`cli.tsx` merges every command's flags with the global ones, finds the command whose `path`
matches the first words of the input, and calls `run`. `run` returns the exit code; it throws
`UserError` for expected failures (one line on stderr, the error's exit code).
*/
export type FlagSpec = {
	readonly type: 'string' | 'boolean' | 'number';
	readonly shortFlag?: string;
	readonly isMultiple?: boolean;
	readonly default?: string | boolean | number | string[];
	readonly description: string;
};

export type Flags = Record<string, any>;

export type CommandContext = {
	/** Positional arguments after the command's path. */
	readonly args: string[];
	readonly flags: Flags;
	readonly stdout: NodeJS.WriteStream;
	readonly stderr: NodeJS.WriteStream;
	/** Both stdin and stdout are terminals: prompts and full-screen UI are possible. */
	readonly interactive: boolean;
	/** Aborted on SIGINT/SIGTERM. Long work stops at the next safe point. */
	readonly signal: AbortSignal;
};

export type Command = {
	/** The words that name it, e.g. ['restore', 'table']. */
	readonly path: readonly string[];
	/** One line for the command list in --help. */
	readonly summary: string;
	/** Usage lines and notes shown by `ilum-restore <path> --help`. */
	readonly usage: string;
	readonly flags?: Readonly<Record<string, FlagSpec>>;
	run(context: CommandContext): Promise<number>;
};
