/**
The end of a drill: recovered or not (the scenario's own check against the state before the
incident), the time to recover against the target, the data lost for good (the RPO achieved),
and the mistakes seen in the world while the operator worked. Saved as Markdown and JSON.
*/
import fs from 'node:fs';
import path from 'node:path';
import {ilum} from './seed/ilum.js';
import type {ScenarioBriefing, ScenarioCheck} from './scenarios/scenario.js';
import type {World} from './world.js';

export type Debrief = {
	readonly scenario: string;
	readonly summary: string;
	readonly briefing: ScenarioBriefing;
	readonly mode: 'auto' | 'operator';
	readonly startedAt: string;
	readonly endedAt: string;
	readonly recovered: boolean;
	readonly secondsToRecover: number;
	readonly withinTarget: boolean;
	readonly lostObjects: number;
	readonly checkedObjects: number;
	/** What `lostObjects`/`checkedObjects` count: objects, or rows of a table. */
	readonly unit: 'objects' | 'rows';
	readonly findings: readonly string[];
	readonly mistakes: readonly string[];
	/** The commands run (auto mode), in order, with their exit codes. */
	readonly commands: ReadonlyArray<{readonly argv: readonly string[]; readonly code: number}>;
	readonly files?: {readonly json: string; readonly markdown: string};
};

type Job = {metadata: {name: string; creationTimestamp?: string; annotations?: Record<string, string>; ownerReferences?: Array<{kind: string; name: string}>}};

/**
Mistakes the world itself shows, whatever the scenario: runs of the backup CronJob (with
--remove) scheduled after the incident began while the data was still missing.
*/
export function observedMistakes(world: World, since: string, recoveredAt: string): string[] {
	const mistakes: string[] = [];
	const scheduled = (world.store.list('jobs', ilum.namespace).items as unknown as Job[]).filter(job =>
		job.metadata.ownerReferences?.some(owner => owner.kind === 'CronJob' && owner.name === ilum.backupCronJob)
		&& job.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] !== 'manual'
		&& String(job.metadata.creationTimestamp) >= since && String(job.metadata.creationTimestamp) <= recoveredAt);
	if (scheduled.length > 0) {
		mistakes.push(`The backup CronJob ${ilum.backupCronJob} was left running: it ran ${scheduled.length} time${scheduled.length === 1 ? '' : 's'} during the incident (${scheduled.map(job => job.metadata.name).join(', ')}); with --remove each run copies the loss into the backup. Suspend it first.`);
	}

	return mistakes;
}

export function buildDebrief(input: {
	scenario: {name: string; summary: string; briefing: ScenarioBriefing};
	mode: Debrief['mode'];
	startedAt: Date;
	endedAt: Date;
	check: ScenarioCheck;
	observed: readonly string[];
	commands: Debrief['commands'];
}): Debrief {
	const seconds = Math.round((input.endedAt.getTime() - input.startedAt.getTime()) / 100) / 10;
	const fromCheck = input.check.findings.filter(line => /^Mistake:/i.test(line)).map(line => line.replace(/^Mistake:\s*/i, ''));
	const mistakes = [...fromCheck, ...input.observed.filter(line => !fromCheck.some(seen => seen.includes('CronJob') && line.includes('CronJob')))];
	return {
		scenario: input.scenario.name,
		summary: input.scenario.summary,
		briefing: input.scenario.briefing,
		mode: input.mode,
		startedAt: input.startedAt.toISOString(),
		endedAt: input.endedAt.toISOString(),
		recovered: input.check.recovered,
		secondsToRecover: seconds,
		withinTarget: input.check.recovered && seconds <= input.scenario.briefing.targetRtoMinutes * 60,
		lostObjects: input.check.lostObjects,
		checkedObjects: input.check.checkedObjects,
		unit: input.check.unit ?? 'objects',
		findings: input.check.findings.filter(line => !/^Mistake:/i.test(line)),
		mistakes,
		commands: input.commands,
	};
}

const minutes = (seconds: number) => seconds < 120 ? `${seconds} s` : `${(seconds / 60).toFixed(1)} min`;

export function formatDebriefMarkdown(debrief: Debrief): string {
	const lines = [
		`# Drill debrief: ${debrief.scenario}`,
		'',
		`> ${debrief.summary}`,
		'',
		`- Outcome: **${debrief.recovered ? 'recovered' : 'NOT recovered'}**${debrief.mode === 'auto' ? ' (recommended recovery, run by --auto)' : ''}`,
		`- Time to recover: ${minutes(debrief.secondsToRecover)} (target ${debrief.briefing.targetRtoMinutes} min: ${debrief.withinTarget ? 'met' : 'missed'})`,
		`- Data lost for good (RPO achieved): ${debrief.lostObjects} of ${debrief.checkedObjects} ${debrief.unit ?? 'objects'}`,
		`- Started ${debrief.startedAt}, ended ${debrief.endedAt}`,
		'',
		'## What happened',
		'',
		debrief.briefing.what,
		'',
		'## Success meant',
		'',
		debrief.briefing.success,
		'',
		'## Findings',
		'',
		...debrief.findings.map(line => `- ${line}`),
		'',
		'## Mistakes',
		'',
		...(debrief.mistakes.length > 0 ? debrief.mistakes.map(line => `- ${line}`) : ['- none seen']),
		'',
	];
	if (debrief.commands.length > 0) {
		lines.push('## Commands run', '', ...debrief.commands.map(command => `- \`ilum-restore ${command.argv.join(' ')}\` (exit ${command.code})`), '');
	}

	return lines.join('\n');
}

export function saveDebrief(stateDir: string, debrief: Debrief): Debrief {
	const folder = path.join(stateDir, 'drills');
	fs.mkdirSync(folder, {recursive: true});
	const base = path.join(folder, `${debrief.scenario}-${debrief.startedAt.replaceAll(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`);
	const files = {json: `${base}.json`, markdown: `${base}.md`};
	const saved = {...debrief, files};
	fs.writeFileSync(files.json, JSON.stringify(saved, undefined, '\t') + '\n');
	fs.writeFileSync(files.markdown, formatDebriefMarkdown(saved));
	return saved;
}
