/**
Runs the `restore mirror` command's module alone, without the CLI's other commands (for the
benchmark: what `restore mirror` costs when the CLI loads only the command it runs).
Arguments: the same flags as the CLI, parsed minimally: --bucket B --mirror-endpoint URL --s3-endpoint URL [--concurrency N].
*/
import process from 'node:process';
import {restoreMirror} from '../../source/commands/restore-mirror.js';

const argv = process.argv.slice(2);
const flag = (name: string) => {
	const index = argv.indexOf(`--${name}`);
	return index === -1 ? undefined : argv[index + 1];
};

const flags = {
	yes: true,
	bucket: [flag('bucket')],
	mirrorEndpoint: flag('mirror-endpoint'),
	s3Endpoint: flag('s3-endpoint'),
	concurrency: Number(flag('concurrency') ?? 32),
	namespace: 'ilum',
	json: false,
};
process.exitCode = await restoreMirror.run({args: [], flags, stdout: process.stdout, stderr: process.stderr, interactive: false, signal: new AbortController().signal});
