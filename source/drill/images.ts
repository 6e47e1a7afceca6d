import {runContainer} from './jobs/mc-script.js';

/**
What the container images of the drill world do. A pod's first container decides:
- `minio/mc` (any registry, `bitnami/minio-client` too): runs its command/args as mc would,
  against the endpoints the drill serves (see jobs/mc-script.ts);
- object storage servers (`rustfs/rustfs`, `minio/minio`): long-running, Ready after a moment;
  their S3 traffic is served by the drill's provider endpoint while they are Ready;
- anything else: long-running when the pod restarts Always, else it exits 0 at once.
*/
export type ContainerRun = {
	readonly command: readonly string[];
	readonly args: readonly string[];
	readonly env: Record<string, string>;
	readonly namespace: string;
	readonly resolveUrl: (url: string) => string;
	readonly log: (line: string) => void;
	readonly signal: AbortSignal;
};

export type ImageBehaviour =
	| {readonly kind: 'server'}
	| {readonly kind: 'task'; run(container: ContainerRun): Promise<number>};

const repository = (image: string) => image.replace(/[@:][^/]*$/, '').split('/').slice(-2).join('/');

export function imageBehaviour(image: string, restartPolicy: string | undefined): ImageBehaviour {
	const name = repository(image);
	if (name === 'minio/mc' || name.endsWith('/mc') || name === 'bitnami/minio-client' || name === 'minio-client') {
		return {
			kind: 'task',
			async run(container) {
				return runContainer(container.command, container.args, {env: container.env, resolveUrl: container.resolveUrl, log: container.log, signal: container.signal});
			},
		};
	}

	if (name === 'rustfs/rustfs' || name === 'minio/minio' || name.endsWith('/rustfs') || restartPolicy === 'Always' || restartPolicy === undefined) {
		return {kind: 'server'};
	}

	return {
		kind: 'task',
		async run(container) {
			container.log(`(drill world) image ${image} is not simulated; the container exits 0`);
			return 0;
		},
	};
}
