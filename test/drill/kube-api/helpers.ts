import {type ChildProcess, execFile, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {type KubeApi, startKubeApi, writeKubeconfig} from '../../../source/drill/kube-api/server.js';
import {ObjectStore} from '../../../source/drill/kube-api/store.js';

export type TestApi = {
	store: ObjectStore;
	/** Container logs served as pods/NAME/log, keyed `namespace/pod`. */
	logs: Map<string, string[]>;
	api: KubeApi;
	dir: string;
	kubeconfig: string;
	/** Runs the machine's kubectl (or `binary`) against the server, with a fresh cache dir per test api. */
	kubectl(args: readonly string[], options?: {input?: string; binary?: string; context?: string}): Promise<{code: number; stdout: string; stderr: string}>;
	/** Starts a long-running kubectl (get -w) and collects its output. */
	kubectlStream(args: readonly string[]): {child: ChildProcess; output(): string};
	close(): Promise<void>;
};

/** The versioned kubectl binaries sit next to the dispatcher. */
export function versionedKubectl(version: string): string {
	const dispatcher = fs.realpathSync(findOnPath('kubectl'));
	return path.join(path.dirname(dispatcher), `kubectl.${version}`);
}

function findOnPath(name: string): string {
	for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
		const candidate = path.join(dir, name);
		if (fs.existsSync(candidate)) {
			return candidate;
		}
	}

	throw new Error(`${name} not on PATH`);
}

/** A small Ilum-like world: namespace, RustFS claim and StatefulSet, backup CronJob, snapshot class. */
export function seed(store: ObjectStore): void {
	store.create('namespaces', {metadata: {name: 'ilum'}});
	store.create('namespaces', {metadata: {name: 'default'}});
	store.create('storageclasses', {metadata: {name: 'standard', annotations: {'storageclass.kubernetes.io/is-default-class': 'true'}}, provisioner: 'hostpath.csi.k8s.io', volumeBindingMode: 'WaitForFirstConsumer'});
	store.create('csidrivers', {metadata: {name: 'hostpath.csi.k8s.io'}, spec: {attachRequired: false}});
	store.create('persistentvolumeclaims', {metadata: {name: 'data-ilum-objectstorage-0', namespace: 'ilum', labels: {'app.kubernetes.io/name': 'rustfs'}}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '10Gi'}}, storageClassName: 'standard'}});
	store.create('persistentvolumeclaims', {metadata: {name: 'data-postgres-0', namespace: 'ilum', labels: {'app.kubernetes.io/name': 'postgresql'}}, spec: {accessModes: ['ReadWriteOnce'], resources: {requests: {storage: '5Gi'}}, storageClassName: 'standard'}});
	store.create('statefulsets', {
		metadata: {name: 'ilum-objectstorage', namespace: 'ilum'},
		spec: {replicas: 1, serviceName: 'ilum-objectstorage', selector: {matchLabels: {app: 'rustfs'}}, template: {metadata: {labels: {app: 'rustfs'}}, spec: {containers: [{name: 'rustfs', image: 'rustfs/rustfs:1.0.0', ports: [{containerPort: 9000}]}]}}},
	});
	store.create('cronjobs', {
		metadata: {name: 'ilum-objectstorage-backup', namespace: 'ilum'},
		spec: {
			schedule: '0 * * * *',
			concurrencyPolicy: 'Forbid',
			jobTemplate: {spec: {backoffLimit: 0, template: {spec: {
				restartPolicy: 'Never',
				volumes: [{name: 'work', emptyDir: {}}],
				containers: [{
					name: 'mirror',
					image: 'minio/mc',
					command: ['/bin/sh', '-c'],
					args: ['for b in ilum-files ilum-data; do mc mirror --preserve --remove src/$b dst/$b; done'],
					env: [{name: 'SRC_ACCESS_KEY', valueFrom: {secretKeyRef: {name: 'ilum-objectstorage-credentials', key: 'access-key'}}}, {name: 'MODE', value: 'mirror'}],
					resources: {requests: {cpu: '100m', memory: '128Mi'}},
					volumeMounts: [{name: 'work', mountPath: '/work'}],
				}],
			}}}},
		},
	});
	store.create('volumesnapshotclasses', {metadata: {name: 'ilum-objectstorage-snapshots'}, driver: 'hostpath.csi.k8s.io', deletionPolicy: 'Retain'});
}

export async function startTestApi(options: {seed?: boolean} = {}): Promise<TestApi> {
	const store = new ObjectStore();
	if (options.seed ?? true) {
		seed(store);
	}

	const logs = new Map<string, string[]>();
	const api = await startKubeApi({store, identities: {'admin-token': {name: 'admin'}, 'viewer-token': {name: 'viewer', readOnly: true}}, podLogs: (namespace, pod) => logs.get(`${namespace}/${pod}`)});
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-api-test-'));
	const kubeconfig = writeKubeconfig(path.join(dir, 'kubeconfig'), {server: api.url, namespace: 'ilum', users: [{name: 'admin', token: 'admin-token'}, {name: 'viewer', token: 'viewer-token'}]});
	const cacheDir = path.join(dir, 'cache');
	const env = {...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: cacheDir, HOME: dir};
	const streams = new Set<ChildProcess>();

	const extra = (context?: string) => ['--cache-dir', cacheDir, ...(context ? ['--context', context] : [])];

	return {
		store,
		logs,
		api,
		dir,
		kubeconfig,
		kubectl(args, runOptions = {}) {
			return new Promise(resolve => {
				const child = execFile(runOptions.binary ?? 'kubectl', [...extra(runOptions.context), ...args], {env, timeout: 90_000, maxBuffer: 16 * 1024 * 1024}, (error, stdout, stderr) => {
					const code = error ? (typeof (error as {code?: unknown}).code === 'number' ? (error as {code: number}).code : 1) : 0;
					resolve({code, stdout, stderr});
				});
				child.stdin?.end(runOptions.input ?? '');
			});
		},
		kubectlStream(args) {
			const child = spawn('kubectl', [...extra(), ...args], {env, stdio: ['ignore', 'pipe', 'pipe']});
			streams.add(child);
			let output = '';
			child.stdout.setEncoding('utf8').on('data', chunk => {
				output += chunk;
			});
			child.stderr.setEncoding('utf8').on('data', chunk => {
				output += chunk;
			});
			child.on('close', () => streams.delete(child));
			return {child, output: () => output};
		},
		async close() {
			for (const child of streams) {
				child.kill('SIGKILL');
			}

			await api.close();
			fs.rmSync(dir, {recursive: true, force: true});
		},
	};
}

/** Polls `condition` until it is truthy or the deadline passes (then throws with `what`). */
export async function waitFor<T>(condition: () => T | Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		// eslint-disable-next-line no-await-in-loop
		const value = await condition();
		if (value) {
			return value;
		}

		if (Date.now() > deadline) {
			throw new Error(`Timed out waiting for ${what}`);
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise(resolve => {
			setTimeout(resolve, 50);
		});
	}
}
