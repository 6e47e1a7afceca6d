import {HeadBucketCommand, type S3Client} from '@aws-sdk/client-s3';
import process from 'node:process';
import type {Flags} from '../commands/command.js';
import {createCluster, type Cluster} from '../cluster/cluster.js';
import {loadKubeConfig} from '../config/kube.js';
import {formatEnvironment, resolveFormat} from '../formats/index.js';
import {openCatalog, parseDuckLakeRef} from '../formats/ducklake/connect.js';
import {createS3Client} from '../storage/s3-client.js';
import {FastS3Client, type S3Endpoint} from '../storage/fast-s3.js';
import {driftComparer, mirrorTargets} from './bucket-compare.js';
import type {BucketComparer} from './mirror-figures.js';
import {readBackupCron, type LayerSources} from './inventory.js';
import {KubeVolumeRestoreCluster} from '../cluster/mutations.js';
import {prepareVolumeRestore, providerProbe} from './volumes/restore-plan.js';
import {AuditLog} from '../restore/audit.js';
import {resolveStateDir} from '../restore/state-dir.js';
import {prepareTableRestore} from '../restore/table-plan.js';
import {mirrorRestoreSource} from '../restore/mirror-session.js';
import {historyReader, type TableSources} from './tables/table-inventory.js';
import {reachProvider} from './provider-route.js';

/** The provider's credentials Secret and the keys versions of the chart use. */
export const providerSecretName = 'ilum-objectstorage-credentials';
const accessKeys = ['access-key', 'root-user', 'RUSTFS_ACCESS_KEY', 'accesskey', 'AWS_ACCESS_KEY_ID'];
const secretKeys = ['secret-key', 'root-password', 'RUSTFS_SECRET_KEY', 'secretkey', 'AWS_SECRET_ACCESS_KEY'];

/** Picks an access key pair out of a decoded Secret. Never logged. */
export function credentialsFrom(secret: Readonly<Record<string, string>> | undefined): {accessKeyId: string; secretAccessKey: string} | undefined {
	if (!secret) {
		return undefined;
	}

	const accessKeyId = accessKeys.map(key => secret[key]).find(Boolean);
	const secretAccessKey = secretKeys.map(key => secret[key]).find(Boolean);
	return accessKeyId && secretAccessKey ? {accessKeyId, secretAccessKey} : undefined;
}

/** Where tables are looked for, from the inventory/console flags. */
export function tableSourcesFrom(flags: Flags): TableSources {
	const list = (value: unknown): string[] => (Array.isArray(value) ? value : value ? [value] : []).map(String).filter(Boolean);
	return {
		icebergCatalogs: list(flags['icebergCatalog']),
		buckets: list(flags['tablesBucket']).map(bucket => bucket.startsWith('s3://') ? bucket : `s3://${bucket}`),
		ducklakeCatalogs: list(flags['ducklakeCatalog']),
	};
}

export type ConnectOptions = {
	readonly flags: Flags;
	readonly env?: NodeJS.ProcessEnv;
	/** Set by `--drill`: what the drill world says about itself. */
	readonly world?: {kubeconfig: string; context?: string; s3Endpoint?: string; mirrorEndpoint?: string; tableSources?: Partial<TableSources>; close?: () => Promise<void>};
};

