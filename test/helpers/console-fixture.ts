import type {LayerSources} from '../../source/layers/inventory.js';
import {LiveInventory} from '../../source/layers/live-inventory.js';
import type {BucketComparer, BucketFigures} from '../../source/layers/mirror-figures.js';
import type {TableHistory} from '../../source/formats/types.js';
import {FakeCluster, healthyWorld, type FakeWorld} from './fake-cluster.js';

export const fixedNow = Date.parse('2026-11-22T12:00:00Z');

export const deltaHistory = (ref: string): TableHistory => ({
	format: 'delta',
	ref,
	current: '3',
	entries: [
		{id: '0', timestamp: '2026-11-20T10:00:00.000Z', operation: 'CREATE TABLE', current: false, restorable: false, reason: 'part-0000.parquet was vacuumed', summary: {}},
		{id: '1', timestamp: '2026-11-21T10:00:00.000Z', operation: 'WRITE', current: false, restorable: true, summary: {}},
		{id: '2', timestamp: '2026-11-22T08:00:00.000Z', operation: 'WRITE', current: false, restorable: true, summary: {}},
		{id: '3', timestamp: '2026-11-22T11:00:00.000Z', operation: 'DELETE', current: true, restorable: true, summary: {}},
	],
});

export const bucketFigures = (bucket: string, overrides: Partial<BucketFigures> = {}): BucketFigures => ({
	bucket,
	provider: {objects: 120, bytes: 4096 * 120},
	mirror: {objects: 120, bytes: 4096 * 120},
	missingOnMirror: 0,
	missingInProvider: 0,
	changed: 0,
	done: true,
	at: fixedNow - 12_000,
	keys: [],
	...overrides,
});

export type ConsoleFixture = {cluster: FakeCluster; world: FakeWorld; sources: LayerSources; live: LiveInventory};

/** A LiveInventory over a fake cluster, fixed buckets and one Delta table. */
export function consoleFixture(options: {world?: (world: FakeWorld) => void; buckets?: BucketFigures[]; compare?: BucketComparer; history?: (ref: string) => Promise<TableHistory>; tables?: boolean} = {}): ConsoleFixture {
	const world = healthyWorld(fixedNow);
	options.world?.(world);
	const cluster = new FakeCluster(world);
	const buckets = options.buckets ?? [bucketFigures('ilum-data'), bucketFigures('ilum-files', {missingOnMirror: 2, keys: [{key: 'reports/a.csv', mark: '+'}, {key: 'reports/b.csv', mark: '+'}]})];
	const compare: BucketComparer = options.compare ?? async function * (bucket) {
		const figures = buckets.find(candidate => candidate.bucket === bucket);
		if (figures) {
			yield figures;
		}
	};

	const sources: LayerSources = {
		cluster,
		namespace: 'ilum',
		tableSources: {icebergCatalogs: [], buckets: options.tables === false ? [] : ['s3://ilum-tables'], ducklakeCatalogs: []},
		tableDiscovery: {
			s3: (() => ({send: async () => ({CommonPrefixes: [{Prefix: 'sales/'}]})})) as any,
			history: async ({ref}) => (options.history ?? (async (r: string) => deltaHistory(r)))(ref),
		},
		compare,
		buckets: buckets.map(figures => figures.bucket),
		now: () => fixedNow,
	};
	// The fake S3 above answers every listing with one folder `sales/` holding `_delta_log/`.
	(sources.tableDiscovery as any).s3 = () => ({
		send: async (command: any) => ({CommonPrefixes: command.input.Prefix === '' ? [{Prefix: 'sales/'}] : [{Prefix: 'sales/_delta_log/'}]}),
	});
	const live = new LiveInventory(sources, {throttleMs: 10});
	return {cluster, world, sources, live};
}
