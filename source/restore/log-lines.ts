import type {EngineEvent} from './executor.js';

/**
Engine events as plain log lines (stderr of the CLI without --json). The console renders the same
events as panes; `--json` writes them as JSON lines.
*/
export function formatEventLine(event: EngineEvent): string | undefined {
	switch (event.type) {
		case 'plan': {
			return event.resumed
				? `resuming run ${event.runId}: ${event.plan.summary} (${event.completed.length} of ${event.plan.steps.length} steps already done)`
				: `run ${event.runId}: ${event.plan.summary}`;
		}

		case 'preflight': {
			return `preflight ${event.ok ? 'ok  ' : 'FAIL'} ${event.detail}${!event.ok && event.hint ? `: ${event.hint}` : ''}`;
		}

		case 'refused': {
			return `refused, nothing changed:\n${event.reasons.map(reason => `  - ${reason}`).join('\n')}`;
		}

		case 'gate': {
			return `gate ${event.step}: ${event.accepted ? 'confirmed' : 'NOT confirmed'}`;
		}

		case 'step-start': {
			return `[${event.index}/${event.count}] ${event.title}`;
		}

		case 'step-progress': {
			const {progress} = event;
			const quantity = progress.total === undefined ? (progress.current === undefined ? '' : ` (${progress.current}${progress.unit ? ' ' + progress.unit : ''})`) : ` (${progress.current ?? 0}/${progress.total}${progress.unit ? ' ' + progress.unit : ''})`;
			const prefix = progress.kind === 'event' ? 'event ' : (progress.kind === 'warning' ? 'warning ' : '');
			return `      ${prefix}${progress.object ? progress.object + ': ' : ''}${progress.message}${quantity}`;
		}

		case 'step-end': {
			const took = event.durationMs >= 1000 ? ` in ${(event.durationMs / 1000).toFixed(1)} s` : '';
			return `      -> ${event.outcome}${took}${event.detail ? `: ${event.detail}` : ''}`;
		}

		case 'stopped': {
			return `stopped on request${event.next ? ` before/during '${event.next}'` : ''}; resume with the same command and --resume`;
		}

		case 'report': {
			const {report} = event;
			const lines = [`${report.outcome.toUpperCase()}: ${report.summary}`];
			if (report.reasons.length > 0 && report.outcome !== 'refused') {
				lines.push(...report.reasons.map(reason => `  ${reason}`));
			}

			if (report.undo.length > 0) {
				lines.push('undo:', ...report.undo.map(line => `  - ${line}`));
			}

			if (report.files) {
				lines.push(`report: ${report.files.markdown}`);
			}

			return lines.join('\n');
		}

		default: {
			return undefined;
		}
	}
}
