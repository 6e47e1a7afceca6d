import assert from 'node:assert/strict';
import {test} from 'node:test';
import {parseClockStart} from '../../source/drill/clock.js';
import {clearOfTheHour} from '../helpers/clock.js';

test('--clock-start reads ISO 8601 with a zone, and HH:MM as the latest such UTC time not in the future', () => {
	const now = Date.parse('2026-11-22T04:30:00Z');
	assert.equal(parseClockStart('2026-11-22T09:05:00Z', now), Date.parse('2026-11-22T09:05:00Z'));
	assert.equal(parseClockStart('2026-11-22T09:05:00+01:00', now), Date.parse('2026-11-22T08:05:00Z'));
	assert.equal(parseClockStart('04:05', now), Date.parse('2026-11-22T04:05:00Z'));
	assert.equal(parseClockStart('10:05', now), Date.parse('2026-11-21T10:05:00Z'), 'today\'s 10:05 is still ahead: yesterday\'s');
	for (const bad of ['tomorrow', '25:00', '10:60', '2026-11-22T09:05:00', '2026-11-22', '']) {
		assert.equal(parseClockStart(bad, now), undefined, bad);
	}
});

test('the test fixture\'s clock start keeps the next top of the hour at least 12 minutes away, and never lies ahead', () => {
	const hour = 3_600_000;
	const base = Date.parse('2026-11-22T04:00:00Z');
	for (let minute = 0; minute < 60; minute++) {
		for (const second of [0, 30, 59]) {
			const now = base + (minute * 60_000) + (second * 1000);
			const start = clearOfTheHour(12, now);
			const into = start % hour;
			assert.ok(start <= now, `${new Date(now).toISOString()}: ${new Date(start).toISOString()}`);
			assert.ok(into >= 90_000 && hour - into >= 12 * 60_000, `${new Date(now).toISOString()}: ${new Date(start).toISOString()}`);
			assert.ok(now - start <= 14 * 60_000, 'at most 13.5 minutes back');
		}
	}
});
