/**
The scenarios added for issue 7's full list, recovered by their recommended recovery run through
the real CLI against an in-process world, with the data loss asserted from figures the test
derives itself.
*/
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {runCli} from '../../helpers/run-cli.js';
import {coreSeeders, startDrillWorld, waitFor, type DrillFixture} from '../../helpers/drill-world.js';
import {findScenario, scenarios} from '../../../source/drill/scenarios/index.js';
import {demoOperations} from '../../../source/drill/catalogs/ducklake-demo.js';
import {ilum} from '../../../source/drill/seed/ilum.js';

/** The environment an operator works in: the world's kubeconfig and the provider's credentials. */
const operatorEnv = (drill: DrillFixture) => ({...drill.env, AWS_ACCESS_KEY_ID: drill.world.provider.accessKeyId, AWS_SECRET_ACCESS_KEY: drill.world.provider.secretAccessKey, AWS_REGION: 'us-east-1'});

/** Runs a scenario's recommended recovery through the real CLI against the world; every command must succeed. */
async function recover(drill: DrillFixture, name: string, state: unknown, stateDir: string): Promise<void> {
	const {world} = drill;
	const env = operatorEnv(drill);
	for (const command of findScenario(name)!.recovery!(world, state)) {
		// eslint-disable-next-line no-await-in-loop
		const run = await runCli([...command.argv, '--s3-endpoint', world.provider.endpoint, '--state-dir', stateDir], {env, timeoutMs: 300_000});
		assert.equal(run.code, 0, `${command.argv.join(' ')}: ${run.stderr}`);
	}
}

test('drill list names every scenario, each with a recovery --auto can run', async () => {
	const result = await runCli(['drill', 'list', '--json']);
	assert.equal(result.code, 0, result.stderr);
	const listed = JSON.parse(result.stdout) as Array<{name: string; auto: boolean; targetRtoMinutes: number}>;
	assert.deepEqual(listed.map(item => item.name).sort(), ['bad-delta-write', 'bucket-wipe', 'ducklake-delete', 'iceberg-bad-append', 'mirror-stale', 'pv-loss', 'unprotected']);
	assert.ok(listed.every(item => item.auto && item.targetRtoMinutes > 0));
	assert.equal(scenarios.length, listed.length);
});

/*
The rows each table holds at the end of the seed, from the seeders' declared histories (not read
back through the format modules the scenarios use):
- Delta delta/orders (formats/delta/writer.ts demoSteps): 200 - 40 cancelled + 40 + 30 - 40 (ids <= 50), then
  an overwrite with 120 and two appends of 25: 170.
- Iceberg sales.orders (seed/iceberg-tables.ts): appends 200..450 (1950), overwrite 200 -> 180, delete
  the 300-row batch, appends 150..225 (750): 2380; its last append (the one the retry repeats) is 225 rows.
- DuckLake main.orders: demoOperations' declared rows after the last step.
*/
const expectedRows: Record<string, number> = {
	'bad-delta-write': 170,
	'iceberg-bad-append': 2380,
	'ducklake-delete': demoOperations('main.orders').at(-1)!.rows,
};

test('table scenarios: each incident is seen by its check, and the recommended recovery brings every row back (RPO 0)', async () => {
	const drill = await startDrillWorld();
	const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-tables-'));
	try {
		for (const [name, rows] of Object.entries(expectedRows)) {
			const scenario = findScenario(name)!;
			// eslint-disable-next-line no-await-in-loop
			const state = await scenario.inject(drill.world);
			// eslint-disable-next-line no-await-in-loop
			const broken = await scenario.check(drill.world, state);
			assert.equal(broken.recovered, false, `${name}: the incident is visible before the recovery`);
			assert.equal(broken.checkedObjects, rows, `${name}: rows of the last good version`);
			assert.deepEqual(broken.findings.filter(line => line.startsWith('Mistake:')), [], `${name}: nothing done yet, no mistake`);
			if (name === 'ducklake-delete') {
				// A restore to the wrong snapshot first (the one before the last good one): seen as the wrong recovery point.
				const ref = (state as {ref: string}).ref;
				// eslint-disable-next-line no-await-in-loop
				const history = await runCli(['history', ref, '--table', 'main.orders', '--json', '--s3-endpoint', drill.world.provider.endpoint], {env: operatorEnv(drill)});
				assert.equal(history.code, 0, history.stderr);
				const entries = (JSON.parse(history.stdout) as {entries: Array<{id: string}>}).entries;
				const lastGood = (state as {lastGood: string}).lastGood;
				const older = entries[entries.findIndex(entry => entry.id === lastGood) - 1]!.id;
				// eslint-disable-next-line no-await-in-loop
				const wrong = await runCli(['restore', 'table', ref, '--table', 'main.orders', '--to', older, '--yes', '--s3-endpoint', drill.world.provider.endpoint, '--state-dir', stateDir], {env: operatorEnv(drill)});
				assert.equal(wrong.code, 0, wrong.stderr);
				// eslint-disable-next-line no-await-in-loop
				const mistaken = await scenario.check(drill.world, state);
				assert.equal(mistaken.recovered, false);
				assert.ok(mistaken.findings.some(line => line.startsWith('Mistake: wrong recovery point')), mistaken.findings.join(' | '));
			}

			// eslint-disable-next-line no-await-in-loop
			await recover(drill, name, state, stateDir);
			// eslint-disable-next-line no-await-in-loop
			const check = await scenario.check(drill.world, state);
			assert.equal(check.recovered, true, `${name}: ${check.findings.join(' | ')}`);
			assert.equal(check.unit, 'rows');
			assert.equal(check.lostObjects, 0);
			assert.equal(check.checkedObjects, rows);
			assert.deepEqual(check.findings.filter(line => line.startsWith('Mistake:')), []);
		}
	} finally {
		await drill.stop();
		await fs.rm(stateDir, {recursive: true, force: true});
	}
});

