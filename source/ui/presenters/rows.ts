import type {BucketFigures} from '../../layers/mirror-figures.js';
import type {TableItem} from '../../layers/tables/table-inventory.js';
import type {SnapshotItem} from '../../layers/volumes/volume-inventory.js';
import type {Column} from './columns.js';
import {formatAge, formatAgo, formatCount, formatTime} from './format.js';

/** Volume snapshots pane: name, age, ready, restore size, class, deletion policy. */
export const snapshotColumns: readonly Column[] = [
	{header: 'NAME', width: 26, grow: true, middle: true},
	{header: 'AGE', width: 4, align: 'right'},
	{header: 'READY', width: 5},
	{header: 'SIZE', width: 5, align: 'right'},
	{header: 'POLICY', width: 6},
	{header: 'CLASS', width: 12},
];

export function snapshotRow(item: SnapshotItem, now: number): string[] {
	return [
		item.name,
		formatAge(item.createdAt, now),
		item.ready ? 'yes' : item.error ? 'ERROR' : 'no',
		item.restoreSize ?? '-',
		item.deletionPolicy ?? '-',
		item.className ?? '-',
	];
}

/** Mirrors pane: per bucket, objects on each side and the drift. */
export const bucketColumns: readonly Column[] = [
	{header: 'BUCKET', width: 13, grow: true},
	{header: 'PROVIDER', width: 8, align: 'right'},
	{header: 'MIRROR', width: 7, align: 'right'},
	{header: '+', width: 3, align: 'right'},
	{header: '-', width: 3, align: 'right'},
	{header: '*', width: 3, align: 'right'},
	{header: 'AS OF', width: 9},
];

/** Objects on a side; the bytes are in the detail and in `inventory`. */
const side = (objects: number, _bytes: number) => formatCount(objects);

export function bucketRow(figures: BucketFigures, now: number): string[] {
	if (figures.error) {
		return [figures.bucket, 'error', '', '', '', '', figures.error];
	}

	return [
		figures.bucket,
		side(figures.provider.objects, figures.provider.bytes),
		side(figures.mirror.objects, figures.mirror.bytes),
		String(figures.missingOnMirror),
		String(figures.missingInProvider),
		String(figures.changed),
		figures.done ? formatAgo(figures.at, now) : 'counting…',
	];
}

/** Tables pane: format, current version, versions kept, oldest restorable, last change. */
export const tableColumns: readonly Column[] = [
	{header: 'TABLE', width: 18, grow: true, middle: true},
	{header: 'FORMAT', width: 8},
	{header: 'CURRENT', width: 8, align: 'right'},
	{header: 'KEPT', width: 4, align: 'right'},
	{header: 'OLDEST', width: 8, align: 'right'},
	{header: 'CHANGED', width: 7, align: 'right'},
];

/** Long Iceberg ids are cut to their last 8 digits (the detail shows them whole). */
const shortId = (id: string | undefined) => id === undefined ? '-' : id.length > 8 ? '…' + id.slice(-7) : id;

export function tableRow(item: TableItem, now: number): string[] {
	if (item.error) {
		return [item.name, item.format, 'error', '', '', ''];
	}

	return [
		item.name,
		item.format,
		shortId(item.current),
		item.versions === undefined ? '-' : String(item.versions),
		shortId(item.oldestRestorable),
		formatAge(item.lastChange, now),
	];
}

export {formatTime};
