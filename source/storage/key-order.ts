/**
S3 lists keys in UTF-8 byte order, which is Unicode code point order. JavaScript's `<` compares
UTF-16 code units, which disagrees for characters above U+FFFF versus U+E000..U+FFFF. This
comparator agrees with S3 and costs one pass over the common prefix.
*/
export function compareKeys(a: string, b: string): number {
	const length = Math.min(a.length, b.length);
	for (let index = 0; index < length; index++) {
		let x = a.charCodeAt(index);
		let y = b.charCodeAt(index);
		if (x !== y) {
			if (x >= 0xD8_00 || y >= 0xD8_00) {
				// Surrogates (U+D800..U+DFFF) stand for code points above U+FFFF: move them above U+E000..U+FFFF.
				x = fixup(x);
				y = fixup(y);
			}

			return x - y;
		}
	}

	return a.length - b.length;
}

function fixup(unit: number): number {
	if (unit < 0xD8_00) {
		return unit;
	}

	return unit < 0xE0_00 ? unit + 0x20_00 : unit - 0x8_00;
}
