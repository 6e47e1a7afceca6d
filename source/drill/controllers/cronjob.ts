import type {KubeObject} from '../kube-api/store.js';
import {parseSchedule} from './cron.js';
import {startController, keyOf, splitKey, controllerOf, ownerReference, type Controller, type ControllerContext} from './runtime.js';

const component = 'cronjob-controller';

function finished(job: KubeObject): 'Complete' | 'Failed' | undefined {
	const condition = (job.status?.conditions ?? []).find((item: any) => (item.type === 'Complete' || item.type === 'Failed') && item.status === 'True');
	return condition?.type;
}

/**
CronJobs on the drill clock: at each scheduled time a Job `<cronjob>-<minutes since epoch>` is
created from `jobTemplate` (only the latest missed time runs after a jump), unless `suspend` is
set, or `concurrencyPolicy: Forbid` and a Job is still active (`Replace` deletes it first).
`status.active` lists running Jobs (manual ones from `kubectl create job --from` too),
`lastScheduleTime` and `lastSuccessfulTime` follow; finished Jobs beyond the history limits are
deleted.
*/
export function startCronJobController(context: ControllerContext): Controller {
	const {store, clock, events} = context;
	const timers = new Map<string, {due: number; cancel(): void}>();

	const controller = startController(context, {
		name: 'cronjob',
		keysFor(resource, event) {
			if (resource === 'cronjobs') {
				return [keyOf(event.object)];
			}

			if (resource === 'jobs') {
				const owner = controllerOf(event.object);
				return owner?.kind === 'CronJob' ? [`${event.object.metadata.namespace}/${owner.name}`] : [];
			}

			return [];
		},
		initial: () => store.list('cronjobs').items.map(cronJob => keyOf(cronJob)),
		reconcile(key) {
			const [namespace, name] = splitKey(key);
			const cronJob = store.get('cronjobs', namespace, name);
			if (!cronJob) {
				timers.get(key)?.cancel();
				timers.delete(key);
				return;
			}

			const jobs = store.list('jobs', namespace).items.filter(job => controllerOf(job)?.uid === cronJob.metadata.uid);
			const active = jobs.filter(job => !finished(job));
			let lastSuccessfulTime: string | undefined = cronJob.status?.lastSuccessfulTime;
			for (const job of jobs) {
				const state = finished(job);
				const wasActive = (cronJob.status?.active ?? []).some((reference: any) => reference.uid === job.metadata.uid);
				if (state && wasActive) {
					events.record(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, status: ${state}`, component);
				}

				if (state === 'Complete' && job.status?.completionTime && (!lastSuccessfulTime || job.status.completionTime > lastSuccessfulTime)) {
					lastSuccessfulTime = job.status.completionTime;
				}

				if (!state && !wasActive && job.metadata.annotations?.['cronjob.kubernetes.io/instantiate'] === 'manual') {
					events.record(cronJob, 'Normal', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata.name}`, component);
				}
			}

			// History limits.
			const pruneFinished = (state: 'Complete' | 'Failed', limit: number) => {
				const done = jobs.filter(job => finished(job) === state).sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
				for (const job of done.slice(0, Math.max(0, done.length - limit))) {
					store.delete('jobs', namespace, job.metadata.name, {propagationPolicy: 'Background'});
					events.record(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`, component);
				}
			};

			pruneFinished('Complete', Number(cronJob.spec?.successfulJobsHistoryLimit ?? 3));
			pruneFinished('Failed', Number(cronJob.spec?.failedJobsHistoryLimit ?? 1));

			let schedule;
			try {
				schedule = parseSchedule(String(cronJob.spec?.schedule ?? ''));
			} catch (error) {
				events.record(cronJob, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${String(cronJob.spec?.schedule)} : ${(error as Error).message}`, component);
				return;
			}

			const since = Date.parse(cronJob.status?.lastScheduleTime ?? cronJob.metadata.creationTimestamp);
			const now = clock.now();
			let due = schedule.next(since);
			let lastScheduleTime: string | undefined = cronJob.status?.lastScheduleTime;
			if (due <= now) {
				// Only the most recent missed time runs.
				let next = schedule.next(due);
				while (next <= now) {
					due = next;
					next = schedule.next(due);
				}

				if (cronJob.spec?.suspend) {
					// Suspended: the missed time is skipped, not queued.
				} else if (active.length > 0 && cronJob.spec?.concurrencyPolicy === 'Forbid') {
					events.record(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid', component);
				} else {
					if (active.length > 0 && cronJob.spec?.concurrencyPolicy === 'Replace') {
						for (const job of active) {
							store.delete('jobs', namespace, job.metadata.name, {propagationPolicy: 'Background'});
							events.record(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`, component);
						}
					}

					const job = createJob(cronJob, due);
					if (job) {
						active.push(job);
					}
				}

				lastScheduleTime = clock.iso(due);
				due = schedule.next(due);
			}

			const activeRefs = active.filter(job => store.get('jobs', namespace, job.metadata.name)).map(job => ({apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, namespace, resourceVersion: job.metadata.resourceVersion, uid: job.metadata.uid}));
			const status: Record<string, unknown> = {
				...(activeRefs.length > 0 ? {active: activeRefs} : {}),
				...(lastScheduleTime ? {lastScheduleTime} : {}),
				...(lastSuccessfulTime ? {lastSuccessfulTime} : {}),
			};
			const comparable = (value: any) => JSON.stringify({...value, active: (value?.active ?? []).map((reference: any) => reference.uid)});
			if (comparable(status) !== comparable(cronJob.status ?? {})) {
				store.mutate('cronjobs', namespace, name, object => {
					object.status = status;
				}, {subresource: 'status'});
			}

			const existing = timers.get(key);
			if (existing?.due !== due) {
				existing?.cancel();
				const timer = clock.at(due, () => {
					timers.delete(key);
					controller.enqueue(key);
				});
				timers.set(key, timer);
			}
		},
	});

	function createJob(cronJob: KubeObject, scheduled: number): KubeObject | undefined {
		const name = `${cronJob.metadata.name}-${Math.floor(scheduled / 60_000)}`;
		if (store.get('jobs', cronJob.metadata.namespace, name)) {
			return undefined;
		}

		const template = structuredClone(cronJob.spec?.jobTemplate ?? {});
		const job = store.create('jobs', {
			apiVersion: 'batch/v1',
			kind: 'Job',
			metadata: {
				name,
				namespace: cronJob.metadata.namespace,
				labels: template.metadata?.labels,
				annotations: {...template.metadata?.annotations, 'batch.kubernetes.io/cronjob-scheduled-timestamp': clock.iso(scheduled)},
				ownerReferences: [ownerReference(cronJob)],
			},
			spec: template.spec,
		});
		events.record(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${name}`, component);
		return job;
	}

	const base = controller;
	return {
		name: base.name,
		idle: base.idle,
		stop() {
			for (const timer of timers.values()) {
				timer.cancel();
			}

			timers.clear();
			base.stop();
		},
	};
}
