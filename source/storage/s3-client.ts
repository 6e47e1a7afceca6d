import process from 'node:process';
import {S3Client} from '@aws-sdk/client-s3';

export type S3ClientOptions = {
	/** `--s3-endpoint`; falls back to `AWS_ENDPOINT_URL` (then the SDK's default, AWS itself). */
	readonly endpoint?: string;
	/** Defaults to `process.env`. */
	readonly env?: NodeJS.ProcessEnv;
};

/** The endpoint a client built with these options talks to, for messages (`undefined`: AWS). */
export function s3EndpointOf(options: S3ClientOptions = {}): string | undefined {
	const env = options.env ?? process.env;
	return options.endpoint ?? (env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined);
}

/**
The one way the tool builds an S3 client: `--s3-endpoint` or `AWS_ENDPOINT_URL`, credentials from
`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`), `AWS_REGION` (default
us-east-1), path-style addressing (MinIO, RustFS and the drill world's providers need it).
*/
export function createS3Client(options: S3ClientOptions = {}): S3Client {
	const env = options.env ?? process.env;
	const endpoint = s3EndpointOf(options);
	const accessKeyId = env['AWS_ACCESS_KEY_ID'];
	const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
	return new S3Client({
		endpoint,
		region: env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1',
		forcePathStyle: true,
		credentials: accessKeyId && secretAccessKey
			? {accessKeyId, secretAccessKey, sessionToken: env['AWS_SESSION_TOKEN'] || undefined}
			: undefined,
		// Checksums on every request are not understood by every S3-compatible server.
		requestChecksumCalculation: 'WHEN_REQUIRED',
		responseChecksumValidation: 'WHEN_REQUIRED',
	});
}
