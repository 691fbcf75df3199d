import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { App } from 'aws-cdk-lib';
import { kinesisEvent } from '../fixtures/kinesis-events';
import { sourceProps, synthPipeline } from './pipeline-fixtures';

const REPORT_RECORDS_ENTRY = join(
  __dirname,
  '..',
  'fixtures',
  'functions',
  'report-records-handler.ts',
);

let scratch: string;
let taskRoot: string;

beforeAll(() => {
  const { stack, template } = synthPipeline({
    tracing: true,
    sources: { events: sourceProps({ entry: REPORT_RECORDS_ENTRY }) },
  });
  const assembly = (stack.node.root as App).synth();
  const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
    Properties: { Code: { S3Key: string } };
  }[];
  scratch = mkdtempSync(join(tmpdir(), 'driverless-traced-'));
  taskRoot = join(scratch, 'task');
  const asset = `asset.${fn?.Properties.Code.S3Key.replace(/\.zip$/, '')}`;
  cpSync(join(assembly.directory, asset), taskRoot, { recursive: true });
});

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('a traced function carries the tracer and the X-Ray SDK in its bundle', () => {
  // Then: the message an untraced bundle must not contain (function-bundle.test.ts)
  expect(readFileSync(join(taskRoot, 'index.js'), 'utf8')).toMatch(/Missing AWS Lambda trace data/);
});

test('a traced function sends its batch to the X-Ray daemon from its asset alone, as on Lambda', async () => {
  // Given: a stand-in for the daemon Lambda runs beside a traced function
  const daemon = createSocket('udp4');
  const received: string[] = [];
  daemon.on('message', (message) => received.push(message.toString('utf8')));
  await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
  const invoke = `
    const { handler } = require(${JSON.stringify(join(taskRoot, 'index.js'))});
    const context = { functionName: 'events', memoryLimitInMB: '512', awsRequestId: 'r', getRemainingTimeInMillis: () => 60000 };
    handler(${JSON.stringify(kinesisEvent([{ data: { n: 1 } }]))}, context);`;

  // When: no node_modules reachable, only what the asset holds
  const exitCode = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['-e', invoke], {
      cwd: scratch,
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        LAMBDA_TASK_ROOT: taskRoot,
        AWS_LAMBDA_FUNCTION_NAME: 'events',
        AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${(daemon.address() as AddressInfo).port}`,
        _X_AMZN_TRACE_ID:
          'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1',
        DRIVERLESS_TRACING: 'true',
      },
      stdio: 'ignore',
    });
    child.on('exit', resolve);
  });
  const batchSent = () =>
    received.some((datagram) => datagram.includes('"name":"driverless batch"'));
  // Sent before the child exited, the datagram waits in the socket until the loop reads it.
  while (!batchSent()) await new Promise((resolve) => setTimeout(resolve, 5));
  daemon.close();

  // Then
  expect(exitCode).toBe(0);
});
