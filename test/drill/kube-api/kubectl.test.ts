import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {type TestApi, startTestApi, versionedKubectl, waitFor} from './helpers.js';

let t: TestApi;

before(async () => {
	t = await startTestApi();
});

after(async () => {
	await t.close();
});

const squash = (text: string) => text.split('\n').map(line => line.trim().replaceAll(/\s{2,}/g, '  ')).join('\n');

const snapshotYaml = (labels = '') => `apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata:
  name: ilum-objectstorage-manual
  namespace: ilum${labels ? `\n  labels: {${labels}}` : ''}
spec:
  volumeSnapshotClassName: ilum-objectstorage-snapshots
  source:
    persistentVolumeClaimName: data-ilum-objectstorage-0
`;

test('kubectl get prints the real columns of several kinds from Table responses', async () => {
	const result = await t.kubectl(['get', 'pvc,statefulset,cronjob,storageclass,volumesnapshotclass,csidriver']);
	assert.equal(result.code, 0, result.stderr);
	const out = squash(result.stdout);
	assert.match(out, /^NAME {2}STATUS {2}VOLUME {2}CAPACITY {2}ACCESS MODES {2}STORAGECLASS {2}VOLUMEATTRIBUTESCLASS {2}AGE$/m);
	assert.match(out, /^persistentvolumeclaim\/data-ilum-objectstorage-0 {2}Pending {2}standard {2}<unset> {2}\d+s$/m);
	assert.match(out, /^statefulset\.apps\/ilum-objectstorage {2}0\/1 {2}\d+s$/m);
	assert.match(out, /^NAME {2}SCHEDULE {2}TIMEZONE {2}SUSPEND {2}ACTIVE {2}LAST SCHEDULE {2}AGE$/m);
	assert.match(out, /^cronjob\.batch\/ilum-objectstorage-backup {2}0 \* \* \* \* {2}<none> {2}False {2}0 {2}<none> {2}\d+s$/mi);
	assert.match(out, /^storageclass\.storage\.k8s\.io\/standard \(default\) {2}hostpath\.csi\.k8s\.io {2}Delete {2}WaitForFirstConsumer {2}false {2}\d+s$/m);
	assert.match(out, /^NAME {2}DRIVER {2}DELETIONPOLICY {2}AGE$/m);
	assert.match(out, /^NAME {2}ATTACHREQUIRED {2}PODINFOONMOUNT {2}STORAGECAPACITY {2}TOKENREQUESTS {2}REQUIRESREPUBLISH {2}MODES {2}AGE$/m);

	const wide = await t.kubectl(['get', 'pvc', '-o', 'wide', '--show-labels', '-A']);
	assert.equal(wide.code, 0, wide.stderr);
	assert.match(squash(wide.stdout), /^ilum {2}data-ilum-objectstorage-0 {2}Pending .*Filesystem {2}app\.kubernetes\.io\/name=rustfs$/m);
});

test('the runbook reads: custom-columns, jsonpath and label selectors', async () => {
	const columns = await t.kubectl(['get', 'csidriver', '-o', 'custom-columns=NAME:.metadata.name,SNAP:.spec.attachRequired']);
	assert.equal(squash(columns.stdout), 'NAME  SNAP\nhostpath.csi.k8s.io  false\n');
	const name = await t.kubectl(['-n', 'ilum', 'get', 'pvc', '-l', 'app.kubernetes.io/name=rustfs', '-o', 'jsonpath={.items[0].metadata.name}']);
	assert.equal(name.stdout, 'data-ilum-objectstorage-0');
	const set = await t.kubectl(['get', 'pvc', '-l', 'app.kubernetes.io/name in (rustfs,postgresql)', '-o', 'name']);
	assert.equal(set.stdout, 'persistentvolumeclaim/data-ilum-objectstorage-0\npersistentvolumeclaim/data-postgres-0\n');
	const not = await t.kubectl(['get', 'pvc', '-l', 'app.kubernetes.io/name!=rustfs', '-o', 'name']);
	assert.equal(not.stdout, 'persistentvolumeclaim/data-postgres-0\n');
	const none = await t.kubectl(['get', 'pvc', '-l', '!app.kubernetes.io/name', '-o', 'name']);
	assert.equal(none.stdout, '');
	const missing = await t.kubectl(['get', 'pvc', 'nope']);
	assert.equal(missing.code, 1);
	assert.equal(missing.stderr, 'Error from server (NotFound): persistentvolumeclaims "nope" not found\n');
	const missingSnapshot = await t.kubectl(['get', 'volumesnapshot', 'nope']);
	assert.equal(missingSnapshot.stderr, 'Error from server (NotFound): volumesnapshots.snapshot.storage.k8s.io "nope" not found\n');
});

