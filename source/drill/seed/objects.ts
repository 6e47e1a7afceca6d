import {gunzipSync, gzipSync} from 'node:zlib';
import {objectRecord} from '../s3/object-record.js';
import type {FauxObject} from '../s3/fauxqs.js';
import type {Rng} from './rng.js';

/** The Ilum chart's `objectStorage.defaultBuckets`. */
export const defaultBuckets = ['ilum-files', 'ilum-data', 'ilum-tables', 'ilum-mlflow', 'ilum-kestra', 'ilum-ducklake', 'ilum-langfuse'] as const;

/** How the default few thousand objects spread over the buckets. */
const bucketShare: Record<string, number> = {
	'ilum-files': 0.25,
	'ilum-data': 0.3,
	'ilum-tables': 0.08,
	'ilum-mlflow': 0.1,
	'ilum-kestra': 0.12,
	'ilum-ducklake': 0.05,
	'ilum-langfuse': 0.1,
};

const users = ['anna.kowalska', 'marek.nowak', 'j.smith', 'li.wei', 'priya.r', 'ops-bot', 'data-eng'];
const sources = ['crm', 'billing', 'clickstream', 'iot-sensors', 'erp', 'support-tickets'];
const experiments = ['churn-model', 'demand-forecast', 'fraud-detection', 'doc-embeddings'];
const flows = ['nightly-ingest', 'refresh-dashboards', 'export-finance', 'sync-crm'];
const projects = ['assistant-prod', 'assistant-staging', 'rag-eval'];

export type ObjectFactory = (rng: Rng, time: Date, serial: number) => FauxObject;

let sizeScale = 1;

/**
Shrinks generated sizes for large worlds (`--objects` beyond 10,000), so memory stays near that of
10,000 objects: `scale` = min(1, 10000 / objects).
*/
export function setSizeScale(scale: number): void {
	sizeScale = Math.max(0.001, Math.min(1, scale));
}

/** Sizes: mostly small (bytes to tens of KiB), a few medium (hundreds of KiB to a few MiB). */
function sizeFor(rng: Rng, small: [number, number], medium: [number, number], mediumShare = 0.1): number {
	// The factories' ranges are generous; scale them so the default world stays under 100 MiB.
	const size = rng.chance(mediumShare * 0.06) ? rng.int(Math.floor(medium[0] / 2), Math.floor(medium[1] / 2)) : rng.int(Math.min(small[0], 64), Math.max(64, Math.floor(small[1] / 8)));
	return sizeScale === 1 ? size : Math.max(16, Math.floor(size * sizeScale));
}

/** Text of about `size` bytes: generated lines, the first 4 KiB repeated beyond that (fast). */
function text(rng: Rng, size: number, line: () => string): Buffer {
	const lines: string[] = [];
	let length = 0;
	while (length < Math.min(size, 4096)) {
		const next = line();
		lines.push(next);
		length += next.length + 1;
	}

	const block = Buffer.from(lines.join('\n') + '\n');
	if (block.length >= size) {
		return block.subarray(0, Math.max(size, 1));
	}

	const out = Buffer.allocUnsafe(size);
	for (let offset = 0; offset < size; offset += block.length) {
		block.copy(out, offset, 0, Math.min(block.length, size - offset));
	}

	return out;
}

function csv(rng: Rng, size: number): Buffer {
	let id = rng.int(1, 100_000);
	return Buffer.concat([Buffer.from('id,customer,amount,currency,created_at\n'), text(rng, size, () => `${id++},${rng.hex(8)},${(rng.next() * 1000).toFixed(2)},${rng.pick(['EUR', 'USD', 'PLN'])},2026-${String(rng.int(1, 11)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}T${String(rng.int(0, 23)).padStart(2, '0')}:00:00Z`)]);
}

