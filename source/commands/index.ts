import type {Command} from './command.js';
import {historyCommand} from './history.js';
import {restoreTableCommand} from './restore-table.js';
import {restoreMirror} from './restore-mirror.js';
import {restoreVolumeCommand} from './restore-volume.js';

/**
Every subcommand, in the order `--help` lists them. Adding one is a file and a line here.
*/
export const commands: readonly Command[] = [
	historyCommand,
	restoreTableCommand,
	restoreMirror,
	restoreVolumeCommand,
];
