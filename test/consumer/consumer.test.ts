/**
 * Driverless installed as a user installs it: `npm pack`, a project made by `cdk init app
 * --language typescript` (the repository's aws-cdk CLI with its defaults: NodeNext, TypeScript 7,
 * jest with @swc/jest, an app run by tsx) plus a pipeline and a handler, the tarball installed
 * offline from the npm cache. Then the project's own commands: tsc, cdk synth, jest, and the
 * `driverless` CLI; a second project on the oldest aws-cdk-lib the peer range allows; and a project
 * made by `driverless init`, whose own `npm test` (unit tests with `driverless/testing`, and its
 * whole pipeline on the embedded stack with `startLocal`), `npm start` and `cdk synth` must pass.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { consumerLock, type RepositoryLock } from './consumer-lock';

// `testTimeout` is global-only in jest: each step here is a real npm, tsc, cdk or jest process.
jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '..', '..');
/** Files added to (or replacing those of) the `cdk init` project. */
const APP_FILES = join(__dirname, 'app');
/** The project folder name: `cdk init` names the app, stack and test after it. */
const PROJECT = 'consumer-app';
/** The project `driverless init` makes. */
const INIT_PROJECT = 'init-app';

const OFFLINE_ENV = {
  CDK_DISABLE_CLI_TELEMETRY: 'true',
  CDK_DISABLE_VERSION_CHECK: '1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], cwd: string): Promise<Result> {
  return new Promise((done) => {
    execFile(
      command,
      [...args],
      {
        cwd,
        env: { ...process.env, ...OFFLINE_ENV },
        maxBuffer: 64 * 1024 * 1024,
        shell: process.platform === 'win32',
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Runs a command that must succeed; a failure carries its whole output. */
async function ok(command: string, args: readonly string[], cwd: string): Promise<Result> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) {
    throw new Error(
      `\`${command} ${args.join(' ')}\` exited ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  bin?: Record<string, string>;
  engines?: Record<string, string>;
  overrides?: Record<string, Record<string, string>>;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The repository workspace that installs the oldest aws-cdk-lib of the peer range. */
const FLOOR_WORKSPACE = 'tools/cdk-floor';

/** The aws-cdk-lib version a (workspace) package.json pins. */
function awsCdkLibOf(dir: string): string {
  const version = readJson<Manifest>(join(dir, 'package.json')).dependencies?.['aws-cdk-lib'];
  if (!version) throw new Error(`${dir}/package.json pins no aws-cdk-lib`);
  return version;
}

let work: string;
let tarball: string;
/** The consumer on the newest aws-cdk-lib (the repository's) and the one on the peer floor. */
let latestDir: string;
let floorDir: string;
/** The project `driverless init` made. */
let initDir: string;
let floor: string;
let registry: string;

/**
 * `cdk init app --language typescript` in `<work>/<variant>/consumer-app`, the app files copied
 * over it, Driverless added from the tarball and everything installed offline. With `workspace`,
 * aws-cdk-lib is pinned to the version that repository workspace installs.
 */
async function createProject(variant: string, workspace?: string): Promise<string> {
  const dir = join(work, variant, PROJECT);
  mkdirSync(dir, { recursive: true });
  await ok(
    join(ROOT, 'node_modules', '.bin', 'cdk'),
    ['init', 'app', '--language', 'typescript', '--generate-only', '--no-notices'],
    dir,
  );
  cpSync(APP_FILES, dir, { recursive: true, force: true });
  await installTarball(dir, workspace);
  return dir;
}

/**
 * Points the project's `driverless` dependency at the tarball (and, with `workspace`, aws-cdk-lib at
 * the version that repository workspace installs), writes its lock from the repository's, and
 * installs everything offline.
 */
async function installTarball(dir: string, workspace?: string): Promise<void> {
  const manifest = readJson<Manifest>(join(dir, 'package.json'));
  manifest.dependencies = {
    ...manifest.dependencies,
    driverless: `file:${relative(dir, tarball)}`,
    ...(workspace ? { 'aws-cdk-lib': awsCdkLibOf(join(ROOT, workspace)) } : {}),
  };
  // aws-kinesis-agg pins protobufjs 7.2.4; the repository overrides it with the fixed version
  // Driverless depends on, so only that one is in the offline cache. A user's online install gets
  // 7.2.4 beside it, unused: the KPL module is bundled with Driverless's own protobufjs.
  manifest.overrides = {
    'aws-kinesis-agg': {
      protobufjs: readJson<Manifest>(join(ROOT, 'package.json')).dependencies?.protobufjs ?? '',
    },
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const packed = readJson<Manifest>(join(ROOT, 'package.json'));
  const lock = consumerLock(readJson<RepositoryLock>(join(ROOT, 'package-lock.json')), {
    manifest,
    registry,
    ...(workspace ? { base: workspace } : {}),
    local: {
      driverless: {
        version: packed.version,
        resolved: `file:${relative(dir, tarball)}`,
        license: 'Apache-2.0',
        dependencies: packed.dependencies,
        peerDependencies: packed.peerDependencies,
        bin: packed.bin,
        engines: packed.engines,
      },
    },
  });
  writeFileSync(join(dir, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
  await ok('npm', ['install', '--offline', '--no-audit', '--no-fund'], dir);
}

/** `driverless init` (the packed CLI's build), then the tarball installed offline. */
async function createInitProject(): Promise<string> {
  const parent = join(work, 'init');
  mkdirSync(parent, { recursive: true });
  const dir = join(parent, INIT_PROJECT);
  await ok('node', [join(ROOT, 'dist', 'cli.cjs'), 'init', dir], parent);
  await installTarball(dir);
  return dir;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'driverless-consumer-'));
  // `npm pack` runs `prepack`, so the tarball holds a fresh build of this checkout.
  const pack = await ok('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string }[];
  if (!info) throw new Error(`npm pack printed no file:\n${pack.stdout}`);
  tarball = join(work, info.filename);
  registry = (await ok('npm', ['config', 'get', 'registry'], ROOT)).stdout.trim();
  floor = awsCdkLibOf(join(ROOT, FLOOR_WORKSPACE));
  // Created together: installing is mostly waiting on the disk.
  [latestDir, floorDir, initDir] = await Promise.all([
    createProject('latest'),
    createProject('floor', FLOOR_WORKSPACE),
    createInitProject(),
  ]);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a cdk init app with Driverless installed from the tarball', () => {
  let dir: string;

  beforeAll(() => {
    dir = latestDir;
  });

  it('type-checks with the project tsconfig', async () => {
    // When
    const result = await run('npx', ['tsc', '--noEmit'], dir);

    // Then
    expect({ code: result.code, errors: result.stdout }).toStrictEqual({ code: 0, errors: '' });
  });

  it.each(['nodenext', 'bundler'])(
    'type-checks the public API under strict consumer settings (%s resolution)',
    async (resolution) => {
      // When
      const result = await run('npx', ['tsc', '-p', `types/tsconfig.${resolution}.json`], dir);

      // Then: no error in Driverless's declarations or in the consumer's file. Other packages'
      // declarations are checked too (skipLibCheck off, so ours are) and some fail these settings
      // (aws-cdk-lib under exactOptionalPropertyTypes), which is theirs to fix.
      const ours = result.stdout
        .split('\n')
        .filter((line) => /^\S.*error TS/.test(line))
        .filter(
          (line) =>
            !line.startsWith('node_modules/') || line.startsWith('node_modules/driverless/'),
        );
      expect(ours).toStrictEqual([]);
    },
  );

  it('synthesizes with the project cdk.json command, quietly', async () => {
    // When
    const result = await run('npx', ['cdk', 'synth', '-q', '--no-notices'], dir);

    // Then: aws-cdk-lib's own "Bundling asset" line is all it prints (no esbuild size report).
    const noise = `${result.stdout}${result.stderr}`
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('Bundling asset '));
    expect({ code: result.code, noise }).toStrictEqual({ code: 0, noise: [] });
    expect(
      readJson<{ Resources: object }>(join(dir, 'cdk.out', 'ConsumerAppStack.template.json')),
    ).toHaveProperty('Resources');
  });

  it('passes its own unit test', async () => {
    // When
    const result = await run('npx', ['jest'], dir);

    // Then
    expect({ code: result.code, summary: result.stderr.match(/Tests:.*/)?.[0] }).toStrictEqual({
      code: 0,
      summary: 'Tests:       1 passed, 1 total',
    });
  });

  it('runs the compiled CLI', async () => {
    // When
    const result = await run('npx', ['driverless', '--help'], dir);

    // Then
    expect({ code: result.code, usage: result.stdout.split('\n')[0] }).toStrictEqual({
      code: 0,
      usage: 'Usage: driverless [options] [command]',
    });
  });

  it('runs the TypeScript handler over a file with `driverless run`', async () => {
    // When
    const result = await run(
      'npx',
      ['driverless', 'run', 'functions/orders.ts', '--file', 'orders.ndjson', '--json'],
      dir,
    );

    // Then
    const summary = JSON.parse(result.stdout.trimEnd().split('\n').at(-1) ?? '{}') as object;
    expect({ code: result.code, summary }).toMatchObject({
      code: 0,
      summary: { records: 2, processed: 2, deadLettered: 0, failed: 0 },
    });
  });

  it.each([
    ['require', ['node', '-e', "console.log(typeof require('driverless/runtime').microBatch)"]],
    [
      'import',
      [
        'node',
        '--input-type=module',
        '-e',
        "const { microBatch } = await import('driverless/runtime'); console.log(typeof microBatch)",
      ],
    ],
    [
      'tsx',
      [
        'npx',
        'tsx',
        '-e',
        "import { microBatch } from 'driverless/runtime'; console.log(typeof microBatch)",
      ],
    ],
    [
      'require testing',
      ['node', '-e', "console.log(typeof require('driverless/testing').startLocal)"],
    ],
    [
      'import testing',
      [
        'node',
        '--input-type=module',
        '-e',
        "const { invoke } = await import('driverless/testing'); console.log(typeof invoke)",
      ],
    ],
    [
      'require constructs',
      ['node', '-e', "console.log(typeof require('driverless').MicroBatchPipeline)"],
    ],
    [
      'import constructs',
      [
        'node',
        '--input-type=module',
        '-e',
        "const { MicroBatchPipeline } = await import('driverless'); console.log(typeof MicroBatchPipeline)",
      ],
    ],
  ])('loads with %s', async (_how, [command, ...args]) => {
    // When
    const result = await run(command as string, args, dir);

    // Then
    expect({ code: result.code, stdout: result.stdout.trim() }).toStrictEqual({
      code: 0,
      stdout: 'function',
    });
  });
});

describe('a cdk init app on the oldest aws-cdk-lib of the peer range', () => {
  let dir: string;

  beforeAll(() => {
    dir = floorDir;
  });

  it('has exactly one aws-cdk-lib in its tree', async () => {
    // When
    const result = await run('npm', ['ls', 'aws-cdk-lib', '--all', '--parseable', '--long'], dir);

    // Then
    const copies = result.stdout
      .trim()
      .split('\n')
      .filter((line) => /[/\\]node_modules[/\\]aws-cdk-lib:/.test(line));
    expect(copies).toStrictEqual([
      `${join(dir, 'node_modules', 'aws-cdk-lib')}:aws-cdk-lib@${floor}`,
    ]);
  });

  it('synthesizes with the project cdk.json command', async () => {
    // When
    const result = await run('npx', ['cdk', 'synth', '-q', '--no-notices'], dir);

    // Then
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toStrictEqual({
      code: 0,
      stderr: '',
    });
  });
});

describe('a project made by `driverless init`, with Driverless installed from the tarball', () => {
  it.each([
    ['npm test', ['npm', 'test']],
    ['npm start', ['npm', 'start']],
    ['cdk synth', ['npx', 'cdk', 'synth', '-q', '--no-notices']],
  ])('passes %s offline', async (_what, [command, ...args]) => {
    // When
    const result = await run(command as string, args, initDir);

    // Then
    expect({
      code: result.code,
      output: result.code === 0 ? '' : result.stdout + result.stderr,
    }).toStrictEqual({
      code: 0,
      output: '',
    });
  });
});
