import type {S3Endpoint} from './s3/s3-endpoint.js';
import {VolumeData} from './s3/volume-data.js';
import type {Rng} from './seed/rng.js';

/**
What lives below the Kubernetes objects: the disks (by CSI volume handle), the snapshots (by
snapshot handle), the S3 endpoints Services resolve to, and the logs of pods that ran.

Deleting a PV object does not by itself remove its disk: the provisioner does that for the Delete
reclaim policy; a Retain volume's disk outlives its PV, as a cloud disk does.
*/
export class DataPlane {
	readonly volumes = new Map<string, VolumeData>();
	readonly snapshots = new Map<string, VolumeData>();
	/** `namespace/service` -> the endpoint that Service's ready pods serve. */
	readonly services = new Map<string, S3Endpoint>();
	readonly podLogs = new Map<string, string[]>();
	readonly #rng: Rng;

	constructor(rng: Rng) {
		this.#rng = rng;
	}

	/** A new handle like the EBS CSI driver's (`vol-0…`, `snap-0…`). */
	newHandle(prefix: 'vol' | 'snap'): string {
		return `${prefix}-0${this.#rng.hex(16)}`;
	}

	async createVolume(handle: string, from?: VolumeData): Promise<VolumeData> {
		const volume = from ? await from.copy() : await VolumeData.empty();
		this.volumes.set(handle, volume);
		return volume;
	}

	async deleteVolume(handle: string): Promise<void> {
		const volume = this.volumes.get(handle);
		this.volumes.delete(handle);
		if (volume) {
			for (const endpoint of this.services.values()) {
				// eslint-disable-next-line no-await-in-loop
				await endpoint.release(volume);
			}
		}
	}

	async snapshot(volumeHandle: string, snapshotHandle: string): Promise<VolumeData | undefined> {
		const volume = this.volumes.get(volumeHandle);
		if (!volume) {
			return undefined;
		}

		const copy = await volume.copy();
		this.snapshots.set(snapshotHandle, copy);
		return copy;
	}

	appendLog(podKey: string, line: string): void {
		let lines = this.podLogs.get(podKey);
		if (!lines) {
			lines = [];
			this.podLogs.set(podKey, lines);
		}

		lines.push(line);
	}

	/** Resolves an in-cluster URL (`http://ilum-objectstorage:9000`, `…​.ilum.svc.cluster.local`) to the endpoint serving it. */
	resolveUrl(url: string, namespace: string): string {
		let parsed: URL;
		try {
			parsed = new URL(url);
		} catch {
			return url;
		}

		const parts = parsed.hostname.split('.');
		const service = parts[0]!;
		const serviceNamespace = parts.length > 1 ? parts[1]! : namespace;
		const suffix = parts.slice(2).join('.');
		if (suffix !== '' && suffix !== 'svc' && suffix !== 'svc.cluster.local') {
			return url;
		}

		const endpoint = this.services.get(`${serviceNamespace}/${service}`);
		if (!endpoint) {
			return url;
		}

		return `${endpoint.url}${parsed.pathname === '/' ? '' : parsed.pathname}`;
	}
}
