import process from 'node:process';
import meow from 'meow';
import {commands} from './commands/index.js';
import type {Command, FlagSpec} from './commands/command.js';
import {globalFlags} from './global-flags.js';
import {UserError, exitCodes} from './errors.js';

const commandWidth = Math.max(...commands.map(command => command.path.join(' ').length));

const usage = `
	ilum-restore: recover the object storage of an Ilum data platform

	Usage
	  $ ilum-restore [--drill]             open the console (needs a terminal)
	  $ ilum-restore <command> [options]

	Commands
${commands.map(command => `	  ${command.path.join(' ').padEnd(commandWidth)}  ${command.summary}`).join('\n')}

	Options
${Object.entries(globalFlags).map(([name, spec]) => `	  ${flagLabel(name, spec).padEnd(24)} ${spec.description}`).join('\n')}

	Exit codes
	  0 ok, 1 failed, 2 usage error, 3 refused by a safety check

	Run 'ilum-restore <command> --help' for a command's options.
`;

function flagLabel(name: string, spec: FlagSpec): string {
	const long = '--' + name.replaceAll(/[A-Z]/g, letter => '-' + letter.toLowerCase());
	return spec.shortFlag ? `-${spec.shortFlag}, ${long}` : long;
}

function findCommand(input: readonly string[]): Command | undefined {
	const matches = commands.filter(command => command.path.every((word, index) => input[index] === word));
	return matches.sort((a, b) => b.path.length - a.path.length)[0];
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

async function main(): Promise<number> {
	const allFlags: Record<string, FlagSpec> = {...globalFlags};
	for (const command of commands) {
		Object.assign(allFlags, command.flags);
	}

	const cli = meow(usage, {
		importMeta: import.meta,
		description: false,
		autoHelp: false,
		autoVersion: false,
		allowUnknownFlags: false,
		flags: allFlags as any,
	});

	if (cli.flags['version']) {
		process.stdout.write(`${cli.pkg.version ?? 'unknown'}\n`);
		return exitCodes.ok;
	}

	const command = findCommand(cli.input);
	if (cli.flags['help']) {
		process.stdout.write(command ? commandHelp(command) : cli.help + '\n');
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
