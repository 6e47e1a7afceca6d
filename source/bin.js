#!/usr/bin/env node
// The installed command: TypeScript runs through tsx's loader, so there is no build step to forget.
// V8's compile cache (Node >= 22.1) keeps the compiled code of every module between runs: the
// Kubernetes client alone costs half as much to load the second time.
import module from 'node:module';
import {register} from 'tsx/esm/api';

module.enableCompileCache?.();
register();
await import('./cli.tsx');
