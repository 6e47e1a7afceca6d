import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../helpers/run-cli.js';
import {clockStartArgument} from '../helpers/clock.js';
import {startDrillWorld} from '../helpers/drill-world.js';
import {findScenario, scenarios} from '../../source/drill/scenarios/index.js';

type Debrief = {type: string; scenario: string; recovered: boolean; lostObjects: number; checkedObjects: number; unit: string; mistakes: string[]; commands: Array<{code: number}>; files: {json: string; markdown: string}};

/** Table scenarios: nothing may be lost when the table's own history is used (RPO 0 rows). */
const rowScenarios = new Set(['bad-delta-write', 'iceberg-bad-append', 'ducklake-delete']);

for (const name of scenarios.map(scenario => scenario.name)) {
	test(`drill run ${name} --auto recovers and saves a debrief`, async () => {
		const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-run-'));
		try {
			// The world's clock opens clear of the top of the hour: its backup run stays out of the drill.
			const result = await runCli(['drill', 'run', name, '--auto', '--json', '--objects', '300', '--state-dir', stateDir, '--clock-start', clockStartArgument(10)], {timeoutMs: 400_000});
			assert.equal(result.code, 0, result.stderr);
			const debrief = JSON.parse(result.stdout) as Debrief;
			assert.equal(debrief.type, 'result');
			assert.equal(debrief.recovered, true);
			assert.deepEqual(debrief.mistakes, []);
			if (rowScenarios.has(name)) {
				assert.equal(debrief.unit, 'rows');
				assert.equal(debrief.lostObjects, 0);
				assert.ok(debrief.checkedObjects > 0);
			}

			assert.ok(debrief.commands.length > 0 && debrief.commands.every(command => command.code === 0));
			assert.match(await fs.readFile(debrief.files.markdown, 'utf8'), /Outcome: \*\*recovered\*\*/);
			assert.equal(JSON.parse(await fs.readFile(debrief.files.json, 'utf8')).scenario, name);
		} finally {
			await fs.rm(stateDir, {recursive: true, force: true});
		}
	});
}

test('bucket-wipe: the recovery brings back what the mirror held, and loses exactly what it did not', async () => {
	const drill = await startDrillWorld();
	const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-rpo-'));
	try {
		const {world} = drill;
		// Independently of the scenario: what the mirror cannot bring back is what differs from it now.
		const provider = world.providerEndpoint.volume!.fingerprint()['ilum-data']!;
		const mirror = world.backupVolume.fingerprint()['ilum-data'] ?? {};
		const notMirrored = Object.entries(provider).filter(([key, etag]) => mirror[key] !== etag).length;
		const scenario = findScenario('bucket-wipe')!;
		const state = await scenario.inject(world);
		assert.equal(Object.keys(world.providerEndpoint.volume!.fingerprint()['ilum-data'] ?? {}).length, 0, 'the wipe emptied ilum-data');
		for (const command of scenario.recovery!(world, state)) {
			// eslint-disable-next-line no-await-in-loop
			const run = await runCli([...command.argv, '--s3-endpoint', world.provider.endpoint, '--state-dir', stateDir], {env: drill.env});
			assert.equal(run.code, 0, run.stderr);
		}

		const check = await scenario.check(world, state);
		assert.equal(check.recovered, true);
		assert.equal(check.lostObjects, notMirrored);
	} finally {
		await drill.stop();
		await fs.rm(stateDir, {recursive: true, force: true});
	}
});

test('drill run refuses an unknown scenario and a hand drill without a terminal', async () => {
	const unknown = await runCli(['drill', 'run', 'meteor-strike', '--auto']);
	assert.equal(unknown.code, 2);
	assert.match(unknown.stderr, /bucket-wipe/);
	const noTerminal = await runCli(['drill', 'run', 'bucket-wipe']);
	assert.equal(noTerminal.code, 2);
	assert.match(noTerminal.stderr, /--auto/);
});
