import {test} from 'node:test';
import assert from 'node:assert/strict';
import React from 'react';
import {App} from '../../source/ui/app.js';
import {ClusterError} from '../../source/cluster/cluster-errors.js';
import type {ItemAction} from '../../source/ui/actions.js';
import {consoleFixture, fixedNow, type ConsoleFixture} from '../helpers/console-fixture.js';
import {waitForFrame} from '../helpers/frames.js';
import {keys, renderSized} from '../helpers/render-sized.js';

async function withConsole(fixture: ConsoleFixture, size: {columns: number; rows: number}, run: (ui: ReturnType<typeof renderSized>) => Promise<void>, props: {readOnly?: boolean; actions?: ItemAction[]} = {}) {
	fixture.live.start();
	const ui = renderSized(<App live={fixture.live} now={() => fixedNow} size={size} readOnly={props.readOnly} actions={props.actions}/>, size);
	try {
		await run(ui);
	} finally {
		ui.unmount();
		await fixture.live.stop();
	}
}

const wide = {columns: 160, rows: 40};
const loaded = (frame: string) => frame.includes('nightly-1') && frame.includes('ilum-files') && frame.includes('sales');

test('home: three panes side by side with their rows, checks, CronJob and timeline', async () => {
	await withConsole(consoleFixture(), wide, async ({lastFrame}) => {
		const frame = await waitForFrame(lastFrame, loaded);
		const paneTitles = frame.split('\n').find(line => line.includes('Volume snapshots'))!;
		assert.ok(paneTitles.includes('Mirrors (2)') && paneTitles.includes('Tables (1)'), 'the three titles share one line');
		assert.match(frame, /✓ VolumeSnapshotClass for hostpath\.csi\.k8s\.io/);
		assert.match(frame, /CronJob ilum-backup · 0 \* \* \* \* · --remove/);
		assert.match(frame, /ilum-files +120 +120 +2 +0 +0 12 s ago/);
		assert.match(frame, /12 s ago/);
		assert.match(frame, /Volumes .*●/);
		assert.doesNotMatch(frame, /sup3rs3cret|AKIAFAKE/, 'credentials never on screen');
	});
});

test('below 120 columns the panes stack', async () => {
	await withConsole(consoleFixture(), {columns: 100, rows: 60}, async ({lastFrame}) => {
		const frame = await waitForFrame(lastFrame, loaded);
		const lines = frame.split('\n');
		const volumes = lines.findIndex(line => line.includes('Volume snapshots ('));
		const mirrors = lines.findIndex(line => line.includes('Mirrors ('));
		assert.ok(volumes >= 0 && mirrors > volumes, 'Mirrors below Volume snapshots');
	});
});

test('j/k and arrows move, Enter opens a snapshot with its events, Esc goes back', async () => {
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write('j');
		stdin.write(keys.enter);
		let frame = await waitForFrame(lastFrame, 'VolumeSnapshot ilum/nightly-0');
		assert.match(frame, /Source claim +data-ilum-objectstorage-0/);
		stdin.write(keys.escape);
		await waitForFrame(lastFrame, frame => frame.includes('Recovery points'));
		stdin.write(keys.up);
		stdin.write(keys.enter);
		frame = await waitForFrame(lastFrame, frame => frame.includes('VolumeSnapshot ilum/nightly-1') && frame.includes('SnapshotReady'));
		assert.match(frame, /Snapshot ilum\/nightly-1 is ready to use/);
	});
});

test('Tab moves to Mirrors; Enter shows the bucket drift with its differing keys', async () => {
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write(keys.tab);
		stdin.write('j');
		stdin.write(keys.enter);
		const frame = await waitForFrame(lastFrame, 'Bucket ilum-files: provider vs mirror');
		assert.match(frame, /\+ reports\/a\.csv/);
		assert.match(frame, /Missing on mirror +2/);
		assert.match(frame, /Backup CronJob ilum-backup/);
		assert.match(frame, /succeeded +ilum-backup-1/);
		assert.doesNotMatch(frame, /sup3rs3cret|AKIAFAKE/);
	});
});

test('Tables: Enter shows the history as history prints it', async () => {
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write(keys.shiftTab);
		// The timeline's last row follows the selected table.
		await waitForFrame(lastFrame, /│sales +[·●│]+│? /);
		stdin.write(keys.enter);
		const frame = await waitForFrame(lastFrame, 'delta table sales');
		assert.match(frame, /\* 3 +2026-11-22T11:00:00\.000Z +DELETE +yes/);
		assert.match(frame, /  0 +2026-11-20T10:00:00\.000Z +CREATE TABLE +no +part-0000\.parquet was vacuumed/);
		assert.match(frame, /delta table s3:\/\/ilum-tables\/sales: current 3, 4 versions listed, 3 restorable/);
	});
});

