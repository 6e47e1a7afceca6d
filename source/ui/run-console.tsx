import type {Flags} from '../commands/command.js';
import {UserError} from '../errors.js';

/** Opens the full-screen console. Built by the console issue; until then it says so. */
export async function runConsole(_options: {flags: Flags; signal: AbortSignal}): Promise<number> {
	throw new UserError('The console is not built yet', {hint: 'use ilum-restore inventory or drill serve'});
}
