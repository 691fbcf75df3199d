/**
 * `driverless new` in a scratch CDK project inside the repo (so node_modules resolve), with
 * `driverless` installed as a link to the repo and no templates or test fixtures of its own: the
 * CLI finds the templates in its package, and the generated tests pass with only the public API.
 * --wire finds the pipeline through cdk.json's app; a failed --wire leaves nothing behind.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../fixtures/cli/run-cli';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const exec = promisify(execFile);

const STACK = `import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { MicroBatchPipeline } from 'driverless';

export class ClicksStack extends Stack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new MicroBatchPipeline(this, 'Clicks', {
      sources: {
        clicks: {
          stream: { shardCount: 1, streamName: 'clicks' },
          entry: path.join(__dirname, '..', 'functions', 'clicks.ts'),
        },
      },
    });
  }
}
`;

let project: string;

/** A CDK project: cdk.json's app is bin/app.ts, which imports the stack from lib/. */
async function createProject(dir: string, stack = STACK): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const folder of ['bin', 'lib', 'node_modules'])
    await mkdir(join(dir, folder), { recursive: true });
  // Installed as a link: `driverless new` finds the package's templates as in a user's project.
  await symlink(ROOT, join(dir, 'node_modules', 'driverless'));
  await writeFile(join(dir, 'cdk.json'), JSON.stringify({ app: 'npx tsx bin/app.ts' }));
  await writeFile(
    join(dir, 'bin', 'app.ts'),
    "import { App } from 'aws-cdk-lib';\nimport { ClicksStack } from '../lib/clicks-stack';\n\nnew ClicksStack(new App(), 'Clicks');\n",
  );
  await writeFile(join(dir, 'lib', 'clicks-stack.ts'), stack);
}

beforeAll(async () => {
  project = join(ROOT, '.driverless', `cli-new-${process.pid}`);
  await createProject(project);
  await writeFile(
    join(project, 'jest.config.js'),
    `const base = require(${JSON.stringify(join(ROOT, 'jest.config.js'))}).projects[0];
module.exports = {
  transform: base.transform,
  transformIgnorePatterns: base.transformIgnorePatterns,
  rootDir: ${JSON.stringify(project)},
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/unit/*.test.ts'],
  // Driverless mapped to its sources: the linked package's exports name the build in dist/, which
  // only exists once something has packed the package (and is rewritten while the consumer test packs).
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
    join(project, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      include: ['functions/*.ts', 'test/unit/*.ts', 'lib/*.ts'],
      exclude: [],
    }),
  );
});

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

it('creates handlers and tests from every template that type-check, lint and pass their tests', async () => {
  // Given
  const names = {
    json: 'product-catalog',
    'multi-job': 'order-totals',
    window: 'sales-per-store',
    aggregate: 'store-trends',
  };

  // When
  const results = [];
  for (const [template, name] of Object.entries(names)) {
    results.push((await runCli(['new', name, '--template', template, '--dir', project])).code);
  }

  // Then
  expect(results).toEqual([0, 0, 0, 0]);
  expect(existsSync(join(project, 'test', 'fixtures'))).toBe(false);
  await exec(join(BIN, 'tsc'), ['--noEmit', '-p', join(project, 'tsconfig.json')], {
    cwd: project,
  });
  // biome ignores .driverless/: a file is clean when checking it through stdin under its place
  // in a real project (with fixes applied) gives it back unchanged.
  const unclean: string[] = [];
  for (const name of Object.values(names)) {
    for (const path of [`functions/${name}.ts`, `test/unit/${name}.test.ts`]) {
      const source = await readFile(join(project, path), 'utf8');
      const checked = execFileSync(
        join(BIN, 'biome'),
        ['check', '--write', `--stdin-file-path=${path}`],
        { cwd: ROOT, input: source, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] },
      );
      if (checked !== source) unclean.push(path);
    }
  }
  expect(unclean).toEqual([]);
  const jest = await exec(
    join(BIN, 'jest'),
    ['--config', join(project, 'jest.config.js'), '--ci'],
    {
      cwd: project,
    },
  ).catch((error: { stderr: string }) => ({ stderr: error.stderr }));
  expect(jest.stderr).toMatch(/Test Suites: 4 passed, 4 total/);
});

it("adds the source to the CDK app's pipeline with --wire, its entry beside the stack", async () => {
  // When
  const result = await runCli([
    'new',
    'click-counts',
    '--template',
    'json',
    '--wire',
    '--dir',
    project,
  ]);

  // Then
  const stack = await readFile(join(project, 'lib', 'clicks-stack.ts'), 'utf8');
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
  expect(stack).toContain(`      sources: {
        clickCounts: {
          stream: { shardCount: 1 },
          entry: path.join(__dirname, '..', 'functions', 'click-counts.ts'),
          environment: { TABLE_NAME: '<table-name>' },
        },
        clicks: {`);
});

it('fails if --wire finds no pipeline, with exit 2 and one line, and writes nothing', async () => {
  // Given: an app whose stack has no MicroBatchPipeline
  const empty = `${project}-empty`;
  await createProject(
    empty,
    "import { Stack } from 'aws-cdk-lib';\n\nexport class ClicksStack extends Stack {}\n",
  );

  try {
    // When
    const result = await runCli(['new', 'lost', '--template', 'json', '--wire', '--dir', empty]);

    // Then
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr:
        'driverless new: no new MicroBatchPipeline(...) found in the CDK app in cdk.json: pass --stack <file>\n',
    });
    expect(existsSync(join(empty, 'functions'))).toBe(false);
    expect(existsSync(join(empty, 'test'))).toBe(false);
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});

it('fails if the files exist and --force is not given, with exit 2 and one line', async () => {
  // Given
  await runCli(['new', 'kept', '--template', 'json', '--dir', project]);

  // When
  const result = await runCli(['new', 'kept', '--template', 'window', '--dir', project]);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: 'driverless new: functions/kept.ts exists: pass --force to overwrite it\n',
  });
});

it('fails if the name is not kebab-case', async () => {
  // When
  const result = await runCli(['new', 'ClickCounts', '--template', 'json', '--dir', project]);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: 'driverless new: <name> must be kebab-case like click-counts (given ClickCounts)\n',
  });
});

it('says how to try a window handler: its test, then a run with its variables and window', async () => {
  // When
  const result = await runCli(['new', 'store-sales', '--template', 'window', '--dir', project]);

  // Then
  expect(result.stdout.split('\n').slice(-4)).toStrictEqual([
    'try it:',
    '  npx jest test/unit/store-sales.test.ts',
    '  TABLE_NAME=<table-name> npx driverless run functions/store-sales.ts --file <records.ndjson> --tumbling-window 300',
    '',
  ]);
});