/**
Builds the layers' sources once: the `Cluster` from the kube context, S3 clients for the provider
(credentials from the cluster's Secret when RBAC allows, else the AWS variables) and the mirror
(endpoint and credentials from `ilum-backup-credentials`), and the table formats.
*/
export async function connectLayers(options: ConnectOptions): Promise<LayerSources> {
	const {flags, world} = options;
	const env = options.env ?? process.env;
	const config = loadKubeConfig({kubeconfig: world?.kubeconfig ?? flags['kubeconfig'], context: flags['context'] ?? world?.context});
	const cluster: Cluster = createCluster(config);
	const namespace: string = flags['namespace'] ?? 'ilum';
	const givenEndpoint: string | undefined = flags['s3Endpoint'] ?? world?.s3Endpoint ?? (env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined);
	const endpointSource = flags['s3Endpoint'] ? '--s3-endpoint' : (world?.s3Endpoint ? 'drill world' : (env['AWS_ENDPOINT_URL_S3'] ? 'AWS_ENDPOINT_URL_S3' : 'AWS_ENDPOINT_URL'));
	// No endpoint given: the Service's in-cluster name when it answers, else a port-forward through the API server.
	const [route, providerSecret, mirrorSecret] = await Promise.all([
		reachProvider({config, namespace, endpoint: givenEndpoint, endpointSource}),
		cluster.readSecret(namespace, providerSecretName).catch(() => undefined),
		cluster.readSecret(namespace, 'ilum-backup-credentials').catch(() => undefined),
	]);
	const providerEndpoint = route.endpoint;
	const providerCredentials = credentialsFrom(providerSecret);
	const providerEnv = providerCredentials ? {...env, AWS_ACCESS_KEY_ID: providerCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: providerCredentials.secretAccessKey} : env;
	let providerClient: S3Client | undefined;
	const provider = () => {
		providerClient ??= createS3Client({endpoint: providerEndpoint, env: providerEnv});
		return providerClient;
	};

	const formats = formatEnvironment({s3Endpoint: providerEndpoint, env: providerEnv});
	const tableSources = tableSourcesFrom(flags);
	const announced = await announcedCatalogs(cluster, namespace);
	const merged: TableSources = {
		icebergCatalogs: [...new Set([...tableSources.icebergCatalogs, ...(world?.tableSources?.icebergCatalogs ?? []), ...announced.icebergCatalogs])],
		buckets: [...new Set([...tableSources.buckets, ...(world?.tableSources?.buckets ?? [])])],
		ducklakeCatalogs: [...new Set([...tableSources.ducklakeCatalogs, ...(world?.tableSources?.ducklakeCatalogs ?? []), ...announced.ducklakeCatalogs])],
		warehouses: announced.warehouses,
	};
	const mirrorEndpoint: string | undefined = flags['mirrorEndpoint'] ?? world?.mirrorEndpoint ?? (env['MIRROR_ENDPOINT_URL'] || undefined) ?? mirrorEndpointFrom(mirrorSecret);
	const mirrorCredentials = credentialsFrom(mirrorSecret) ?? (env['MIRROR_ACCESS_KEY_ID'] && env['MIRROR_SECRET_ACCESS_KEY'] ? {accessKeyId: env['MIRROR_ACCESS_KEY_ID'], secretAccessKey: env['MIRROR_SECRET_ACCESS_KEY']} : undefined);
	const providerKeys = providerCredentials ?? (env['AWS_ACCESS_KEY_ID'] && env['AWS_SECRET_ACCESS_KEY'] ? {accessKeyId: env['AWS_ACCESS_KEY_ID'], secretAccessKey: env['AWS_SECRET_ACCESS_KEY']} : undefined);
	let compare: BucketComparer | undefined;
	let compareProblem: string | undefined;
	const fastClients: FastS3Client[] = [];
	if (!mirrorEndpoint) {
		compareProblem = 'the mirror endpoint is unknown (no endpoint in Secret ilum-backup-credentials; --mirror-endpoint)';
	} else if (providerEndpoint === undefined) {
		compareProblem = route.problem ?? `the provider endpoint is unknown: pass --s3-endpoint (e.g. http://127.0.0.1:9000 after kubectl -n ${namespace} port-forward svc/ilum-objectstorage 9000)`;
	} else if (!providerKeys || !mirrorCredentials) {
		compareProblem = `no ${providerKeys ? 'mirror' : 'provider'} credentials (Secret not readable and no environment variables)`;
	} else {
		const region = env['AWS_REGION'] || 'us-east-1';
		const side = (endpoint: string, keys: {accessKeyId: string; secretAccessKey: string}): S3Endpoint => ({endpoint, region, ...keys});
		const providerFast = new FastS3Client(side(providerEndpoint, providerKeys), {connections: 8});
		const mirrorFast = new FastS3Client(side(mirrorEndpoint, mirrorCredentials), {connections: 8});
		fastClients.push(providerFast, mirrorFast);
		const {cron} = await readBackupCron(cluster, namespace);
		compare = driftComparer(providerFast, mirrorFast, mirrorTargets(cron, flags['mirrorRoot']));
	}

	return {
		cluster,
		namespace,
		tableSources: merged,
		tableDiscovery: {
			// Without an endpoint the SDK would go to AWS itself: say instead that none is configured.
			s3: providerEndpoint ? provider : undefined,
			history: historyReader(formats, resolveFormat),
			async duckLakeQuery(ref) {
				const catalog = await openCatalog(parseDuckLakeRef(ref), {readOnly: true});
				return async sql => {
					try {
						return await catalog.query(sql) as Array<Record<string, unknown>>;
					} finally {
						await catalog.close();
					}
				};
			},
		},
		compare,
		compareProblem,
		providerEndpoint,
		providerRoute: () => route.describe(),
		probeProvider: providerEndpoint ? async () => {
			await route.check?.();
			await provider().send(new HeadBucketCommand({Bucket: 'ilum-data'}), {abortSignal: AbortSignal.timeout(5000)}).catch((error: unknown) => {
				const status = (error as any)?.$metadata?.httpStatusCode;
				// A 403/404 is an answer: the provider is up.
				if (status === undefined) {
					throw error;
				}
			});
		} : undefined,
		// Under --read-only nothing that changes the cluster is offered at all.
		prepareVolumeRestore: flags['readOnly'] ? undefined : async snapshot => {
			const mutations = new KubeVolumeRestoreCluster(config);
			return prepareVolumeRestore({
				cluster: mutations,
				namespace,
				snapshot,
				stateDir: resolveStateDir(flags['stateDir']),
				s3Endpoint: providerEndpoint,
				probeFor: async endpoint => providerProbe(mutations, namespace, endpoint),
				readOnly: Boolean(flags['readOnly']),
			});
		},
		prepareTableRestore: flags['readOnly'] ? undefined : async ({ref, table, to}) => prepareTableRestore({
			format: await resolveFormat({ref, ...(table ? {table} : {})}, formats),
			ref,
			...(table ? {table} : {}),
			to,
			stateDir: resolveStateDir(flags['stateDir']),
			identity: `${config.getCurrentUser()?.name ?? 'unknown'}@${config.getCurrentContext()}`,
		}),
		// The mirror restore wizard (Mirrors pane: R on a bucket, A for all): needs both endpoints and their keys.
		prepareMirrorRestore: flags['readOnly'] || !mirrorEndpoint || !providerEndpoint || !providerKeys || !mirrorCredentials ? undefined : mirrorRestoreSource({
			config,
			namespace,
			provider: {endpoint: providerEndpoint, region: env['AWS_REGION'] || 'us-east-1', ...providerKeys},
			mirror: {endpoint: mirrorEndpoint, region: env['AWS_REGION'] || 'us-east-1', ...mirrorCredentials},
			stateDir: resolveStateDir(flags['stateDir']),
			...(flags['mirrorRoot'] ? {mirrorRoot: String(flags['mirrorRoot'])} : {}),
		}),
		setBackupSuspended: flags['readOnly'] ? undefined : async (name, suspend) => {
			const audit = new AuditLog(resolveStateDir(flags['stateDir']));
			const identity = `${config.getCurrentUser()?.name ?? 'unknown'}@${config.getCurrentContext()}`;
			const target = `cronjob ${namespace}/${name}`;
			const action = suspend ? 'console.suspend-backup' : 'console.resume-backup';
			audit.record({identity, action, target, outcome: 'started'});
			try {
				await new KubeVolumeRestoreCluster(config).setCronJobSuspended(namespace, name, suspend);
				audit.record({identity, action, target, outcome: 'succeeded'});
			} catch (error) {
				audit.record({identity, action, target, outcome: 'failed', detail: error instanceof Error ? error.message.split('\n')[0] : String(error)});
				throw error;
			}
		},
		close: async () => {
			providerClient?.destroy();
			await Promise.all(fastClients.map(async client => client.close()));
			await route.close();
			await world?.close?.();
		},
	};
}

