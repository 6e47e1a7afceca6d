import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {binPath, projectRoot} from './helpers/run-cli.js';

/** Runs the CLI with Node reporting `version` (a preload overrides process.versions.node). */
function runAs(version: string) {
	return spawnSync(process.execPath, ['--import', `data:text/javascript,Object.defineProperty(process.versions,'node',{value:'${version}'})`, binPath, '--version'], {cwd: projectRoot, encoding: 'utf8', timeout: 120_000});
}

test('a Node older than package.json\'s engines gets one line saying so, not a stack trace', () => {
	const result = runAs('20.19.0');
	assert.equal(result.status, 1);
	assert.equal(result.stdout, '');
	assert.equal(result.stderr, 'ilum-restore: Node 20.19.0 is too old: it needs Node 22.19 or newer (package.json engines); install a newer Node (https://nodejs.org) and run again\n');
});

test('Node 22.19 is new enough', () => {
	const result = runAs('22.19.0');
	assert.equal(result.status, 0, result.stderr);
	assert.match(result.stdout, /^\d+\.\d+\.\d+\n$/);
});
