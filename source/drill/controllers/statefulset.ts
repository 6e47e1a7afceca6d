import type {KubeObject} from '../kube-api/store.js';
import {startController, keyOf, splitKey, controllerOf, ownerReference, type Controller, type ControllerContext} from './runtime.js';

const component = 'statefulset-controller';

function isReady(pod: KubeObject): boolean {
	return !pod.metadata.deletionTimestamp && pod.status?.phase === 'Running' && (pod.status?.conditions ?? []).some((item: any) => item.type === 'Ready' && item.status === 'True');
}

/**
StatefulSets with the OrderedReady policy: pods `<sts>-<ordinal>` are created one at a time, each
once the previous is Ready, and removed from the highest ordinal down on scale-in. Each pod mounts
the claims of `volumeClaimTemplates` (`<template>-<sts>-<ordinal>`), created when missing and
kept on scale-in (retention policy Retain). Status: replicas, readyReplicas, currentReplicas,
updatedReplicas, availableReplicas (zero counts omitted, as the real API does).
*/
export function startStatefulSetController(context: ControllerContext): Controller {
	const {store, events} = context;

	return startController(context, {
		name: 'statefulset',
		keysFor(resource, event) {
			if (resource === 'statefulsets') {
				return [keyOf(event.object)];
			}

			if (resource === 'pods') {
				const owner = controllerOf(event.object);
				return owner?.kind === 'StatefulSet' ? [`${event.object.metadata.namespace}/${owner.name}`] : [];
			}

			return [];
		},
		initial: () => store.list('statefulsets').items.map(sts => keyOf(sts)),
		reconcile(key) {
			const [namespace, name] = splitKey(key);
			const sts = store.get('statefulsets', namespace, name);
			if (!sts) {
				return;
			}

			const pods = store.list('pods', namespace).items.filter(pod => controllerOf(pod)?.uid === sts.metadata.uid);
			const byOrdinal = new Map<number, KubeObject>();
			for (const pod of pods) {
				byOrdinal.set(Number(pod.metadata.name.slice(name.length + 1)), pod);
			}

			// Claims of existing pods that went missing are created again from the templates, as the real controller does.
			for (const [ordinal, pod] of byOrdinal) {
				if (!pod.metadata.deletionTimestamp && pod.status?.phase === 'Pending') {
					ensureClaims(sts, ordinal);
				}
			}

			const desired = sts.metadata.deletionTimestamp ? 0 : Number(sts.spec?.replicas ?? 1);
			const terminating = pods.some(pod => pod.metadata.deletionTimestamp);
			if (!terminating) {
				const extra = [...byOrdinal.keys()].filter(ordinal => ordinal >= desired).sort((a, b) => b - a);
				if (extra.length > 0) {
					const ordinal = extra[0]!;
					const pod = byOrdinal.get(ordinal)!;
					store.delete('pods', namespace, pod.metadata.name);
					events.record(sts, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${name} successful`, component);
				} else {
					for (let ordinal = 0; ordinal < desired; ordinal++) {
						const pod = byOrdinal.get(ordinal);
						if (!pod) {
							createPod(sts, ordinal);
							break;
						}

						if (!isReady(pod)) {
							break;
						}
					}
				}
			}

			const current = store.list('pods', namespace).items.filter(pod => controllerOf(pod)?.uid === sts.metadata.uid);
			const ready = current.filter(pod => isReady(pod)).length;
			const revision = `${name}-${sts.metadata.uid.slice(0, 10).replaceAll('-', '')}`;
			const status: Record<string, unknown> = {
				observedGeneration: sts.metadata.generation,
				replicas: current.length,
				currentRevision: revision,
				updateRevision: revision,
				collisionCount: 0,
			};
			if (ready > 0) {
				status['readyReplicas'] = ready;
				status['availableReplicas'] = ready;
			}

			if (current.length > 0) {
				status['currentReplicas'] = current.length;
				status['updatedReplicas'] = current.length;
			}

			if (JSON.stringify(status) !== JSON.stringify(sts.status)) {
				store.mutate('statefulsets', namespace, name, object => {
					object.status = status;
				}, {subresource: 'status'});
			}
		},
	});

	function ensureClaims(sts: KubeObject, ordinal: number): any[] {
		const namespace = sts.metadata.namespace!;
		const name = `${sts.metadata.name}-${ordinal}`;
		const volumes: any[] = [];
		for (const claimTemplate of sts.spec?.volumeClaimTemplates ?? []) {
			const claimName = `${claimTemplate.metadata?.name}-${name}`;
			if (!store.get('persistentvolumeclaims', namespace, claimName)) {
				store.create('persistentvolumeclaims', {
					apiVersion: 'v1',
					kind: 'PersistentVolumeClaim',
					metadata: {name: claimName, namespace, labels: {...claimTemplate.metadata?.labels, ...sts.spec?.selector?.matchLabels}},
					spec: structuredClone(claimTemplate.spec),
				});
				events.record(sts, 'Normal', 'SuccessfulCreate', `create Claim ${claimName} Pod ${name} in StatefulSet ${sts.metadata.name} success`, component);
			}

			volumes.push({name: claimTemplate.metadata?.name, persistentVolumeClaim: {claimName}});
		}

		return volumes;
	}

	function createPod(sts: KubeObject, ordinal: number): void {
		const namespace = sts.metadata.namespace!;
		const name = `${sts.metadata.name}-${ordinal}`;
		const template = structuredClone(sts.spec?.template ?? {});
		const volumes: any[] = [...(template.spec?.volumes ?? []), ...ensureClaims(sts, ordinal)];
		store.create('pods', {
			apiVersion: 'v1',
			kind: 'Pod',
			metadata: {
				name,
				namespace,
				labels: {
					...template.metadata?.labels,
					'apps.kubernetes.io/pod-index': String(ordinal),
					'controller-revision-hash': `${sts.metadata.name}-${sts.metadata.uid.slice(0, 10).replaceAll('-', '')}`,
					'statefulset.kubernetes.io/pod-name': name,
				},
				annotations: template.metadata?.annotations,
				ownerReferences: [ownerReference(sts)],
			},
			spec: {...template.spec, volumes, hostname: name, subdomain: sts.spec?.serviceName},
		});
		events.record(sts, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${sts.metadata.name} successful`, component);
	}
}
