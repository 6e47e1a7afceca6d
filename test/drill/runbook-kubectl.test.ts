/**
Proof that the drill world speaks Kubernetes: the recovery runbook's commands, unchanged, with the
machine's kubectl; the S3 side read with the AWS CLI.
*/
import {test} from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {startDrillWorld, waitFor} from '../helpers/drill-world.js';

const snapshotManifest = `apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: ilum-objectstorage-pre-restore
  namespace: ilum
spec:
  volumeSnapshotClassName: ilum-objectstorage-snapshots
  source:
    persistentVolumeClaimName: data-ilum-objectstorage-0
`;

const restoreClaim = (snapshot: string) => `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-ilum-objectstorage-0
  namespace: ilum
  labels:
    app.kubernetes.io/name: rustfs
spec:
  accessModes: ["ReadWriteOnce"]
  storageClassName: gp3
  resources:
    requests:
      storage: 50Gi
  dataSource:
    apiGroup: snapshot.storage.k8s.io
    kind: VolumeSnapshot
    name: ${snapshot}
`;

test('the runbook commands run unchanged with kubectl, and the AWS CLI reads both endpoints', {timeout: 240_000}, async () => {
	const drill = await startDrillWorld();
	const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'runbook-'));
	try {
		const ok = async (args: string[], input?: string) => {
			const result = await drill.kubectl(args, {input});
			assert.equal(result.code, 0, `kubectl ${args.join(' ')} failed: ${result.stderr}`);
			return result.stdout;
		};

		const drivers = await ok(['get', 'csidriver', '-o', 'custom-columns=NAME:.metadata.name,SNAP:.spec.attachRequired']);
		assert.match(drivers, /^NAME\s+SNAP\nebs\.csi\.aws\.com\s+true\n$/);

		const classes = await ok(['get', 'volumesnapshotclass']);
		assert.match(classes, /ilum-objectstorage-snapshots\s+ebs\.csi\.aws\.com\s+Retain/);

		const claim = await ok(['-n', 'ilum', 'get', 'pvc', '-l', 'app.kubernetes.io/name=rustfs', '-o', 'jsonpath={.items[0].metadata.name}']);
		assert.equal(claim, 'data-ilum-objectstorage-0');

		assert.match(await ok(['-n', 'ilum', 'apply', '-f', '-'], snapshotManifest), /volumesnapshot.snapshot.storage.k8s.io\/ilum-objectstorage-pre-restore created/);
		assert.match(await ok(['-n', 'ilum', 'get', 'volumesnapshot']), /ilum-objectstorage-pre-restore\s+(true|false)\s+data-ilum-objectstorage-0/);
		assert.match(await ok(['-n', 'ilum', 'wait', '--for=jsonpath={.status.readyToUse}=true', 'volumesnapshot/ilum-objectstorage-pre-restore', '--timeout=60s']), /condition met/);

		// A watch on claims sees the swap.
		const watch = drill.spawnKubectl(['-n', 'ilum', 'get', 'pvc', '-w']);
		let watched = '';
		watch.stdout!.setEncoding('utf8').on('data', chunk => {
			watched += chunk;
		});
		await waitFor(() => watched.includes('data-ilum-objectstorage-0'), 'the watch to list the claim');

		assert.match(await ok(['-n', 'ilum', 'scale', 'statefulset', 'ilum-objectstorage', '--replicas=0']), /scaled/);
		await ok(['-n', 'ilum', 'wait', '--for=delete', 'pod/ilum-objectstorage-0', '--timeout=60s']);
		const volume = await ok(['-n', 'ilum', 'get', 'pvc', 'data-ilum-objectstorage-0', '-o', 'jsonpath={.spec.volumeName}']);
		assert.match(await ok(['patch', 'pv', volume, '-p', '{"spec":{"persistentVolumeReclaimPolicy":"Retain"}}']), /patched/);
		assert.match(await ok(['-n', 'ilum', 'delete', 'pvc', 'data-ilum-objectstorage-0']), /deleted/);
		const file = path.join(directory, 'restore-pvc.yaml');
		await fs.writeFile(file, restoreClaim('ilum-objectstorage-pre-restore'));
		assert.match(await ok(['apply', '-f', file]), /persistentvolumeclaim\/data-ilum-objectstorage-0 created/);
		assert.match(await ok(['-n', 'ilum', 'scale', 'statefulset', 'ilum-objectstorage', '--replicas=1']), /scaled/);
		await ok(['-n', 'ilum', 'wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/data-ilum-objectstorage-0', '--timeout=60s']);
		await ok(['-n', 'ilum', 'wait', '--for=jsonpath={.status.readyReplicas}=1', 'statefulset/ilum-objectstorage', '--timeout=60s']);
		assert.equal(await ok(['get', 'pv', volume, '-o', 'jsonpath={.status.phase}']), 'Released');
		await waitFor(() => /data-ilum-objectstorage-0\s+Bound/.test(watched.split('\n').slice(1).join('\n')) && watched.includes('Pending'), 'the watch to see the new claim go Pending then Bound');
		watch.kill();

		const describe = await ok(['-n', 'ilum', 'describe', 'pvc', 'data-ilum-objectstorage-0']);
		assert.match(describe, /DataSource:\s+APIGroup:\s+snapshot\.storage\.k8s\.io\s+Kind:\s+VolumeSnapshot\s+Name:\s+ilum-objectstorage-pre-restore/);
		assert.match(describe, /Used By:\s+ilum-objectstorage-0/);
		assert.match(describe, /ProvisioningSucceeded/);

		assert.match(await ok(['-n', 'ilum', 'create', 'job', '--from=cronjob/ilum-objectstorage-backup', 'manual-1']), /job.batch\/manual-1 created/);
		assert.match(await ok(['-n', 'ilum', 'wait', '--for=condition=complete', 'job/manual-1', '--timeout=120s']), /condition met/);
		assert.match(await ok(['-n', 'ilum', 'describe', 'job', 'manual-1']), /Pods Statuses:\s+0 Active .* 1 Succeeded \/ 0 Failed[\s\S]*Created pod: manual-1-/);

		assert.match(await ok(['-n', 'ilum', 'create', 'secret', 'generic', 'ilum-restore-test', '--from-literal=access-key=abc', '--from-literal=secret-key=def']), /secret\/ilum-restore-test created/);
		assert.equal(Buffer.from(await ok(['-n', 'ilum', 'get', 'secret', 'ilum-restore-test', '-o', 'jsonpath={.data.secret-key}']), 'base64').toString(), 'def');

		const describeSnapshot = await ok(['-n', 'ilum', 'describe', 'volumesnapshot', 'ilum-objectstorage-pre-restore']);
		assert.match(describeSnapshot, /Ready To Use:\s+true/);
		assert.match(describeSnapshot, /SnapshotReady/);

		// The S3 side, with an independent client.
		for (const side of ['provider', 'backup'] as const) {
			const buckets = await drill.aws(side, ['s3', 'ls']);
			assert.equal(buckets.code, 0, buckets.stderr);
			for (const bucket of ['ilum-files', 'ilum-data', 'ilum-tables', 'ilum-mlflow', 'ilum-kestra', 'ilum-ducklake', 'ilum-langfuse']) {
				assert.match(buckets.stdout, new RegExp(` ${bucket}\\n`));
			}
		}

		const listing = await drill.aws('provider', ['s3', 'ls', 's3://ilum-mlflow/', '--recursive']);
		assert.equal(listing.code, 0, listing.stderr);
		const key = /\s(mlflow-artifacts\/\S+\/MLmodel)\n/.exec(listing.stdout)?.[1];
		assert.ok(key, 'an MLmodel file in ilum-mlflow');
		for (const side of ['provider', 'backup'] as const) {
			const copy = path.join(directory, `MLmodel-${side}`);
			// eslint-disable-next-line no-await-in-loop
			const download = await drill.aws(side, ['s3', 'cp', `s3://ilum-mlflow/${key}`, copy]);
			assert.equal(download.code, 0, download.stderr);
			// eslint-disable-next-line no-await-in-loop
			assert.match(await fs.readFile(copy, 'utf8'), /^artifact_path: model\n/);
		}

		const head = await drill.aws('provider', ['s3api', 'head-object', '--bucket', 'ilum-mlflow', '--key', key]);
		assert.equal(head.code, 0, head.stderr);
		assert.equal(JSON.parse(head.stdout).ContentType, 'text/plain');
	} finally {
		await drill.stop();
		await fs.rm(directory, {recursive: true, force: true});
	}
});

test('kubectl logs shows what a backup Job printed', {timeout: 120_000}, async () => {
	const {coreSeeders} = await import('../helpers/drill-world.js');
	const drill = await startDrillWorld({seeders: coreSeeders});
	try {
		const created = await drill.kubectl(['-n', 'ilum', 'create', 'job', '--from=cronjob/ilum-objectstorage-backup', 'manual-logs']);
		assert.equal(created.code, 0, created.stderr);
		const waited = await drill.kubectl(['-n', 'ilum', 'wait', '--for=condition=complete', 'job/manual-logs', '--timeout=90s']);
		assert.equal(waited.code, 0, waited.stderr);
		const logs = await drill.kubectl(['-n', 'ilum', 'logs', 'job/manual-logs']);
		assert.equal(logs.code, 0, logs.stderr);
		assert.match(logs.stdout, /Added `src` successfully\.\nAdded `backup` successfully\./);
		assert.match(logs.stdout, /^Total: .*\(copied \d+, removed \d+, unchanged \d+\)$/m);
	} finally {
		await drill.stop();
	}
});
