import {GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type ListObjectsV2CommandOutput, type GetObjectCommandOutput, S3ServiceException, type S3Client} from '@aws-sdk/client-s3';
import {FileExistsError, FileNotFoundError, type FileInfo, type FileStore} from './file-store.js';

/** A `FileStore` over `s3://bucket/prefix`. */
export class S3FileStore implements FileStore {
	readonly root: string;
	readonly bucket: string;
	private readonly client: S3Client;
	private readonly prefix: string;

	constructor(client: S3Client, bucket: string, prefix: string) {
		this.client = client;
		this.bucket = bucket;
		this.prefix = prefix === '' || prefix.endsWith('/') ? prefix : prefix + '/';
		this.root = `s3://${bucket}/${this.prefix}`.replace(/\/$/, '');
	}

	async list(prefix: string): Promise<FileInfo[]> {
		const files: FileInfo[] = [];
		let token: string | undefined;
		do {
			// eslint-disable-next-line no-await-in-loop
			const page: ListObjectsV2CommandOutput = await this.send(new ListObjectsV2Command({Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken: token}), prefix);
			for (const object of page.Contents ?? []) {
				files.push({path: object.Key!.slice(this.prefix.length), size: object.Size ?? 0, lastModified: object.LastModified});
			}

			token = page.IsTruncated ? page.NextContinuationToken : undefined;
		} while (token);
		return files;
	}

	async read(path: string): Promise<Uint8Array> {
		const response: GetObjectCommandOutput = await this.send(new GetObjectCommand({Bucket: this.bucket, Key: this.prefix + path}), path);
		return response.Body!.transformToByteArray();
	}

	async exists(path: string): Promise<boolean> {
		try {
			await this.send(new HeadObjectCommand({Bucket: this.bucket, Key: this.prefix + path}), path);
			return true;
		} catch (error) {
			if (error instanceof FileNotFoundError) {
				return false;
			}

			throw error;
		}
	}

	async putIfAbsent(path: string, body: Uint8Array): Promise<void> {
		await this.send(new PutObjectCommand({Bucket: this.bucket, Key: this.prefix + path, Body: body, IfNoneMatch: '*'}), path);
	}

	async put(path: string, body: Uint8Array): Promise<void> {
		await this.send(new PutObjectCommand({Bucket: this.bucket, Key: this.prefix + path, Body: body}), path);
	}

	private async send<T>(command: any, path: string): Promise<T> {
		const uri = `${this.root}/${path}`;
		try {
			return await this.client.send(command) as T;
		} catch (error) {
			if (error instanceof S3ServiceException) {
				const status = error.$metadata.httpStatusCode;
				if (status === 404 || error.name === 'NoSuchKey' || error.name === 'NotFound') {
					throw new FileNotFoundError(uri);
				}

				if (status === 412 || status === 409) {
					throw new FileExistsError(uri);
				}

				if (status === 403) {
					throw new Error(`${uri}: access denied (403): check the S3 credentials and their policy`, {cause: error});
				}
			}

			throw error;
		}
	}
}
