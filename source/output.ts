/**
How commands talk: results on stdout (a JSON document, or JSON lines ending with a
`{"type":"result"}` line), everything else on stderr.
*/
export const writeJson = (stream: NodeJS.WritableStream, value: unknown) => {
	stream.write(JSON.stringify(value, jsonReplacer) + '\n');
};

/** BigInt ids (Iceberg) become decimal strings; nothing is rounded. */
export const jsonReplacer = (_key: string, value: unknown) => typeof value === 'bigint' ? value.toString() : value;

/** Pads columns so a list of rows reads as an aligned table. */
export const formatTable = (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string => {
	const widths = header.map((cell, index) => Math.max(cell.length, ...rows.map(row => (row[index] ?? '').length)));
	const line = (row: readonly string[]) => row.map((cell, index) => index === row.length - 1 ? cell : cell.padEnd(widths[index]!)).join('  ').trimEnd();
	return [line(header), ...rows.map(row => line(row))].join('\n') + '\n';
};

/** `1.5 MiB`: binary units, one decimal (bytes as they are). */
export function formatBytes(bytes: number): string {
	const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}

	return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