test('apply of a VolumeSnapshot: created, unchanged, configured (merge patch)', async () => {
	const first = await t.kubectl(['-n', 'ilum', 'apply', '-f', '-'], {input: snapshotYaml()});
	assert.equal(first.stdout, 'volumesnapshot.snapshot.storage.k8s.io/ilum-objectstorage-manual created\n', first.stderr);
	t.api.resetStats();
	const again = await t.kubectl(['-n', 'ilum', 'apply', '-f', '-'], {input: snapshotYaml()});
	assert.equal(again.stdout, 'volumesnapshot.snapshot.storage.k8s.io/ilum-objectstorage-manual unchanged\n', again.stderr);
	assert.equal(t.api.stats().mutating, 0);
	const changed = await t.kubectl(['-n', 'ilum', 'apply', '-f', '-'], {input: snapshotYaml('purpose: drill')});
	assert.equal(changed.stdout, 'volumesnapshot.snapshot.storage.k8s.io/ilum-objectstorage-manual configured\n', changed.stderr);
	const patch = t.api.requests().find(r => r.verb === 'patch' && r.resource === 'volumesnapshots');
	assert.equal(patch?.contentType, 'application/merge-patch+json');
	const stored = t.store.get('volumesnapshots', 'ilum', 'ilum-objectstorage-manual')!;
	assert.deepEqual(stored.metadata.labels, {purpose: 'drill'});
	assert.match(stored.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] ?? '', /"purpose":"drill"/);

	const listed = await t.kubectl(['-n', 'ilum', 'get', 'volumesnapshot']);
	assert.match(squash(listed.stdout), /^NAME {2}READYTOUSE {2}SOURCEPVC {2}SOURCESNAPSHOTCONTENT {2}RESTORESIZE {2}SNAPSHOTCLASS {2}SNAPSHOTCONTENT {2}CREATIONTIME {2}AGE\nilum-objectstorage-manual {2}data-ilum-objectstorage-0 {2}ilum-objectstorage-snapshots {2}\d+s$/m);
});

test('apply of a restore PVC from a file, then a change (strategic merge patch)', async () => {
	const file = path.join(t.dir, 'restore-pvc.yaml');
	const claim = (size: string) => `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-restore
  namespace: ilum
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: standard
  resources:
    requests:
      storage: ${size}
  dataSource:
    apiGroup: snapshot.storage.k8s.io
    kind: VolumeSnapshot
    name: ilum-objectstorage-manual
`;
	fs.writeFileSync(file, claim('10Gi'));
	assert.equal((await t.kubectl(['apply', '-f', file])).stdout, 'persistentvolumeclaim/data-restore created\n');
	fs.writeFileSync(file, claim('12Gi'));
	const unbound = await t.kubectl(['apply', '-f', file]);
	assert.match(unbound.stderr, /The PersistentVolumeClaim "data-restore" is invalid: spec: Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims/);
	t.store.mutate('persistentvolumeclaims', 'ilum', 'data-restore', o => {
		o.spec.volumeName = 'pvc-restore';
		o.status = {phase: 'Bound', capacity: {storage: '10Gi'}, accessModes: ['ReadWriteOnce']};
	}, {subresource: 'any'});
	t.api.resetStats();
	const changed = await t.kubectl(['apply', '-f', file]);
	assert.equal(changed.stdout, 'persistentvolumeclaim/data-restore configured\n', changed.stderr);
	assert.equal(t.api.requests().find(r => r.verb === 'patch')?.contentType, 'application/strategic-merge-patch+json');
	const stored = t.store.get('persistentvolumeclaims', 'ilum', 'data-restore')!;
	assert.equal(stored.spec.resources.requests.storage, '12Gi');
	assert.equal(stored.spec.dataSource.name, 'ilum-objectstorage-manual');
	fs.writeFileSync(file, claim('8Gi'));
	const shrink = await t.kubectl(['apply', '-f', file]);
	assert.match(shrink.stderr, /The PersistentVolumeClaim "data-restore" is invalid: spec\.resources\.requests\.storage: Forbidden: field can not be less than status\.capacity/);

	// A container list merged by name: the image changes, the port stays.
	const sts = t.store.get('statefulsets', 'ilum', 'ilum-objectstorage')!;
	const manifest = {apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: {name: sts.metadata.name, namespace: 'ilum'}, spec: {...sts.spec, template: {...sts.spec.template, spec: {containers: [{name: 'rustfs', image: 'rustfs/rustfs:1.0.0', ports: [{containerPort: 9000}]}, {name: 'sidecar', image: 'busybox'}]}}}};
	assert.equal((await t.kubectl(['apply', '-f', '-'], {input: JSON.stringify(manifest)})).code, 0);
	manifest.spec.template.spec.containers = [{name: 'rustfs', image: 'rustfs/rustfs:1.1.0', ports: [{containerPort: 9000}]}];
	const applied = await t.kubectl(['apply', '-f', '-'], {input: JSON.stringify(manifest)});
	assert.equal(applied.stdout, 'statefulset.apps/ilum-objectstorage configured\n', applied.stderr);
	const containers = t.store.get('statefulsets', 'ilum', 'ilum-objectstorage')!.spec.template.spec.containers;
	assert.deepEqual(containers.map((c: any) => [c.name, c.image, c.ports?.[0]?.containerPort]), [['rustfs', 'rustfs/rustfs:1.1.0', 9000]]);
});

