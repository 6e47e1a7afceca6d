import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {projectRoot, runCli} from './helpers/run-cli.js';

test('the readme shows the exact --help', async () => {
	const readme = await fs.readFile(path.join(projectRoot, 'readme.md'), 'utf8');
	const shown = /<!-- help:start -->\n```\n([\s\S]*?)```\n<!-- help:end -->/.exec(readme)?.[1];
	const help = await runCli(['--help']);
	assert.equal(help.code, 0);
	assert.equal(shown, help.stdout.replace(/^\n+/, ''), 'paste the output of ilum-restore --help between the help markers');
});
