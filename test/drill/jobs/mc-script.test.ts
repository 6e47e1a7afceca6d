import {test} from 'node:test';
import assert from 'node:assert/strict';
import {GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client} from '@aws-sdk/client-s3';
import {runContainer, runScript} from '../../../source/drill/jobs/mc-script.js';
import {S3Endpoint} from '../../../source/drill/s3/s3-endpoint.js';
import {VolumeData} from '../../../source/drill/s3/volume-data.js';
import {backupScript} from '../../../source/drill/seed/ilum.js';

const runtime = (env: Record<string, string>, lines: string[], resolveUrl = (url: string) => url) => ({env, resolveUrl, log: (line: string) => lines.push(line)});

test('the shell subset: variables, quotes, for loops, && and ||, set -e, exit codes', async () => {
	const lines: string[] = [];
	const code = await runScript(`
		set -eu
		NAME="two words"
		for item in a 'b c' "$NAME"; do
		  echo "item: $item"
		done
		false || echo recovered
		true && echo "\${NAME}!"
		exit 3
		echo never
	`, runtime({}, lines));
	assert.equal(code, 3);
	assert.deepEqual(lines, ['item: a', 'item: b c', 'item: two words', 'recovered', 'two words!']);

	const failing: string[] = [];
	assert.equal(await runScript('set -e\nwget http://x\necho after', runtime({}, failing)), 127);
	assert.deepEqual(failing, ['sh: wget: not found']);
	assert.equal(await runScript('set -u\necho $MISSING', runtime({}, [])), 2);
});

test('mc mirror over two endpoints: aliases from the script and from MC_HOST_, in-cluster URLs resolved', async () => {
	const source = await VolumeData.empty();
	const target = await VolumeData.empty();
	const a = await S3Endpoint.start({name: 'a', credentials: {accessKeyId: 'ka', secretAccessKey: 'sa'}, volume: source});
	const b = await S3Endpoint.start({name: 'b', credentials: {accessKeyId: 'kb', secretAccessKey: 'sb'}, volume: target});
	const client = new S3Client({endpoint: a.url, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: 'ka', secretAccessKey: 'sa'}});
	try {
		source.ensureBucket('ilum-data');
		await client.send(new PutObjectCommand({Bucket: 'ilum-data', Key: 'x/1.csv', Body: 'one', Metadata: {m: '1'}}));
		target.ensureBucket('ilum-data');
		target.put('ilum-data', {...source.objects('ilum-data').get('x/1.csv')!, key: 'stale.csv'});
		const lines: string[] = [];
		const env = {SRC_ACCESS_KEY: 'ka', SRC_SECRET_KEY: 'sa', BACKUP_ENDPOINT: b.url, BACKUP_ACCESS_KEY: 'kb', BACKUP_SECRET_KEY: 'sb'};
		const resolve = (url: string) => url.replace('http://ilum-objectstorage:9000', a.url);
		const script = backupScript.replace(/for bucket in [^;]+;/, 'for bucket in ilum-data;');
		assert.equal(await runContainer(['/bin/sh', '-c'], [script], runtime(env, lines, resolve)), 0, lines.join('\n'));
		assert.deepEqual([...target.objects('ilum-data').keys()], ['x/1.csv']);
		assert.deepEqual(target.objects('ilum-data').get('x/1.csv')!.metadata, {m: '1'});
		assert.ok(lines.some(line => line.includes('`src/ilum-data/x/1.csv` -> `backup/ilum-data/x/1.csv`')));
		assert.ok(lines.includes('Removed `backup/ilum-data/stale.csv`'));

		// The restore direction, mc invoked directly with MC_HOST_ aliases; without --remove nothing is deleted.
		target.put('ilum-data', {...target.objects('ilum-data').get('x/1.csv')!, key: 'only-in-backup.csv'});
		const restoreLines: string[] = [];
		const code = await runContainer(['mc'], ['mirror', '--preserve', 'backup/ilum-data', 'provider/ilum-data'], runtime({MC_HOST_backup: `http://kb:sb@${new URL(b.url).host}`, MC_HOST_provider: `http://ka:sa@${new URL(a.url).host}`}, restoreLines));
		assert.equal(code, 0, restoreLines.join('\n'));
		assert.deepEqual((await client.send(new ListObjectsV2Command({Bucket: 'ilum-data'}))).Contents!.map(item => item.Key), ['only-in-backup.csv', 'x/1.csv']);

		const bad: string[] = [];
		assert.equal(await runContainer(['mc'], ['mirror', '--bogus', 'a/b', 'c/d'], runtime({}, bad)), 1);
		assert.match(bad[0]!, /flag provided but not defined: --bogus/);
		const noAlias: string[] = [];
		assert.equal(await runContainer(['mc'], ['mirror', 'nowhere/b', 'provider/b'], runtime({}, noAlias)), 1);
		assert.match(noAlias[0]!, /Unable to resolve alias `nowhere`/);
	} finally {
		client.destroy();
		await a.close();
		await b.close();
	}
});