test('create secret and configmap (protobuf bodies from kubectl 1.33)', async () => {
	t.api.resetStats();
	const secret = await t.kubectl(['-n', 'ilum', 'create', 'secret', 'generic', 'restore-creds', '--from-literal=access-key=AKIA1', '--from-literal=secret-key=s3cr3t']);
	assert.equal(secret.stdout, 'secret/restore-creds created\n', secret.stderr);
	assert.equal(t.api.requests().find(r => r.verb === 'create')?.contentType, 'application/vnd.kubernetes.protobuf');
	const stored = t.store.get('secrets', 'ilum', 'restore-creds')!;
	assert.equal(Buffer.from(stored.data['access-key'], 'base64').toString(), 'AKIA1');
	assert.equal(Buffer.from(stored.data['secret-key'], 'base64').toString(), 's3cr3t');
	assert.equal(stored['type'], 'Opaque');

	const file = path.join(t.dir, 'settings.conf');
	fs.writeFileSync(file, 'a=1\n');
	const map = await t.kubectl(['create', 'configmap', 'restore-settings', '--from-literal=mode=drill', `--from-file=${file}`]);
	assert.equal(map.stdout, 'configmap/restore-settings created\n', map.stderr);
	assert.deepEqual(t.store.get('configmaps', 'ilum', 'restore-settings')!.data, {mode: 'drill', 'settings.conf': 'a=1\n'});
	const duplicate = await t.kubectl(['create', 'configmap', 'restore-settings']);
	assert.equal(duplicate.stderr, 'error: failed to create configmap: configmaps "restore-settings" already exists\n');
});

test('other typed creates decode from protobuf: namespace, serviceaccount, role, rolebinding, cronjob, service', async () => {
	const commands = [
		['create', 'namespace', 'drill-scratch'],
		['create', 'serviceaccount', 'restorer'],
		['create', 'role', 'snapshotter', '--verb=get,list,create', '--resource=volumesnapshots.snapshot.storage.k8s.io,pvc'],
		['create', 'rolebinding', 'snapshotter', '--role=snapshotter', '--serviceaccount=ilum:restorer'],
		['create', 'cronjob', 'nightly', '--image=busybox', '--schedule=*/5 * * * *', '--', 'echo', 'hi'],
		['create', 'service', 'clusterip', 'console', '--tcp=9001:9091'],
	];
	for (const command of commands) {
		const result = await t.kubectl(command);
		assert.equal(result.code, 0, `${command.join(' ')}: ${result.stderr}`);
	}

	assert.equal(t.api.requests().filter(r => r.verb === 'create' && r.contentType === 'application/vnd.kubernetes.protobuf').length >= commands.length, true);
	assert.equal(t.store.get('namespaces', undefined, 'drill-scratch')?.status?.phase, 'Active');
	assert.deepEqual(t.store.get('roles', 'ilum', 'snapshotter')?.['rules'], [
		{apiGroups: [''], resources: ['persistentvolumeclaims'], verbs: ['get', 'list', 'create']},
		{apiGroups: ['snapshot.storage.k8s.io'], resources: ['volumesnapshots'], verbs: ['get', 'list', 'create']},
	]);
	assert.deepEqual(t.store.get('rolebindings', 'ilum', 'snapshotter')?.['subjects'], [{kind: 'ServiceAccount', name: 'restorer', namespace: 'ilum'}]);
	assert.deepEqual(t.store.get('cronjobs', 'ilum', 'nightly')?.spec.jobTemplate.spec.template.spec.containers[0].command, ['echo', 'hi']);
	assert.deepEqual(t.store.get('services', 'ilum', 'console')?.spec.ports, [{name: '9001-9091', port: 9001, protocol: 'TCP', targetPort: 9091}]);
});

