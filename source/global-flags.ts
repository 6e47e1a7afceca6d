import type {FlagSpec} from './commands/command.js';

/** Flags every command understands. Commands add their own in their `flags`. */
export const globalFlags = {
	kubeconfig: {type: 'string', description: 'Path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)'},
	context: {type: 'string', description: 'The kubeconfig context to use'},
	namespace: {type: 'string', shortFlag: 'n', default: 'ilum', description: 'Namespace of the Ilum installation'},
	json: {type: 'boolean', default: false, description: 'Machine-readable output on stdout'},
	readOnly: {type: 'boolean', default: false, description: 'Offer and perform no action that changes anything'},
	drill: {type: 'boolean', default: false, description: 'Work on the embedded drill world instead of a cluster'},
	stateDir: {type: 'string', description: 'Where journals, audit log and reports are kept (default: ~/.local/state/ilum-restore)'},
	s3Endpoint: {type: 'string', description: 'The provider\'s S3 endpoint URL (default: $AWS_ENDPOINT_URL, else found through the cluster)'},
	help: {type: 'boolean', shortFlag: 'h', default: false, description: 'Show help'},
	version: {type: 'boolean', default: false, description: 'Show the version'},
} as const satisfies Record<string, FlagSpec>;
