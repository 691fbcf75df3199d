/**
 * `driverless new` into a scratch project inside the repo (so `driverless/runtime` and
 * node_modules resolve as in the real project): the generated handler and test type-check, pass
 * biome and pass their own test; --wire adds the source; existing files are kept without --force.
 */
import { execFile, execFileSync } from 'node:child_process';
import { copyFile, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runCli } from '../fixtures/cli/run-cli';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'node_modules', '.bin');
const exec = promisify(execFile);

let project: string;

beforeAll(async () => {
  project = join(ROOT, '.driverless', `cli-new-${process.pid}`);
  await rm(project, { recursive: true, force: true });
  await mkdir(join(project, 'functions'), { recursive: true });
  await mkdir(join(project, 'test', 'unit', 'templates'), { recursive: true });
  await mkdir(join(project, 'lib'), { recursive: true });
  await symlink(join(ROOT, 'functions', 'templates'), join(project, 'functions', 'templates'));
  for (const template of ['json-to-dynamodb', 'multi-job', 'window']) {
    await copyFile(
      join(ROOT, 'test', 'unit', 'templates', `${template}.test.ts`),
      join(project, 'test', 'unit', 'templates', `${template}.test.ts`),
    );
  }
  await symlink(join(ROOT, 'test', 'fixtures'), join(project, 'test', 'fixtures'));
  await copyFile(join(ROOT, 'example', 'retail-stack.ts'), join(project, 'lib', 'retail-stack.ts'));
  await writeFile(
    join(project, 'jest.config.js'),
    `const base = require(${JSON.stringify(join(ROOT, 'jest.config.js'))}).projects[0];
module.exports = {
  ...base,
  rootDir: ${JSON.stringify(project)},
  testMatch: ['<rootDir>/test/unit/*.test.ts'],
  moduleNameMapper: Object.fromEntries(
    Object.entries(base.moduleNameMapper).map(([k, v]) => [k, v.replace('<rootDir>', ${JSON.stringify(ROOT)})]),
  ),
  setupFiles: [${JSON.stringify(join(ROOT, 'test', 'setup-env.ts'))}],
};
`,
  );
  await writeFile(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.json'),
      include: ['functions/*.ts', 'test/unit/*.ts'],
      exclude: [],
    }),
  );
});

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

it('creates handlers and tests from every template that type-check, lint and pass their tests', async () => {
  // Given
  const names = { json: 'product-catalog', 'multi-job': 'order-totals', window: 'sales-per-store' };

  // When
  const results = [];
  for (const [template, name] of Object.entries(names)) {
    results.push((await runCli(['new', name, '--template', template, '--dir', project])).code);
  }

  // Then
  expect(results).toEqual([0, 0, 0]);
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
        {
          cwd: ROOT,
          input: source,
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'ignore'],
        },
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
  expect(jest.stderr).toMatch(/Test Suites: 3 passed, 3 total/);
});

it('inserts the source into lib/retail-stack.ts with --wire', async () => {
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
  const stack = await readFile(join(project, 'lib', 'retail-stack.ts'), 'utf8');
  expect({ code: result.code, wired: stack.includes("streamName: 'click-counts'") }).toEqual({
    code: 0,
    wired: true,
  });
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
