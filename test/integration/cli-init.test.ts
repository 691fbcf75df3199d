/**
 * `driverless init` into a scratch directory inside the repo (so node_modules resolve), with
 * `driverless` installed as a link to the repo: the project has every file, versions from the
 * package's own manifest, cdk init's feature flags, and its unit and local integration tests pass
 * against the sources. (Installing the packed tarball and running synth is the consumer test's.)
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../fixtures/cli/run-cli';

const ROOT = join(__dirname, '..', '..');
const exec = promisify(execFile);
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

let scratch: string;
let project: string;

beforeAll(async () => {
  scratch = join(ROOT, '.driverless', `cli-init-${process.pid}`);
  project = join(scratch, 'click-pipeline');
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

it('creates a project with every file of a CDK app, its handler, sample and tests', async () => {
  // When
  const result = await runCli(['init', project, '--json']);

  // Then
  expect(result.code).toBe(0);
  expect(JSON.parse(result.stdout).files.sort()).toStrictEqual(
    [
      '.gitignore',
      'README.md',
      'bin/app.ts',
      'cdk.json',
      'functions/page-views.ts',
      'jest.config.js',
      'lib/click-pipeline-stack.ts',
      'package.json',
      'samples/page-views.ndjson',
      'test/click-pipeline-stack.test.ts',
      'test/fixtures/page-views.ndjson',
      'test/integration/page-views.test.ts',
      'test/integration/pipeline.test.ts',
      'test/unit/handler-environment.ts',
      'test/unit/page-views.test.ts',
      'tsconfig.json',
    ].sort(),
  );
});

it("depends on this package's version and on the versions its own manifest pins", async () => {
  // When
  const written = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));

  // Then
  expect(written.dependencies).toStrictEqual({
    'aws-cdk-lib': `^${manifest.devDependencies['aws-cdk-lib'] ?? manifest.dependencies['aws-cdk-lib']}`,
    constructs: `^${manifest.devDependencies.constructs ?? manifest.dependencies.constructs}`,
    driverless: `^${manifest.version}`,
    zod: `^${manifest.devDependencies.zod ?? manifest.dependencies.zod}`,
  });
  expect(written.devDependencies['aws-cdk']).toBe(manifest.devDependencies['aws-cdk']);
  expect(written.devDependencies.typescript).toBe(`~${manifest.devDependencies.typescript}`);
});

it('writes the feature flags cdk init writes, with an app tsc checks and tsx runs', async () => {
  // Given: the flags the repo's aws-cdk CLI puts into a new app's cdk.json
  const recommended = JSON.parse(
    readFileSync(
      join(
        ROOT,
        'node_modules',
        'aws-cdk',
        'lib',
        'init-templates',
        '.recommended-feature-flags.json',
      ),
      'utf8',
    ),
  );

  // When
  const cdkJson = JSON.parse(await readFile(join(project, 'cdk.json'), 'utf8'));

  // Then
  expect(cdkJson.app).toBe('npx tsc && npx tsx bin/app.ts');
  expect(cdkJson.context).toStrictEqual(recommended);
});

it("passes its unit and local integration tests, and type-checks, against this repo's sources", async () => {
  // Given: a stand-in for the installed package whose CLI is the repo's source launcher (the
  // package's own bin is the build in dist/, which this test must not depend on), and jest's config
  // extended with what the sources need: Driverless mapped to them, middy (ESM-only) transformed.
  const installed = join(project, 'node_modules', 'driverless');
  await mkdir(installed, { recursive: true });
  for (const dir of ['bin', 'lib', 'functions', 'testing']) {
    await symlink(join(ROOT, dir), join(installed, dir));
  }
  await writeFile(
    join(installed, 'package.json'),
    JSON.stringify({
      name: 'driverless',
      version: '0.0.0-sources',
      bin: { driverless: 'bin/driverless.mjs' },
      exports: {
        '.': './lib/index.ts',
        './runtime': './functions/runtime/index.ts',
        './testing': './testing/index.ts',
        './package.json': './package.json',
      },
    }),
  );
  await writeFile(
    join(project, 'jest.sources.config.js'),
    `const base = require('./jest.config.js');
module.exports = {
  ...base,
  // The stack test and the pipeline test synthesize with the project's own aws-cdk-lib and tsx,
  // which this stand-in install lacks: the consumer test runs both from the packed tarball.
  testPathIgnorePatterns: ['-stack\\\\.test\\\\.ts$', 'integration/pipeline\\\\.test\\\\.ts$'],
  transform: { '^.+\\\\.(t|j)sx?$': base.transform['^.+\\\\.tsx?$'] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  moduleNameMapper: {
    '^driverless$': ${JSON.stringify(join(ROOT, 'lib', 'index.ts'))},
    '^driverless/runtime$': ${JSON.stringify(join(ROOT, 'functions', 'runtime', 'index.ts'))},
    '^driverless/testing$': ${JSON.stringify(join(ROOT, 'testing', 'index.ts'))},
    '^@middy/([a-z-]+)$': ${JSON.stringify(join(ROOT, 'node_modules', '@middy', '$1', 'index.js'))},
  },
};
`,
  );
  await writeFile(
    join(project, 'tsconfig.sources.json'),
    JSON.stringify({
      extends: './tsconfig.json',
      compilerOptions: {
        // The sources are checked under the repo's settings; a built package ships declarations.
        module: 'preserve',
        moduleResolution: 'bundler',
        lib: ['es2024'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
        paths: {
          driverless: [join(ROOT, 'lib', 'index.ts')],
          'driverless/runtime': [join(ROOT, 'functions', 'runtime', 'index.ts')],
          'driverless/testing': [join(ROOT, 'testing', 'index.ts')],
        },
      },
      exclude: ['node_modules', 'cdk.out', 'jest.sources.config.js'],
    }),
  );

  // When
  const jest = await exec(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
      '--config',
      'jest.sources.config.js',
      '--ci',
    ],
    { cwd: project },
  ).catch((error: { stderr: string }) => ({ stderr: error.stderr }));
  const tsc = await exec(
    process.execPath,
    [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.sources.json'],
    { cwd: project },
  ).catch((error: { stdout: string }) => ({ stdout: error.stdout }));

  // Then
  expect(jest.stderr).toMatch(/Tests: {7}4 passed, 4 total/);
  expect(tsc.stdout).toBe('');
});

it("lets driverless new --wire add a windowed source to the project's stack", async () => {
  // When
  const result = await runCli(['new', 'sales', '--template', 'window', '--wire', '--dir', project]);

  // Then
  const stack = await readFile(join(project, 'lib', 'click-pipeline-stack.ts'), 'utf8');
  expect(result.code).toBe(0);
  expect(stack).toContain(`        sales: {
          stream: { shardCount: 1 },
          entry: path.join(__dirname, '..', 'functions', 'sales.ts'),
          tumblingWindow: cdk.Duration.minutes(5),`);
});

it('fails if the directory is not empty, with exit 2 and one line, and writes nothing', async () => {
  // Given
  const used = join(scratch, 'used');
  await mkdir(used);
  await writeFile(join(used, 'notes.txt'), 'mine\n');

  // When
  const result = await runCli(['init', used]);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: `driverless init: ${used} is not empty (1 entries): choose a new directory\n`,
  });
  expect(existsSync(join(used, 'package.json'))).toBe(false);
});

it('fails if the name is not kebab-case', async () => {
  // When
  const result = await runCli(['init', join(scratch, 'other'), '--name', 'ClickPipeline']);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr:
      'driverless init: --name must be kebab-case like click-pipeline (given ClickPipeline)\n',
  });
});
