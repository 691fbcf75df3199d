import type { PackageManifest } from '../package-root';
// The feature flags `cdk init app --language typescript` writes into a new project's cdk.json
// (aws-cdk 2.1148.1). A test keeps this copy equal to the one in the repo's aws-cdk package.
import recommendedFeatureFlags from './recommended-feature-flags.json';

/** The stream, handler and sample every new project starts with. */
export const STARTER = {
  source: 'pageViews',
  stream: 'page-views',
  handler: 'functions/page-views.ts',
  sample: 'samples/page-views.ndjson',
  fixture: 'test/fixtures/page-views.ndjson',
} as const;

/**
 * The packages a new project installs, and how its version is written from the running
 * package's manifest: `^` for libraries, exact for the CDK CLI (as `cdk init` pins it), `~` for
 * TypeScript (whose minor releases change type checking).
 */
const PROJECT_PACKAGES = {
  dependencies: { 'aws-cdk-lib': '^', constructs: '^', zod: '^' },
  devDependencies: {
    '@swc/core': '^',
    '@swc/jest': '^',
    '@types/jest': '^',
    '@types/node': '^',
    'aws-cdk': '',
    jest: '^',
    tsx: '^',
    typescript: '~',
  },
} as const;

/**
 * The version of `name` to write: the running package's own pinned version (devDependencies,
 * then dependencies) with `prefix`, else its peer range as it is. Versions are taken from the
 * manifest, never invented, so they exist and (when the package was installed from a cache) are
 * in that cache too.
 */
export function versionOf(manifest: PackageManifest, name: string, prefix: string): string {
  const pinned = manifest.devDependencies?.[name] ?? manifest.dependencies?.[name];
  if (pinned !== undefined) return /^\d/.test(pinned) ? `${prefix}${pinned}` : pinned;
  const peer = manifest.peerDependencies?.[name];
  if (peer !== undefined) return peer;
  throw new Error(
    `the ${manifest.name} package names no version of ${name}: cannot write a project that needs it`,
  );
}

function sortedVersions(
  manifest: PackageManifest,
  packages: Readonly<Record<string, string>>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(packages)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, prefix]) => [name, versionOf(manifest, name, prefix)]),
  );
}

/** `page-views` → `PageViews`. */
export function pascalCase(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, char: string) => char.toUpperCase());
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

function packageJson(name: string, manifest: PackageManifest): string {
  return json({
    name,
    version: '0.1.0',
    private: true,
    scripts: {
      build: 'tsc',
      watch: 'tsc -w',
      start: `driverless run ${STARTER.handler} --file ${STARTER.sample}`,
      test: 'jest',
      synth: 'cdk synth -q',
      cdk: 'cdk',
    },
    dependencies: Object.fromEntries(
      Object.entries({
        ...sortedVersions(manifest, PROJECT_PACKAGES.dependencies),
        [manifest.name]: `^${manifest.version}`,
      }).sort(([a], [b]) => a.localeCompare(b)),
    ),
    devDependencies: sortedVersions(manifest, PROJECT_PACKAGES.devDependencies),
  });
}

function cdkJson(): string {
  return json({
    // tsc type-checks (it emits nothing), tsx runs the app: neither needs ts-node, which
    // TypeScript 7 (without a compiler API) cannot run.
    app: 'npx tsc && npx tsx bin/app.ts',
    watch: {
      include: ['**'],
      exclude: [
        'README.md',
        'cdk*.json',
        '**/*.d.ts',
        '**/*.js',
        'tsconfig.json',
        'package*.json',
        'yarn.lock',
        'node_modules',
        'test',
      ],
    },
    context: recommendedFeatureFlags,
  });
}

