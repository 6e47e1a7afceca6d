import {eventTime} from '../../cluster/cluster.js';
import {ClusterError} from '../../cluster/cluster-errors.js';
import type {BucketFigures} from '../../layers/mirror-figures.js';
import type {TableItem} from '../../layers/tables/table-inventory.js';
import type {SnapshotItem} from '../../layers/volumes/volume-inventory.js';
import type {TableHistory} from '../../formats/types.js';
import {UserError} from '../../errors.js';
import {historyTable} from '../../layers/tables/history-table.js';
import {maskCredentials} from '../../layers/mirrors/cron.js';

/** Refs can carry a password (`ducklake:postgres:... password=x`, `https://user:pass@`): never on screen. */
const redact = (text: string) => maskCredentials(text.replaceAll(/(password=)\S+/gi, '$1***'));
import type {Detail, DetailChoice, DetailDeps, ToneLine} from '../panes/pane.js';
import {formatAge, formatAgo, formatBytes, formatTime} from '../presenters/format.js';

const line = (error: unknown) => error instanceof ClusterError || error instanceof UserError ? error.line() : error instanceof Error ? error.message.split('\n')[0]! : String(error);
const field = (name: string, value: string | undefined, tone?: ToneLine['tone']): ToneLine => ({text: `${name.padEnd(18)} ${value ?? '-'}`, tone});

/** A snapshot's description (as `kubectl describe` would list it) and its events. */
export async function snapshotDetail(item: SnapshotItem, deps: DetailDeps): Promise<Detail> {
	const lines: ToneLine[] = [
		field('Name', item.name),
		field('Namespace', item.namespace),
		field('Source claim', `${item.claim ?? '-'}${item.ofProvider ? ' (the provider\'s)' : ' (not the provider\'s claim)'}`),
		field('Ready to use', item.ready ? 'true' : 'false', item.ready ? 'ok' : 'bad'),
		field('Created', item.createdAt ? `${formatTime(item.createdAt)} UTC (${formatAge(item.createdAt, deps.now)} ago)` : '-'),
		field('Restore size', item.restoreSize),
		field('Class', item.className),
		field('Deletion policy', item.deletionPolicy),
		field('Content', item.contentName),
	];
	if (item.error) {
		lines.push(field('Error', item.error, 'bad'));
	}

	lines.push({text: ''}, {text: 'Events', tone: 'title'});
	try {
		const events = await deps.cluster.listEvents({kind: 'VolumeSnapshot', name: item.name, namespace: item.namespace, uid: item.uid});
		if (events.length === 0) {
			lines.push({text: '  <none>', tone: 'dim'});
		}

		for (const event of events) {
			const time = eventTime(event);
			lines.push({text: `  ${(event.type ?? 'Normal').padEnd(8)} ${(event.reason ?? '').padEnd(22)} ${time ? `${formatAge(time, deps.now)} ago`.padEnd(9) : ''} ${event.message ?? ''}`, tone: event.type === 'Warning' ? 'warn' : undefined});
		}
	} catch (error) {
		lines.push({text: `  ${line(error)}`, tone: 'bad'});
	}

	return {title: `VolumeSnapshot ${item.namespace}/${item.name}`, lines};
}

const markNames = {'+': 'only in the provider (next run copies it)', '-': 'only on the mirror (gone from the provider)', '*': 'differs'} as const;

