import type {KubeObject} from '../kube-api/store.js';
import {startController, keyOf, splitKey, controllerOf, ownerReference, type Controller, type ControllerContext} from './runtime.js';

const component = 'job-controller';

/**
Jobs with one pod at a time (parallelism and completions 1, the shape of Ilum's Jobs): a pod
`<job>-<5 chars>` runs the template; success gives `succeeded: 1`, `completionTime` and the
conditions SuccessCriteriaMet + Complete; a failure is retried with back-off (10 s, 20 s, ...)
until `failed` exceeds `backoffLimit`, then FailureTarget + Failed (BackoffLimitExceeded).
`activeDeadlineSeconds` past the start stops the pod and fails the Job (DeadlineExceeded);
`ttlSecondsAfterFinished` deletes a finished Job (its pods follow by garbage collection).
`suspend: true` deletes the active pod and sets the Suspended condition.
*/
export function startJobController(context: ControllerContext): Controller {
	const {store, clock, events} = context;
	let serial = 0;

	const controller = startController(context, {
		name: 'job',
		keysFor(resource, event) {
			if (resource === 'jobs') {
				return [keyOf(event.object)];
			}

			if (resource === 'pods') {
				const owner = controllerOf(event.object);
				return owner?.kind === 'Job' ? [`${event.object.metadata.namespace}/${owner.name}`] : [];
			}

			return [];
		},
		initial: () => store.list('jobs').items.map(job => keyOf(job)),
		reconcile(key) {
			const [namespace, name] = splitKey(key);
			const job = store.get('jobs', namespace, name);
			if (!job || job.metadata.deletionTimestamp) {
				return;
			}

			const conditions: any[] = job.status?.conditions ?? [];
			const finished = conditions.find(item => (item.type === 'Complete' || item.type === 'Failed') && item.status === 'True');
			if (finished) {
				// The TTL-after-finished controller: a finished Job (and, by garbage collection, its pods) goes after its TTL.
				const ttl = job.spec?.ttlSecondsAfterFinished;
				if (typeof ttl === 'number' && ttl >= 0) {
					const due = Date.parse(job.status?.completionTime ?? finished.lastTransitionTime ?? clock.iso()) + (ttl * 1000);
					if (clock.now() >= due) {
						store.delete('jobs', namespace, name, {propagationPolicy: 'Background'});
					} else {
						controller.after(due - clock.now(), key);
					}
				}

				return;
			}

			const pods = store.list('pods', namespace).items.filter(pod => controllerOf(pod)?.uid === job.metadata.uid);
			const succeeded = pods.filter(pod => pod.status?.phase === 'Succeeded').length;
			const failed = pods.filter(pod => pod.status?.phase === 'Failed').length;
			const active = pods.filter(pod => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed');
			const now = clock.iso();

			if (job.spec?.suspend) {
				for (const pod of active) {
					store.delete('pods', namespace, pod.metadata.name);
				}

				if (!conditions.some(item => item.type === 'Suspended' && item.status === 'True')) {
					setStatus(job, {active: 0, conditions: [...conditions.filter(item => item.type !== 'Suspended'), {type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastProbeTime: now, lastTransitionTime: now}]});
					events.record(job, 'Normal', 'Suspended', 'Job suspended', component);
				}

				return;
			}

			const resumed = conditions.filter(item => item.type !== 'Suspended');
			if (succeeded >= Number(job.spec?.completions ?? 1)) {
				setStatus(job, {
					startTime: job.status?.startTime ?? now,
					active: 0,
					ready: 0,
					terminating: 0,
					succeeded,
					...(failed > 0 ? {failed} : {}),
					completionTime: now,
					conditions: [...resumed, {type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: now, lastTransitionTime: now}, {type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: now, lastTransitionTime: now}],
				});
				events.record(job, 'Normal', 'Completed', 'Job completed', component);
				return;
			}

			const deadline = job.spec?.activeDeadlineSeconds;
			if (typeof deadline === 'number' && job.status?.startTime) {
				const due = Date.parse(job.status.startTime) + (deadline * 1000);
				if (clock.now() >= due) {
					// Past activeDeadlineSeconds: the running pods are stopped and the Job fails (DeadlineExceeded).
					for (const pod of active) {
						store.delete('pods', namespace, pod.metadata.name);
					}

					setStatus(job, {
						startTime: job.status.startTime,
						active: 0,
						ready: 0,
						terminating: 0,
						failed: failed + active.length,
						...(succeeded > 0 ? {succeeded} : {}),
						conditions: [...conditions.filter(item => item.type !== 'Suspended'), {type: 'FailureTarget', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', lastProbeTime: now, lastTransitionTime: now}, {type: 'Failed', status: 'True', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline', lastProbeTime: now, lastTransitionTime: now}],
					});
					events.record(job, 'Warning', 'DeadlineExceeded', 'Job was active longer than specified deadline', component);
					return;
				}

				controller.after(due - clock.now(), key);
			}

			const backoffLimit = Number(job.spec?.backoffLimit ?? 6);
			if (failed > backoffLimit) {
				setStatus(job, {
					startTime: job.status?.startTime ?? now,
					active: 0,
					ready: 0,
					terminating: 0,
					failed,
					...(succeeded > 0 ? {succeeded} : {}),
					conditions: [...resumed, {type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: now, lastTransitionTime: now}, {type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: now, lastTransitionTime: now}],
				});
				events.record(job, 'Warning', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', component);
				return;
			}

			let created = 0;
			if (active.length === 0) {
				const lastFailure = Math.max(0, ...pods.filter(pod => pod.status?.phase === 'Failed').map(pod => Date.parse(pod.status?.containerStatuses?.[0]?.state?.terminated?.finishedAt ?? '') || 0));
				const backoff = failed === 0 ? 0 : Math.min(360_000, 10_000 * (2 ** (failed - 1)));
				if (failed > 0 && clock.now() < lastFailure + backoff) {
					controller.after(lastFailure + backoff - clock.now(), key);
				} else {
					createPod(job);
					created = 1;
				}
			}

			const ready = active.filter(pod => (pod.status?.conditions ?? []).some((item: any) => item.type === 'Ready' && item.status === 'True')).length;
			setStatus(job, {
				startTime: job.status?.startTime ?? now,
				active: active.length + created,
				ready,
				terminating: 0,
				...(failed > 0 ? {failed} : {}),
				uncountedTerminatedPods: {},
				...(resumed.length > 0 ? {conditions: resumed} : {}),
			});
		},
	});

	function setStatus(job: KubeObject, status: Record<string, unknown>): void {
		if (JSON.stringify(status) === JSON.stringify(job.status)) {
			return;
		}

		store.mutate('jobs', job.metadata.namespace, job.metadata.name, object => {
			object.status = status;
		}, {subresource: 'status'});
	}

	function createPod(job: KubeObject): void {
		const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
		let suffix = '';
		let seed = (clock.now() + serial++ * 7919) >>> 0;
		for (let index = 0; index < 5; index++) {
			suffix += alphabet[seed % alphabet.length];
			seed = Math.floor(seed / alphabet.length) + (index * 131);
		}

		const template = structuredClone(job.spec?.template ?? {});
		const name = `${job.metadata.name}-${suffix}`;
		store.create('pods', {
			apiVersion: 'v1',
			kind: 'Pod',
			metadata: {
				name,
				namespace: job.metadata.namespace,
				labels: {...template.metadata?.labels},
				annotations: template.metadata?.annotations,
				ownerReferences: [ownerReference(job)],
				finalizers: undefined,
			},
			spec: template.spec,
		});
		events.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, component);
	}

	return controller;
}