function jsonLines(rng: Rng, size: number): Buffer {
	return text(rng, size, () => JSON.stringify({event: rng.pick(['view', 'click', 'purchase', 'login']), user: rng.hex(10), ts: 1_790_000_000 + rng.int(0, 9_000_000), value: rng.int(0, 5000)}));
}

/** Bytes that look like a Parquet file to a quick glance (magic at both ends); not readable as one. */
function parquetLike(rng: Rng, size: number): Buffer {
	const middle = rng.poolBytes(Math.max(size, 12) - 8);
	return Buffer.concat([Buffer.from('PAR1'), middle, Buffer.from('PAR1')]);
}

function dateParts(rng: Rng): string {
	return `2026-${String(rng.int(8, 11)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')}`;
}

const factories: Record<string, ObjectFactory> = {
	'ilum-files'(rng, time, serial) {
		const user = rng.pick(users);
		const kind = rng.int(0, 3);
		if (kind === 0) {
			const size = sizeFor(rng, [800, 40_000], [200_000, 1_500_000]);
			return objectRecord({key: `users/${user}/notebooks/${rng.pick(['explore', 'etl', 'report', 'scratch'])}-${serial}.ipynb`, body: text(rng, size, () => JSON.stringify({cell_type: 'code', source: [`df = spark.read.table("sales_${rng.int(1, 9)}")`]})), contentType: 'application/x-ipynb+json', metadata: {owner: user, 'ilum-workspace': 'default'}, lastModified: time});
		}

		if (kind === 1) {
			const size = sizeFor(rng, [120, 60_000], [500_000, 3_000_000]);
			return objectRecord({key: `uploads/${dateParts(rng)}/${user}/${rng.pick(['customers', 'leads', 'prices', 'stock'])}-${serial}.csv`, body: csv(rng, size), contentType: 'text/csv', metadata: {'uploaded-by': user}, contentDisposition: `attachment; filename="export-${serial}.csv"`, lastModified: time});
		}

		if (kind === 2) {
			const size = sizeFor(rng, [20_000, 400_000], [1_000_000, 4_000_000], 0.2);
			return objectRecord({key: `shared/reports/${rng.pick(['q3', 'q4', 'monthly', 'weekly'])}/report-${serial}.pdf`, body: Buffer.concat([Buffer.from('%PDF-1.7\n'), rng.poolBytes(size)]), contentType: 'application/pdf', cacheControl: 'max-age=3600', metadata: {department: rng.pick(['finance', 'sales', 'ops'])}, lastModified: time});
		}

		return objectRecord({key: `jars/${rng.pick(['udf', 'connectors', 'libs'])}/lib-${serial}-${rng.int(1, 4)}.${rng.int(0, 9)}.jar`, body: rng.poolBytes(sizeFor(rng, [10_000, 300_000], [1_000_000, 6_000_000])), contentType: 'application/java-archive', lastModified: time});
	},
	'ilum-data'(rng, time, serial) {
		const source = rng.pick(sources);
		const kind = rng.int(0, 2);
		if (kind === 0) {
			const size = sizeFor(rng, [2000, 250_000], [1_000_000, 6_000_000], 0.15);
			return objectRecord({key: `raw/${source}/dt=${dateParts(rng)}/part-${String(serial).padStart(5, '0')}-${rng.uuid()}.snappy.parquet`, body: parquetLike(rng, size), contentType: 'application/vnd.apache.parquet', metadata: {'ingest-job': `ingest-${source}`, 'row-count': String(rng.int(10, 100_000))}, lastModified: time});
		}

		if (kind === 1) {
			const plain = jsonLines(rng, sizeFor(rng, [200, 120_000], [400_000, 1_500_000]));
			return objectRecord({key: `landing/${source}/${dateParts(rng)}/batch-${serial}.json.gz`, body: gzipSync(plain, {level: 1}), contentType: 'application/json', contentEncoding: 'gzip', metadata: {'source-system': source}, lastModified: time});
		}

		return objectRecord({key: `exports/${source}/${rng.pick(['daily', 'full'])}/${source}-${serial}.csv`, body: csv(rng, sizeFor(rng, [100, 80_000], [300_000, 2_000_000])), contentType: 'text/csv; charset=utf-8', cacheControl: 'no-cache', lastModified: time});
	},
	'ilum-tables'(rng, time, serial) {
		if (rng.chance(0.5)) {
			return objectRecord({key: `checkpoints/streaming/${rng.pick(['orders', 'events', 'sessions'])}/offsets/${serial}`, body: Buffer.from(`v1\n{"batchWatermarkMs":0,"batchTimestampMs":${1_790_000_000_000 + serial}}\n{"logOffset":${serial}}\n`), contentType: 'application/octet-stream', lastModified: time});
		}

		return objectRecord({key: `staging/${rng.pick(['orders', 'customers', 'products'])}/_temporary/0/task_${rng.hex(12)}/part-${serial}.parquet`, body: parquetLike(rng, sizeFor(rng, [1000, 200_000], [500_000, 2_000_000])), contentType: 'application/octet-stream', lastModified: time});
	},
	'ilum-mlflow'(rng, time, serial) {
		const experiment = rng.pick(experiments);
		const run = rng.hex(32);
		const kind = rng.int(0, 3);
		const base = `mlflow-artifacts/${experiments.indexOf(experiment) + 1}/${run}/artifacts`;
		if (kind === 0) {
			return objectRecord({key: `${base}/model/MLmodel`, body: Buffer.from(`artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\nrun_id: ${run}\nmlflow_version: 2.${rng.int(10, 19)}.0\n`), contentType: 'text/plain', metadata: {experiment}, lastModified: time});
		}

		if (kind === 1) {
			return objectRecord({key: `${base}/model/model.pkl`, body: rng.poolBytes(sizeFor(rng, [50_000, 900_000], [2_000_000, 7_000_000], 0.2)), contentType: 'application/octet-stream', metadata: {experiment, framework: 'sklearn'}, lastModified: time});
		}

		if (kind === 2) {
			return objectRecord({key: `${base}/metrics/${rng.pick(['roc', 'confusion', 'loss'])}-${serial}.png`, body: Buffer.concat([Buffer.from([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), rng.poolBytes(rng.int(5000, 120_000))]), contentType: 'image/png', cacheControl: 'public, max-age=86400', lastModified: time});
		}

		return objectRecord({key: `${base}/conda-${serial}.yaml`, body: Buffer.from(`name: mlflow-env\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n  - scikit-learn=1.${rng.int(2, 5)}\n`), contentType: 'application/x-yaml', lastModified: time});
	},
	'ilum-kestra'(rng, time, serial) {
		const flow = rng.pick(flows);
		const execution = rng.hex(22);
		if (rng.chance(0.6)) {
			return objectRecord({key: `main/company/team/${flow}/executions/${execution}/tasks/extract/${rng.hex(22)}/outputs-${serial}.ion`, body: text(rng, sizeFor(rng, [60, 30_000], [100_000, 900_000]), () => `{id:${rng.int(1, 99_999)},status:"${rng.pick(['ok', 'retry', 'skipped'])}"}`), contentType: 'application/octet-stream', metadata: {'kestra-flow': flow}, lastModified: time});
		}

		return objectRecord({key: `main/company/team/_files/${flow}/script-${serial}.py`, body: text(rng, rng.int(100, 8000), () => `print("step ${rng.int(1, 50)}")`), contentType: 'text/x-python', lastModified: time});
	},
	'ilum-ducklake'(rng, time, serial) {
		return objectRecord({key: `lake/scratch/${rng.pick(['events', 'daily_kpis'])}/ducklake-${rng.uuid()}.parquet`, body: parquetLike(rng, sizeFor(rng, [2000, 300_000], [800_000, 3_000_000])), contentType: 'application/octet-stream', lastModified: time});
	},
	'ilum-langfuse'(rng, time, serial) {
		const project = rng.pick(projects);
		if (rng.chance(0.8)) {
			return objectRecord({key: `events/${project}/${rng.pick(['trace', 'observation', 'score'])}/${rng.uuid()}.json`, body: text(rng, rng.int(200, 12_000), () => JSON.stringify({id: rng.uuid(), name: rng.pick(['chat', 'retrieve', 'rerank']), latencyMs: rng.int(5, 9000)})), contentType: 'application/json', metadata: {'langfuse-project': project}, lastModified: time});
		}

		return objectRecord({key: `media/${project}/${rng.uuid()}.${rng.pick(['png', 'jpg'])}`, body: rng.poolBytes(sizeFor(rng, [3000, 400_000], [1_000_000, 5_000_000])), contentType: rng.chance(0.5) ? 'image/png' : 'image/jpeg', cacheControl: 'private, max-age=31536000, immutable', lastModified: time});
	},
};

/** The few large objects of the world: tens of MiB, stored multipart. */
const largeObjects: Array<{bucket: string; key: string; size: number; contentType: string; metadata: Record<string, string>}> = [
	{bucket: 'ilum-mlflow', key: 'mlflow-artifacts/4/0b1f3c5e9d2a4f7e8c6b5a4d3e2f1a0b/artifacts/model/model.safetensors', size: 24 * 1024 * 1024 + 4321, contentType: 'application/octet-stream', metadata: {experiment: 'doc-embeddings', framework: 'pytorch'}},
	{bucket: 'ilum-data', key: 'exports/billing/full/billing-2026-10.csv.gz', size: 9 * 1024 * 1024 + 77, contentType: 'application/gzip', metadata: {'source-system': 'billing'}},
	{bucket: 'ilum-files', key: 'shared/datasets/images-sample.tar', size: 8 * 1024 * 1024 + 4099, contentType: 'application/x-tar', metadata: {owner: 'data-eng'}},
];

/** How many objects each bucket gets out of `total`. */
export function bucketCounts(total: number): Record<string, number> {
	const counts: Record<string, number> = {};
	let assigned = 0;
	for (const bucket of defaultBuckets) {
		counts[bucket] = Math.floor(total * bucketShare[bucket]!);
		assigned += counts[bucket]!;
	}

	counts['ilum-data']! += total - assigned;
	return counts;
}

export function generateObject(rng: Rng, bucket: string, time: Date, serial: number): FauxObject {
	const factory = factories[bucket];
	if (!factory) {
		return objectRecord({key: `objects/${serial}.bin`, body: rng.poolBytes(rng.int(10, 10_000)), lastModified: time});
	}

	return factory(rng, time, serial);
}

export function generateLargeObjects(rng: Rng, time: Date): Array<{bucket: string; object: FauxObject}> {
	return largeObjects.map(spec => ({
		bucket: spec.bucket,
		object: objectRecord({key: spec.key, body: rng.tiledBytes(spec.size), contentType: spec.contentType, metadata: spec.metadata, lastModified: time}),
	}));
}

/** A changed version of an object: same key, new bytes, same kind of content. */
export function modifiedObject(rng: Rng, object: FauxObject, time: Date): FauxObject {
	const revision = Buffer.from(`\n# revised ${rng.hex(16)}\n`);
	const body = object.contentEncoding === 'gzip'
		? gzipSync(Buffer.concat([gunzipSync(object.body), revision]), {level: 1})
		: Buffer.concat([object.body.subarray(0, Math.max(0, object.body.length - 64)), revision]);
	return objectRecord({
		key: object.key,
		body,
		contentType: object.contentType,
		metadata: {...object.metadata, revision: String(Number(object.metadata['revision'] ?? '1') + 1)},
		cacheControl: object.cacheControl,
		contentEncoding: object.contentEncoding,
		contentDisposition: object.contentDisposition,
		lastModified: time,
	});
}
