import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import {itemActions} from '../../source/ui/actions.js';
import {keyBindings, keysMarkdown} from '../../source/ui/keys.js';
import {projectRoot} from '../helpers/run-cli.js';

test('the readme\'s key table is the key table', async () => {
	const readme = await fs.readFile(path.join(projectRoot, 'readme.md'), 'utf8');
	const table = /<!-- keys:start -->\n([\s\S]*?)\n<!-- keys:end -->/.exec(readme)?.[1];
	assert.equal(table, keysMarkdown(keyBindings, itemActions), 'regenerate it with keysMarkdown(keyBindings, itemActions) from source/ui/keys.ts');
});