test('scale a StatefulSet to 0 and back, with --current-replicas', async () => {
	assert.equal((await t.kubectl(['scale', 'statefulset', 'ilum-objectstorage', '--replicas=0'])).stdout, 'statefulset.apps/ilum-objectstorage scaled\n');
	assert.equal(t.store.get('statefulsets', 'ilum', 'ilum-objectstorage')!.spec.replicas, 0);
	const wrong = await t.kubectl(['scale', 'statefulset', 'ilum-objectstorage', '--current-replicas=3', '--replicas=1']);
	assert.equal(wrong.code, 1);
	assert.match(wrong.stderr, /Expected replicas to be 3, was 0/);
	const right = await t.kubectl(['scale', 'statefulset', 'ilum-objectstorage', '--current-replicas=0', '--replicas=1']);
	assert.equal(right.stdout, 'statefulset.apps/ilum-objectstorage scaled\n', right.stderr);
	assert.equal(t.store.get('statefulsets', 'ilum', 'ilum-objectstorage')!.spec.replicas, 1);
});

test('patch (strategic, merge, json), no-change detection, 415 for strategic on a custom resource', async () => {
	assert.equal((await t.kubectl(['patch', 'pvc', 'data-restore', '-p', '{"metadata":{"labels":{"restore":"yes"}}}'])).stdout, 'persistentvolumeclaim/data-restore patched\n');
	assert.equal((await t.kubectl(['patch', 'pvc', 'data-restore', '-p', '{"metadata":{"labels":{"restore":"yes"}}}'])).stdout, 'persistentvolumeclaim/data-restore patched (no change)\n');
	assert.equal((await t.kubectl(['patch', 'volumesnapshot', 'ilum-objectstorage-manual', '--type=merge', '-p', '{"metadata":{"labels":{"keep":"true"}}}'])).stdout, 'volumesnapshot.snapshot.storage.k8s.io/ilum-objectstorage-manual patched\n');
	const json = await t.kubectl(['patch', 'pvc', 'data-restore', '--type=json', '-p', '[{"op":"remove","path":"/metadata/labels/restore"}]']);
	assert.equal(json.stdout, 'persistentvolumeclaim/data-restore patched\n', json.stderr);
	assert.equal(t.store.get('persistentvolumeclaims', 'ilum', 'data-restore')!.metadata.labels?.['restore'], undefined);
	const strategic = await t.kubectl(['patch', 'volumesnapshot', 'ilum-objectstorage-manual', '-p', '{"metadata":{"labels":{"a":"b"}}}']);
	assert.equal(strategic.code, 1);
	assert.match(strategic.stderr, /application\/strategic-merge-patch\+json is not supported by snapshot\.storage\.k8s\.io\/v1, Kind=VolumeSnapshot: the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
	const invalid = await t.kubectl(['patch', 'volumesnapshot', 'ilum-objectstorage-manual', '--type=merge', '-p', '{"spec":{"source":{"persistentVolumeClaimName":"other"}}}']);
	assert.equal(invalid.code, 1);
	assert.match(invalid.stderr, /The VolumeSnapshot "ilum-objectstorage-manual" is invalid: spec\.source\.persistentVolumeClaimName: Invalid value: "other": persistentVolumeClaimName is immutable/);
});

test('kubectl get -w receives events, wait --for=jsonpath and --for=condition=complete return when the store changes', async () => {
	const watch = t.kubectlStream(['get', 'pvc', '-w']);
	await waitFor(() => watch.output().includes('data-postgres-0'), 'the initial list of get -w');
	t.store.mutate('persistentvolumeclaims', 'ilum', 'data-postgres-0', o => {
		o.status = {phase: 'Bound', capacity: {storage: '5Gi'}, accessModes: ['ReadWriteOnce']};
		o.spec.volumeName = 'pvc-1234';
	}, {subresource: 'any'});
	await waitFor(() => /data-postgres-0\s+Bound\s+pvc-1234\s+5Gi\s+RWO/.test(watch.output()), 'the MODIFIED event printed by get -w');
	watch.child.kill();

	const waiting = t.kubectl(['wait', '--for=jsonpath={.status.readyToUse}=true', 'volumesnapshot/ilum-objectstorage-manual', '--timeout=60s']);
	await waitFor(() => t.api.requests().some(r => r.verb === 'list' && r.resource === 'volumesnapshots' && r.path.includes('fieldSelector=metadata.name')), 'kubectl wait to list the snapshot');
	t.store.mutate('volumesnapshots', 'ilum', 'ilum-objectstorage-manual', o => {
		o.status = {readyToUse: true, restoreSize: '10Gi', creationTime: new Date().toISOString()};
	}, {subresource: 'status'});
	const waited = await waiting;
	assert.equal(waited.stdout, 'volumesnapshot.snapshot.storage.k8s.io/ilum-objectstorage-manual condition met\n', waited.stderr);

	const job = await t.kubectl(['-n', 'ilum', 'create', 'job', '--from=cronjob/ilum-objectstorage-backup', 'manual-1']);
	assert.equal(job.stdout, 'job.batch/manual-1 created\n', job.stderr);
	const complete = t.kubectl(['-n', 'ilum', 'wait', '--for=condition=complete', 'job/manual-1', '--timeout=60s']);
	setTimeout(() => {
		t.store.mutate('jobs', 'ilum', 'manual-1', o => {
			o.status = {succeeded: 1, conditions: [{type: 'Complete', status: 'True'}]};
		}, {subresource: 'status'});
	}, 300);
	const completed = await complete;
	assert.equal(completed.stdout, 'job.batch/manual-1 condition met\n', completed.stderr);
});

test('create job --from=cronjob copies the job template (protobuf Job with its pod template)', () => {
	const job = t.store.get('jobs', 'ilum', 'manual-1')!;
	const cronjob = t.store.get('cronjobs', 'ilum', 'ilum-objectstorage-backup')!;
	assert.equal(job.metadata.annotations?.['cronjob.kubernetes.io/instantiate'], 'manual');
	assert.deepEqual(job.metadata.ownerReferences?.map(o => [o.kind, o.name, o.uid, o.controller]), [['CronJob', 'ilum-objectstorage-backup', cronjob.metadata.uid, true]]);
	assert.equal(job.spec.backoffLimit, 0);
	assert.deepEqual(job.spec.template.spec.containers, cronjob.spec.jobTemplate.spec.template.spec.containers);
	assert.deepEqual(job.spec.template.spec.volumes, cronjob.spec.jobTemplate.spec.template.spec.volumes);
	assert.equal(job.spec.template.spec.restartPolicy, 'Never');
});

test('create job --from=cronjob keeps a rich pod template intact through protobuf (probes, security contexts, volumes, env sources)', async () => {
	const podSpec = {
		restartPolicy: 'OnFailure', serviceAccountName: 'backup', nodeSelector: {disk: 'ssd'}, priorityClassName: 'high', automountServiceAccountToken: false, enableServiceLinks: false, activeDeadlineSeconds: 600,
		securityContext: {runAsUser: 1000, runAsNonRoot: true, fsGroup: 2000, seccompProfile: {type: 'RuntimeDefault'}},
		tolerations: [{key: 'dedicated', operator: 'Equal', value: 'backup', effect: 'NoSchedule'}],
		imagePullSecrets: [{name: 'regcred'}],
		initContainers: [{name: 'init', image: 'busybox:1.36', command: ['true']}],
		volumes: [
			{name: 'cfg', configMap: {name: 'mc-config', items: [{key: 'config.json', path: 'config.json', mode: 384}], defaultMode: 420}},
			{name: 'data', persistentVolumeClaim: {claimName: 'scratch', readOnly: true}},
			{name: 'host', hostPath: {path: '/tmp', type: 'Directory'}},
			{name: 'mem', emptyDir: {medium: 'Memory', sizeLimit: '64Mi'}},
		],
		containers: [{
			name: 'mc', image: 'minio/mc:RELEASE.2024', imagePullPolicy: 'IfNotPresent', command: ['/bin/sh', '-c'], args: ['mc mirror'], workingDir: '/work',
			ports: [{name: 'metrics', containerPort: 9100, protocol: 'TCP'}],
			env: [
				{name: 'A', value: 'b'},
				{name: 'POD', valueFrom: {fieldRef: {apiVersion: 'v1', fieldPath: 'metadata.name'}}},
				{name: 'MEM', valueFrom: {resourceFieldRef: {containerName: 'mc', resource: 'limits.memory', divisor: '1Mi'}}},
				{name: 'CFG', valueFrom: {configMapKeyRef: {name: 'c', key: 'k', optional: true}}},
			],
			envFrom: [{prefix: 'S_', secretRef: {name: 'creds'}}, {configMapRef: {name: 'settings', optional: false}}],
			resources: {limits: {cpu: '1', memory: '1Gi'}, requests: {cpu: '250m', memory: '256Mi'}},
			volumeMounts: [{name: 'cfg', mountPath: '/root/.mc', readOnly: true, subPath: 'x'}],
			livenessProbe: {exec: {command: ['mc', 'ready']}, initialDelaySeconds: 5, periodSeconds: 10, failureThreshold: 3},
			readinessProbe: {httpGet: {path: '/health', port: 9100, scheme: 'HTTP'}, timeoutSeconds: 2},
			startupProbe: {tcpSocket: {port: 'metrics'}},
			securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: ['ALL'], add: ['NET_BIND_SERVICE']}, seccompProfile: {type: 'RuntimeDefault'}},
			terminationMessagePolicy: 'FallbackToLogsOnError',
		}],
	};
	t.store.create('cronjobs', {metadata: {name: 'rich', namespace: 'ilum'}, spec: {schedule: '@hourly', jobTemplate: {metadata: {labels: {a: 'b'}, annotations: {x: 'y'}}, spec: {backoffLimit: 0, activeDeadlineSeconds: 900, ttlSecondsAfterFinished: 3600, template: {metadata: {labels: {app: 'rich'}, annotations: {note: 'n'}}, spec: podSpec}}}}});
	const created = await t.kubectl(['create', 'job', '--from=cronjob/rich', 'rich-1']);
	assert.equal(created.stdout, 'job.batch/rich-1 created\n', created.stderr);
	const job = t.store.get('jobs', 'ilum', 'rich-1')!;
	const cronjob = t.store.get('cronjobs', 'ilum', 'rich')!;
	assert.deepEqual(job.spec.template.spec, cronjob.spec.jobTemplate.spec.template.spec);
	assert.deepEqual([job.spec.backoffLimit, job.spec.activeDeadlineSeconds, job.spec.ttlSecondsAfterFinished], [0, 900, 3600]);
	assert.deepEqual(job.spec.template.metadata.annotations, {note: 'n'});
	assert.equal(job.metadata.annotations?.['x'], 'y');
	assert.equal(job.metadata.labels?.['a'], 'b');
	t.store.delete('cronjobs', 'ilum', 'rich');
});