/** A bucket's figures on both sides and the differing keys. */
export async function bucketDetail(item: BucketFigures, deps: DetailDeps): Promise<Detail> {
	const lines: ToneLine[] = [
		field('Bucket', item.bucket),
		field('Provider', `${item.provider.objects} objects, ${formatBytes(item.provider.bytes)}`),
		field('Mirror', `${item.mirror.objects} objects, ${formatBytes(item.mirror.bytes)}`),
		field('Missing on mirror', String(item.missingOnMirror), item.missingOnMirror > 0 ? 'warn' : 'ok'),
		field('Gone from provider', String(item.missingInProvider), item.missingInProvider > 0 ? 'bad' : 'ok'),
		field('Changed', String(item.changed), item.changed > 0 ? 'warn' : 'ok'),
		field('As of', `${item.done ? '' : 'still counting, '}${formatAgo(item.at, deps.now)}`),
	];
	if (item.error) {
		lines.push(field('Error', item.error, 'bad'));
	}

	lines.push({text: ''}, {text: 'Differing keys (+ only in the provider, - only on the mirror, * differs)', tone: 'title'});
	const keys = item.keys ?? [];
	if (keys.length === 0) {
		lines.push({text: item.done ? '  none: both sides hold the same objects' : '  (still comparing)', tone: 'dim'});
	}

	for (const key of keys) {
		lines.push({text: `  ${key.mark} ${key.key}`, tone: key.mark === '-' ? 'bad' : key.mark === '*' ? 'warn' : undefined});
	}

	const total = item.missingInProvider + item.missingOnMirror + item.changed;
	if (keys.length > 0 && total > keys.length) {
		lines.push({text: `  … and ${total - keys.length} more`, tone: 'dim'});
	}

	void markNames;
	const cron = deps.live?.mirrors.value?.cron;
	if (cron) {
		lines.push({text: ''}, {text: `Backup CronJob ${cron.name}`, tone: 'title'});
		lines.push(field('Schedule', `${cron.schedule}${cron.suspended ? ' (suspended)' : ''}${cron.remove ? ', mirrors with --remove' : ''}`, cron.suspended ? 'warn' : undefined));
		lines.push(field('Last success', cron.lastSuccessfulTime ? `${formatTime(cron.lastSuccessfulTime)} UTC (${formatAge(cron.lastSuccessfulTime, deps.now)} ago)` : 'never', cron.lastSuccessfulTime ? undefined : 'bad'));
		lines.push(field('Command', cron.command.replaceAll(/\s+/g, ' ').trim()));
		for (const run of cron.runs.slice(0, 5)) {
			lines.push({text: `  ${run.outcome.padEnd(9)} ${run.name.padEnd(40)} started ${formatTime(run.startedAt)}${run.finishedAt ? `, ended ${formatTime(run.finishedAt)}` : ''}`, tone: run.outcome === 'failed' ? 'bad' : run.outcome === 'running' ? 'warn' : undefined});
		}

		try {
			const events = await deps.cluster.listEvents({kind: 'CronJob', name: cron.name, namespace: cron.namespace});
			for (const event of events.slice(-5)) {
				const time = eventTime(event);
				lines.push({text: `  ${(event.type ?? 'Normal').padEnd(8)} ${(event.reason ?? '').padEnd(18)} ${time ? `${formatAge(time, deps.now)} ago`.padEnd(9) : ''} ${event.message ?? ''}`, tone: event.type === 'Warning' ? 'warn' : 'dim'});
			}
		} catch (error) {
			lines.push({text: `  events: ${line(error)}`, tone: 'bad'});
		}
	}

	return {title: `Bucket ${item.bucket}: provider vs mirror`, lines};
}

/**
A table's history exactly as `history` prints it (the same header and columns, oldest first,
`*` on the current version, the retention last), each line coloured: current green, not
restorable grey.
*/
export function historyLines(history: TableHistory): ToneLine[] {
	const {summary, lines, retention} = historyTable(history, {ref: redact(history.ref)});
	return [
		{text: summary},
		{text: ''},
		{text: lines[0]!, tone: 'title'},
		...lines.slice(1).map((text, index) => ({text, tone: history.entries[index]!.current ? 'ok' as const : history.entries[index]!.restorable ? undefined : 'dim' as const})),
		...(retention ? [{text: ''}, {text: retention, tone: 'dim' as const}] : []),
	];
}

export async function tableDetail(item: TableItem, deps: DetailDeps): Promise<Detail> {
	const lines: ToneLine[] = [
		field('Table', item.name),
		field('Format', item.format),
		field('Ref', redact(item.table ? `${item.ref} --table ${item.table}` : item.ref)),
		field('Found in', redact(item.source)),
		{text: ''},
	];
	let choices: DetailChoice[] | undefined;
	try {
		const history = await deps.sources.tableDiscovery.history({ref: item.ref, table: item.table});
		// historyLines: a summary, a blank line, the header, then one line per entry.
		const first = lines.length + 3;
		lines.push(...historyLines(history));
		choices = history.entries.map((entry, index) => ({
			line: first + index,
			id: entry.id,
			selectable: entry.restorable,
			...(entry.current ? {current: true} : {}),
			...(entry.restorable ? {} : {reason: entry.reason ?? 'not restorable'}),
		}));
	} catch (error) {
		lines.push({text: line(error), tone: 'bad'});
	}

	const current = choices?.findIndex(choice => choice.current) ?? -1;
	return {title: `${item.format} table ${item.name}`, lines, ...(choices && choices.length > 0 ? {choices, choice: current >= 0 ? current : choices.length - 1} : {})};
}
