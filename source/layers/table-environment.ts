import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import type {Flags} from '../commands/command.js';
import {loadKubeConfig} from '../config/kube.js';
import {createCluster} from '../cluster/cluster.js';
import {exitCodes, UserError} from '../errors.js';
import {formatEnvironment, type FormatEnvironment} from '../formats/index.js';
import {credentialsFrom, providerSecretName} from './connect.js';
import {reachProvider} from './provider-route.js';

/** Variables by which the AWS SDK finds credentials without files (keys, web identity as on EKS, the ECS/Pod Identity agent). */
const awsVariables = ['AWS_ACCESS_KEY_ID', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];

export type TableS3Choice = {readonly provider: false} | {readonly provider: true; readonly reason: 'kube-flags' | 'no-aws'};

/**
Where `history` and `restore table` read an `s3://` ref. An `s3://` URL names a bucket, not a
place: the same names can be on AWS, on the mirror, on the provider. Without an endpoint the S3
client has always meant AWS, and it still does, unless the operator points at the cluster:

- `--s3-endpoint` / `AWS_ENDPOINT_URL(_S3)` given: there, as always;
- else `AWS_PROFILE` set: AWS (a profile is a deliberate AWS choice);
- else `--kubeconfig` or `--context` given: the cluster's provider (reason `kube-flags`);
- else no AWS configuration at all (no keys, web identity or container credentials in the
  environment, no ~/.aws/credentials or ~/.aws/config) and a kubeconfig: the cluster's provider (reason `no-aws`; AWS could not be read anyway);
- else AWS, as before.
*/
export function chooseTableS3(options: {readonly ref: string; readonly flags: Flags; readonly env: NodeJS.ProcessEnv; readonly home: string; readonly exists?: (file: string) => boolean}): TableS3Choice {
	const {ref, flags, env, home} = options;
	const exists = options.exists ?? ((file: string) => fs.existsSync(file));
	if (!ref.startsWith('s3://') || flags['s3Endpoint'] || env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || env['AWS_PROFILE']) {
		return {provider: false};
	}

	if (flags['kubeconfig'] || flags['context']) {
		return {provider: true, reason: 'kube-flags'};
	}

	const awsConfigured = awsVariables.some(name => Boolean(env[name])) || exists(env['AWS_SHARED_CREDENTIALS_FILE'] || path.join(home, '.aws', 'credentials')) || exists(env['AWS_CONFIG_FILE'] || path.join(home, '.aws', 'config'));
	const kubeconfig = Boolean(env['KUBECONFIG']) || exists(path.join(home, '.kube', 'config'));
	return !awsConfigured && kubeconfig ? {provider: true, reason: 'no-aws'} : {provider: false};
}

export type TableEnvironment = {
	readonly environment: FormatEnvironment;
	/** The way to the cluster's provider, when the ref is read there (`port-forward ilum/svc/...`). */
	readonly via?: string;
	close(): Promise<void>;
};

/**
The format environment for a table ref: `formatEnvironment` as before, or (see `chooseTableS3`)
the cluster's provider reached as the console reaches it (in-cluster name, else a port-forward;
`close()` ends it), with the keys of its Secret (else the AWS variables). No way to it: one line.
*/
export async function tableEnvironment(options: {readonly ref: string; readonly flags: Flags; readonly log: (line: string) => void}): Promise<TableEnvironment> {
	const {ref, flags} = options;
	const choice = chooseTableS3({ref, flags, env: process.env, home: os.homedir()});
	if (!choice.provider) {
		return {environment: formatEnvironment({s3Endpoint: flags['s3Endpoint'] as string | undefined}), close: async () => {}};
	}

	const namespace = String(flags['namespace'] ?? 'ilum');
	const config = loadKubeConfig({kubeconfig: flags['kubeconfig'] as string | undefined, context: flags['context'] as string | undefined});
	const route = await reachProvider({config, namespace});
	if (!route.endpoint) {
		await route.close();
		throw new UserError(`${ref}: the cluster's provider cannot be reached: ${route.problem ?? 'no way to it'}`, {exitCode: exitCodes.usage});
	}

	try {
		const keys = credentialsFrom(await createCluster(config).readSecret(namespace, providerSecretName).catch(() => undefined));
		const env = keys ? {...process.env, AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey} : process.env;
		const why = choice.reason === 'kube-flags' ? '--kubeconfig/--context given' : 'no AWS configuration here';
		options.log(`ilum-restore: ${ref} on the cluster's provider (${why}; --s3-endpoint to read it elsewhere): ${route.describe()}`);
		return {environment: formatEnvironment({s3Endpoint: route.endpoint, env}), via: route.describe(), close: async () => route.close()};
	} catch (error) {
		await route.close();
		throw error;
	}
}
