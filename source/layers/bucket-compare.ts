import type {FastS3Client} from '../storage/fast-s3.js';
import type {BucketComparer, BucketFigures, DriftKey} from './mirror-figures.js';
import type {BackupCron} from './mirrors/cron.js';
import {bucketDrift} from './mirrors/drift.js';

/** Where a provider bucket sits on the mirror. */
export type MirrorTarget = {readonly bucket: string; readonly prefix?: string};

/**
Where the CronJob mirrors each bucket: `mc mirror ... src/ilum-data dst/ilum-backup/ilum-data`
puts `ilum-data` under `ilum-backup/ilum-data/`. `root` (`--mirror-root bucket[/prefix]`) wins;
otherwise a bucket keeps its name.
*/
export function mirrorTargets(cron: Pick<BackupCron, 'command'> | undefined, root?: string): (bucket: string) => MirrorTarget {
	if (root) {
		const [bucket, ...rest] = root.replace(/^s3:\/\//, '').split('/');
		const prefix = rest.filter(Boolean).join('/');
		return name => ({bucket: bucket!, prefix: `${prefix ? `${prefix}/` : ''}${name}/`});
	}

	const pairs = new Map<string, MirrorTarget>();
	const words = cron?.command.split(/\s+/) ?? [];
	for (let index = 0; index + 1 < words.length; index++) {
		const source = /^[\w-]+\/([\w.-]+)\/?$/.exec(words[index]!);
		const target = /^[\w-]+\/([\w.-]+)(?:\/(.+?))?\/?$/.exec(words[index + 1]!);
		if (source && target && !words[index]!.startsWith('-')) {
			pairs.set(source[1]!, {bucket: target[1]!, prefix: target[2] ? `${target[2]}/` : undefined});
		}
	}

	return bucket => pairs.get(bucket) ?? {bucket};
}

/**
A `BucketComparer` over F's streaming drift: figures every `everyMs` while it runs (memory stays
flat: only totals and the first `keep` differing keys are kept), and a last one with `done`.
*/
export function driftComparer(provider: FastS3Client, mirror: FastS3Client, targetOf: (bucket: string) => MirrorTarget, options: {everyMs?: number; keep?: number} = {}): BucketComparer {
	const everyMs = options.everyMs ?? 200;
	const keep = options.keep ?? 100;
	return async function * (bucket, signal) {
		const target = targetOf(bucket);
		const keys: DriftKey[] = [];
		let last = Date.now();
		let figures: BucketFigures | undefined;
		const snapshot = (totals: any, done: boolean): BucketFigures => ({
			bucket,
			provider: {objects: totals.sourceObjects, bytes: totals.sourceBytes},
			mirror: {objects: totals.targetObjects, bytes: totals.targetBytes},
			missingOnMirror: totals.onlySource,
			missingInProvider: totals.onlyTarget,
			changed: totals.differs,
			done,
			at: Date.now(),
			keys: [...keys],
		});
		let totals: any = {sourceObjects: 0, sourceBytes: 0, targetObjects: 0, targetBytes: 0, onlySource: 0, onlyTarget: 0, differs: 0};
		for await (const entry of bucketDrift({client: provider, bucket}, {client: mirror, bucket: target.bucket, prefix: target.prefix}, {signal})) {
			totals = entry.totals;
			if ((entry.kind === '+' || entry.kind === '-' || entry.kind === '*') && keys.length < keep) {
				keys.push({key: entry.key, mark: entry.kind});
			}

			if (Date.now() - last >= everyMs) {
				last = Date.now();
				figures = snapshot(totals, false);
				yield figures;
			}
		}

		yield snapshot(totals, true);
	};
}