/**
Table catalogs announced in the namespace: ConfigMaps labelled `ilum.cloud/table-format`
(`iceberg` or `ducklake`) whose `ref` names the catalog as `history` takes it. Unreadable
ConfigMaps (RBAC) just mean no announced catalogs.
*/
export async function announcedCatalogs(cluster: Cluster, namespace: string): Promise<{icebergCatalogs: string[]; ducklakeCatalogs: string[]; warehouses: string[]}> {
	const maps = await cluster.listConfigMaps(namespace, {labelSelector: 'ilum.cloud/table-format'}).catch(() => []);
	const of = (format: string) => maps.filter(map => map.metadata?.labels?.['ilum.cloud/table-format'] === format && map.data?.['ref']);
	return {
		icebergCatalogs: of('iceberg').map(map => map.data!['ref']!),
		ducklakeCatalogs: of('ducklake').map(map => map.data!['ref']!),
		warehouses: of('iceberg').map(map => map.data?.['warehouse']).filter((warehouse): warehouse is string => Boolean(warehouse)),
	};
}

function mirrorEndpointFrom(secret: Readonly<Record<string, string>> | undefined): string | undefined {
	const value = secret ? Object.entries(secret).find(([key]) => /endpoint|url/i.test(key) && !/source|src/i.test(key))?.[1] : undefined;
	const match = value ? /(\w+:\/\/)(?:[^\s/@]+@)?([^\s/]+)/.exec(value) : undefined;
	return match ? `${match[1]}${match[2]}` : undefined;
}