test('kubectl logs job/NAME reads the pod log, -f follows it until the pod ends', async () => {
	const job = t.store.get('jobs', 'ilum', 'manual-1')!;
	t.store.create('pods', {
		metadata: {name: 'manual-1-x7k2p', namespace: 'ilum', labels: job.spec.template.metadata.labels, ownerReferences: [{apiVersion: 'batch/v1', kind: 'Job', name: 'manual-1', uid: job.metadata.uid, controller: true}]},
		spec: job.spec.template.spec,
	});
	t.logs.set('ilum/manual-1-x7k2p', ['Mirroring ilum-files', 'Total: 12 objects']);
	const logs = await t.kubectl(['logs', 'job/manual-1']);
	assert.equal(logs.stdout, 'Mirroring ilum-files\nTotal: 12 objects\n', logs.stderr);
	const tail = await t.kubectl(['logs', 'manual-1-x7k2p', '--tail=1']);
	assert.equal(tail.stdout, 'Total: 12 objects\n');

	const follow = t.kubectlStream(['logs', '-f', 'manual-1-x7k2p']);
	await waitFor(() => follow.output().includes('Total: 12 objects'), 'the log so far');
	t.logs.get('ilum/manual-1-x7k2p')!.push('Done');
	await waitFor(() => follow.output().endsWith('Done\n'), 'the followed line');
	t.store.mutate('pods', 'ilum', 'manual-1-x7k2p', o => {
		o.status = {phase: 'Succeeded'};
	}, {subresource: 'status'});
	await waitFor(() => follow.child.exitCode === 0, 'logs -f to end with the pod');
});