test('/ filters the focused pane, Esc clears it', async () => {
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write('/');
		for (const character of 'scr') {
			stdin.write(character);
		}

		await waitForFrame(lastFrame, '/scr▏');
		stdin.write(keys.enter);
		let frame = await waitForFrame(lastFrame, 'Volume snapshots /scr (1)');
		assert.doesNotMatch(frame, /nightly-1/);
		stdin.write(keys.escape);
		frame = await waitForFrame(lastFrame, 'Volume snapshots (3)');
		assert.match(frame, /nightly-1/);
	});
});

test('? shows the help generated from the key table', async () => {
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write('?');
		const frame = await waitForFrame(lastFrame, 'Keys');
		assert.match(frame, /↑\/k +Move up/);
		assert.match(frame, /: +Command palette/);
		stdin.write('q');
		await waitForFrame(lastFrame, 'Recovery points');
	});
});

test(': palette goes to a pane; an unknown command says what is available', async () => {
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write(':');
		for (const character of 'tables') {
			stdin.write(character);
		}

		stdin.write(keys.enter);
		stdin.write(keys.enter);
		await waitForFrame(lastFrame, 'delta table sales');
		stdin.write(keys.escape);
		stdin.write(':');
		stdin.write('x');
		stdin.write(keys.enter);
		await waitForFrame(lastFrame, 'unknown command \'x\'');
	});
});

test('a forbidden CronJob list shows as one line in Mirrors; the other panes keep working', async () => {
	const fixture = consoleFixture({world(world) {
		world.failures['watch:cronjobs'] = new ClusterError('forbidden', 'Forbidden: RBAC does not allow watch on cronjobs.batch in namespace ilum', {verb: 'watch', resource: 'cronjobs.batch', hint: 'ask for a Role granting \'watch\' on \'cronjobs.batch\''});
	}});
	await withConsole(fixture, wide, async ({lastFrame}) => {
		const frame = await waitForFrame(lastFrame, frame => frame.includes('RBAC does not allow watch') && frame.includes('nightly-1'));
		assert.match(frame, /sales/);
	});
});

test('an unreachable API shows in the volumes pane with what to do', async () => {
	const fixture = consoleFixture({world(world) {
		const error = new ClusterError('unreachable', 'The Kubernetes API at https://fake.invalid is unreachable (ECONNREFUSED)', {verb: 'list', resource: 'persistentvolumeclaims', hint: 'check the context (--context), VPN or port-forward, then press r'});
		world.failures['listPersistentVolumeClaims'] = error;
	}});
	await withConsole(fixture, wide, async ({lastFrame}) => {
		const frame = await waitForFrame(lastFrame, '✗ The Kubernetes API at https://fake.invalid is');
		assert.match(frame, /unreachable \(ECONNREFUSED\): check the/);
		assert.match(frame, /Tables \(1\)/);
	});
});

test('the banner shows hazards with their fixes', async () => {
	const fixture = consoleFixture({buckets: [{bucket: 'ilum-data', provider: {objects: 0, bytes: 0}, mirror: {objects: 50, bytes: 5000}, missingOnMirror: 0, missingInProvider: 50, changed: 0, done: true, at: fixedNow, keys: [{key: 'a', mark: '-'}]}]});
	await withConsole(fixture, wide, async ({lastFrame}) => {
		const frame = await waitForFrame(lastFrame, 'deletes 50 objects');
		assert.match(frame, /fix: suspend it now: kubectl -n ilum patch cronjob ilum-backup/);
	});
});

test('a watch event updates the screen without a refresh', async () => {
	const fixture = consoleFixture();
	await withConsole(fixture, wide, async ({lastFrame}) => {
		await waitForFrame(lastFrame, loaded);
		fixture.world.snapshots.push({metadata: {name: 'fresh-snap', namespace: 'ilum', uid: 'u9'}, spec: {source: {persistentVolumeClaimName: 'data-ilum-objectstorage-0'}, volumeSnapshotClassName: 'csi-snapclass'}, status: {readyToUse: false, creationTime: new Date(fixedNow).toISOString(), error: {message: 'driver busy'}}});
		fixture.cluster.push();
		const frame = await waitForFrame(lastFrame, 'fresh-snap');
		assert.match(frame, /Snapshot fresh-snap is not ready/);
	});
});

test('--read-only removes actions that change anything; others stay', async () => {
	let ran = 0;
	const actions: ItemAction[] = [
		{id: 'restore', keys: ['R'], label: 'R', description: 'Restore from this point', panes: ['volumes'], changes: true, dangerous: true, confirm: () => 'Restore from this point?', run() {
			ran++;
			return 'restore started';
		}},
		{id: 'copy-name', keys: ['y'], label: 'y', description: 'Show the name', panes: ['volumes'], changes: false, dangerous: false, run: item => `name ${(item as any).name}`},
	];
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write('R');
		stdin.write('y');
		await waitForFrame(lastFrame, 'name nightly-1');
		stdin.write('?');
		const help = await waitForFrame(lastFrame, 'Keys');
		assert.doesNotMatch(help, /Restore from this point/);
		assert.equal(ran, 0);
	}, {readOnly: true, actions});
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write('R');
		await waitForFrame(lastFrame, 'Restore from this point? y to confirm');
		stdin.write('n');
		await waitForFrame(lastFrame, 'cancelled: nothing was changed');
		assert.equal(ran, 0);
		stdin.write('R');
		await waitForFrame(lastFrame, 'y to confirm');
		stdin.write('y');
		await waitForFrame(lastFrame, 'restore started');
		assert.equal(ran, 1);
	}, {actions});
});

