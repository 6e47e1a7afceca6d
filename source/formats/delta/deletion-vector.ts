/**
Deletion vector descriptors (PROTOCOL.md "Deletion Vector Descriptor Schema"): which file, if any,
a deletion vector lives in.

- `u`: relative to the table root: `<random prefix><20 chars of z85 uuid>`, stored at
  `<prefix>/deletion_vector_<uuid>.bin` (no prefix: at the root).
- `p`: an absolute path (URI).
- `i`: inline (z85 bitmap in the log): no file.
*/
export type DeletionVector = {
	readonly storageType: string;
	readonly pathOrInlineDv: string;
	readonly offset?: number;
	readonly sizeInBytes?: number;
	readonly cardinality?: number;
	readonly maxRowIndex?: number;
};

const z85Alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const z85Values = new Map([...z85Alphabet].map((character, index) => [character, index]));

/** Decodes Z85 (ZeroMQ RFC 32); the length must be a multiple of 5. */
export function z85Decode(text: string): Uint8Array {
	if (text.length % 5 !== 0) {
		throw new Error(`z85 text of length ${text.length} is not a multiple of 5`);
	}

	const bytes = new Uint8Array(text.length / 5 * 4);
	for (let block = 0; block < text.length / 5; block++) {
		let value = 0;
		for (let index = 0; index < 5; index++) {
			const digit = z85Values.get(text[(block * 5) + index]!);
			if (digit === undefined) {
				throw new Error(`'${text[(block * 5) + index]}' is not a z85 character`);
			}

			value = (value * 85) + digit;
		}

		if (value > 0xFF_FF_FF_FF) {
			throw new Error('z85 block out of range');
		}

		bytes[block * 4] = (value >>> 24) & 0xFF;
		bytes[(block * 4) + 1] = (value >>> 16) & 0xFF;
		bytes[(block * 4) + 2] = (value >>> 8) & 0xFF;
		bytes[(block * 4) + 3] = value & 0xFF;
	}

	return bytes;
}

/** Encodes Z85; the length must be a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
	if (bytes.length % 4 !== 0) {
		throw new Error(`z85 input of length ${bytes.length} is not a multiple of 4`);
	}

	let text = '';
	for (let block = 0; block < bytes.length / 4; block++) {
		let value = ((bytes[block * 4]! << 24) >>> 0) + (bytes[(block * 4) + 1]! << 16) + (bytes[(block * 4) + 2]! << 8) + bytes[(block * 4) + 3]!;
		const characters: string[] = [];
		for (let index = 0; index < 5; index++) {
			characters.unshift(z85Alphabet[value % 85]!);
			value = Math.floor(value / 85);
		}

		text += characters.join('');
	}

	return text;
}

function uuidFromBytes(bytes: Uint8Array): string {
	const hex = [...bytes].map(byte => byte.toString(16).padStart(2, '0')).join('');
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `u` descriptor text for a uuid and optional prefix (the inverse of `deletionVectorPath`). */
export function encodeRelativeDeletionVector(uuid: string, prefix = ''): string {
	const hex = uuid.replaceAll('-', '');
	const bytes = new Uint8Array(16);
	for (let index = 0; index < 16; index++) {
		bytes[index] = Number.parseInt(hex.slice(index * 2, (index * 2) + 2), 16);
	}

	return prefix + z85Encode(bytes);
}

export type DeletionVectorLocation =
	| {readonly kind: 'relative'; readonly path: string}
	| {readonly kind: 'absolute'; readonly uri: string}
	| {readonly kind: 'inline'};

/** Where a deletion vector's bytes are. Throws on a malformed descriptor. */
export function deletionVectorLocation(dv: DeletionVector): DeletionVectorLocation {
	switch (dv.storageType) {
		case 'u': {
			const text = dv.pathOrInlineDv;
			if (text.length < 20) {
				throw new Error(`deletion vector '${text}' is too short for a z85 uuid`);
			}

			const prefix = text.slice(0, -20);
			const uuid = uuidFromBytes(z85Decode(text.slice(-20)));
			const name = `deletion_vector_${uuid}.bin`;
			return {kind: 'relative', path: prefix === '' ? name : `${prefix}/${name}`};
		}

		case 'p': {
			return {kind: 'absolute', uri: dv.pathOrInlineDv};
		}

		case 'i': {
			return {kind: 'inline'};
		}

		default: {
			throw new Error(`unknown deletion vector storage type '${dv.storageType}'`);
		}
	}
}

/** Spark's `DeletionVectorDescriptor.uniqueId`: files are keyed by path plus this. */
export function deletionVectorId(dv: DeletionVector | undefined | null): string {
	if (!dv) {
		return '';
	}

	return `${dv.storageType}${dv.pathOrInlineDv}${dv.offset === undefined || dv.offset === null ? '' : `@${dv.offset}`}`;
}
