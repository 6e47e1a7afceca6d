import type {TableItem} from '../../layers/tables/table-inventory.js';
import {tableDetail} from '../detail/details.js';
import {tableColumns, tableRow} from '../presenters/rows.js';
import type {PaneDefinition, ToneLine} from './pane.js';

export const tablesPane: PaneDefinition<TableItem> = {
	id: 'tables',
	title: 'Tables',
	layer: 'tables',
	items: live => live.tables.value?.tables ?? [],
	search: item => `${item.name} ${item.format} ${item.ref}`,
	columns: tableColumns,
	toRow: tableRow,
	bad: item => Boolean(item.error),
	summary(live) {
		const tables = live.tables.value;
		if (!tables) {
			return [];
		}

		const counts = ['iceberg', 'delta', 'ducklake'].map(format => `${tables.tables.filter(table => table.format === format).length} ${format}`).join(' · ');
		const lines: ToneLine[] = [{text: counts, tone: 'dim'}];
		for (const error of tables.errors) {
			lines.push({text: error, tone: 'bad'});
		}

		return lines;
	},
	problem: live => live.tables.error,
	empty: live => live.tables.loading ? 'reading table histories…' : 'no tables found (see --iceberg-catalog, --tables-bucket, --ducklake-catalog)',
	detail: tableDetail,
};