test('mc mirror in the restore direction (the in-cluster Job\'s script): a changed object is kept and reported without --overwrite (exit 0), replaced with it', async () => {
	const mirror = await VolumeData.empty();
	const provider = await VolumeData.empty();
	const m = await S3Endpoint.start({name: 'mirror', credentials: {accessKeyId: 'km', secretAccessKey: 'sm'}, volume: mirror});
	const p = await S3Endpoint.start({name: 'provider', credentials: {accessKeyId: 'kp', secretAccessKey: 'sp'}, volume: provider});
	const mirrorClient = new S3Client({endpoint: m.url, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: 'km', secretAccessKey: 'sm'}});
	const providerClient = new S3Client({endpoint: p.url, region: 'us-east-1', forcePathStyle: true, credentials: {accessKeyId: 'kp', secretAccessKey: 'sp'}});
	try {
		mirror.ensureBucket('ilum-data');
		provider.ensureBucket('ilum-data');
		await mirrorClient.send(new PutObjectCommand({Bucket: 'ilum-data', Key: 'a.csv', Body: 'mirrored', ContentType: 'text/csv'}));
		await mirrorClient.send(new PutObjectCommand({Bucket: 'ilum-data', Key: 'lost.csv', Body: 'lost'}));
		await providerClient.send(new PutObjectCommand({Bucket: 'ilum-data', Key: 'a.csv', Body: 'changed since the mirror ran'}));
		const script = (flags: string) => `set -e
mc alias set backup "$BACKUP_ENDPOINT" "$BACKUP_ACCESS_KEY" "$BACKUP_SECRET_KEY"
mc alias set ilum 'http://ilum-objectstorage:9000' "$ILUM_ACCESS_KEY" "$ILUM_SECRET_KEY"
mc mirror --preserve ${flags} 'backup/ilum-data' 'ilum/ilum-data'
`;
		const env = {BACKUP_ENDPOINT: m.url, BACKUP_ACCESS_KEY: 'km', BACKUP_SECRET_KEY: 'sm', ILUM_ACCESS_KEY: 'kp', ILUM_SECRET_KEY: 'sp'};
		const resolve = (url: string) => url.replace('http://ilum-objectstorage:9000', p.url);
		const body = async (key: string) => (await providerClient.send(new GetObjectCommand({Bucket: 'ilum-data', Key: key}))).Body!.transformToString();

		const kept: string[] = [];
		assert.equal(await runContainer(['/bin/sh', '-c'], [script('')], runtime(env, kept, resolve)), 0, kept.join('\n'));
		assert.equal(await body('lost.csv'), 'lost', 'the missing object is restored');
		assert.equal(await body('a.csv'), 'changed since the mirror ran', 'the changed object is kept');
		assert.ok(kept.some(line => /mc: <ERROR> Overwrite not allowed for `ilum\/ilum-data\/a.csv`/.test(line)), kept.join('\n'));

		const replaced: string[] = [];
		assert.equal(await runContainer(['/bin/sh', '-c'], [script('--overwrite')], runtime(env, replaced, resolve)), 0, replaced.join('\n'));
		assert.equal(await body('a.csv'), 'mirrored');
		assert.equal((await providerClient.send(new HeadObjectCommand({Bucket: 'ilum-data', Key: 'a.csv'}))).ContentType, 'text/csv', '--preserve keeps the content type');
	} finally {
		mirrorClient.destroy();
		providerClient.destroy();
		await m.close();
		await p.close();
	}
});
