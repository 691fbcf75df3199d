#!/usr/bin/env node
// Runs the `driverless` CLI from this repository's sources, for its own tests and development:
// registers tsx's module hooks in this process, then imports the TypeScript entry. The published
// package runs the compiled dist/cli.cjs instead (package.json "bin"), with no TypeScript loader.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const entry = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.ts');
await import(pathToFileURL(entry).href);
