import {test} from 'node:test';
import assert from 'node:assert/strict';
import {describeBackupCron, findBackupCronJob, maskCredentials, scheduleIntervalMs} from '../../../source/layers/mirrors/cron.js';
import {healthyWorld} from '../../helpers/fake-cluster.js';

const now = Date.parse('2026-11-22T12:00:00Z');

test('reads the CronJob: schedule, --remove, destination from the Secret, runs; never a credential', () => {
	const world = healthyWorld(now);
	const cronJob = findBackupCronJob(world.cronJobs)!;
	const cron = describeBackupCron(cronJob, {jobs: world.jobs, secret: world.secrets['ilum-backup-credentials']});
	assert.equal(cron.name, 'ilum-backup');
	assert.equal(cron.remove, true);
	assert.equal(cron.tool, 'mc');
	assert.deepEqual(cron.buckets, ['ilum-data']);
	assert.equal(cron.destination.endpoint, 'https://backup.example:9000');
	assert.deepEqual(cron.destination.secretKeys, ['access-key', 'endpoint', 'secret-key']);
	assert.equal(cron.runs[0]!.outcome, 'succeeded');
	assert.doesNotMatch(JSON.stringify(cron), /sup3rs3cret|AKIAFAKE/);
});

test('rclone sync counts as --remove; mc mirror without it does not', () => {
	const world = healthyWorld(now);
	const container = world.cronJobs[0]!.spec!.jobTemplate.spec!.template.spec!.containers[0]!;
	container.command = ['rclone', 'sync', 'src:ilum-data', 'dst:ilum-data'];
	assert.equal(describeBackupCron(world.cronJobs[0]!).remove, true);
	container.command = ['mc', 'mirror', '--overwrite', 'src/ilum-data', 'dst/ilum-data'];
	assert.equal(describeBackupCron(world.cronJobs[0]!).remove, false);
});

test('credentials in URLs and flags are masked', () => {
	assert.equal(maskCredentials('MC_HOST_dst=https://AKIA:secret@backup:9000 --secret-key=abc'), 'MC_HOST_dst=https://***@backup:9000 --secret-key=***');
});

test('schedule intervals', () => {
	assert.equal(scheduleIntervalMs('0 * * * *'), 3_600_000);
	assert.equal(scheduleIntervalMs('*/15 * * * *'), 900_000);
	assert.equal(scheduleIntervalMs('@daily'), 86_400_000);
	assert.equal(scheduleIntervalMs('0 2 * * 1-5'), 3 * 86_400_000);
	assert.equal(scheduleIntervalMs('nonsense'), undefined);
});
