/**
An incident the drill world can stage: one file per scenario, listed in `index.ts`.

`inject` breaks the running world the way the incident would and returns what success is judged
against (plain JSON: the state before); `check` compares the world with it afterwards: recovered
or not, how many objects were lost for good (the RPO achieved), and findings in words (mistakes
among them).
*/
import type {World} from '../world.js';

export type ScenarioBriefing = {
	/** What happened, as the operator is told at the start. */
	readonly what: string;
	/** What success means. */
	readonly success: string;
	readonly targetRtoMinutes: number;
};

export type ScenarioCheck = {
	readonly recovered: boolean;
	/** Objects (or table rows, see `unit`) of the state before the incident that are missing or different now. */
	readonly lostObjects: number;
	readonly checkedObjects: number;
	/** What `lostObjects`/`checkedObjects` count: objects (default) or table rows. */
	readonly unit?: 'objects' | 'rows';
	readonly findings: readonly string[];
};

/** One command of a recommended recovery, as an operator types it (without the binary and the connection flags). */
export type RecoveryCommand = {readonly argv: readonly string[]; readonly why: string};

export type Scenario<State> = {
	readonly name: string;
	readonly summary: string;
	readonly briefing: ScenarioBriefing;
	inject(world: World): Promise<State>;
	check(world: World, state: State): Promise<ScenarioCheck>;
	/**
	The recommended recovery: what `drill run --auto` runs, through the same CLI, engine and gates
	as an operator. Absent: the scenario can only be run by hand.
	*/
	recovery?(world: World, state: State): readonly RecoveryCommand[];
};

/** Bucket -> key -> ETag. */
export type Fingerprint = Record<string, Record<string, string>>;

/** Compares what the provider serves now (its current volume) with `expected`. */
export function compareWithProvider(world: World, expected: Fingerprint): {checked: number; missing: number; differ: number} {
	const actual = world.providerEndpoint.volume?.fingerprint() ?? {};
	let checked = 0;
	let missing = 0;
	let differ = 0;
	for (const [bucket, objects] of Object.entries(expected)) {
		for (const [key, etag] of Object.entries(objects)) {
			checked++;
			const now = actual[bucket]?.[key];
			if (now === undefined) {
				missing++;
			} else if (now !== etag) {
				differ++;
			}
		}
	}

	return {checked, missing, differ};
}

/** Waits for a condition of the world (polled, with a deadline), never for a fixed time. */
export async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		if (Date.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 50);
		});
	}
}
