import type {HistoryEntry, TableHistory, TableRetention} from '../types.js';
import {ancestry, idString} from './metadata.js';
import {SnapshotScanner} from './scan.js';
import type {OpenTable} from './table.js';

/** The table's snapshots, oldest first, each with whether every file it needs is still in storage. */
export async function icebergHistory(table: OpenTable, concurrency?: number): Promise<TableHistory> {
	const {metadata} = table;
	const scanner = new SnapshotScanner(table, concurrency);
	const snapshots = [...metadata.snapshots.values()].sort((a, b) => a.timestampMs - b.timestampMs || (Number(a.sequenceNumber ?? 0) - Number(b.sequenceNumber ?? 0)) || a.index - b.index);
	const mainLine = new Set(ancestry(metadata, metadata.mainSnapshotId).map(snapshot => snapshot.id));
	const refsBySnapshot = new Map<string, string[]>();
	for (const ref of metadata.refs) {
		const names = refsBySnapshot.get(ref.snapshotId) ?? [];
		names.push(ref.type === 'tag' ? `tag:${ref.name}` : ref.name);
		refsBySnapshot.set(ref.snapshotId, names);
	}

	if (metadata.mainSnapshotId !== undefined && !metadata.refs.some(ref => ref.name === 'main')) {
		const names = refsBySnapshot.get(metadata.mainSnapshotId) ?? [];
		names.unshift('main');
		refsBySnapshot.set(metadata.mainSnapshotId, names);
	}

	// The snapshot-log says when main moved to each snapshot: beyond its own commit, rollbacks.
	const madeCurrent = new Map<string, string[]>();
	for (const entry of (metadata.raw['snapshot-log'] ?? []) as any[]) {
		const id = idString(entry['snapshot-id']);
		const time = Number(entry['timestamp-ms']);
		if (metadata.snapshots.get(id)?.timestampMs !== time) {
			const times = madeCurrent.get(id) ?? [];
			times.push(new Date(time).toISOString());
			madeCurrent.set(id, times);
		}
	}

	const checks = await scanner.checkAll(snapshots);
	const confirmed = await table.confirm();
	if (confirmed !== table) {
		return icebergHistory(confirmed, concurrency);
	}

	const entries: HistoryEntry[] = snapshots.map((snapshot, index) => {
		const check = checks[index]!;
		const summary: Record<string, string | number> = {};
		for (const [key, value] of Object.entries(snapshot.summary)) {
			if (key !== 'operation') {
				summary[key] = value;
			}
		}

		if (snapshot.schemaId !== undefined) {
			summary['schema-id'] = snapshot.schemaId;
		}

		if (snapshot.sequenceNumber !== undefined) {
			summary['sequence-number'] = snapshot.sequenceNumber;
		}

		const moves = madeCurrent.get(snapshot.id);
		if (moves) {
			summary['made-current'] = moves.join(', ');
		}

		const refs = refsBySnapshot.get(snapshot.id);
		if (refs) {
			summary['refs'] = refs.join(', ');
		}

		const notes: string[] = [];
		if (check.reason) {
			notes.push(check.reason);
		}

		if (metadata.mainSnapshotId !== undefined && !mainLine.has(snapshot.id)) {
			notes.push('not an ancestor of main: restoring it needs --force');
		}

		return {
			id: snapshot.id,
			timestamp: new Date(snapshot.timestampMs).toISOString(),
			operation: snapshot.operation,
			...(snapshot.parent === undefined ? {} : {parent: snapshot.parent}),
			current: snapshot.id === metadata.mainSnapshotId,
			restorable: check.restorable,
			...(notes.length > 0 ? {reason: notes.join('; ')} : {}),
			summary,
		};
	});

	return {format: 'iceberg', ref: table.ref.ref, current: metadata.mainSnapshotId ?? '', entries, retention: icebergRetention(metadata.raw['properties'] as Record<string, string> | undefined)};
}

/**
`expire_snapshots` removes snapshots older than `history.expire.max-snapshot-age-ms` (default 5
days), keeping at least `history.expire.min-snapshots-to-keep` (default 1).
*/
export function icebergRetention(properties: Readonly<Record<string, string>> | undefined): TableRetention {
	const age = properties?.['history.expire.max-snapshot-age-ms'];
	const keep = properties?.['history.expire.min-snapshots-to-keep'];
	const ageMs = age !== undefined && Number.isFinite(Number(age)) ? Number(age) : 5 * 86_400_000;
	return {
		keepsMs: ageMs,
		settings: {
			'history.expire.max-snapshot-age-ms': age ?? `${5 * 86_400_000} (default, 5 days)`,
			'history.expire.min-snapshots-to-keep': keep ?? '1 (default)',
		},
	};
}
