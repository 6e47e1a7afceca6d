/**
Renders a terminal screen captured with `tmux capture-pane -p -e` (text with SGR colour escapes)
as an SVG: one `<text>` run per stretch of equal style, on a dark background, monospace cells.
Enough for README screenshots; not a terminal emulator (only SGR colours, bold, dim, inverse).
*/
const palette = ['#1e1e2e', '#f38ba8', '#a6e3a1', '#f9e2af', '#89b4fa', '#f5c2e7', '#94e2d5', '#cdd6f4'];
const bright = ['#585b70', '#f38ba8', '#a6e3a1', '#f9e2af', '#89b4fa', '#f5c2e7', '#94e2d5', '#ffffff'];
const foreground = '#cdd6f4';
const background = '#1e1e2e';

type Style = {fg?: string; bg?: string; bold: boolean; dim: boolean; inverse: boolean};

const cube = (index: number): string => {
	if (index < 8) {
		return palette[index]!;
	}

	if (index < 16) {
		return bright[index - 8]!;
	}

	if (index >= 232) {
		const level = 8 + ((index - 232) * 10);
		return `rgb(${level},${level},${level})`;
	}

	const value = index - 16;
	const channel = (n: number) => (n === 0 ? 0 : 55 + (n * 40));
	return `rgb(${channel(Math.floor(value / 36))},${channel(Math.floor(value / 6) % 6)},${channel(value % 6)})`;
};

function applySgr(style: Style, codes: number[]): Style {
	const next = {...style};
	for (let index = 0; index < codes.length; index++) {
		const code = codes[index]!;
		if (code === 0) {
			Object.assign(next, {fg: undefined, bg: undefined, bold: false, dim: false, inverse: false});
		} else if (code === 1) {
			next.bold = true;
		} else if (code === 2) {
			next.dim = true;
		} else if (code === 22) {
			next.bold = false;
			next.dim = false;
		} else if (code === 7) {
			next.inverse = true;
		} else if (code === 27) {
			next.inverse = false;
		} else if (code >= 30 && code <= 37) {
			next.fg = palette[code - 30];
		} else if (code >= 90 && code <= 97) {
			next.fg = bright[code - 90];
		} else if (code === 39) {
			next.fg = undefined;
		} else if (code >= 40 && code <= 47) {
			next.bg = palette[code - 40];
		} else if (code === 49) {
			next.bg = undefined;
		} else if ((code === 38 || code === 48) && codes[index + 1] === 5) {
			const color = cube(codes[index + 2] ?? 7);
			if (code === 38) {
				next.fg = color;
			} else {
				next.bg = color;
			}

			index += 2;
		} else if ((code === 38 || code === 48) && codes[index + 1] === 2) {
			const color = `rgb(${codes[index + 2]},${codes[index + 3]},${codes[index + 4]})`;
			if (code === 38) {
				next.fg = color;
			} else {
				next.bg = color;
			}

			index += 4;
		}
	}

	return next;
}

const escape = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

export function ansiToSvg(ansi: string, options: {columns: number; title?: string}): string {
	const cellWidth = 8.4;
	const lineHeight = 17;
	const padding = 12;
	const lines = ansi.replace(/\n$/, '').split('\n');
	const parts: string[] = [];
	let style: Style = {bold: false, dim: false, inverse: false};
	for (const [row, line] of lines.entries()) {
		let column = 0;
		const tokens = line.split(/(\u001B\[[\d;]*m)/);
		for (const token of tokens) {
			const sgr = /^\u001B\[([\d;]*)m$/.exec(token);
			if (sgr) {
				style = applySgr(style, sgr[1] === '' ? [0] : sgr[1]!.split(';').map(Number));
				continue;
			}

			if (token === '') {
				continue;
			}

			const text = token.replaceAll(/\u001B\[[^a-zA-Z]*[a-zA-Z]/g, '');
			const width = [...text].length;
			const x = padding + (column * cellWidth);
			const y = padding + (row * lineHeight);
			let fg = style.fg ?? foreground;
			let bg = style.bg;
			if (style.inverse) {
				[fg, bg] = [bg ?? background, style.fg ?? foreground];
			}

			if (bg) {
				parts.push(`<rect x="${x.toFixed(1)}" y="${y}" width="${(width * cellWidth).toFixed(1)}" height="${lineHeight}" fill="${bg}"/>`);
			}

			if (text.trim() !== '') {
				parts.push(`<text x="${x.toFixed(1)}" y="${y + 13}" fill="${fg}"${style.bold ? ' font-weight="bold"' : ''}${style.dim ? ' opacity="0.6"' : ''} textLength="${(width * cellWidth).toFixed(1)}" lengthAdjust="spacingAndGlyphs">${escape(text)}</text>`);
			}

			column += width;
		}
	}

	const width = Math.ceil((padding * 2) + (options.columns * cellWidth));
	const height = Math.ceil((padding * 2) + (lines.length * lineHeight));
	return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="${background}"/><g font-family="DejaVu Sans Mono, monospace" font-size="14" xml:space="preserve">${parts.join('')}</g></svg>\n`;
}
