#!/usr/bin/env node
// Launcher of the `driverless` CLI: registers tsx's module hooks in this process, then imports the
// TypeScript entry. Handlers given to `driverless run` load through the same hooks, as ES modules,
// so ESM-only dependencies (@middy/core) resolve as they do in the Lambda bundle.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.ts');
await import(pathToFileURL(entry).href);
