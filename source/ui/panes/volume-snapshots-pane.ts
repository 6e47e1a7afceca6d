import type {SnapshotItem} from '../../layers/volumes/volume-inventory.js';
import {snapshotDetail} from '../detail/details.js';
import {snapshotColumns, snapshotRow} from '../presenters/rows.js';
import type {PaneDefinition, ToneLine} from './pane.js';

export const volumeSnapshotsPane: PaneDefinition<SnapshotItem> = {
	id: 'volumes',
	title: 'Volume snapshots',
	layer: 'volumes',
	items: live => live.volumes.value?.snapshots ?? [],
	search: item => `${item.name} ${item.claim ?? ''} ${item.className ?? ''}`,
	columns: snapshotColumns,
	toRow: snapshotRow,
	dim: item => !item.ofProvider,
	bad: item => !item.ready,
	summary(live) {
		const inventory = live.volumes.value;
		if (!inventory) {
			return [];
		}

		const lines: ToneLine[] = [{text: inventory.provider ? `claim ${inventory.provider.claim}${inventory.provider.driver ? ` · ${inventory.provider.driver}` : ''}` : 'no provider claim found', tone: inventory.provider ? 'dim' : 'bad'}];
		for (const check of inventory.checks.filter(check => check.id !== 'provider-claim' || !check.ok)) {
			lines.push(check.ok
				? {text: `✓ ${check.title}`, tone: 'ok'}
				: {text: `${check.warning ? '!' : '✗'} ${check.title}: ${check.detail}${check.fix ? ` → ${check.fix}` : ''}`, tone: check.warning ? 'warn' : 'bad'});
		}

		for (const error of inventory.errors) {
			lines.push({text: error, tone: 'bad'});
		}

		return lines;
	},
	problem: live => live.volumes.error,
	empty: live => live.volumes.loading ? 'loading…' : 'no VolumeSnapshots in this namespace',
	detail: snapshotDetail,
};