const TSCONFIG = json({
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['es2022'],
    declaration: true,
    strict: true,
    noImplicitAny: true,
    strictNullChecks: true,
    noImplicitThis: true,
    alwaysStrict: true,
    noUnusedLocals: false,
    noUnusedParameters: false,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: false,
    inlineSourceMap: true,
    inlineSources: true,
    experimentalDecorators: true,
    strictPropertyInitialization: false,
    skipLibCheck: true,
    typeRoots: ['./node_modules/@types'],
    noEmit: true,
    isolatedModules: true,
    types: ['jest', 'node'],
  },
  exclude: ['node_modules', 'cdk.out'],
});

const JEST_CONFIG = `// @swc/jest strips types without the TypeScript compiler API, so tests run with any TypeScript
// version (ts-jest needs that API, which TypeScript 7 does not have). \`npm run build\` type-checks.
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\\\.tsx?$': ['@swc/jest'],
  },
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
};
`;

const GITIGNORE = `*.js
!jest.config.js
*.d.ts
node_modules

# CDK asset staging directory
.cdk.staging
cdk.out

# driverless run: local state and dead letters
.driverless
*.dead-letters.ndjson
`;

function binApp(stackClass: string, stackFile: string, stackId: string): string {
  return `#!/usr/bin/env node
import * as cdk from 'aws-cdk-lib/core';
import { ${stackClass} } from '../lib/${stackFile}';

const app = new cdk.App();
new ${stackClass}(app, '${stackId}', {
  /* Without \`env\` the stack is environment-agnostic: one template deploys anywhere. To pin it to
   * the account and region of the current CLI configuration, uncomment the next line.
   * See https://docs.aws.amazon.com/cdk/latest/guide/environments.html */
  // env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
`;
}

function stack(stackClass: string, packageName: string): string {
  return `import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib/core';
import type { Construct } from 'constructs';
import { MicroBatchPipeline } from '${packageName}';

/**
 * The pipeline: a Kinesis stream of page views, read in micro-batches by the page-views function.
 * Add sources with \`npx driverless new <name> --template json --wire\`.
 */
export class ${stackClass} extends cdk.Stack {
  readonly pipeline: MicroBatchPipeline;

  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    this.pipeline = new MicroBatchPipeline(this, 'Pipeline', {
      sources: {
        ${STARTER.source}: {
          // A fixed name, so \`driverless put --stream ${STARTER.stream}\` and the AWS CLI find it: the
          // stream goes with the stack, or a retained one would block the next deploy of that name.
          // For production, keep the default (RETAIN) and drop the name.
          stream: {
            shardCount: 1,
            streamName: '${STARTER.stream}',
            removalPolicy: cdk.RemovalPolicy.DESTROY,
          },
          entry: path.join(__dirname, '..', 'functions', 'page-views.ts'),
          // The handler's jobs, for the dashboard's per-job widgets.
          jobs: ['report'],
        },
      },
    });
  }
}
`;
}

function handler(packageName: string): string {
  return `/**
 * Page views → views per page, per batch.
 *
 * Records that fail the schema go to the pipeline's dead-letter queue with the reason; the others
 * are grouped once (the \`viewsByPage\` stage) and the \`report\` job logs each batch's counts. Replace
 * the report with a write to your store, or add a source that writes to DynamoDB with
 * \`npx driverless new <name> --template json --wire\`.
 */
import { microBatch, json, type StreamRecord } from '${packageName}/runtime';
// zod/mini: the schemas of zod at a fraction of its bundle size, which keeps cold starts short.
import * as z from 'zod/mini';

/** One page view; anything else is dead-lettered. */
export const PageView = z.object({
  page: z.string().check(z.minLength(1)),
  userId: z.string().check(z.minLength(1)),
  at: z.iso.datetime(),
});
export type PageView = z.infer<typeof PageView>;

/** The stage: how many views each page got in the batch, in order of first view. */
export function viewsByPage(
  records: readonly Pick<StreamRecord<PageView>, 'data'>[],
): Record<string, number> {
  const views: Record<string, number> = {};
  for (const { data } of records) views[data.page] = (views[data.page] ?? 0) + 1;
  return views;
}

export const handler = microBatch({
  decode: json(PageView),
  stages: { viewsByPage },
  jobs: {
    report: async ({ viewsByPage }, { shardId }) => {
      // One line per batch; Logs Insights can \`parse\` the JSON after the colon to sum batches.
      console.log(\`views per page on \${shardId}: \${JSON.stringify(viewsByPage)}\`);
    },
  },
});
`;
}