test('keys that arrive together are taken one by one (typeahead)', async () => {
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write('j\r');
		await waitForFrame(lastFrame, 'VolumeSnapshot ilum/nightly-0');
	});
});

test('s in Mirrors suspends the backup CronJob once confirmed; RBAC or --read-only take it away', async () => {
	const calls: Array<[string, boolean]> = [];
	const fixture = consoleFixture();
	(fixture.sources as any).setBackupSuspended = async (name: string, suspend: boolean) => {
		calls.push([name, suspend]);
	};
	await withConsole(fixture, wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write(keys.tab);
		await waitForFrame(lastFrame, 's suspend the backup cronjob');
		stdin.write('s');
		await waitForFrame(lastFrame, 'Suspend CronJob ilum-backup? No mirror runs until it is resumed. y to confirm');
		stdin.write('y');
		await waitForFrame(lastFrame, 'CronJob ilum-backup suspended');
		assert.deepEqual(calls, [['ilum-backup', true]]);
	});

	const denied = consoleFixture();
	(denied.sources as any).setBackupSuspended = async () => {
		throw new Error('must not run');
	};
	denied.cluster.can = async () => false;
	await withConsole(denied, wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write(keys.tab);
		stdin.write('s');
		await waitForFrame(lastFrame, 's: RBAC does not allow patch on cronjobs.batch in ilum');
	});

	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write(keys.tab);
		stdin.write('?');
		const help = await waitForFrame(lastFrame, 'Keys');
		assert.doesNotMatch(help, /Suspend the backup CronJob/);
	}, {readOnly: true});
});

test(': ns <name> switches the namespace through reconnect', async () => {
	const first = consoleFixture();
	const second = consoleFixture({world(world) {
		world.snapshots = [];
	}});
	const asked: string[] = [];
	first.live.start();
	const ui = renderSized(<App live={first.live} now={() => fixedNow} size={wide} reconnect={async target => {
		asked.push(target.namespace ?? '');
		return second.live;
	}}/>, wide);
	try {
		await waitForFrame(ui.lastFrame, loaded);
		ui.stdin.write(':');
		for (const character of 'ns other') {
			ui.stdin.write(character);
		}

		ui.stdin.write(keys.enter);
		await waitForFrame(ui.lastFrame, frame => frame.includes('now on namespace other') && frame.includes('Volume snapshots (0)'));
		assert.deepEqual(asked, ['other']);
	} finally {
		ui.unmount();
		await first.live.stop();
		await second.live.stop();
	}
});

test('an action can open its own screen; the console reads no keys until it closes', async () => {
	const {Text, useInput} = await import('ink');
	function Wizard({onDone}: {readonly onDone: () => void}) {
		useInput(input => {
			if (input === 'x') {
				onDone();
			}
		});
		return <Text>wizard screen: x closes</Text>;
	}

	const actions: ItemAction[] = [{id: 'open', keys: ['W'], label: 'W', description: 'Open a screen', panes: ['volumes'], changes: false, dangerous: false, run(_item, context) {
		const handle = context.openScreen!(<Wizard onDone={() => handle.close()}/>);
	}}];
	await withConsole(consoleFixture(), wide, async ({lastFrame, stdin}) => {
		await waitForFrame(lastFrame, loaded);
		stdin.write('W');
		await waitForFrame(lastFrame, 'wizard screen: x closes');
		stdin.write('q');
		stdin.write('x');
		await waitForFrame(lastFrame, 'Recovery points');
	}, {actions});
});

test('long lists are windowed around the selection', async () => {
	const fixture = consoleFixture({world(world) {
		const template = world.snapshots[0]!;
		world.snapshots = Array.from({length: 100}, (_, index) => ({...structuredClone(template), metadata: {...template.metadata, name: `snap-${String(index).padStart(3, '0')}`, uid: `u${index}`}, status: {...template.status, creationTime: new Date(fixedNow - (index * 60_000)).toISOString()}}));
	}});
	await withConsole(fixture, wide, async ({lastFrame, stdin}) => {
		let frame = await waitForFrame(lastFrame, frame => frame.includes('snap-000') && frame.includes('ilum-files'));
		assert.doesNotMatch(frame, /snap-099/);
		for (let index = 0; index < 60; index++) {
			stdin.write('j');
		}

		frame = await waitForFrame(lastFrame, 'snap-060');
		assert.doesNotMatch(frame, /snap-000/);
		assert.ok(frame.split('\n').length <= 40, 'the screen keeps its height');
		stdin.write(keys.enter);
		await waitForFrame(lastFrame, 'VolumeSnapshot ilum/snap-060');
	});
});
