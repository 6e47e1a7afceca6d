import process from 'node:process';
import meow from 'meow';
import {commands, findCommand} from './commands/index.js';
import type {Command, FlagSpec} from './commands/command.js';
import {globalFlags} from './global-flags.js';
import {UserError, exitCodes} from './errors.js';

/** The global help: every command's summary, so every command is loaded (only for --help). */
async function globalUsage(): Promise<string> {
	const loaded = await Promise.all(commands.map(async entry => entry.load()));
	const commandWidth = Math.max(...loaded.map(command => command.path.join(' ').length));
	return `
  ilum-restore: recover the object storage of an Ilum data platform

  Usage
    $ ilum-restore [--drill]             open the console (needs a terminal)
    $ ilum-restore <command> [options]

  Commands
${loaded.map(command => `    ${command.path.join(' ').padEnd(commandWidth)}  ${command.summary}`).join('\n')}

  Options
${Object.entries(globalFlags).map(([name, spec]) => `    ${flagLabel(name, spec).padEnd(24)} ${spec.description}`).join('\n')}

  Exit codes
    0 ok, 1 failed, 2 usage error, 3 refused by a safety check, 130 stopped on request (resumable)

  Run 'ilum-restore <command> --help' for a command's options.
`;
}

function flagLabel(name: string, spec: FlagSpec): string {
	const long = '--' + name.replaceAll(/[A-Z]/g, letter => '-' + letter.toLowerCase());
	return spec.shortFlag ? `-${spec.shortFlag}, ${long}` : long;
}


function commandHelp(command: Command): string {
	const flags = Object.entries(command.flags ?? {});
	return [
		`\n  ${command.summary}\n`,
		command.usage.trim().split('\n').map(line => `  ${line.trim()}`.trimEnd()).join('\n'),
		flags.length > 0 ? '\n  Options\n' + flags.map(([name, spec]) => `    ${flagLabel(name, spec).padEnd(24)} ${spec.description}`).join('\n') : '',
		'\n  Global options: see ilum-restore --help\n',
	].join('\n');
}

/** The first option on the command line that none of `flags` names (long, short or `--no-`). */
function unknownFlags(argv: readonly string[], flags: Record<string, FlagSpec>): string | undefined {
	const longNames = new Set(Object.keys(flags).map(name => name.replaceAll(/[A-Z]/g, letter => '-' + letter.toLowerCase())));
	const shortNames = new Set(Object.values(flags).map(spec => spec.shortFlag).filter(Boolean));
	for (const token of argv) {
		if (token === '--') {
			return undefined;
		}

		const long = /^--(?:no-)?([^=]+)/.exec(token);
		if (long && !longNames.has(long[1]!) && !longNames.has(token.slice(2).split('=')[0]!)) {
			return token.split('=')[0];
		}

		const short = /^-([^-])/.exec(token);
		if (short && !shortNames.has(short[1]!) && !/^-\d/.test(token)) {
			return token;
		}
	}

	return undefined;
}

const parse = (flags: Record<string, FlagSpec>, allowUnknownFlags: boolean) => meow('', {
	importMeta: import.meta,
	description: false,
	autoHelp: false,
	autoVersion: false,
	allowUnknownFlags,
	flags: flags as any,
});

async function main(): Promise<number> {
	// First pass: the global flags only, to find which command runs; then load just that command
	// and parse again with its flags, refusing any flag it does not know.
	const first = parse(globalFlags, true);
	if (first.flags['version']) {
		process.stdout.write(`${first.pkg.version ?? 'unknown'}\n`);
		return exitCodes.ok;
	}

	const entry = findCommand(first.input);
	const command = entry ? await entry.load() : undefined;
	// The console takes the inventory's flags (where to look for tables).
	const extraFlags = command?.flags ?? (first.input.length === 0 ? (await import('./commands/inventory.js')).inventoryFlags : {});
	const known = {...globalFlags, ...extraFlags};
	const unknown = unknownFlags(process.argv.slice(2), known);
	if (unknown) {
		throw new UserError(`Unknown option ${unknown}${command ? ` for ${command.path.join(' ')}` : ''}`, {exitCode: exitCodes.usage, hint: `see ilum-restore ${command ? `${command.path.join(' ')} ` : ''}--help`});
	}

	const cli = parse(known, true);
	if (cli.flags['help']) {
		process.stdout.write(command ? commandHelp(command) : await globalUsage());
		return exitCodes.ok;
	}

	const controller = new AbortController();
	const stop = () => {
		controller.abort();
	};

	process.once('SIGINT', stop);
	process.once('SIGTERM', stop);

	const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
	if (!command) {
		if (cli.input.length > 0) {
			throw new UserError(`Unknown command '${cli.input.join(' ')}'`, {exitCode: exitCodes.usage, hint: 'run ilum-restore --help for the list'});
		}

		if (!interactive) {
			throw new UserError('The console needs a terminal', {exitCode: exitCodes.usage, hint: 'use ilum-restore inventory (add --json for scripts)'});
		}

		const {runConsole} = await import('./ui/run-console.js');
		const world = cli.flags['drill'] ? await (await import('./commands/inventory.js')).drillWorld(cli.flags, controller.signal) : undefined;
		return runConsole({flags: cli.flags, signal: controller.signal, world});
	}

	return command.run({
		args: cli.input.slice(command.path.length),
		flags: cli.flags,
		stdout: process.stdout,
		stderr: process.stderr,
		interactive,
		signal: controller.signal,
	});
}

// A reader that goes away (`ilum-restore history ... | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
	stream.on('error', (error: NodeJS.ErrnoException) => {
		if (error.code === 'EPIPE') {
			process.exit(process.exitCode ?? 0);
		}

		throw error;
	});
}

try {
	process.exitCode = await main();
} catch (error) {
	if (error instanceof UserError) {
		process.stderr.write(`ilum-restore: ${error.line()}\n`);
		process.exitCode = error.exitCode;
	} else {
		process.stderr.write(`ilum-restore: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`);
		process.exitCode = exitCodes.failed;
	}
}