test('describe pvc shows the events of that claim only (fieldSelector with uid)', async () => {
	const claim = t.store.get('persistentvolumeclaims', 'ilum', 'data-restore')!;
	const event = (name: string, uid: string, message: string) => ({
		metadata: {name, namespace: 'ilum'},
		involvedObject: {kind: 'PersistentVolumeClaim', namespace: 'ilum', name: 'data-restore', uid, apiVersion: 'v1'},
		reason: 'Provisioning', message, type: 'Normal', source: {component: 'hostpath.csi.k8s.io'}, count: 1,
		firstTimestamp: new Date().toISOString(), lastTimestamp: new Date().toISOString(),
	});
	t.store.create('events', event('data-restore.1', claim.metadata.uid, 'External provisioner is provisioning volume from snapshot'));
	t.store.create('events', event('data-restore.2', 'an-older-claim', 'About a claim that was deleted'));
	const described = await t.kubectl(['describe', 'pvc', 'data-restore']);
	assert.equal(described.code, 0, described.stderr);
	assert.match(described.stdout, /^Name:\s+data-restore$/m);
	assert.match(described.stdout, /DataSource:\n\s+APIGroup:\s+snapshot\.storage\.k8s\.io\n\s+Kind:\s+VolumeSnapshot\n\s+Name:\s+ilum-objectstorage-manual/);
	assert.match(described.stdout, /Normal\s+Provisioning\s+\d+s\s+hostpath\.csi\.k8s\.io\s+External provisioner is provisioning volume from snapshot/);
	assert.doesNotMatch(described.stdout, /About a claim that was deleted/);
});

