import type {Command} from './command.js';

/**
Every subcommand, in the order `--help` lists them. Adding one is a file and a line here.
*/
export const commands: readonly Command[] = [
];
