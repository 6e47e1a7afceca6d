import net from 'node:net';
import type {Duplex} from 'node:stream';
import type {DataPlane} from './data-plane.js';
import type {KubeObject, ObjectStore} from './kube-api/store.js';
import {connectionRefused} from './kube-api/port-forward.js';

/**
What a port of a drill pod answers with, for `pods/NAME/portforward`: a pod selected by a Service
the drill serves over S3 (`data.services`, the provider's RustFS pod) answers on its S3 port with
that loopback endpoint (which serves the disk of the Service's ready pod); anything else refuses
the connection, as a port nobody listens on does.
*/
export function podDialer(store: ObjectStore, data: DataPlane): (pod: KubeObject, port: number) => Promise<Duplex> {
	return async (pod, port) => {
		const refused = () => connectionRefused(pod.metadata.name, port);
		const labels = pod.metadata.labels ?? {};
		const containerPorts = new Set(((pod.spec?.containers ?? []) as Array<{ports?: Array<{containerPort?: number}>}>).flatMap(container => (container.ports ?? []).map(item => item.containerPort)));
		for (const [key, endpoint] of data.services) {
			const [namespace, name] = key.split('/') as [string, string];
			const service = store.get('services', namespace, name);
			const selector: Record<string, string> = service?.spec?.selector ?? {};
			const selected = namespace === pod.metadata.namespace && Object.keys(selector).length > 0 && Object.entries(selector).every(([label, value]) => labels[label] === value);
			// The S3 port: the Service's first port, by the container port it targets.
			const target = Number((service?.spec?.ports as Array<{targetPort?: number | string; port?: number}> | undefined)?.[0]?.targetPort ?? 0);
			if (selected && port === target && containerPorts.has(port)) {
				// eslint-disable-next-line no-await-in-loop
				return connect(endpoint.host, endpoint.port).catch(() => {
					throw refused();
				});
			}
		}

		throw refused();
	};
}

async function connect(host: string, port: number): Promise<Duplex> {
	return new Promise((resolve, reject) => {
		const socket = net.connect({host, port, noDelay: true});
		socket.once('connect', () => {
			socket.off('error', reject);
			resolve(socket);
		});
		socket.once('error', reject);
	});
}
