import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import type {TmuxScreen} from './tmux.js';

const run = promisify(execFile);

/** What an operator saw along the way of a `drill run pv-loss` recovered by keys. */
export type DrillByKeys = {
	/** When the briefing first showed (the drill's clock started just before). */
	briefingSeenAt: number;
	/** The first console screen: the status bar with the drill clock. */
	consoleScreen: string;
	/** The console once it shows the incident: the hazard banner, the buckets compared, the tables read. */
	incidentScreen: string;
	/** The console a while later: the clock has moved on. */
	laterScreen: string;
	/** The snapshots the pane listed, in its order (name as shown, its UTC stamp, ready). */
	listed: Array<{shown: string; stamp: string; ready: boolean}>;
	/** The one selected: the newest ready snapshot taken before the incident. */
	chosenStamp: string;
	/** Its full name, as the wizard's title names it. */
	chosenName: string;
	planScreen: string;
	gateScreen: string;
	reportScreen: string;
	/** The console after the restore, caught up by itself (no r): the tables read again. */
	refreshedScreen: string;
	/** When q was pressed in the console. */
	quitAt: number;
	/** The whole terminal after the drill ended (briefing and debrief, scrollback included). */
	transcript: string;
	/** The drill's exit status (0: recovered). */
	exitStatus: number;
};

/** UTC `YYYYMMDD-HHMM`, as the hourly snapshot names carry it. */
export function utcStamp(ms: number): string {
	const iso = new Date(ms).toISOString();
	return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}

/** The rows of the Volume snapshots pane (the left pane of the wide layout). */
export function snapshotRows(screen: string): Array<{shown: string; stamp: string; ready: boolean}> {
	const rows: Array<{shown: string; stamp: string; ready: boolean}> = [];
	for (const line of screen.split('\n')) {
		const match = /^│(ilum-obje\S*?(\d{8}-\d{4}))\s+\S+\s+(yes|no)\b/.exec(line);
		if (match) {
			rows.push({shown: match[1]!, stamp: match[2]!, ready: match[3] === 'yes'});
		}
	}

	return rows;
}

