import assert from 'node:assert/strict';
import {test} from 'node:test';
import {Autosave} from '../../source/drill/persist.js';
import {waitFor} from '../helpers/drill-world.js';

test('Autosave: one save per burst of changes, never two at once, a last one on close', async () => {
	let running = 0;
	let overlapped = false;
	const saved: number[] = [];
	let version = 0;
	const autosave = new Autosave(async () => {
		running++;
		overlapped ||= running > 1;
		const at = version;
		await new Promise(resolve => {
			setImmediate(resolve);
		});
		saved.push(at);
		running--;
	}, {quietMs: 20, maxDelayMs: 200});
	for (let index = 0; index < 50; index++) {
		version++;
		autosave.touch();
	}

	await waitFor(() => saved.length === 1, 'the save of the burst', 10_000);
	assert.deepEqual(saved, [50], 'the burst is saved once, with all of it');
	version++;
	autosave.touch();
	await autosave.close({final: true});
	assert.equal(saved.at(-1), 51, 'close saves what was unsaved');
	assert.equal(overlapped, false);
});
