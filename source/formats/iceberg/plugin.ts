import type {FormatPlugin} from '../index.js';
import {IcebergFormat} from './index.js';
import {isMetadataFileName} from './metadata.js';
import {isIcebergCatalogRef} from './table.js';

/**
The registry entry: an `http(s)://` REST catalog URL or a pyiceberg SQL catalog file (with
`--table namespace.table`) is Iceberg by its form; a storage root holding `metadata/*.metadata.json`
(or a `catalog.db` next to the tables) is Iceberg by its content.
*/
export const icebergPlugin: FormatPlugin = {
	name: 'iceberg',
	claims: ref => isIcebergCatalogRef(ref),
	async detect(store) {
		if ((await store.list('metadata/')).some(file => isMetadataFileName(file.path))) {
			return true;
		}

		return (await store.list('catalog.db')).some(file => file.path === 'catalog.db');
	},
	create: environment => new IcebergFormat({openStore: environment.openStore}),
};
