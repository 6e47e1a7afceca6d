/**
The drill world runs on the real clock unless told where to start it, and its backup CronJob fires
at the (simulated) top of every hour. A test that must not see that run (it would be a "mistake"
in a drill, or make a restore's preflight refuse) starts the world's clock clear of it.
*/

/**
A clock start for a drill world (`startWorld({now})`, `--clock-start`) that keeps its backup
CronJob's hourly run away for at least `minutes`: the real time when the next top of the hour is
that far and the last run 90 s behind, else the latest earlier time that is (at most `minutes` +
1.5 minutes in the past). No wait: the world's own clock is moved, not the test.
*/
export function clearOfTheHour(minutes = 12, now = Date.now()): number {
	const hour = 3_600_000;
	const into = now % hour;
	const top = now - into;
	if (into >= 90_000 && into <= hour - (minutes * 60_000)) {
		return now;
	}

	// Past the last safe moment of this hour: that moment; just after the top: the previous hour's.
	return (into < 90_000 ? top - hour : top) + hour - (minutes * 60_000);
}

/** `clearOfTheHour` as `--clock-start` takes it (ISO 8601, UTC). */
export const clockStartArgument = (minutes = 12, now = Date.now()) => new Date(clearOfTheHour(minutes, now)).toISOString();
