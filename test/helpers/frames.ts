/** Waits for a rendered frame to satisfy a condition: polls with a deadline, never a fixed sleep. */
export async function waitForFrame(lastFrame: () => string | undefined, expected: string | RegExp | ((frame: string) => boolean), options: {timeout?: number} = {}): Promise<string> {
	const deadline = Date.now() + (options.timeout ?? 15_000);
	const matches = (frame: string) => typeof expected === 'string' ? frame.includes(expected) : expected instanceof RegExp ? expected.test(frame) : expected(frame);
	for (;;) {
		const frame = lastFrame() ?? '';
		if (matches(frame)) {
			return frame;
		}

		if (Date.now() > deadline) {
			throw new Error(`No frame matched ${String(expected)} within ${options.timeout ?? 15_000} ms. Last frame:\n${frame}`);
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 20);
		});
	}
}

/** Waits until a condition holds (same polling as `waitForFrame`). */
export async function waitFor(condition: () => boolean, options: {timeout?: number; what?: string} = {}): Promise<void> {
	const deadline = Date.now() + (options.timeout ?? 15_000);
	while (!condition()) {
		if (Date.now() > deadline) {
			throw new Error(`Timed out waiting for ${options.what ?? 'a condition'}`);
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 20);
		});
	}
}
