import React from 'react';
import {connectLayers} from '../../source/layers/connect.js';
import type {LayerSources} from '../../source/layers/inventory.js';
import {LiveInventory} from '../../source/layers/live-inventory.js';
import {FastS3Client} from '../../source/storage/fast-s3.js';
import {App} from '../../source/ui/app.js';
import type {DrillFixture} from '../helpers/drill-world.js';
import {waitForFrame} from '../helpers/frames.js';
import {keys, renderSized} from '../helpers/render-sized.js';

/*
The console on a drill world, for the tests that drive a restore by keys from it (the mirror
restore's R/A/J/I, the panes after a wizard closes).
*/

/** The Mirrors pane's row of a bucket: objects on the provider, on the mirror. */
export const bucketCounts = (frame: string, bucket: string) => {
	const match = new RegExp(`${bucket} +(\\d+) +(\\d+) `).exec(frame);
	return match ? {provider: Number(match[1]), mirror: Number(match[2])} : undefined;
};

export type ConsoleOptions = {readonly stateDir: string; readonly size: {columns: number; rows: number}; readonly readOnly?: boolean};

/**
Consoles on a drill world, connected as the CLI connects (its kubeconfig, its S3 endpoints), each
with its own live inventory. `close` stops them all and their connections (call it in `after`).
*/
export function drillConsoles() {
	const opened: Array<{sources: LayerSources; live: LiveInventory}> = [];
	return {
		async open(drill: DrillFixture, {stateDir, size, readOnly}: ConsoleOptions) {
			const {world} = drill;
			const sources = await connectLayers({
				flags: {kubeconfig: world.kubeconfigPath, stateDir, ...(readOnly ? {readOnly: true} : {})},
				world: {kubeconfig: world.kubeconfigPath, s3Endpoint: world.provider.endpoint, mirrorEndpoint: world.backup.endpoint},
			});
			const live = new LiveInventory(sources, {throttleMs: 20, ...(readOnly ? {readOnly: true} : {})});
			opened.push({sources, live});
			live.start();
			return renderSized(<App live={live} size={size} readOnly={readOnly}/>, size);
		},
		async close() {
			for (const {sources, live} of opened.splice(0)) {
				// eslint-disable-next-line no-await-in-loop
				await live.stop();
				// eslint-disable-next-line no-await-in-loop
				await sources.close?.();
			}
		},
	};
}

/** Tab to the Mirrors pane and filter it down to one bucket (its row selected). */
export async function selectBucket(ui: ReturnType<typeof renderSized>, bucket: string): Promise<void> {
	ui.stdin.write(keys.tab);
	await waitForFrame(ui.lastFrame, /Mirrors.*\(\d+\)/);
	ui.stdin.write('/');
	await waitForFrame(ui.lastFrame, /\/▏/);
	ui.stdin.write(bucket);
	await waitForFrame(ui.lastFrame, `/${bucket}▏`);
	ui.stdin.write(keys.enter);
	await waitForFrame(ui.lastFrame, new RegExp(`Mirrors /${bucket} \\(1\\)`));
}

/** From the wizard's plan: Enter, the preflight passes, Enter, `name` typed at the gate, Enter (the run starts). */
export async function confirmFromPlan(ui: ReturnType<typeof renderSized>, name: string): Promise<void> {
	ui.stdin.write(keys.enter);
	await waitForFrame(ui.lastFrame, 'All checks passed', {timeout: 120_000});
	ui.stdin.write(keys.enter);
	await waitForFrame(ui.lastFrame, `Type ${name} to confirm`, {timeout: 60_000});
	ui.stdin.write(name);
	await waitForFrame(ui.lastFrame, `> ${name}`);
	ui.stdin.write(keys.enter);
}

/** A bucket on the drill's provider read through S3 (not through the console): key -> ETag without quotes. */
export async function providerEtags(drill: DrillFixture, bucket: string): Promise<Map<string, string>> {
	const {world} = drill;
	const provider = new FastS3Client({endpoint: world.provider.endpoint, region: 'us-east-1', accessKeyId: world.provider.accessKeyId, secretAccessKey: world.provider.secretAccessKey});
	try {
		const found = new Map<string, string>();
		for await (const object of provider.list(bucket)) {
			found.set(object.key, object.etag.replaceAll('"', ''));
		}

		return found;
	} finally {
		await provider.destroy();
	}
}
