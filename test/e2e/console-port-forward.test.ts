import {test} from 'node:test';
import assert from 'node:assert/strict';
import {binPath, projectRoot} from '../helpers/run-cli.js';
import {coreSeeders, startDrillWorld} from '../helpers/drill-world.js';
import {startInTmux} from '../helpers/tmux.js';

/**
The real console in a terminal against a cluster, given only a kubeconfig (no --s3-endpoint, no
AWS_ENDPOINT_URL): it reaches the provider through the API server's port-forward, says so in the
status line, says when no pod is ready behind the Service, and follows the new pod.
*/
test('console with only a kubeconfig: S3 through a port-forward, no ready pod in one line, then the new pod', {timeout: 600_000}, async () => {
	const drill = await startDrillWorld({seeders: coreSeeders});
	const screen = await startInTmux(`${process.execPath} ${binPath} --kubeconfig ${drill.world.kubeconfigPath}`, {cwd: projectRoot, env: {...drill.env, AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_S3: ''}});
	try {
		let frame = await screen.waitForScreen(text => text.includes('ilum-langfuse') && /ilum-data +\d+ +\d+/.test(text), {timeout: 120_000});
		assert.match(frame, /ilum-restore · context drill · namespace ilum · S3 port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0/);
		assert.doesNotMatch(frame, /provider unreachable|buckets not compared/);

		const down = await drill.kubectl(['-n', 'ilum', 'scale', 'statefulset/ilum-objectstorage', '--replicas=0']);
		assert.equal(down.code, 0, down.stderr);
		const gone = await drill.kubectl(['-n', 'ilum', 'wait', '--for=delete', 'pod/ilum-objectstorage-0', '--timeout=60s']);
		assert.equal(gone.code, 0, gone.stderr);
		await screen.sendKeys('r');
		frame = await screen.waitForScreen('provider unreachable', {timeout: 60_000});
		// The pane's line (cut to the pane's width) and the hazard banner, which names the forward.
		assert.match(frame, /│provider unreachable: no ready pod behind Service/);
		assert.match(frame, /‼ The provider through port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0 does not answer \(no ready pod behind Service ilum\/ilum-objects/);

		const up = await drill.kubectl(['-n', 'ilum', 'scale', 'statefulset/ilum-objectstorage', '--replicas=1']);
		assert.equal(up.code, 0, up.stderr);
		const ready = await drill.kubectl(['-n', 'ilum', 'wait', '--for=condition=Ready', 'pod/ilum-objectstorage-0', '--timeout=60s']);
		assert.equal(ready.code, 0, ready.stderr);
		await screen.sendKeys('r');
		frame = await screen.waitForScreen(text => !text.includes('provider unreachable') && /ilum-data +\d+ +\d+/.test(text), {timeout: 60_000});
		assert.match(frame, /S3 port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0/);
	} finally {
		await screen.kill();
		await drill.stop();
	}
});
