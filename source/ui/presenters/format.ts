/** Small pure formatters shared by the panes, the details and `inventory`'s text output. */

/** `42s`, `5m`, `3h`, `2d`: kubectl's style of age. */
export function formatAge(iso: string | undefined, now: number): string {
	if (!iso) {
		return '-';
	}

	const ms = now - Date.parse(iso);
	if (Number.isNaN(ms)) {
		return '-';
	}

	const seconds = Math.max(0, Math.floor(ms / 1000));
	if (seconds < 120) {
		return `${seconds}s`;
	}

	const minutes = Math.floor(seconds / 60);
	if (minutes < 120) {
		return `${minutes}m`;
	}

	const hours = Math.floor(minutes / 60);
	if (hours < 48) {
		return `${hours}h`;
	}

	return `${Math.floor(hours / 24)}d`;
}

/** How old a figure is: `12 s ago`, `3 min ago`. */
export function formatAgo(at: number | undefined, now: number): string {
	if (at === undefined) {
		return '';
	}

	const seconds = Math.max(0, Math.round((now - at) / 1000));
	if (seconds < 90) {
		return `${seconds} s ago`;
	}

	const minutes = Math.round(seconds / 60);
	return minutes < 90 ? `${minutes} min ago` : `${Math.round(minutes / 60)} h ago`;
}

const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(bytes: number | undefined): string {
	if (bytes === undefined) {
		return '-';
	}

	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}

	return unit === 0 ? `${value} B` : `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function formatCount(count: number | undefined): string {
	if (count === undefined) {
		return '-';
	}

	return count >= 10_000 ? `${Math.round(count / 1000)}k` : String(count);
}

/** `2026-11-22 01:34` in UTC. */
export function formatTime(iso: string | undefined): string {
	return iso ? iso.slice(0, 16).replace('T', ' ') : '-';
}

/** Cuts or pads a cell to `width` characters (an ellipsis marks a cut). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left'): string {
	if (width <= 0) {
		return '';
	}

	const chars = [...text];
	if (chars.length > width) {
		return width === 1 ? '…' : chars.slice(0, width - 1).join('') + '…';
	}

	const padding = ' '.repeat(width - chars.length);
	return align === 'right' ? padding + text : text + padding;
}

/** Like `fit`, but cuts out the middle: the start and the end stay readable. */
export function fitMiddle(text: string, width: number): string {
	const chars = [...text];
	if (chars.length <= width || width < 5) {
		return fit(text, width);
	}

	const head = Math.ceil((width - 1) / 3);
	const tail = width - 1 - head;
	return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - tail).join('');
}
