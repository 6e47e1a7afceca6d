import type {KubeObject} from '../kube-api/store.js';
import {claimsOf} from './provisioner.js';
import {startController, type Controller, type ControllerContext} from './runtime.js';

/**
kube-proxy for the Services the drill serves over S3 (`data.services`): a Service's endpoint
serves the disk of its first Ready pod's first claim, and is unreachable (connection refused)
while no selected pod is Ready.
*/
export function startEndpointsController(context: ControllerContext): Controller {
	const {store, data} = context;
	return startController(context, {
		name: 'endpoints',
		keysFor: resource => resource === 'pods' || resource === 'services' || resource === 'persistentvolumeclaims' || resource === 'persistentvolumes' ? [...data.services.keys()] : [],
		initial: () => [...data.services.keys()],
		async reconcile(key) {
			const endpoint = data.services.get(key);
			if (!endpoint) {
				return;
			}

			const [namespace, name] = key.split('/') as [string, string];
			const service = store.get('services', namespace, name);
			const selector: Record<string, string> = service?.spec?.selector ?? {};
			const ready = service && Object.keys(selector).length > 0
				? store.list('pods', namespace).items
					.filter(pod => Object.entries(selector).every(([label, value]) => pod.metadata.labels?.[label] === value))
					.filter(pod => isReady(pod))
					.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
				: [];
			const volume = ready.map(pod => volumeOf(pod)).find(Boolean);
			if (volume !== endpoint.volume) {
				await endpoint.serve(volume);
				context.log(`endpoints: ${key} ${volume ? `serves the volume of ${ready[0]!.metadata.name}` : 'has no ready endpoint'}`);
			}
		},
	});

	function volumeOf(pod: KubeObject) {
		const claimName = claimsOf(pod)[0];
		const claim = claimName ? store.get('persistentvolumeclaims', pod.metadata.namespace, claimName) : undefined;
		const pv = claim?.spec?.volumeName ? store.get('persistentvolumes', undefined, claim.spec.volumeName) : undefined;
		const handle = pv?.spec?.csi?.volumeHandle;
		return handle ? data.volumes.get(handle) : undefined;
	}
}

function isReady(pod: KubeObject): boolean {
	return !pod.metadata.deletionTimestamp && pod.status?.phase === 'Running' && (pod.status?.conditions ?? []).some((item: any) => item.type === 'Ready' && item.status === 'True');
}
