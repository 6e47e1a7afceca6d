import path from 'node:path';
import type {AccessRequirement, PlanDescription, StepKind} from './plan.js';
import {formatAccess} from './plan.js';
import {stateLayout, writeFileAtomic} from './state-dir.js';

export type StepRecord = {
	readonly id: string;
	readonly kind: StepKind;
	readonly title: string;
	/**
	`skipped-done`: completed by an earlier attempt (resume); `not-run`: the run ended before it;
	`stopped`: a mutation cut short at the operator's request (partly done; a resume finishes it).
	*/
	readonly outcome: 'done' | 'already' | 'passed' | 'skipped-done' | 'failed' | 'not-run' | 'stopped';
	readonly startedAt?: string;
	readonly endedAt?: string;
	readonly detail?: string;
	readonly result?: unknown;
};

export type RestoreReport = {
	readonly runId: string;
	readonly kind: string;
	readonly target: string;
	readonly summary: string;
	readonly identity: string;
	readonly startedAt: string;
	readonly endedAt: string;
	/**
	`refused`: preflight or a gate said no, nothing was changed by this attempt. `stopped`: the
	operator asked to stop (Ctrl-C, the wizard's stop); the journal keeps the place, `--resume` goes on.
	*/
	readonly outcome: 'succeeded' | 'failed' | 'refused' | 'stopped';
	/** Why it was refused or failed; empty when it succeeded. */
	readonly reasons: readonly string[];
	readonly resumed: boolean;
	readonly steps: readonly StepRecord[];
	readonly undo: readonly string[];
	readonly warnings: readonly string[];
	readonly verification?: unknown;
	readonly plan: PlanDescription;
	/** Where the report was saved (set once written). */
	readonly files?: {readonly json: string; readonly markdown: string};
};

export function formatReportMarkdown(report: RestoreReport): string {
	const lines = [
		`# Restore report: ${report.summary}`,
		'',
		`- Run: \`${report.runId}\`${report.resumed ? ' (resumed)' : ''}`,
		`- Target: \`${report.target}\``,
		`- By: ${report.identity}`,
		`- Started: ${report.startedAt}`,
		`- Ended: ${report.endedAt}`,
		`- Outcome: **${report.outcome}**`,
	];
	if (report.reasons.length > 0) {
		lines.push('', '## Why', '', ...report.reasons.map(reason => `- ${reason}`));
	}

	lines.push('', '## Steps', '', '| # | step | kind | outcome | ended | detail |', '|---|---|---|---|---|---|');
	let index = 0;
	for (const step of report.steps) {
		index++;
		lines.push(`| ${index} | ${step.title} | ${step.kind} | ${step.outcome} | ${step.endedAt ?? ''} | ${(step.detail ?? '').replaceAll('|', '\\|')} |`);
	}

	if (report.warnings.length > 0) {
		lines.push('', '## Warnings', '', ...report.warnings.map(line => `- ${line}`));
	}

	if (report.verification !== undefined) {
		lines.push('', '## Verification', '', '```json', JSON.stringify(report.verification, undefined, 2), '```');
	}

	lines.push('', '## How to undo', '', ...(report.undo.length > 0 ? report.undo.map(line => `- ${line}`) : ['- Nothing was changed.']));
	return lines.join('\n') + '\n';
}

/** Saves the report as JSON and Markdown in the state dir; returns it with the file names. */
export function saveReport(stateDir: string, report: RestoreReport): RestoreReport {
	const base = path.join(stateLayout(stateDir).reports, report.runId);
	const files = {json: `${base}.json`, markdown: `${base}.md`};
	const saved = {...report, files};
	writeFileAtomic(files.json, JSON.stringify(saved, undefined, '\t') + '\n');
	writeFileAtomic(files.markdown, formatReportMarkdown(saved));
	return saved;
}

export const formatMissingAccess = (items: readonly AccessRequirement[]) => items.map(item => formatAccess(item)).join('; ');
