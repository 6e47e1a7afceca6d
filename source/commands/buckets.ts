import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import {createCluster} from '../cluster/cluster.js';
import {loadKubeConfig} from '../config/kube.js';
import {exitCodes, refusal, usageError, UserError} from '../errors.js';
import {credentialsFrom, providerSecretName} from '../layers/connect.js';
import {reachProvider, type ProviderRoute} from '../layers/provider-route.js';
import {writeJson} from '../output.js';
import {applyBucketSettings, listBuckets, readBucketSettings, type BucketSettingsFile} from '../posture/bucket-settings.js';
import {AuditLog} from '../restore/audit.js';
import {resolveStateDir} from '../restore/state-dir.js';
import {createS3Client, s3EndpointOf} from '../storage/s3-client.js';
import type {Command, CommandContext} from './command.js';

/**
The provider's S3 client: `--s3-endpoint` / `AWS_ENDPOINT_URL`, else the way the console finds it
(the Service's in-cluster name, else a port-forward through the API server: `close()` ends it);
credentials from the cluster's Secret when it can be read, else the AWS variables.
*/
async function providerClient(context: CommandContext) {
	const {flags} = context;
	let endpoint = s3EndpointOf({endpoint: flags['s3Endpoint'] as string | undefined});
	let route: ProviderRoute | undefined;
	let env: NodeJS.ProcessEnv = process.env;
	let identity = process.env['USER'] ?? 'unknown-user';
	try {
		const config = loadKubeConfig({kubeconfig: flags['kubeconfig'] as string | undefined, context: flags['context'] as string | undefined});
		identity = `${config.getCurrentUser()?.name ?? 'unknown-user'}@${config.getCurrentContext()}`;
		if (!endpoint) {
			route = await reachProvider({config, namespace: String(flags['namespace'] ?? 'ilum')});
			endpoint = route.endpoint;
			if (!endpoint) {
				// The route's problem already says what to do instead.
				throw new UserError(`The provider's S3 endpoint is unknown: ${route.problem ?? 'no way to it'}`, {exitCode: exitCodes.usage});
			}
		}

		const keys = credentialsFrom(await createCluster(config).readSecret(String(flags['namespace'] ?? 'ilum'), providerSecretName).catch(() => undefined));
		if (keys) {
			env = {...process.env, AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey};
		}
	} catch (error) {
		if (!endpoint) {
			await route?.close();
			// No kubeconfig to find the provider with: say what is missing, not what the kubeconfig lacks.
			throw error instanceof UserError && error.exitCode === exitCodes.usage ? error : usageError('The provider\'s S3 endpoint is unknown', 'pass --s3-endpoint (a port-forward to ilum-objectstorage:9000 works) or set AWS_ENDPOINT_URL');
		}

		if (!process.env['AWS_ACCESS_KEY_ID']) {
			await route?.close();
			throw error;
		}
	}

	const client = createS3Client({endpoint, env});
	return {
		client,
		endpoint: route?.kind === 'port-forward' ? route.describe() : endpoint,
		identity,
		async close() {
			client.destroy();
			await route?.close();
		},
	};
}

const s3Line = (error: unknown) => {
	const status = (error as {$metadata?: {httpStatusCode?: number}})?.$metadata?.httpStatusCode;
	const text = error instanceof Error ? error.message.split('\n')[0] : String(error);
	return status === 403 ? 'access denied (403): check the provider\'s credentials' : text;
};

export const bucketsExportCommand: Command = {
	path: ['buckets', 'export'],
	summary: 'Save every bucket\'s policy, lifecycle rules and versioning to files (no layer covers them)',
	usage: `
		$ ilum-restore buckets export --out DIR [--s3-endpoint URL]

		Writes DIR/<bucket>.json per bucket of the provider. A call the provider does not implement is
		recorded as unsupported in the file and reported; nothing is invented.
		The provider: --s3-endpoint or AWS_ENDPOINT_URL, else as the console reaches it (its in-cluster
		name, else a port-forward through the API server, closed at the end).
	`,
	flags: {
		out: {type: 'string', description: 'Folder to write the bucket settings to (buckets export)'},
	},
	async run(context) {
		const out = context.flags['out'] as string | undefined;
		if (!out) {
			throw usageError('Name the folder to write to with --out', 'ilum-restore buckets export --out ./bucket-settings');
		}

		const {client, endpoint, close} = await providerClient(context);
		let buckets: string[];
		let results: Array<Awaited<ReturnType<typeof readBucketSettings>>>;
		try {
			try {
				buckets = await listBuckets(client);
			} catch (error) {
				throw new UserError(`Cannot list the buckets of ${endpoint}: ${s3Line(error)}`, {hint: 'check --s3-endpoint and the credentials'});
			}

			results = await Promise.all(buckets.map(async bucket => readBucketSettings(client, bucket)));
		} finally {
			await close();
		}

		const failures = results.flatMap(result => result.settings.filter(setting => setting.state === 'error'));
		if (failures.length > 0) {
			throw new UserError(`Cannot read ${failures[0]!.setting} of bucket ${failures[0]!.bucket}: ${failures[0]!.detail}`, {hint: 'nothing was written; check the credentials\' permissions'});
		}

		fs.mkdirSync(out, {recursive: true});
		for (const {file} of results) {
			fs.writeFileSync(path.join(out, `${file.bucket}.json`), JSON.stringify(file, undefined, '\t') + '\n');
		}

		const unsupported = [...new Set(results.flatMap(result => result.file.unsupported))];
		if (context.flags['json']) {
			writeJson(context.stdout, {out, buckets: results.map(result => result.file), unsupported});
		} else {
			context.stdout.write(`${results.length} bucket${results.length === 1 ? '' : 's'} written to ${out}\n`);
			for (const {file} of results) {
				context.stdout.write(`  ${file.bucket}: policy ${file.policy ? 'set' : 'none'}, lifecycle ${file.lifecycle ? `${file.lifecycle.length} rule(s)` : 'none'}, versioning ${file.versioning ?? 'off'}\n`);
			}

			if (unsupported.length > 0) {
				context.stdout.write(`The provider does not implement: ${unsupported.join(', ')} (recorded as unsupported; nothing to capture)\n`);
			}
		}

		return exitCodes.ok;
	},
};

