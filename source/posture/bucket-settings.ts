/**
What no protection layer covers on the provider itself: bucket policies, lifecycle rules and
versioning. Read, exported to files and restored from them with the S3 API. A provider that does
not implement a call (as the drill world's S3 server does not) is reported as `unsupported`,
never as a crash or an empty success.
*/
import {
	GetBucketLifecycleConfigurationCommand, GetBucketPolicyCommand, GetBucketVersioningCommand,
	ListBucketsCommand, PutBucketLifecycleConfigurationCommand, PutBucketPolicyCommand, PutBucketVersioningCommand,
	type BucketVersioningStatus, type LifecycleRule, type S3Client,
} from '@aws-sdk/client-s3';
import type {BucketSetting} from './assess.js';

export type BucketSettingsFile = {
	readonly bucket: string;
	/** The policy document as the provider returned it (JSON text), or null when none is set. */
	readonly policy: string | null;
	readonly lifecycle: LifecycleRule[] | null;
	readonly versioning: BucketVersioningStatus | null;
	/** Calls the provider does not implement, so nothing could be captured for them. */
	readonly unsupported: ReadonlyArray<BucketSetting['setting']>;
};

const status = (error: unknown) => (error as {$metadata?: {httpStatusCode?: number}})?.$metadata?.httpStatusCode;
const code = (error: unknown) => (error as {name?: string; Code?: string})?.name ?? (error as {Code?: string})?.Code ?? '';

/** The answer meant "nothing is set" (real S3 and MinIO answer 404 with these codes). */
const isNone = (error: unknown) => /NoSuchBucketPolicy|NoSuchLifecycleConfiguration|NoSuchConfiguration/.test(code(error));
/** The provider does not implement the call at all. */
const isUnsupported = (error: unknown) => /NotImplemented|Unsupported|MethodNotAllowed/i.test(code(error)) || status(error) === 501 || status(error) === 405;

export async function listBuckets(client: S3Client): Promise<string[]> {
	const answer = await client.send(new ListBucketsCommand({}));
	return (answer.Buckets ?? []).map(bucket => bucket.Name!).filter(Boolean).sort();
}

class UnsupportedAnswer extends Error {}

const isJson = (text: string) => {
	try {
		JSON.parse(text);
		return true;
	} catch {
		return false;
	}
};

type Reading<T> = {state: BucketSetting['state']; value: T | null; detail?: string};

async function read<T>(call: () => Promise<T | null>): Promise<Reading<T>> {
	try {
		const value = await call();
		return {state: value === null ? 'none' : 'set', value};
	} catch (error) {
		if (isNone(error)) {
			return {state: 'none', value: null};
		}

		if (error instanceof UnsupportedAnswer) {
			return {state: 'unsupported', value: null, detail: error.message};
		}

		if (isUnsupported(error)) {
			return {state: 'unsupported', value: null, detail: `${code(error) || `HTTP ${status(error)}`}`};
		}

		// Some servers answer an unknown sub-resource as a plain GET of the bucket (a listing) or with
		// a body the SDK cannot parse: that is not a setting, and not support either.
		const text = error instanceof Error ? error.message.split('\n')[0]! : String(error);
		if (/Deserialization|char|Expected|parse|XML|Unexpected/i.test(text) || status(error) === 400) {
			return {state: 'unsupported', value: null, detail: `the provider did not answer as S3 does (${text})`};
		}

		return {state: 'error', value: null, detail: text};
	}
}

/** Reads the three settings of one bucket. Never throws for one setting's failure. */
export async function readBucketSettings(client: S3Client, bucket: string): Promise<{file: BucketSettingsFile; settings: BucketSetting[]}> {
	const [policy, lifecycle, versioning] = await Promise.all([
		read(async () => {
			const policy = (await client.send(new GetBucketPolicyCommand({Bucket: bucket}))).Policy;
			if (policy && !isJson(policy)) {
				// A server that ignores `?policy` answers with the bucket's listing.
				throw new UnsupportedAnswer(`answered GetBucketPolicy with ${policy.includes('ListBucketResult') ? 'a bucket listing' : 'something that is not a policy document'}`);
			}

			return policy ?? null;
		}),
		read(async () => {
			const rules = (await client.send(new GetBucketLifecycleConfigurationCommand({Bucket: bucket}))).Rules;
			return rules && rules.length > 0 ? rules : null;
		}),
		read(async () => (await client.send(new GetBucketVersioningCommand({Bucket: bucket}))).Status ?? null),
	]);
	const entries = [['policy', policy], ['lifecycle', lifecycle], ['versioning', versioning]] as const;
	return {
		file: {
			bucket,
			policy: policy.value,
			lifecycle: lifecycle.value,
			versioning: versioning.value,
			unsupported: entries.filter(([, reading]) => reading.state === 'unsupported').map(([name]) => name),
		},
		settings: entries.map(([setting, reading]) => ({bucket, setting, state: reading.state, ...(reading.detail ? {detail: reading.detail} : {})})),
	};
}

/** Puts a bucket's exported settings back. Returns what was applied; throws with the call that failed. */
export async function applyBucketSettings(client: S3Client, file: BucketSettingsFile): Promise<string[]> {
	const applied: string[] = [];
	const attempt = async (name: string, call: () => Promise<unknown>) => {
		try {
			await call();
			applied.push(name);
		} catch (error) {
			if (isUnsupported(error)) {
				throw new Error(`${file.bucket}: the provider does not implement Put${name} (${code(error) || status(error)}): apply it with the provider's own tool`);
			}

			throw new Error(`${file.bucket}: Put${name} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
		}
	};

	if (file.policy) {
		await attempt('BucketPolicy', async () => client.send(new PutBucketPolicyCommand({Bucket: file.bucket, Policy: file.policy!})));
	}

	if (file.lifecycle) {
		await attempt('BucketLifecycleConfiguration', async () => client.send(new PutBucketLifecycleConfigurationCommand({Bucket: file.bucket, LifecycleConfiguration: {Rules: file.lifecycle!}})));
	}

	if (file.versioning) {
		await attempt('BucketVersioning', async () => client.send(new PutBucketVersioningCommand({Bucket: file.bucket, VersioningConfiguration: {Status: file.versioning!}})));
	}

	return applied;
}
