import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { bundleKplModuleCommand, KPL_MODULE_FILE, kplProtobufDir } from '../../lib/function-bundle';
import { kinesisEvent } from '../fixtures/kinesis-events';
import { kplAggregate } from '../fixtures/kpl';
import { sourceProps, synthPipeline } from './pipeline-fixtures';

const REPORT_RECORDS_ENTRY = join(
  __dirname,
  '..',
  'fixtures',
  'functions',
  'report-records-handler.ts',
);
const PROJECT_MODULES = join(__dirname, '..', '..', 'node_modules');

let scratch: string;
/** The function's asset directory as Lambda would unpack it: copied out of the project. */
let taskRoot: string;

beforeAll(() => {
  const { stack, template } = synthPipeline({
    sources: { events: sourceProps({ entry: REPORT_RECORDS_ENTRY }) },
  });
  const assembly = (stack.node.root as App).synth();
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
    Properties: { Code: { S3Key: string } };
  }[];
  const assetHash = fn?.Properties.Code.S3Key.replace(/\.zip$/, '');
  scratch = mkdtempSync(join(tmpdir(), 'driverless-bundle-'));
  taskRoot = join(scratch, 'task');
  cpSync(join(assembly.directory, `asset.${assetHash}`), taskRoot, { recursive: true });
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the function asset', () => {
  it('leaves KPL de-aggregation out of the bundle', () => {
    // Given
    const bundle = readFileSync(join(taskRoot, 'index.js'), 'utf8');

    // When / Then: protobufjs is what the KPL library weighs
    expect(bundle).not.toMatch(/protobuf/i);
    expect(readFileSync(join(taskRoot, KPL_MODULE_FILE), 'utf8')).toMatch(/protobuf/i);
  });

  it('leaves the tracer and the X-Ray SDK out of an untraced function', () => {
    // Given
    const bundle = readFileSync(join(taskRoot, 'index.js'), 'utf8');

    // Then: a message of the X-Ray SDK's Lambda support
    expect(bundle).not.toMatch(/Missing AWS Lambda trace data/);
  });

  it('de-aggregates a KPL record with only the AWS SDK beside it, as on Lambda', async () => {
    // Given: the runtime's SDK is the only package outside the asset (NODE_PATH, as on Lambda)
    const runtimeModules = join(scratch, 'runtime', 'node_modules');
    mkdirSync(runtimeModules, { recursive: true });
    symlinkSync(join(PROJECT_MODULES, '@aws-sdk'), join(runtimeModules, '@aws-sdk'));
    const event = kinesisEvent([
      { data: { n: 0 } },
      {
        raw: await kplAggregate([
          { partitionKey: 'a', data: { n: 1 } },
          { partitionKey: 'b', data: { n: 2 } },
        ]),
      },
    ]);
    const invoke = `
      const { handler } = require(${JSON.stringify(join(taskRoot, 'index.js'))});
      const context = { functionName: 'events', awsRequestId: 'r', getRemainingTimeInMillis: () => 60000 };
      handler(${JSON.stringify(event)}, context).then((response) =>
        require('node:fs').writeSync(3, JSON.stringify({ response, records: globalThis.reportedRecords })));`;

    // When
    const child = spawnSync(process.execPath, ['-e', invoke], {
      cwd: scratch,
      env: { PATH: process.env.PATH ?? '', NODE_PATH: runtimeModules, AWS_REGION: 'us-east-1' },
      // fd 3 carries the result; the runtime's log lines go to stdout.
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      encoding: 'utf8',
    });

    // Then
    expect(child.stderr).toBe('');
    expect(JSON.parse(String(child.output[3]))).toStrictEqual({
      response: { batchItemFailures: [] },
      records: [{ n: 0 }, { n: 1, subSequenceNumber: 0 }, { n: 2, subSequenceNumber: 1 }],
    });
  });
});

describe('the KPL module', () => {
  it('is bundled with a protobufjs outside the prototype-pollution advisory (fixed in 7.2.5)', () => {
    // Given: the copy the module's bundling is pointed at, whatever aws-kinesis-agg pins
    const command = bundleKplModuleCommand(scratch);
    const { version } = JSON.parse(
      readFileSync(join(kplProtobufDir(), 'package.json'), 'utf8'),
    ) as { version: string };
    const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);

    // Then
    expect(command).toContain(`--alias:protobufjs=${kplProtobufDir()}`);
    expect(major * 1e6 + minor * 1e3 + patch).toBeGreaterThanOrEqual(7_002_005);
  });
});
