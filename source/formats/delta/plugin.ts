import type {FormatPlugin} from '../index.js';
import {DeltaFormat} from './index.js';

/** The registry entry: a storage ref whose root holds `_delta_log/` is Delta. */
export const deltaPlugin: FormatPlugin = {
	name: 'delta',
	async detect(store) {
		return (await store.list('_delta_log/')).length > 0;
	},
	create: environment => new DeltaFormat(environment),
};
