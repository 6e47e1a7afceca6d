import {fit, fitMiddle} from './format.js';

/** A column of a pane's table: header, preferred width, alignment; `grow` columns take what is left. */
export type Column = {
	readonly header: string;
	readonly width: number;
	readonly align?: 'left' | 'right';
	readonly grow?: boolean;
	/** Cut in the middle (names whose end tells them apart: `ilum-obj…-20261122-0102`). */
	readonly middle?: boolean;
};

/** Widths for `total` characters: fixed columns as asked (shrunk when needed), growing ones share the rest. */
export function layoutColumns(columns: readonly Column[], total: number): number[] {
	const gaps = columns.length - 1;
	const fixed = columns.filter(column => !column.grow).reduce((sum, column) => sum + column.width, 0);
	const growing = columns.filter(column => column.grow);
	let rest = total - gaps - fixed;
	const widths = columns.map(column => column.width);
	if (rest < growing.reduce((sum, column) => sum + column.width, 0)) {
		// Not enough room: growing columns keep their minimum, the last fixed columns shrink then drop.
		let overflow = growing.reduce((sum, column) => sum + column.width, 0) - rest;
		for (let index = columns.length - 1; index >= 0 && overflow > 0; index--) {
			if (!columns[index]!.grow) {
				const cut = Math.min(widths[index]!, overflow);
				widths[index]! -= cut;
				overflow -= cut;
			}
		}

		rest = growing.reduce((sum, column) => sum + column.width, 0);
	}

	const share = growing.length > 0 ? Math.floor(rest / growing.length) : 0;
	return columns.map((column, index) => column.grow ? Math.max(column.width, share) : widths[index]!);
}

/** One line: the cells fitted to their widths, separated by one space. */
export function renderRow(cells: readonly string[], columns: readonly Column[], widths: readonly number[]): string {
	return columns.map((column, index) => widths[index]! > 0 ? (column.middle ? fitMiddle(cells[index] ?? '', widths[index]!) : fit(cells[index] ?? '', widths[index]!, column.align)) : undefined).filter(cell => cell !== undefined).join(' ');
}

export const renderHeader = (columns: readonly Column[], widths: readonly number[]) => renderRow(columns.map(column => column.header), columns, widths);
