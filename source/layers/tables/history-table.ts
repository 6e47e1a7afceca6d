import type {TableHistory} from '../../formats/types.js';
import {formatTable} from '../../output.js';

/**
A table's history as `history` prints it and the console's table detail shows it: one summary
line, the aligned table (header, then one line per version, oldest first, `*` on the current
one), and the retention settings when the format has them.
*/
export type HistoryTable = {
	readonly summary: string;
	/** The header, then one line per entry (same order as `history.entries`). */
	readonly lines: readonly string[];
	readonly retention?: string;
};

/** `ref`: how to name the table (the console redacts credentials in it); the history's ref by default. */
export function historyTable(history: TableHistory, options: {ref?: string} = {}): HistoryTable {
	const restorable = history.entries.filter(entry => entry.restorable).length;
	const summary = `${history.format} table ${options.ref ?? history.ref}: current ${history.current}, ${history.entries.length} version${history.entries.length === 1 ? '' : 's'} listed, ${restorable} restorable`;
	const rows = history.entries.map(entry => [
		`${entry.current ? '*' : ' '} ${entry.id}`,
		entry.timestamp,
		entry.operation,
		entry.restorable ? 'yes' : 'no',
		entry.reason ?? '',
	]);
	const lines = formatTable(['  ID', 'TIME (UTC)', 'OPERATION', 'RESTORABLE', 'NOTE'], rows).trimEnd().split('\n');
	const retention = history.retention ? `Retention: ${Object.entries(history.retention.settings).map(([key, value]) => `${key} = ${value}`).join('; ')}${history.retention.keepsMs === undefined ? '' : ` (versions stay restorable about ${Math.round(history.retention.keepsMs / 3_600_000)} h)`}` : undefined;
	return {summary, lines, ...(retention ? {retention} : {})};
}
