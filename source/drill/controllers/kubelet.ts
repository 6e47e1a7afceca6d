import type {KubeObject} from '../kube-api/store.js';
import {imageBehaviour} from '../images.js';
import {claimsOf} from './provisioner.js';
import {startController, keyOf, splitKey, type Controller, type ControllerContext} from './runtime.js';

export const nodeName = 'drill-node-1';
const component = 'kubelet';

/**
The scheduler and the kubelet of the one node: a pod is scheduled once its claims are bound,
its containers start after `timing.podStart` (environment from Secrets and ConfigMaps resolved
then; a missing one leaves it in CreateContainerConfigError), servers turn Ready after
`timing.podReady`, tasks run their image (see images.ts) and end Succeeded or Failed with the
exit code. Logs go to the data plane (`podLogs`).
*/
export function startKubelet(context: ControllerContext): Controller {
	const {store, clock, data, events, timing} = context;
	const running = new Map<string, AbortController>();
	const reported = new Set<string>();

	const controller = startController(context, {
		name: 'kubelet',
		keysFor(resource, event) {
			if (resource === 'pods') {
				if (event.type === 'DELETED') {
					running.get(event.object.metadata.uid)?.abort(new Error('pod deleted'));
					running.delete(event.object.metadata.uid);
					return [];
				}

				return [keyOf(event.object)];
			}

			if (resource === 'persistentvolumeclaims' || resource === 'secrets' || resource === 'configmaps') {
				const namespace = event.object.metadata.namespace;
				return store.list('pods', namespace).items.filter(pod => pod.status?.phase === 'Pending').map(pod => keyOf(pod));
			}

			return [];
		},
		initial: () => store.list('pods').items.map(pod => keyOf(pod)),
		reconcile(key) {
			reconcile(key);
		},
	});

	function condition(type: string, status: boolean, now: string): Record<string, unknown> {
		return {type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: now};
	}

	function reconcile(key: string): void {
		const [namespace, name] = splitKey(key);
		const pod = store.get('pods', namespace, name);
		if (!pod || pod.metadata.deletionTimestamp) {
			return;
		}

		const phase = pod.status?.phase ?? 'Pending';
		if (phase !== 'Pending') {
			if (phase === 'Running' && !running.has(pod.metadata.uid)) {
				const behaviour = imageBehaviour(pod.spec?.containers?.[0]?.image ?? '', pod.spec?.restartPolicy);
				if (behaviour.kind === 'server' && !pod.status?.conditions?.some((item: any) => item.type === 'Ready' && item.status === 'True')) {
					const started = Date.parse(pod.status?.startTime ?? clock.iso());
					const due = started + timing.podReady;
					if (clock.now() >= due) {
						markReady(pod);
					} else {
						controller.after(due - clock.now(), key);
					}
				} else if (behaviour.kind === 'task') {
					// A task pod whose run was lost (after a reload): it ends as the kubelet would see a vanished container.
					finish(pod, 137, 'ContainerStatusUnknown');
				}
			}

			return;
		}

		const claims = claimsOf(pod);
		if (!pod.spec?.nodeName) {
			for (const claimName of claims) {
				const claim = store.get('persistentvolumeclaims', namespace, claimName);
				if (!claim) {
					report(pod, 'Warning', 'FailedScheduling', `0/1 nodes are available: persistentvolumeclaim "${claimName}" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`, 'default-scheduler');
					return;
				}

				if (claim.metadata.deletionTimestamp) {
					report(pod, 'Warning', 'FailedScheduling', `0/1 nodes are available: persistentvolumeclaim "${claimName}" is being deleted. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`, 'default-scheduler');
					return;
				}

				if (claim.status?.phase !== 'Bound') {
					report(pod, 'Warning', 'FailedScheduling', '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.', 'default-scheduler');
					return;
				}
			}

			const now = clock.iso();
			store.mutate('pods', namespace, name, object => {
				object.spec.nodeName = nodeName;
				object.status = {...object.status, conditions: [condition('PodScheduled', true, now)]};
			}, {subresource: 'any'});
			events.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`, 'default-scheduler');
			controller.after(timing.podStart, key);
			return;
		}

		const scheduledAt = Date.parse(pod.status?.conditions?.find((item: any) => item.type === 'PodScheduled')?.lastTransitionTime ?? clock.iso());
		if (clock.now() < scheduledAt + timing.podStart) {
			controller.after(scheduledAt + timing.podStart - clock.now(), key);
			return;
		}

		const container = pod.spec?.containers?.[0] ?? {};
		const env = resolveEnvironment(pod, container);
		if (typeof env === 'string') {
			const message = env;
			if (pod.status?.containerStatuses?.[0]?.state?.waiting?.message !== message) {
				store.mutate('pods', namespace, name, object => {
					object.status = {
						...object.status,
						containerStatuses: [{name: container.name, image: container.image, imageID: '', ready: false, restartCount: 0, started: false, state: {waiting: {reason: 'CreateContainerConfigError', message}}, lastState: {}}],
					};
				}, {subresource: 'status'});
				events.record(pod, 'Warning', 'Failed', `Error: ${message}`, component);
			}

			controller.after(10_000, key);
			return;
		}

		const now = clock.iso();
		events.record(pod, 'Normal', 'Pulled', `Container image "${container.image}" already present on machine`, component);
		events.record(pod, 'Normal', 'Created', `Created container ${container.name}`, component);
		events.record(pod, 'Normal', 'Started', `Started container ${container.name}`, component);
		store.mutate('pods', namespace, name, object => {
			object.status = {
				...object.status,
				phase: 'Running',
				hostIP: '10.0.0.10',
				podIP: `10.244.0.${(Number.parseInt(object.metadata.uid.slice(0, 2), 16) % 250) + 2}`,
				startTime: now,
				conditions: [condition('PodScheduled', true, now), condition('Initialized', true, now), condition('ContainersReady', false, now), condition('Ready', false, now)],
				containerStatuses: [{name: container.name, image: container.image, imageID: `docker.io/${container.image}@sha256:${'0'.repeat(64)}`, containerID: `containerd://${object.metadata.uid.replaceAll('-', '')}`, ready: false, restartCount: 0, started: true, state: {running: {startedAt: now}}, lastState: {}}],
			};
		}, {subresource: 'status'});

		const behaviour = imageBehaviour(container.image ?? '', pod.spec?.restartPolicy);
		if (behaviour.kind === 'server') {
			data.appendLog(`${namespace}/${name}`, `${now} INFO ${container.name}: starting ${container.image}`);
			for (const port of container.ports ?? []) {
				data.appendLog(`${namespace}/${name}`, `${now} INFO ${container.name}: listening on :${port.containerPort} (${port.name ?? 'tcp'})`);
			}

			controller.after(timing.podReady, key);
			return;
		}

		const abort = new AbortController();
		running.set(pod.metadata.uid, abort);
		const podKey = `${namespace}/${name}`;
		void behaviour.run({
			command: container.command ?? [],
			args: container.args ?? [],
			env,
			namespace: namespace!,
			resolveUrl: url => data.resolveUrl(url, namespace!),
			log: line => {
				data.appendLog(podKey, line);
			},
			signal: abort.signal,
		}).then(code => code, (error: unknown) => {
			if (abort.signal.aborted) {
				return undefined;
			}

			data.appendLog(podKey, String(error instanceof Error ? error.message : error));
			return 1;
		}).then(code => {
			running.delete(pod.metadata.uid);
			if (code !== undefined) {
				const current = store.get('pods', namespace, name);
				if (current && current.metadata.uid === pod.metadata.uid) {
					finish(current, code, code === 0 ? 'Completed' : 'Error');
				}
			}
		});
	}

	function markReady(pod: KubeObject): void {
		const now = clock.iso();
		store.mutate('pods', pod.metadata.namespace, pod.metadata.name, object => {
			object.status.conditions = (object.status.conditions ?? []).map((item: any) => item.type === 'Ready' || item.type === 'ContainersReady' ? {...item, status: 'True', lastTransitionTime: now} : item);
			object.status.containerStatuses = (object.status.containerStatuses ?? []).map((item: any) => ({...item, ready: true}));
		}, {subresource: 'status'});
	}

	function finish(pod: KubeObject, code: number, reason: string): void {
		const now = clock.iso();
		const startedAt = pod.status?.containerStatuses?.[0]?.state?.running?.startedAt ?? now;
		store.mutate('pods', pod.metadata.namespace, pod.metadata.name, object => {
			object.status = {
				...object.status,
				phase: code === 0 ? 'Succeeded' : 'Failed',
				conditions: (object.status.conditions ?? []).map((item: any) => item.type === 'Ready' || item.type === 'ContainersReady' ? {...item, status: 'False', reason: 'PodCompleted', lastTransitionTime: now} : item),
				containerStatuses: (object.status.containerStatuses ?? []).map((item: any) => ({...item, ready: false, started: false, state: {terminated: {exitCode: code, reason, startedAt, finishedAt: now, containerID: item.containerID}}})),
			};
		}, {subresource: 'status'});
	}

	function report(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, source: string): void {
		const id = `${pod.metadata.uid}|${message}`;
		if (!reported.has(id)) {
			reported.add(id);
			events.record(pod, type, reason, message, source);
		}
	}

	function resolveEnvironment(pod: KubeObject, container: any): Record<string, string> | string {
		const namespace = pod.metadata.namespace;
		const env: Record<string, string> = {HOSTNAME: pod.metadata.name, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443'};
		const secretValue = (name: string, key: string): string | undefined => {
			const secret = store.get('secrets', namespace, name);
			if (!secret) {
				return undefined;
			}

			const value = secret.data?.[key];
			return typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : undefined;
		};

		for (const source of container.envFrom ?? []) {
			if (source.secretRef) {
				const secret = store.get('secrets', namespace, source.secretRef.name);
				if (!secret) {
					if (source.secretRef.optional) {
						continue;
					}

					return `secret "${source.secretRef.name}" not found`;
				}

				for (const [key, value] of Object.entries(secret.data ?? {})) {
					env[(source.prefix ?? '') + key] = Buffer.from(String(value), 'base64').toString('utf8');
				}
			}

			if (source.configMapRef) {
				const map = store.get('configmaps', namespace, source.configMapRef.name);
				if (!map && !source.configMapRef.optional) {
					return `configmap "${source.configMapRef.name}" not found`;
				}

				for (const [key, value] of Object.entries(map?.data ?? {})) {
					env[(source.prefix ?? '') + key] = String(value);
				}
			}
		}

		for (const item of container.env ?? []) {
			if (item.value !== undefined) {
				env[item.name] = String(item.value).replaceAll(/\$\(([A-Za-z_]\w*)\)/g, (_match, name: string) => env[name] ?? `$(${name})`);
				continue;
			}

			const secretRef = item.valueFrom?.secretKeyRef;
			if (secretRef) {
				const value = secretValue(secretRef.name, secretRef.key);
				if (value === undefined) {
					if (secretRef.optional) {
						continue;
					}

					return store.get('secrets', namespace, secretRef.name) ? `couldn't find key ${secretRef.key} in Secret ${namespace}/${secretRef.name}` : `secret "${secretRef.name}" not found`;
				}

				env[item.name] = value;
				continue;
			}

			const mapRef = item.valueFrom?.configMapKeyRef;
			if (mapRef) {
				const value = store.get('configmaps', namespace, mapRef.name)?.data?.[mapRef.key];
				if (value === undefined) {
					if (mapRef.optional) {
						continue;
					}

					return `configmap "${mapRef.name}" not found`;
				}

				env[item.name] = String(value);
				continue;
			}

			const field = item.valueFrom?.fieldRef?.fieldPath;
			if (field === 'metadata.name') {
				env[item.name] = pod.metadata.name;
			} else if (field === 'metadata.namespace') {
				env[item.name] = namespace ?? '';
			}
		}

		return env;
	}

	const base = controller;
	return {
		name: base.name,
		idle: base.idle,
		stop() {
			for (const abort of running.values()) {
				abort.abort(new Error('world stopping'));
			}

			running.clear();
			base.stop();
		},
	};
}
