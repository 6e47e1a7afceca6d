import type {FormatPlugin} from '../index.js';
import {isDuckLakeRef} from './connect.js';
import {DuckLakeFormat} from './index.js';

/** The registry entry: `ducklake:...` refs are DuckLake's, whatever storage holds. */
export const ducklakePlugin: FormatPlugin = {
	name: 'ducklake',
	claims: isDuckLakeRef,
	create: environment => new DuckLakeFormat(environment),
};
