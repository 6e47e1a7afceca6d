import {badDeltaWrite} from './bad-delta-write.js';
import {bucketWipe} from './bucket-wipe.js';
import {ducklakeDelete} from './ducklake-delete.js';
import {icebergBadAppend} from './iceberg-bad-append.js';
import {mirrorStale} from './mirror-stale.js';
import {pvLoss} from './pv-loss.js';
import type {Scenario} from './scenario.js';
import {unprotected} from './unprotected.js';

export type {RecoveryCommand, Scenario, ScenarioBriefing, ScenarioCheck} from './scenario.js';

/** Every incident the drill world can stage. Adding one: a file exporting a `Scenario`, a line here. */
export const scenarios: ReadonlyArray<Scenario<any>> = [
	bucketWipe,
	pvLoss,
	badDeltaWrite,
	icebergBadAppend,
	ducklakeDelete,
	mirrorStale,
	unprotected,
];

export function findScenario(name: string): Scenario<any> | undefined {
	return scenarios.find(scenario => scenario.name === name);
}