/**
Drives `ilum-restore drill run pv-loss` (already started in `screen`) as an operator would, by keys:
Enter after the briefing; in the console, read the hazard banner and suspend the backup CronJob
(`s` in the Mirrors pane, `y`); select the newest ready VolumeSnapshot taken before the incident;
`R`; the plan, the preflight, the typed gate, the live progress, the report; close it; see the
tables read again (no `r`: the console re-reads them); `q`; then the debrief. `hold` is called on screens worth a look (the recording pauses there; tests pass none).
*/
export async function driveDrillByKeys(screen: TmuxScreen, options: {hold?: (what: string) => Promise<void>; typeSlowly?: boolean} = {}): Promise<DrillByKeys> {
	const hold = options.hold ?? (async () => {});
	const minutes = 60_000;
	await screen.waitForScreen('Press Enter to open the console', {timeout: 5 * minutes});
	const briefingSeenAt = Date.now();
	await hold('briefing');
	await screen.sendKeys('Enter');

	// The console on the incident: the drill's clock in the status bar, the snapshots listed.
	const consoleScreen = await screen.waitForScreen(text => /DRILL pv-loss \d+:\d\d of 30:00/.test(text) && snapshotRows(text).length > 0, {timeout: 5 * minutes});
	// The hazard the drill sets up (the backup CronJob's next --remove run would copy the loss), the tables read.
	const incidentScreen = await screen.waitForScreen(text => text.includes('‼ The next run of CronJob ilum-objectstorage-backup') && text.includes('CronJob ilum-objectstorage-backup ·') && /Tables \([1-9]/.test(text) && !text.includes('reading table histories'), {timeout: 5 * minutes});
	await hold('console');
	await screen.sendKeys('Tab', 's');
	await screen.waitForScreen('Suspend CronJob ilum-objectstorage-backup?', {timeout: 2 * minutes});
	await hold('suspend');
	await screen.sendKeys('y');
	await screen.waitForScreen(text => text.includes('CronJob ilum-objectstorage-backup suspended') && !text.includes('‼ The next run of CronJob'), {timeout: 2 * minutes});
	const clockShown = /DRILL pv-loss (\d+:\d\d)/.exec(consoleScreen)![1];
	const laterScreen = await screen.waitForScreen(text => {
		const clock = /DRILL pv-loss (\d+:\d\d) of 30:00/.exec(text)?.[1];
		return clock !== undefined && clock !== clockShown;
	}, {timeout: 2 * minutes});
	await hold('suspended');

	// The last good snapshot: the newest ready one taken before the incident (the pane lists newest
	// first; read it again now: an hourly snapshot may have been taken since the console opened).
	const listed = snapshotRows(await screen.capture());
	const beforeIncident = utcStamp(briefingSeenAt);
	const index = listed.findIndex(row => row.ready && row.stamp <= beforeIncident);
	if (index < 0) {
		throw new Error(`No ready snapshot before ${beforeIncident} in the pane:\n${consoleScreen}`);
	}

	const chosenStamp = listed[index]!.stamp;
	await screen.sendKeys('BTab', ...Array.from({length: index}, () => 'j'), 'R');
	const planScreen = await screen.waitForScreen(/Plan \(\d+ steps\)/, {timeout: 3 * minutes});
	const chosenName = /from VolumeSnapshot[\s│]*(ilum-objectstorage-[\w-]*?\d{8}-\d{4})/.exec(planScreen)?.[1] ?? '';
	await hold('plan');
	await screen.sendKeys('Enter');
	await screen.waitForScreen('All checks passed', {timeout: 3 * minutes});
	await hold('preflight');
	await screen.sendKeys('Enter');
	await screen.waitForScreen('Type data-ilum-objectstorage-0 to confirm', {timeout: 3 * minutes});
	const confirmation = 'data-ilum-objectstorage-0';
	if (options.typeSlowly) {
		// One key at a time, each seen on the screen before the next (as a person types).
		for (let typed = 1; typed <= confirmation.length; typed++) {
			// eslint-disable-next-line no-await-in-loop
			await screen.sendKeys('-l', confirmation[typed - 1]!);
			// eslint-disable-next-line no-await-in-loop
			await screen.waitForScreen(`> ${confirmation.slice(0, typed)}`, {timeout: minutes});
		}
	} else {
		await screen.sendKeys('-l', confirmation);
	}

	const gateScreen = await screen.waitForScreen(`> ${confirmation}`, {timeout: minutes});
	await hold('gate');
	await screen.sendKeys('Enter');
	const reportScreen = await screen.waitForScreen(/SUCCEEDED|FAILED|REFUSED/, {timeout: 10 * minutes});
	await hold('report');
	await screen.sendKeys('Enter');
	await screen.waitForScreen(text => /Volume snapshots \(\d+\)/.test(text) && /DRILL pv-loss/.test(text), {timeout: 2 * minutes});
	await hold('back');
	// No r: the console re-reads the buckets and tables by itself; the Delta tables the corruption broke read again.
	const refreshedScreen = await screen.waitForScreen(text => /delta\/orders +delta +\d+/.test(text) && !/delta +error/.test(text), {timeout: 3 * minutes});
	await hold('refreshed');
	const quitAt = Date.now();
	await screen.sendKeys('q');
	await screen.waitForScreen(text => /^Saved: .*drills/m.test(text), {timeout: 5 * minutes});
	const deadline = Date.now() + (2 * minutes);
	while (await screen.alive()) {
		if (Date.now() > deadline) {
			throw new Error('The drill did not end after its debrief');
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 100);
		});
	}

	await hold('debrief');
	const transcript = (await run('tmux', ['capture-pane', '-p', '-J', '-S', '-', '-t', screen.session])).stdout;
	const exitStatus = Number((await run('tmux', ['display-message', '-p', '-t', screen.session, '#{pane_dead_status}'])).stdout.trim());
	return {briefingSeenAt, consoleScreen, incidentScreen, laterScreen, listed, chosenStamp, chosenName, planScreen, gateScreen, reportScreen, refreshedScreen, quitAt, transcript, exitStatus};
}
