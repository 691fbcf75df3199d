// Builds the published package into dist/ (run by `npm run build` and by `prepack`).
//
// JavaScript is bundled per entry with esbuild, declarations are emitted by tsc:
// - dist/index.cjs: the constructs (lib/index.ts), CommonJS like aws-cdk-lib itself;
// - dist/runtime.cjs: the Lambda runtime with @middy/core inlined. middy ships ES modules only,
//   which jest's module system and Node before 22.12 cannot `require`; inlined, the runtime
//   loads everywhere, and `.use()` still takes any middy middleware (middlewares are plain objects);
// - dist/testing.cjs: `driverless/testing`, with the emulator it starts inlined; it starts the
//   same dist/server-main.mjs and dist/worker.cjs as the CLI, found beside it;
// - dist/index.mjs, dist/runtime.mjs, dist/testing.mjs: ES module entries re-exporting the
//   CommonJS builds, so a process that both imports and requires Driverless gets one copy of it
//   (no dual-package hazard);
// - dist/cli.cjs: the `driverless` command, with dist/server-main.mjs (and the dist/loopback-guard.mjs
//   it loads) and dist/worker.cjs beside it because the embedded stack starts them as separate
//   processes (paths relative to __dirname);
// - dist/types/: declarations, referenced by the `types` conditions of package.json.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Every package a user installs with Driverless stays a package: only our own code is bundled. */
const packages = [
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}),
  manifest.name,
];
const external = (except = []) =>
  packages.filter((name) => !except.includes(name)).flatMap((name) => [name, `${name}/*`]);

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  logLevel: 'warning',
  legalComments: 'inline',
  // Names stay readable in stack traces and in `error.name` checks.
  keepNames: true,
};

/** Node's ESM loader finds named exports of esbuild's CommonJS output by its export annotation. */
const reexport = (file) => `export * from './${file}';\nexport { default } from './${file}';\n`;

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

await Promise.all([
  build({
    ...common,
    entryPoints: ['lib/index.ts'],
    outfile: 'dist/index.cjs',
    external: external(),
  }),
  build({
    ...common,
    entryPoints: ['functions/runtime/index.ts'],
    outfile: 'dist/runtime.cjs',
    external: external(['@middy/core']),
  }),
  build({
    ...common,
    entryPoints: ['testing/index.ts'],
    outfile: 'dist/testing.cjs',
    external: external(),
  }),
  build({
    ...common,
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli.cjs',
    external: external(),
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({
    ...common,
    entryPoints: ['emulator/servers/server-main.mts'],
    outfile: 'dist/server-main.mjs',
    format: 'esm',
    external: external(),
  }),
  // The server child loads these by URL at run time (esbuild cannot follow such an import).
  ...['loopback-guard', 'http1-and-2', 'kinesalite-at-timestamp'].map((name) =>
    build({
      ...common,
      entryPoints: [`emulator/servers/${name}.ts`],
      outfile: `dist/${name}.mjs`,
      format: 'esm',
    }),
  ),
]);
copyFileSync(join(root, 'emulator/functions/worker.cjs'), join(dist, 'worker.cjs'));
writeFileSync(join(dist, 'index.mjs'), reexport('index.cjs'));
writeFileSync(join(dist, 'runtime.mjs'), reexport('runtime.cjs'));
writeFileSync(join(dist, 'testing.mjs'), reexport('testing.cjs'));

execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
