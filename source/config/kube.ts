import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import {KubeConfig} from '@kubernetes/client-node';
import {UserError} from '../errors.js';

export type KubeOptions = {
	/** --kubeconfig; else $KUBECONFIG (first existing entry); else ~/.kube/config. */
	readonly kubeconfig?: string;
	/** --context; else the file's current-context. */
	readonly context?: string;
};

/**
Loads the kubeconfig the way kubectl does, and turns every way it can be wrong into one line
that says what to do. Never throws anything but `UserError`.
*/
export function loadKubeConfig(options: KubeOptions = {}): KubeConfig {
	const file = options.kubeconfig ?? firstExisting(process.env['KUBECONFIG']) ?? path.join(os.homedir(), '.kube', 'config');
	if (!fs.existsSync(file)) {
		throw new UserError(`No kubeconfig at ${file}`, {hint: 'pass --kubeconfig, set KUBECONFIG, or try the embedded drill world with --drill'});
	}

	const config = new KubeConfig();
	try {
		config.loadFromFile(file);
	} catch (error) {
		const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
		throw new UserError(`The kubeconfig ${file} cannot be read (${reason})`, {hint: 'fix the file or pass another with --kubeconfig'});
	}

	if (options.context) {
		if (!config.getContextObject(options.context)) {
			throw new UserError(`The kubeconfig ${file} has no context '${options.context}'`, {hint: `choose one of: ${config.getContexts().map(context => context.name).join(', ') || '(none)'}`});
		}

		config.setCurrentContext(options.context);
	}

	const context = config.getContextObject(config.getCurrentContext());
	if (!context) {
		throw new UserError(`The kubeconfig ${file} has no current context`, {hint: 'pass --context'});
	}

	if (!config.getCurrentCluster()) {
		throw new UserError(`The context '${context.name}' in ${file} names a cluster that is not defined`, {hint: 'fix the file or pass another --context'});
	}

	return config;
}

function firstExisting(list: string | undefined): string | undefined {
	if (!list) {
		return undefined;
	}

	const entries = list.split(path.delimiter).filter(Boolean);
	return entries.find(entry => fs.existsSync(entry)) ?? entries[0];
}
