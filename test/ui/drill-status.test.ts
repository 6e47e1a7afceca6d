import {test} from 'node:test';
import assert from 'node:assert/strict';
import {drillStatus} from '../../source/ui/app.js';

test('the drill clock counts against the target and says when it is over', () => {
	const drill = {scenario: 'bucket-wipe', startedAt: 1_000_000, deadline: 1_000_000 + 15 * 60_000};
	assert.equal(drillStatus(drill, 1_000_000 + 187_000), 'DRILL bucket-wipe 3:07 of 15:00');
	assert.equal(drillStatus(drill, 1_000_000 + 16 * 60_000), 'DRILL bucket-wipe 16:00 of 15:00 OVER');
});