type MirrorState = {lastGood: string; lastGoodData: Record<string, Record<string, string>>};

test('mirror-stale: the newest snapshot loses only what was written after it; the stale mirror is flagged as the wrong recovery point', async () => {
	for (const path_ of ['snapshot', 'mirror'] as const) {
		// eslint-disable-next-line no-await-in-loop
		const drill = await startDrillWorld({seeders: coreSeeders});
		// eslint-disable-next-line no-await-in-loop
		const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'drill-mirror-stale-'));
		try {
			const {world} = drill;
			const before = world.providerEndpoint.volume!.fingerprint();
			const scenario = findScenario('mirror-stale')!;
			// eslint-disable-next-line no-await-in-loop
			const state = await scenario.inject(world) as MirrorState;
			assert.equal(Object.keys(world.providerEndpoint.volume!.fingerprint()['ilum-files'] ?? {}).length, 0, 'the incident emptied ilum-files');
			const cronJob = world.store.get('cronjobs', ilum.namespace, ilum.backupCronJob)!;
			assert.ok(Date.parse(cronJob.status.lastSuccessfulTime) < world.clock.now() - (47 * 3_600_000), 'the mirror last succeeded two days ago');
			// Independently: what the newest snapshot lacks of the state before (every bucket: a volume restore rolls them all back).
			const snapshotLoss = Object.entries(before).reduce((sum, [bucket, objects]) => sum + Object.entries(objects).filter(([key, etag]) => state.lastGoodData[bucket]?.[key] !== etag).length, 0);
			if (path_ === 'snapshot') {
				// The backup really fails now: a run from the CronJob's own template ends Failed.
				world.store.create('jobs', {apiVersion: 'batch/v1', kind: 'Job', metadata: {name: 'backup-probe', namespace: ilum.namespace}, spec: {...structuredClone(cronJob.spec.jobTemplate.spec), backoffLimit: 0}});
				// eslint-disable-next-line no-await-in-loop
				const conditions = await waitFor(() => (world.store.get('jobs', ilum.namespace, 'backup-probe')?.status?.conditions ?? []).find((condition: any) => (condition.type === 'Failed' || condition.type === 'Complete') && condition.status === 'True'), 'the probe backup Job to finish');
				assert.equal(conditions.type, 'Failed');
				// eslint-disable-next-line no-await-in-loop
				await recover(drill, 'mirror-stale', state, stateDir);
				// eslint-disable-next-line no-await-in-loop
				const check = await scenario.check(world, state);
				assert.equal(check.recovered, true, check.findings.join(' | '));
				assert.equal(check.lostObjects, snapshotLoss);
				assert.deepEqual(check.findings.filter(line => line.startsWith('Mistake:')), []);
			} else {
				// The runbook's path: the mirror (its Secret's key is the stale one, so the operator passes the right one).
				// eslint-disable-next-line no-await-in-loop
				const run = await runCli(['restore', 'mirror', '--bucket', 'ilum-files', '--yes', '--s3-endpoint', world.provider.endpoint, '--state-dir', stateDir], {env: {
					...drill.env,
					AWS_ACCESS_KEY_ID: world.provider.accessKeyId,
					AWS_SECRET_ACCESS_KEY: world.provider.secretAccessKey,
					MIRROR_ENDPOINT_URL: world.backup.endpoint,
					MIRROR_ACCESS_KEY_ID: world.backup.accessKeyId,
					MIRROR_SECRET_ACCESS_KEY: world.backup.secretAccessKey,
				}, timeoutMs: 300_000});
				assert.equal(run.code, 0, run.stderr);
				// eslint-disable-next-line no-await-in-loop
				const check = await scenario.check(world, state);
				assert.equal(check.recovered, false, check.findings.join(' | '));
				assert.ok(check.findings.some(line => /^Mistake: wrong recovery point/.test(line)), check.findings.join(' | '));
			}
		} finally {
			// eslint-disable-next-line no-await-in-loop
			await drill.stop();
			// eslint-disable-next-line no-await-in-loop
			await fs.rm(stateDir, {recursive: true, force: true});
		}
	}
});
