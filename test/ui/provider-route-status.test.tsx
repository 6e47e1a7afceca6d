import {test} from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import {App} from '../../source/ui/app.js';
import {consoleFixture, fixedNow, type ConsoleFixture} from '../helpers/console-fixture.js';
import {waitForFrame} from '../helpers/frames.js';
import {renderSized} from '../helpers/render-sized.js';

/** The console on sources that reach the provider through a port-forward (as connectLayers builds them without --s3-endpoint). */
async function withForwardedConsole(probe: () => Promise<void>, run: (lastFrame: () => string | undefined) => Promise<void>) {
	const fixture: ConsoleFixture = consoleFixture();
	const pod = 'ilum-objectstorage-0';
	Object.assign(fixture.sources, {
		providerEndpoint: 'http://127.0.0.1:40123',
		providerRoute: () => `port-forward ilum/svc/ilum-objectstorage:9000 -> pod ${pod}`,
		probeProvider: probe,
	});
	fixture.live.start();
	const size = {columns: 200, rows: 40};
	const ui = renderSized(<App live={fixture.live} now={() => fixedNow} size={size}/>, size);
	try {
		await run(ui.lastFrame);
	} finally {
		ui.unmount();
		await fixture.live.stop();
	}
}

test('the status line says the console reaches S3 through a port-forward, and to which pod', async () => {
	await withForwardedConsole(async () => {}, async lastFrame => {
		const frame = await waitForFrame(lastFrame, 'ilum-files');
		const status = frame.split('\n').find(line => line.includes('ilum-restore · context'))!;
		assert.match(status, /namespace ilum · S3 port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0/);
	});
});

test('while no pod is ready behind the Service, the Mirrors pane says so in one line', async () => {
	const problem = 'no ready pod behind Service ilum/ilum-objectstorage (ilum-objectstorage-0 Pending): the provider is down or restarting';
	await withForwardedConsole(async () => {
		throw new Error(problem);
	}, async lastFrame => {
		const frame = await waitForFrame(lastFrame, 'provider unreachable');
		// The pane's line (cut to its width) and the hazard banner, which names the forward rather than its local port.
		assert.match(frame, /│provider unreachable: no ready pod behind Service ilum\/ilum-obj/);
		assert.match(frame, /‼ The provider through port-forward ilum\/svc\/ilum-objectstorage:9000 -> pod ilum-objectstorage-0 does not answer \(no ready pod behind Service ilum\/ilum-objectstorage \(ilum-objectstorage-0 Pending\)/);
		assert.doesNotMatch(frame, /127\.0\.0\.1:40123/);
	});
});