function handlerTest(packageName: string): string {
  return `import { invoke, kinesisEvent } from '${packageName}/testing';
// First: the handler reads its environment when loaded, as on Lambda.
import './handler-environment';
import { handler, viewsByPage } from '../../functions/page-views';

const view = (page: string, userId = 'u1') => ({ page, userId, at: '2026-11-23T19:00:00.000Z' });

/** The counts the handler logged, one object per batch. */
function reported(log: jest.SpyInstance): unknown[] {
  return log.mock.calls.map(([line]) =>
    JSON.parse(String(line).replace(/^views per page on [^:]+: /, '')),
  );
}

describe('page-views', () => {
  afterEach(() => jest.restoreAllMocks());

  it('counts the views of each page in a batch', () => {
    // Given
    const records = [view('/home'), view('/cart'), view('/home', 'u2')].map((data) => ({ data }));

    // When
    const views = viewsByPage(records);

    // Then
    expect(views).toStrictEqual({ '/home': 2, '/cart': 1 });
  });

  it('reports the batch and answers with no failed record', async () => {
    // Given
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const event = kinesisEvent([{ data: view('/home') }, { data: view('/home') }]);

    // When
    const { response } = await invoke(handler, event);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(log.mock.calls).toStrictEqual([['views per page on shardId-000000000000: {"/home":2}']]);
  });

  it('dead-letters a view that fails the schema and reports the others', async () => {
    // Given: the second view has no user
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const event = kinesisEvent([
      { data: view('/home') },
      { data: { page: '/cart', at: '2026-11-23T19:00:00.000Z' } },
    ]);

    // When
    const { response, deadLetters } = await invoke(handler, event);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(reported(log)).toStrictEqual([{ '/home': 1 }]);
    expect(deadLetters).toStrictEqual([
      expect.objectContaining({ reason: expect.stringContaining('schema: userId') }),
    ]);
  });
});
`;
}

/** Set before the handler is imported by the unit test. */
function handlerEnvironment(packageName: string): string {
  return `import { setHandlerEnvironment } from '${packageName}/testing';

/**
 * The handler's environment in unit tests, set when this module loads: import it before the
 * handler. Dead letters go to a local file that \`invoke\` reads, instead of the queue the
 * pipeline gives the function.
 */
setHandlerEnvironment();
`;
}

/** The whole pipeline on this machine: the CDK app synthesized and run on the embedded stack. */
function pipelineTest(packageName: string): string {
  return `/**
 * The pipeline as deployed, on this machine: the CDK app is synthesized and run on Driverless's
 * embedded stack (Kinesis, DynamoDB, SQS and S3 servers, the function in its own process, the
 * event source mapping); records go in with PutRecords, and the results come out of the real
 * dead-letter queue and the function's logs.
 */
import { type LocalPipeline, startLocal } from '${packageName}/testing';

const view = (page: string, userId?: string) => ({ page, userId, at: '2026-11-23T19:00:00.000Z' });

describe('the ${STARTER.source} pipeline', () => {
  let local: LocalPipeline;

  // Synthesis bundles the function with esbuild: allow it time.
  beforeAll(async () => {
    local = await startLocal({ app: '.' });
  }, 120_000);

  // Also when a test fails: no server or function process outlives the tests.
  afterAll(() => local?.stop());

  it('reports the valid views and dead-letters the one without a user', async () => {
    // Given
    await local.put('${STARTER.source}', [
      { data: view('/home', 'u1') },
      { data: view('/cart') },
      { data: view('/home', 'u2') },
    ]);

    // When
    await local.drained({ timeoutMs: 30_000 });

    // Then
    // The handler logs each batch's counts; the records may come in one batch or several.
    const views: Record<string, number> = {};
    for (const { logs } of local.invocations('${STARTER.source}')) {
      for (const line of logs.filter((text) => text.includes('views per page on '))) {
        const counts = JSON.parse(line.slice(line.indexOf('{'))) as Record<string, number>;
        for (const [page, n] of Object.entries(counts)) views[page] = (views[page] ?? 0) + n;
      }
    }
    expect(views).toStrictEqual({ '/home': 2 });
    const letters = await local.deadLetters('${STARTER.source}');
    expect(letters.map((letter) => letter.reason)).toStrictEqual([
      expect.stringContaining('schema: userId'),
    ]);
  }, 60_000);
});
`;
}

