import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {seedObjects, startTestS3, testCredentials} from '../helpers/s3-pair.js';
import {startInTmux} from '../helpers/tmux.js';

/**
`restore mirror` in a real terminal (tmux) without --yes: the plan with the table per bucket, then
the engine's gates typed at the prompt: `restore`, and with --remove a second one, `delete N`.
A wrong second answer changes nothing (exit 3); both answered, the provider equals the mirror.
*/
test('restore mirror in a terminal: the plan, then restore and delete N typed at the prompts (twice with --remove)', {timeout: 180_000}, async () => {
	const home = await fs.mkdtemp(path.join(os.tmpdir(), 'restore-mirror-tty-'));
	const mirror = await startTestS3();
	const provider = await startTestS3();
	const keys = async (client: typeof mirror.client) => {
		const found: string[] = [];
		for await (const object of client.list('ilum-data')) {
			found.push(object.key);
		}

		return found;
	};

	try {
		await mirror.createBucket('ilum-data');
		await seedObjects(mirror.client, 'ilum-data', {count: 25, size: 200, prefix: 'd/'});
		await provider.createBucket('ilum-data');
		await provider.client.put('ilum-data', 'tmp/only-here', Buffer.from('xy'), 2);
		const env = {HOME: home, XDG_STATE_HOME: path.join(home, 'state'), KUBECONFIG: '', AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey};
		const command = `${process.execPath} ${binPath} restore mirror --bucket ilum-data --remove --mirror-endpoint ${mirror.endpoint.endpoint} --s3-endpoint ${provider.endpoint.endpoint}; echo EXIT=$?`;

		const declined = await startInTmux(command, {cwd: projectRoot, env, rows: 60});
		try {
			let screen = await declined.waitForScreen('Type \'restore\' to confirm:', {timeout: 90_000});
			assert.match(screen, /ilum-data +25 \(4\.9 KiB\) +0 kept +1 \(2 B\)/, 'the plan per bucket');
			await declined.sendKeys('restore', 'Enter');
			screen = await declined.waitForScreen('Type \'delete 1\' to confirm:');
			await declined.sendKeys('no', 'Enter');
			screen = await declined.waitForScreen(/EXIT=\d/);
			assert.match(screen, /EXIT=3/);
			assert.match(screen, /gate delete-extra: NOT confirmed\nrefused, nothing changed:\n.*did not match: typed 'no', expected 'delete 1'/);
		} finally {
			await declined.kill();
		}

		assert.deepEqual(await keys(provider.client), ['tmp/only-here'], 'nothing was changed');

		const confirmed = await startInTmux(command, {cwd: projectRoot, env, rows: 60});
		try {
			await confirmed.waitForScreen('Type \'restore\' to confirm:', {timeout: 90_000});
			await confirmed.sendKeys('restore', 'Enter');
			await confirmed.waitForScreen('Type \'delete 1\' to confirm:');
			await confirmed.sendKeys('delete 1', 'Enter');
			const screen = await confirmed.waitForScreen(/EXIT=\d/, {timeout: 90_000});
			assert.match(screen, /EXIT=0/, screen);
			assert.match(screen, /Restore complete: every bucket verified/);
		} finally {
			await confirmed.kill();
		}

		assert.deepEqual(await keys(provider.client), await keys(mirror.client));
	} finally {
		await Promise.all([mirror.stop(), provider.stop()]);
		await fs.rm(home, {recursive: true, force: true});
	}
});
