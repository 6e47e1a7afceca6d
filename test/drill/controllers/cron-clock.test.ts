import {test} from 'node:test';
import assert from 'node:assert/strict';
import {parseSchedule} from '../../../source/drill/controllers/cron.js';
import {Clock} from '../../../source/drill/clock.js';

test('cron schedules: hourly, steps, lists, day names, macros', () => {
	const at = (text: string) => Date.parse(text);
	assert.equal(parseSchedule('0 * * * *').next(at('2026-11-22T01:00:00Z')), at('2026-11-22T02:00:00Z'));
	assert.equal(parseSchedule('0 * * * *').next(at('2026-11-22T01:59:59Z')), at('2026-11-22T02:00:00Z'));
	assert.equal(parseSchedule('*/15 2-3 * * *').next(at('2026-11-22T03:50:00Z')), at('2026-11-23T02:00:00Z'));
	assert.equal(parseSchedule('30 4 * * mon,fri').next(at('2026-11-22T00:00:00Z')), at('2026-11-23T04:30:00Z'));
	assert.equal(parseSchedule('@daily').next(at('2026-12-31T12:00:00Z')), at('2027-01-01T00:00:00Z'));
	assert.throws(() => parseSchedule('61 * * * *'), /invalid cron field/);
	assert.throws(() => parseSchedule('* * *'), /expected exactly 5 fields/);
});

test('the clock runs faster, jumps forward and fires timers in order', async () => {
	const clock = new Clock({start: Date.parse('2026-01-01T00:00:00Z'), speed: 1000});
	const fired: string[] = [];
	clock.setTimeout(() => fired.push('b'), 60_000);
	clock.setTimeout(() => fired.push('a'), 30_000);
	const cancelled = clock.setTimeout(() => fired.push('never'), 45_000);
	cancelled.cancel();
	const started = Date.now();
	await clock.sleep(90_000);
	assert.ok(Date.now() - started < 1500, 'a 90 s simulated sleep takes about 90 ms at speed 1000');
	assert.deepEqual(fired, ['a', 'b']);
	clock.setSpeed(1);
	clock.setTimeout(() => fired.push('after-jump'), 3_600_000);
	clock.advance(3_600_000);
	await new Promise(resolve => {
		setTimeout(resolve, 20);
	});
	assert.deepEqual(fired, ['a', 'b', 'after-jump']);
	assert.ok(clock.now() >= Date.parse('2026-01-01T01:01:30Z'));
	clock.stop();
});