function integrationTest(packageName: string): string {
  return `/**
 * The handler run as the pipeline runs it, on this machine: \`driverless run\` invokes it with
 * Kinesis events built from an NDJSON file, in micro-batches, with partial-batch retries, and
 * writes dead letters to a local file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** The driverless CLI of this project's node_modules, run with this Node.js. */
function driverless(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const manifest = require.resolve('${packageName}/package.json');
  const { bin } = require(manifest) as { bin: Record<string, string> };
  const cli = join(dirname(manifest), bin['${packageName}'] as string);
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: ROOT }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('page-views run locally over a file', () => {
  let scratch: string;

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'page-views-'));
  });

  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('reports every valid view and dead-letters the one without a user', async () => {
    // Given
    const deadLetters = join(scratch, 'dead-letters.ndjson');

    // When
    const result = await driverless([
      'run',
      '${STARTER.handler}',
      '--file',
      '${STARTER.fixture}',
      '--dead-letters',
      deadLetters,
      '--allow-dead-letters',
      '--json',
    ]);

    // Then
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\\n').at(-1) as string);
    expect(summary).toMatchObject({ records: 5, deadLettered: 1, failed: 0 });
    // The handler's logs go to stderr; stdout carries the summary.
    const reports = result.stderr
      .split('\\n')
      .filter((line) => line.startsWith('views per page on '))
      .map((line) => JSON.parse(line.slice(line.indexOf(': ') + 2)));
    expect(reports).toStrictEqual([{ '/home': 2, '/cart': 1, '/checkout': 1 }]);
    const letters = readFileSync(deadLetters, 'utf8').trim().split('\\n');
    expect(letters.map((line) => JSON.parse(line).reason)).toStrictEqual([
      expect.stringContaining('schema: userId'),
    ]);
    // A budget for starting a Node.js process that loads the CLI and bundles the handler.
  }, 60_000);
});
`;
}

function stackTest(stackClass: string, stackFile: string): string {
  return `import * as cdk from 'aws-cdk-lib/core';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ${stackClass} } from '../lib/${stackFile}';

// One synthesis for every test: it bundles the function with esbuild.
const stack = new ${stackClass}(new cdk.App(), 'TestStack');
const template = Template.fromStack(stack);

test('synthesizes without warnings', () => {
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue());
  expect(warnings.map((w) => \`\${w.id}: \${w.entry.data}\`)).toStrictEqual([]);
});

test('creates the ${STARTER.stream} stream', () => {
  template.hasResourceProperties('AWS::Kinesis::Stream', { Name: '${STARTER.stream}', ShardCount: 1 });
});

test('maps the stream to the function with partial batch responses and an on-failure queue', () => {
  template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
  });
});
`;
}

const SAMPLE_PAGES = [
  '/home',
  '/products/42',
  '/home',
  '/cart',
  '/products/7',
  '/home',
  '/checkout',
];

/** A few minutes of views: what `npm start` runs the handler over. */
function sample(): string {
  return SAMPLE_PAGES.map((page, index) => {
    const at = new Date(Date.UTC(2026, 10, 23, 19, 0, index * 20)).toISOString();
    const userId = `user-${String(index % 3).padStart(3, '0')}`;
    return `${JSON.stringify({ data: { page, userId, at }, partitionKey: userId })}\n`;
  }).join('');
}

