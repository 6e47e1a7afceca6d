import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {findScenario} from '../../source/drill/scenarios/index.js';
import {ilum} from '../../source/drill/seed/ilum.js';
import {FastS3Client} from '../../source/storage/fast-s3.js';
import {coreSeeders, startDrillWorld, waitFor} from '../helpers/drill-world.js';
import {startFaultProxy} from '../helpers/fault-proxy.js';
import {binPath, runCli} from '../helpers/run-cli.js';

/**
`restore mirror --yes` SIGKILLed in the middle of its copy on the bucket-wipe drill, then
`--resume`: the journal remembers that the backup CronJob was active (the killed run left it
suspended), the resumed run copies only what is still missing, verifies zero drift and resumes the
CronJob. Checked independently: listings of both sides compared key by key, ETag by ETag.
*/
test('restore mirror: SIGKILL mid-copy, then --resume: zero drift, nothing copied twice beyond what was in flight, CronJob resumed', {timeout: 300_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders, objects: 1500});
	const {world} = drill;
	const home = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-mirror-resume-'));
	const provider = new FastS3Client({endpoint: world.provider.endpoint, region: 'us-east-1', accessKeyId: world.provider.accessKeyId, secretAccessKey: world.provider.secretAccessKey});
	const mirror = new FastS3Client({endpoint: world.backup.endpoint, region: 'us-east-1', accessKeyId: world.backup.accessKeyId, secretAccessKey: world.backup.secretAccessKey});
	const proxy = await startFaultProxy(world.provider.endpoint);
	try {
		await findScenario('bucket-wipe')!.inject(world);
		const mirrored = new Map<string, string>();
		for await (const object of mirror.list('ilum-data')) {
			mirrored.set(object.key, object.etag);
		}

		assert.ok(mirrored.size >= 100, `the mirror holds ilum-data (${mirrored.size} objects)`);
		const cronSuspended = () => world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)?.spec?.suspend === true;
		assert.equal(cronSuspended(), false, 'the CronJob is active before the restore');

		// Credentials from the cluster's Secrets; the provider through the counting proxy (as through a port-forward).
		const env = {HOME: home, XDG_STATE_HOME: path.join(home, 'state'), AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: '', MIRROR_ENDPOINT_URL: '', KUBECONFIG: ''};
		const args = ['restore', 'mirror', '--yes', '--json', '--bucket', 'ilum-data', '--concurrency', '2', '--kubeconfig', world.kubeconfigPath, '--s3-endpoint', proxy.url];
		const killAt = 20 + Math.floor(Math.random() * 40);
		const child = spawn(process.execPath, [binPath, ...args], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
			stdout += chunk;
		});
		child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
			stderr += chunk;
		});
		const exited = new Promise<string>(resolve => {
			child.on('exit', (code, signal) => {
				resolve(signal ?? String(code));
			});
		});
		await waitFor(() => proxy.putsAccepted.size >= killAt || child.exitCode !== null, `${killAt} objects copied`, 120_000);
		child.kill('SIGKILL');
		assert.equal(await exited, 'SIGKILL', `killed mid-copy; stderr: ${stderr}`);
		assert.match(stdout, /"type":"step-start","step":"copy"/, 'the kill hit the copy step');
		await waitFor(() => proxy.active === 0, 'the proxy to drain');
		const firstRun = new Set(proxy.putsAccepted.keys());
		assert.ok(firstRun.size < mirrored.size, `the first run was cut short (${firstRun.size} of ${mirrored.size})`);
		assert.equal(cronSuspended(), true, 'the killed run left the CronJob suspended');

		// Without --resume the unfinished run is named; --resume continues it.
		const dry = await runCli(['restore', 'mirror', '--dry-run', '--bucket', 'ilum-data', '--kubeconfig', world.kubeconfigPath, '--s3-endpoint', proxy.url], {env});
		assert.equal(dry.code, 0, dry.stderr);
		assert.match(dry.stderr, /unfinished restore of mirror\/ilum-data .* --resume would continue it/);
		proxy.putsAccepted.clear();
		const resumed = await runCli([...args, '--resume'], {env});
		assert.equal(resumed.code, 0, resumed.stderr);
		const lines = resumed.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, any>);
		assert.equal(lines[0]!['type'], 'plan');
		assert.equal(lines[0]!['resumed'], true);
		const result = lines.at(-1)!;
		assert.equal(result['type'], 'result');
		assert.equal(result['ok'], true, resumed.stderr);
		assert.equal(result['buckets'][0].verify.ok, true);
		assert.equal(result['cronJob'].suspendedDuringRestore, true);
		const twice = [...proxy.putsAccepted.keys()].filter(key => firstRun.has(key));
		assert.ok(twice.length <= 2, `copied again only what was in flight at the kill (concurrency 2): ${twice.join(', ')}`);

		// Independently: every object the mirror had is in the provider with the same ETag, and the CronJob runs again.
		const restored = new Map<string, string>();
		for await (const object of provider.list('ilum-data')) {
			restored.set(object.key, object.etag);
		}

		assert.equal(restored.size, mirrored.size);
		for (const [key, etag] of mirrored) {
			assert.equal(restored.get(key), etag, `${key} is back, byte-identical`);
		}

		assert.equal(cronSuspended(), false, 'the resumed run resumed the CronJob the first run had suspended');
	} finally {
		await proxy.stop();
		await Promise.all([provider.destroy(), mirror.destroy()]);
		await drill.stop();
		fs.rmSync(home, {recursive: true, force: true});
	}
});
