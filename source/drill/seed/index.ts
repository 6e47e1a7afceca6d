import {clusterSeeder} from './cluster.js';
import {deltaTablesSeeder} from './delta-tables.js';
import {ducklakeTablesSeeder} from './ducklake-tables.js';
import {historySeeder} from './history-seeder.js';
import {icebergTablesSeeder} from './iceberg-tables.js';
import {objectsSeeder} from './objects-seeder.js';
import type {SeedContext, Seeder, SeedTimeline} from './context.js';

export type {ResumeContext, SeedContext, Seeder, SeedTimeline, SeedS3} from './context.js';

/**
Every seeder, in the order they run. Adding one (a table format, a catalog) is one file exporting
a `Seeder` plus one line here; read `SeedContext` in context.ts for what a seeder gets, and use
`context.at(time, step)` to spread versions over the day so the hourly snapshots and the mirror
capture different states.
*/
export const seeders: readonly Seeder[] = [
	clusterSeeder,
	objectsSeeder,
	deltaTablesSeeder,
	historySeeder,
	icebergTablesSeeder,
	ducklakeTablesSeeder,
];

const hour = 3_600_000;
const minute = 60_000;

/**
The day the world remembers, ending at `now`: the backup CronJob (`0 * * * *`) last ran at the
latest top of the hour (so it is not due again before the next one), a snapshot two minutes past
each of the 24 hours before (the newest no later than now), and a few writes since (`drift`).
*/
export function makeTimeline(now: number): SeedTimeline {
	const lastMirror = Math.floor((now - minute) / hour) * hour;
	const newest = lastMirror + (2 * minute) <= now - (30 * 1000) ? lastMirror + (2 * minute) : lastMirror + (2 * minute) - hour;
	const snapshots = Array.from({length: 24}, (_, index) => newest - ((23 - index) * hour));
	const dataFrom = snapshots[0]! - hour;
	const settled = Math.max(lastMirror + minute, newest);
	return {
		installedAt: dataFrom - (10 * minute),
		dataFrom,
		snapshots,
		mirrorRuns: [lastMirror - (2 * hour), lastMirror - hour, lastMirror],
		lastMirror,
		drift: settled + Math.max(1000, Math.floor((now - settled) / 2)),
		now,
	};
}

type Step = {time: number; seeder: number; order: number; name: string; run: (time: number) => Promise<void> | void};

/** Milliseconds each seeder took in the last `runSeeders` (its `seed` call plus its steps). */
export const seedTimings = new Map<string, number>();

/**
Runs the seeders against a fresh world whose clock reads `timeline.installedAt`, then their
steps in time order (advancing the clock), and leaves the clock at `timeline.now`.

The first seeder (the cluster) runs alone; the others' `seed` calls then run concurrently (they
only set things up and register steps; a catalog server starting overlaps the rest). Steps run
one at a time, ordered by time, then by the seeder's place in the list, then by registration:
the same for every run.
*/
export async function runSeeders(base: Omit<SeedContext, 'at'>, list: readonly Seeder[] = seeders): Promise<void> {
	const steps: Step[] = [];
	seedTimings.clear();
	const charge = (name: string, started: number) => {
		seedTimings.set(name, (seedTimings.get(name) ?? 0) + (performance.now() - started));
	};

	const setUp = async (seeder: Seeder, index: number) => {
		let order = 0;
		const context: SeedContext = {
			...base,
			rng: base.rng.fork(seeder.name),
			at(time, run) {
				steps.push({time, seeder: index, order: order++, name: seeder.name, run});
			},
		};
		const started = performance.now();
		await seeder.seed(context);
		charge(seeder.name, started);
	};

	if (list.length > 0) {
		await setUp(list[0]!, 0);
	}

	await Promise.all(list.slice(1).map(async (seeder, index) => setUp(seeder, index + 1)));

	steps.sort((a, b) => a.time - b.time || a.seeder - b.seeder || a.order - b.order);
	for (const step of steps) {
		if (step.time > base.clock.now()) {
			base.clock.advance(step.time - base.clock.now());
		}

		const started = performance.now();
		// eslint-disable-next-line no-await-in-loop
		await step.run(step.time);
		charge(step.name, started);
	}

	if (base.timeline.now > base.clock.now()) {
		base.clock.advance(base.timeline.now - base.clock.now());
	}

	base.log(`seeded in ${[...seedTimings].map(([name, ms]) => `${name} ${Math.round(ms)} ms`).join(', ')}`);
}
