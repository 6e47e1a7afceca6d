import {S3Client} from '@aws-sdk/client-s3';

/** An SDK client for one of the drill's endpoints (path-style, us-east-1, no retries: a job fails like mc does). */
export function drillS3Client(endpoint: string, accessKeyId: string, secretAccessKey: string, options: {maxAttempts?: number} = {}): S3Client {
	return new S3Client({
		endpoint,
		region: 'us-east-1',
		forcePathStyle: true,
		credentials: {accessKeyId, secretAccessKey},
		maxAttempts: options.maxAttempts ?? 2,
		requestChecksumCalculation: 'WHEN_REQUIRED',
		responseChecksumValidation: 'WHEN_REQUIRED',
	});
}
