import {usageError} from '../errors.js';
import {resolveFormat} from '../formats/index.js';
import type {TableHistory} from '../formats/types.js';
import {tableEnvironment} from '../layers/table-environment.js';
import {historyTable} from '../layers/tables/history-table.js';
import {writeJson} from '../output.js';
import type {Command} from './command.js';

/** The `--json` document: every field present, `null` where there is nothing. */
export function historyJson(history: TableHistory) {
	return {
		format: history.format,
		ref: history.ref,
		current: history.current,
		entries: history.entries.map(entry => ({
			id: entry.id,
			timestamp: entry.timestamp,
			operation: entry.operation,
			parent: entry.parent ?? null,
			current: entry.current,
			restorable: entry.restorable,
			reason: entry.reason ?? null,
			summary: entry.summary,
		})),
		retention: history.retention ?? null,
	};
}

/** The aligned table `history` prints without `--json`. */
export function historyText(history: TableHistory): string {
	const {summary, lines, retention} = historyTable(history);
	return `${summary}\n\n${lines.join('\n')}\n${retention ? `\n${retention}\n` : ''}`;
}

export const historyCommand: Command = {
	path: ['history'],
	summary: 'List a table\'s versions (Delta, Iceberg, DuckLake) and which can be restored',
	usage: `
		Usage
		  $ ilum-restore history <ref> [--table <schema.table>] [--json]

		<ref> is a table folder, file://..., s3://bucket/prefix (Delta or Iceberg, detected),
		an Iceberg REST catalog ref, or a DuckLake catalog (ducklake:<file>, ducklake:sqlite:<file>,
		ducklake:postgres:<conninfo>) with --table.
		S3: --s3-endpoint or AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION.
		Without an endpoint an s3:// ref is read on AWS, unless --kubeconfig or --context is given (or
		nothing configures AWS here, and no AWS_PROFILE): then on the cluster's provider, reached as
		the console reaches it (its in-cluster name, else a port-forward through the API server).

		Examples
		  $ ilum-restore history ./warehouse/events
		  $ ilum-restore history s3://ilum-tables/sales --s3-endpoint http://localhost:9000 --json
	`,
	flags: {
		table: {type: 'string', description: 'The table inside a catalog ref: schema.table (DuckLake) or namespace.table (Iceberg REST)'},
	},
	async run({args, flags, stdout, stderr, signal}) {
		const ref = args[0];
		if (!ref) {
			throw usageError('history needs a table ref', 'ilum-restore history <path|s3://bucket/prefix|ducklake:...> (see --help)');
		}

		if (args.length > 1) {
			throw usageError(`unexpected argument '${args[1]}'`, 'give one table ref');
		}

		signal.throwIfAborted();
		const {environment, close} = await tableEnvironment({ref, flags, log(line) {
			stderr.write(line + '\n');
		}});
		try {
			const tableRef = {ref, ...(flags['table'] ? {table: flags['table'] as string} : {})};
			const format = await resolveFormat(tableRef, environment);
			const history = await format.history(tableRef);
			if (flags['json']) {
				writeJson(stdout, historyJson(history));
			} else {
				stdout.write(historyText(history));
			}

			return 0;
		} finally {
			await close();
		}
	},
};