/** The integration test's input: four views and one without a user. */
const FIXTURE = [
  { page: '/home', userId: 'u1', at: '2026-11-23T19:00:00.000Z' },
  { page: '/cart', userId: 'u1', at: '2026-11-23T19:00:05.000Z' },
  { page: '/home', userId: 'u2', at: '2026-11-23T19:00:09.000Z' },
  { page: '/checkout', at: '2026-11-23T19:00:12.000Z' },
  { page: '/checkout', userId: 'u1', at: '2026-11-23T19:00:15.000Z' },
]
  .map((data) => `${JSON.stringify({ data })}\n`)
  .join('');

function readme(name: string, stackClass: string, stackFile: string, stackId: string): string {
  return `# ${name}

A stream pipeline on AWS built with [Driverless](https://www.npmjs.com/package/driverless): a
Kinesis stream of page views, read in micro-batches by a Lambda function.

| Path | What it is |
|---|---|
| \`bin/app.ts\` | the CDK app: creates \`${stackId}\` |
| \`lib/${stackFile}.ts\` | \`${stackClass}\`: the \`MicroBatchPipeline\` and its \`${STARTER.source}\` source |
| \`${STARTER.handler}\` | the handler: decodes views, counts them per page, reports each batch |
| \`${STARTER.sample}\` | sample records for \`npm start\` |
| \`test/unit/\` | the handler's unit test |
| \`test/integration/\` | the handler run over \`${STARTER.fixture}\` with \`driverless run\`, and the whole pipeline on the local stack with \`startLocal\` |
| \`test/${stackFile}.test.ts\` | the stack's test |

## Commands

* \`npm start\`: run the handler over \`${STARTER.sample}\` as the pipeline would (no AWS account needed)
* \`npm test\`: the unit, integration and stack tests
* \`npm run build\`: type-check the project
* \`npx cdk synth\`: synthesize the CloudFormation template
* \`npx cdk deploy\`: deploy the stack to your default AWS account and region

## Next steps

* Add a source that writes to DynamoDB: \`npx driverless new product-catalog --template json --wire\`
  (templates: \`json\`, \`multi-job\`, \`window\`; \`npx driverless new --help\`).
* Run a handler over a stream you deployed: \`npx driverless run ${STARTER.handler} --stream ${STARTER.stream} --from -1h\`.
* Replay dead-lettered records after a fix: \`npx driverless redrive --help\`.

Node.js 22 or later.
`;
}

/** Options of {@link projectFiles}. */
export interface ProjectFilesOptions {
  /** The project's name: kebab-case, used for package.json, the stack and its file. */
  readonly name: string;
  /** The running `driverless` package's manifest: its name, version and dependency versions. */
  readonly manifest: PackageManifest;
}

/** Every file of a new project, by its path relative to the project root. */
export function projectFiles({ name, manifest }: ProjectFilesOptions): Record<string, string> {
  const stackClass = `${pascalCase(name)}Stack`;
  const stackFile = `${name}-stack`;
  const packageName = manifest.name;
  return {
    'package.json': packageJson(name, manifest),
    'cdk.json': cdkJson(),
    'tsconfig.json': TSCONFIG,
    'jest.config.js': JEST_CONFIG,
    '.gitignore': GITIGNORE,
    'README.md': readme(name, stackClass, stackFile, stackClass),
    'bin/app.ts': binApp(stackClass, stackFile, stackClass),
    [`lib/${stackFile}.ts`]: stack(stackClass, packageName),
    [STARTER.handler]: handler(packageName),
    [STARTER.sample]: sample(),
    [STARTER.fixture]: FIXTURE,
    'test/unit/handler-environment.ts': handlerEnvironment(packageName),
    'test/unit/page-views.test.ts': handlerTest(packageName),
    'test/integration/page-views.test.ts': integrationTest(packageName),
    'test/integration/pipeline.test.ts': pipelineTest(packageName),
    [`test/${stackFile}.test.ts`]: stackTest(stackClass, stackFile),
  };
}
