import type {FormatPlugin} from '../index.js';
import {DeltaFormat} from './index.js';

/** The registry entry: a storage ref whose root holds `_delta_log/` is Delta. */
export const deltaPlugin: FormatPlugin = {
	name: 'delta',
	async detect(store) {
		// One request in the common case (version 0 still kept); a listing only when it was cleaned up.
		if (await store.exists('_delta_log/00000000000000000000.json')) {
			return true;
		}

		return (await store.list('_delta_log/')).length > 0;
	},
	create: environment => new DeltaFormat(environment),
};
