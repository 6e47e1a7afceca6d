/**
Endpoints and keys of a mirror restore's two sides, out of the variables and the decoded Secrets
(`ilum-objectstorage-credentials`, `ilum-backup-credentials`) as versions of the chart name them.
Values are never logged.
*/

export type Credentials = {accessKeyId: string; secretAccessKey: string};

/** Both halves of a key pair, or nothing. */
export function credentialsOf(accessKeyId: string | undefined, secretAccessKey: string | undefined): Credentials | undefined {
	return accessKeyId && secretAccessKey ? {accessKeyId, secretAccessKey} : undefined;
}

const accessKeyNames = ['access-key', 'accesskey', 'root-user', 'RUSTFS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'MINIO_ROOT_USER'];
const secretKeyNames = ['secret-key', 'secretkey', 'root-password', 'RUSTFS_SECRET_KEY', 'AWS_SECRET_ACCESS_KEY', 'MINIO_ROOT_PASSWORD'];

/** The key pair a decoded Secret holds under the usual key names. */
export function secretCredentials(secret: Record<string, string> | undefined): Credentials | undefined {
	if (!secret) {
		return undefined;
	}

	return credentialsOf(accessKeyNames.map(name => secret[name]).find(Boolean), secretKeyNames.map(name => secret[name]).find(Boolean));
}

/** An endpoint URL among a Secret's values (`endpoint`, `url`, `MC_HOST_*`), without userinfo. */
export function endpointInSecret(secret: Record<string, string> | undefined): string | undefined {
	if (!secret) {
		return undefined;
	}

	const value = Object.entries(secret).find(([key]) => /endpoint|url|host/i.test(key) && !/source|src/i.test(key))?.[1];
	const match = value ? /(https?:\/\/)(?:[^\s/@]+@)?([^\s/]+)/.exec(value) : undefined;
	return match ? `${match[1]}${match[2]}` : undefined;
}