test('dry-run=server answers without storing; delete removes', async () => {
	const dry = await t.kubectl(['create', 'configmap', 'not-kept', '--from-literal=a=b', '--dry-run=server']);
	assert.equal(dry.stdout, 'configmap/not-kept created (server dry run)\n', dry.stderr);
	assert.equal(t.store.get('configmaps', 'ilum', 'not-kept'), undefined);
	const dryDelete = await t.kubectl(['delete', 'configmap', 'restore-settings', '--dry-run=server']);
	assert.equal(dryDelete.stdout, 'configmap "restore-settings" deleted (server dry run)\n', dryDelete.stderr);
	assert.ok(t.store.get('configmaps', 'ilum', 'restore-settings'));
	const deleted = await t.kubectl(['delete', 'configmap', 'restore-settings']);
	assert.equal(deleted.stdout, 'configmap "restore-settings" deleted\n', deleted.stderr);
	assert.equal(t.store.get('configmaps', 'ilum', 'restore-settings'), undefined);
	const gone = await t.kubectl(['get', 'configmap', 'restore-settings']);
	assert.equal(gone.stderr, 'Error from server (NotFound): configmaps "restore-settings" not found\n');
});

test('server-side field validation refuses a typo (Strict from kubectl), warns with --validate=warn', async () => {
	const typo = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: typo\ndatta:\n  a: b\n';
	const strict = await t.kubectl(['apply', '-f', '-'], {input: typo});
	assert.equal(strict.stderr, 'Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "datta"\n');
	assert.equal(t.store.get('configmaps', 'ilum', 'typo'), undefined);
	const warned = await t.kubectl(['create', '-f', '-', '--validate=warn'], {input: typo});
	assert.equal(warned.stdout, 'configmap/typo created\n');
	assert.equal(warned.stderr, 'Warning: unknown field "datta"\n');
});