export const bucketsImportCommand: Command = {
	path: ['buckets', 'import'],
	summary: 'Put bucket policies, lifecycle rules and versioning back from an export',
	usage: `
		$ ilum-restore buckets import DIR (--dry-run | --yes) [--s3-endpoint URL]

		Reads DIR/<bucket>.json (from buckets export) and applies each setting to the provider,
		reached as buckets export reaches it (--s3-endpoint, AWS_ENDPOINT_URL, else found through the cluster).
	`,
	flags: {
		dryRun: {type: 'boolean', default: false, description: 'Print what would be applied and change nothing'},
		yes: {type: 'boolean', default: false, description: 'Apply the settings without asking'},
	},
	async run(context) {
		const folder = context.args[0];
		if (!folder) {
			throw usageError('Name the folder written by buckets export', 'ilum-restore buckets import ./bucket-settings --dry-run');
		}

		const dryRun = Boolean(context.flags['dryRun']);
		const yes = Boolean(context.flags['yes']);
		if (!dryRun && !yes) {
			throw refusal('Not run: this needs --dry-run (show what would be applied) or --yes (apply it)', `ilum-restore buckets import ${folder} --dry-run`);
		}

		let files: BucketSettingsFile[];
		try {
			files = fs.readdirSync(folder).filter(name => name.endsWith('.json')).sort().map(name => {
				const text = fs.readFileSync(path.join(folder, name), 'utf8');
				let parsed: BucketSettingsFile;
				try {
					parsed = JSON.parse(text) as BucketSettingsFile;
				} catch {
					throw new UserError(`${path.join(folder, name)} is not valid JSON`, {hint: 'use the files buckets export wrote, unchanged'});
				}

				if (typeof parsed.bucket !== 'string') {
					throw new UserError(`${path.join(folder, name)} is not a bucket settings file (no "bucket")`, {hint: 'use the files buckets export wrote, unchanged'});
				}

				return parsed;
			});
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
				throw new UserError(`No folder ${folder}`, {hint: 'name the folder buckets export wrote'});
			}

			throw error;
		}

		const wanted = files.filter(file => file.policy || file.lifecycle || file.versioning);
		if (dryRun) {
			context.stdout.write(wanted.length === 0 ? 'Nothing to apply: no bucket in the export has a setting.\n' : wanted.map(file => `would apply to ${file.bucket}: ${[file.policy && 'policy', file.lifecycle && 'lifecycle', file.versioning && `versioning ${file.versioning}`].filter(Boolean).join(', ')}\n`).join(''));
			return exitCodes.ok;
		}

		if (context.flags['readOnly']) {
			throw refusal('Refused: --read-only is set, so buckets import changes nothing', 'drop --read-only');
		}

		const {client, identity, close} = await providerClient(context);
		const audit = new AuditLog(resolveStateDir(context.flags['stateDir'] as string | undefined));
		try {
			for (const file of wanted) {
				try {
					// eslint-disable-next-line no-await-in-loop
					const applied = await applyBucketSettings(client, file);
					audit.record({identity, action: 'buckets.import', target: file.bucket, outcome: 'succeeded', detail: applied.join(', ')});
					context.stdout.write(`${file.bucket}: applied ${applied.join(', ')}\n`);
				} catch (error) {
					audit.record({identity, action: 'buckets.import', target: file.bucket, outcome: 'failed', detail: s3Line(error)});
					throw new UserError(s3Line(error));
				}
			}
		} finally {
			await close();
		}

		return exitCodes.ok;
	},
};
