import type {BucketFigures} from '../../layers/mirror-figures.js';
import {bucketDetail} from '../detail/details.js';
import {formatAge, formatTime} from '../presenters/format.js';
import {bucketColumns, bucketRow} from '../presenters/rows.js';
import type {PaneDefinition, ToneLine} from './pane.js';

export const mirrorsPane: PaneDefinition<BucketFigures> = {
	id: 'mirrors',
	title: 'Mirrors',
	layer: 'mirrors',
	items: live => live.mirrors.value?.buckets ?? [],
	search: item => item.bucket,
	columns: bucketColumns,
	toRow: bucketRow,
	bad: item => Boolean(item.error) || item.missingInProvider > 0,
	summary(live, now) {
		const mirrors = live.mirrors.value;
		if (!mirrors) {
			return [];
		}

		const lines: ToneLine[] = [];
		const cron = mirrors.cron;
		if (cron) {
			lines.push({text: `CronJob ${cron.name} · ${cron.schedule}${cron.suspended ? ' · SUSPENDED' : ''}${cron.remove ? ' · --remove' : ''}`, tone: cron.suspended ? 'warn' : undefined});
			lines.push({text: `last run ${formatAge(cron.lastScheduleTime, now)} ago · last success ${cron.lastSuccessfulTime ? `${formatAge(cron.lastSuccessfulTime, now)} ago (${formatTime(cron.lastSuccessfulTime)})` : 'never'}`, tone: cron.lastSuccessfulTime ? 'dim' : 'bad'});
			lines.push({text: `to ${cron.destination.endpoint ?? '?'}${cron.destination.target ? ` ${cron.destination.target}` : ''}${cron.destination.secretProblem ? ` (${cron.destination.secretProblem})` : ''}`, tone: 'dim'});
		} else if (mirrors.cronProblem) {
			lines.push({text: mirrors.cronProblem, tone: 'bad'});
		}

		if (mirrors.provider && !mirrors.provider.reachable) {
			lines.push({text: `provider unreachable: ${mirrors.provider.error ?? ''}`, tone: 'bad'});
		}

		if (mirrors.compareProblem) {
			lines.push({text: `buckets not compared: ${mirrors.compareProblem}`, tone: 'warn'});
		}

		return lines;
	},
	problem: live => live.mirrors.error,
	empty: live => live.mirrors.loading ? 'loading…' : 'no buckets compared',
	detail: bucketDetail,
};