test('a read-only identity can read, is refused every write with the real Forbidden message, and can-i says so', async () => {
	t.api.resetStats();
	const can = await t.kubectl(['auth', 'can-i', 'create', 'volumesnapshots.snapshot.storage.k8s.io'], {context: 'drill-viewer'});
	assert.equal(can.stdout.trim(), 'no');
	const canList = await t.kubectl(['auth', 'can-i', 'list', 'persistentvolumeclaims'], {context: 'drill-viewer'});
	assert.equal(canList.stdout.trim(), 'yes');
	const adminCan = await t.kubectl(['auth', 'can-i', 'delete', 'persistentvolumeclaims']);
	assert.equal(adminCan.stdout.trim(), 'yes');
	const list = await t.kubectl(['auth', 'can-i', '--list'], {context: 'drill-viewer'});
	assert.match(squash(list.stdout), /^\*\.\* {2}\[\] {2}\[\] {2}\[get list watch\]$/m, list.stderr);
	const read = await t.kubectl(['get', 'vs', '-o', 'name'], {context: 'drill-viewer'});
	assert.equal(read.stdout, 'volumesnapshot.snapshot.storage.k8s.io/ilum-objectstorage-manual\n');
	assert.equal(t.api.stats().mutating, 0, 'reads and access reviews are not mutating requests');

	const created = await t.kubectl(['create', '-f', '-'], {context: 'drill-viewer', input: snapshotYaml().replace('ilum-objectstorage-manual', 'viewer-snapshot')});
	assert.equal(created.stderr, 'Error from server (Forbidden): error when creating "STDIN": volumesnapshots.snapshot.storage.k8s.io is forbidden: User "viewer" cannot create resource "volumesnapshots" in API group "snapshot.storage.k8s.io" in the namespace "ilum"\n');
	const deleted = await t.kubectl(['delete', 'pvc', 'data-restore'], {context: 'drill-viewer'});
	assert.equal(deleted.stderr, 'Error from server (Forbidden): persistentvolumeclaims "data-restore" is forbidden: User "viewer" cannot delete resource "persistentvolumeclaims" in API group "" in the namespace "ilum"\n');
	const scaled = await t.kubectl(['scale', 'sts', 'ilum-objectstorage', '--replicas=0'], {context: 'drill-viewer'});
	assert.match(scaled.stderr, /statefulsets\.apps "ilum-objectstorage" is forbidden: User "viewer" cannot patch resource "statefulsets\/scale" in API group "apps" in the namespace "ilum"/);
	assert.equal(t.store.get('statefulsets', 'ilum', 'ilum-objectstorage')!.spec.replicas, 1);
	assert.equal(t.api.stats().forbidden, 3);
	assert.ok(t.store.get('persistentvolumeclaims', 'ilum', 'data-restore'));
});

test('older kubectl (version skew): 1.31 sends JSON bodies, 1.27 applies through OpenAPI v2', async () => {
	const kubectl131 = versionedKubectl('1.31');
	t.api.resetStats();
	const secret = await t.kubectl(['create', 'secret', 'generic', 'from-131', '--from-literal=k=v'], {binary: kubectl131});
	assert.equal(secret.stdout, 'secret/from-131 created\n', secret.stderr);
	assert.equal(t.api.requests().find(r => r.verb === 'create')?.contentType, 'application/json');
	assert.match(t.api.requests().find(r => r.verb === 'create')?.userAgent ?? '', /^kubectl\S*\/v1\.31/);
	const listed = await t.kubectl(['get', 'vs'], {binary: kubectl131});
	assert.match(squash(listed.stdout), /^ilum-objectstorage-manual {2}true {2}data-ilum-objectstorage-0 {2}10Gi {2}ilum-objectstorage-snapshots/m);

	const kubectl127 = versionedKubectl('1.27');
	const applied = await t.kubectl(['apply', '-f', '-'], {binary: kubectl127, input: snapshotYaml('purpose: skew')});
	assert.equal(applied.stdout, 'volumesnapshot.snapshot.storage.k8s.io/ilum-objectstorage-manual configured\n', applied.stderr);
	assert.equal(t.store.get('volumesnapshots', 'ilum', 'ilum-objectstorage-manual')!.metadata.labels?.['purpose'], 'skew');
});
