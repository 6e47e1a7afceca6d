/**
The drill world runs on the real clock, and its backup CronJob fires at the top of every hour.
A test that must not see that run (it would be a "mistake" in a drill, or make a restore's
preflight refuse) waits until the next top of the hour is at least `minutes` away, and the run
of the hour that just began has finished (90 s after it). A wait on a condition of the clock, not
a fixed sleep: outside that window it returns at once.
*/
export async function awayFromTheHour(minutes = 5): Promise<void> {
	const hour = 3_600_000;
	const into = () => Date.now() % hour;
	if (into() > hour - (minutes * 60_000) || into() < 90_000) {
		const until = (Math.floor(Date.now() / hour) * hour) + (into() < 90_000 ? 0 : hour) + 90_000;
		while (Date.now() < until) {
			// eslint-disable-next-line no-await-in-loop
			await new Promise(resolve => {
				setTimeout(resolve, 1000);
			});
		}
	}
}
