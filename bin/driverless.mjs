#!/usr/bin/env node
// Launcher of the `driverless` CLI: registers tsx in this process (for require and import, so the
// CLI and the TypeScript handlers it loads run like under `tsx`), then loads the TypeScript entry.
import { createRequire } from 'node:module';
import { register as registerCommonJs } from 'tsx/cjs/api';
import { register as registerModules } from 'tsx/esm/api';

registerModules();
registerCommonJs();
createRequire(import.meta.url)('../localstack/cli/main.ts');
