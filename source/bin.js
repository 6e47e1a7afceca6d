#!/usr/bin/env node
// The installed command: TypeScript runs through tsx's loader, so there is no build step to forget.
// V8's compile cache (Node >= 22.1) keeps the compiled code of every module between runs: the
// Kubernetes client alone costs half as much to load the second time.
import module from 'node:module';
import {register} from 'tsx/esm/api';

// Older Node versions fail deep inside (node:sqlite, among others): say so in one line instead.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 19)) {
	process.stderr.write(`ilum-restore: Node ${process.versions.node} is too old: it needs Node 22.19 or newer (package.json engines); install a newer Node (https://nodejs.org) and run again\n`);
	process.exit(1);
}

module.enableCompileCache?.();
register();
await import('./cli.tsx');
