import {createCipheriv} from 'node:crypto';

/**
A seeded pseudo-random generator (sfc32 seeded through splitmix32): the same seed gives the same
world. Never use Math.random in the drill world.
*/
export class Rng {
	#a: number;
	#b: number;
	#c: number;
	#d: number;

	constructor(seed: number | string) {
		let state = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
		const next = () => {
			state = (state + 0x9E_37_79_B9) | 0;
			let z = state;
			z = Math.imul(z ^ (z >>> 16), 0x85_EB_CA_6B);
			z = Math.imul(z ^ (z >>> 13), 0xC2_B2_AE_35);
			return (z ^ (z >>> 16)) >>> 0;
		};

		this.#a = next();
		this.#b = next();
		this.#c = next();
		this.#d = next();
		for (let index = 0; index < 12; index++) {
			this.uint32();
		}
	}

	/** An independent generator derived from this one and a label (stable when other draws change). */
	fork(label: string): Rng {
		return new Rng(`${this.#a}:${this.#b}:${label}`);
	}

	uint32(): number {
		this.#a >>>= 0;
		this.#b >>>= 0;
		this.#c >>>= 0;
		this.#d >>>= 0;
		let t = (this.#a + this.#b) | 0;
		this.#a = this.#b ^ (this.#b >>> 9);
		this.#b = (this.#c + (this.#c << 3)) | 0;
		this.#c = (this.#c << 21) | (this.#c >>> 11);
		this.#d = (this.#d + 1) | 0;
		t = (t + this.#d) | 0;
		this.#c = (this.#c + t) | 0;
		return t >>> 0;
	}

	/** In [0, 1). */
	next(): number {
		return this.uint32() / 4_294_967_296;
	}

	/** An integer in [min, max]. */
	int(min: number, max: number): number {
		return min + Math.floor(this.next() * (max - min + 1));
	}

	pick<T>(items: readonly T[]): T {
		return items[Math.floor(this.next() * items.length)]!;
	}

	chance(probability: number): boolean {
		return this.next() < probability;
	}

	/** Lowercase hex of `length` characters. */
	hex(length: number): string {
		let out = '';
		while (out.length < length) {
			const word = this.uint32().toString(16);
			out += word.length === 8 ? word : '00000000'.slice(word.length) + word;
		}

		return out.length === length ? out : out.slice(0, length);
	}

	uuid(): string {
		const hex = this.hex(32);
		return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[this.int(0, 3)]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
	}

	/**
	`length` pseudo-random bytes cut from a shared 8 MiB pool at a random offset (a copy is not made:
	treat it as read-only). Fast for the thousands of small bodies of a world; use `bytes` for
	content that must not repeat.
	*/
	poolBytes(length: number): Buffer {
		pool ??= new Rng('drill-pool').bytes(poolSize);
		if (length > poolSize / 2) {
			return this.tiledBytes(length);
		}

		const offset = this.int(0, poolSize - length);
		return pool.subarray(offset, offset + length);
	}

	/** `length` bytes made of 1 MiB tiles cut from the pool at random offsets (large bodies, cheaply). */
	tiledBytes(length: number): Buffer {
		pool ??= new Rng('drill-pool').bytes(poolSize);
		const out = Buffer.allocUnsafe(length);
		const tile = 1024 * 1024;
		for (let offset = 0; offset < length; offset += tile) {
			const size = Math.min(tile, length - offset);
			const from = this.int(0, poolSize - size);
			pool.copy(out, offset, from, from + size);
		}

		return out;
	}

	/** `length` pseudo-random bytes: AES-128-CTR keyed from this generator (fast, deterministic). */
	bytes(length: number): Buffer {
		const key = Buffer.alloc(16);
		const iv = Buffer.alloc(16);
		for (let index = 0; index < 4; index++) {
			key.writeUInt32LE(this.uint32(), index * 4);
			iv.writeUInt32LE(this.uint32(), index * 4);
		}

		return createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(length));
	}
}

const poolSize = 4 * 1024 * 1024;
let pool: Buffer | undefined;

function hashString(text: string): number {
	let hash = 0x81_1C_9D_C5;
	for (let index = 0; index < text.length; index++) {
		hash ^= text.charCodeAt(index);
		hash = Math.imul(hash, 0x01_00_01_93);
	}

	return hash >>> 0;
}
