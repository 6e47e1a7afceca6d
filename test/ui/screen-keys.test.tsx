import {test} from 'node:test';
import assert from 'node:assert/strict';
import React, {useState} from 'react';
import {Text, useInput} from 'ink';
import {App} from '../../source/ui/app.js';
import type {ItemAction} from '../../source/ui/actions.js';
import {consoleFixture, fixedNow} from '../helpers/console-fixture.js';
import {waitForFrame} from '../helpers/frames.js';
import {renderSized} from '../helpers/render-sized.js';

/*
A screen opened over the console (the restore wizard) must get the first key typed once it shows,
however soon: here the key is written the very instant Ink writes the screen's first frame (inside
React's commit, before any effect has run), which is what a loaded machine or a fast operator does.
*/

function Counter({onDone}: {readonly onDone: () => void}) {
	const [keys, setKeys] = useState('');
	useInput(input => {
		if (input === 'x') {
			onDone();
			return;
		}

		setKeys(previous => previous + input);
	});
	return <Text>{`counter screen: keys [${keys}]`}</Text>;
}

const size = {columns: 160, rows: 40};

test('the first key typed the instant a screen shows goes to that screen, not to the console', async () => {
	const fixture = consoleFixture();
	let closed = 0;
	const actions: ItemAction[] = [{id: 'open', keys: ['W'], label: 'W', description: 'Open a screen', panes: ['volumes'], changes: false, dangerous: false, run(_item, context) {
		const handle = context.openScreen!(<Counter onDone={() => {
			closed++;
			handle.close();
		}}/>);
	}}];
	// What to type the instant a frame matching `when` is written (before that commit's effects run).
	let typeAhead: {when: string; key: string} | undefined = {when: 'counter screen', key: 'a'};
	let stdinWrite: (data: string) => void = () => {};
	fixture.live.start();
	const ui = renderSized(<App live={fixture.live} now={() => fixedNow} size={size} actions={actions}/>, size, {onFrame(frame) {
		if (typeAhead && frame.includes(typeAhead.when)) {
			const {key} = typeAhead;
			typeAhead = undefined;
			stdinWrite(key);
		}
	}});
	stdinWrite = ui.stdin.write;
	try {
		await waitForFrame(ui.lastFrame, frame => frame.includes('nightly-1') && frame.includes('sales'));
		ui.stdin.write('W');
		// The key went to the screen (the console's Tab, quit or Enter never saw it).
		await waitForFrame(ui.lastFrame, 'counter screen: keys [a]');
		ui.stdin.write('b');
		await waitForFrame(ui.lastFrame, 'counter screen: keys [ab]');
		// Closed: the first key typed the instant the console shows again is the console's (`?`, its help).
		typeAhead = {when: 'Recovery points', key: '?'};
		ui.stdin.write('x');
		await waitForFrame(ui.lastFrame, frame => frame.includes('Keys') && frame.includes('quit'));
		assert.equal(closed, 1, 'the screen was closed once');
	} finally {
		ui.unmount();
		await fixture.live.stop();
	}
});
