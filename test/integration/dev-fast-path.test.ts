/**
 * `driverless dev`'s fast path in a user's project: a handler edit is rebuilt with esbuild and
 * published without running the app (records keep flowing, none lost); a stack edit still goes
 * through the synth, and does not publish the handler again.
 */
import { readFileSync } from 'node:fs';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { kinesisClient, lambdaClient, type StackState } from '../../emulator/index';
import { type DevProcess, startDev } from '../fixtures/dev-app/dev-process';
import { type DevApp, makeDevApp } from '../fixtures/dev-app/make-dev-app';

const ROOT = join(__dirname, '..', '..');
const RECORDS = 40;
/** A file the app appends to each time it runs (a dot file: watch mode never sees it). */
const SYNTH_LOG = '.synths';
let app: DevApp;
let dev: DevProcess;
let exitCode: number;
let synthsAfterHandlerEdit: number;
let synthsAfterStackEdit: number;
let versionAfterHandlerEdit: string | undefined;

const synths = () => readFileSync(join(app.dir, SYNTH_LOG), 'utf8').split('\n').length - 1;

async function putViews(state: StackState, from: number, count: number): Promise<void> {
  const stream = Object.values(state.streams)[0]?.name as string;
  await kinesisClient(state.endpoints.kinesis).send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: Array.from({ length: count }, (_, i) => ({
        PartitionKey: `user-${from + i}`,
        Data: Buffer.from(
          JSON.stringify({ page: `/p/${(from + i) % 3}`, userId: `u${from + i}`, at: new Date() }),
        ),
      })),
    }),
  );
}

beforeAll(async () => {
  // Given: a session waiting for RECORDS records, in watch mode, in an app that logs its runs
  app = await makeDevApp(join(ROOT, '.driverless', `dev-fast-test-${process.pid}`));
  const binApp = join(app.dir, 'bin', 'app.ts');
  const source = await readFile(binApp, 'utf8');
  await writeFile(
    binApp,
    source.replace(
      "import * as cdk from 'aws-cdk-lib/core';",
      `import * as cdk from 'aws-cdk-lib/core';\nimport { appendFileSync } from 'node:fs';\nappendFileSync('${SYNTH_LOG}', 'synth\\n');`,
    ),
  );
  dev = startDev(app.dir, ['--records', String(RECORDS), '--timeout', '90']);
  await dev.waitForStderr(/› running/);
  const state: StackState = JSON.parse(
    readFileSync(join(app.dir, '.driverless', 'local.json'), 'utf8'),
  );

  // When: half the records are put and the handler changes
  await putViews(state, 0, RECORDS / 2);
  const handler = await readFile(app.handler, 'utf8');
  await writeFile(app.handler, handler.replace('views per page on', 'page views (v2) on'));
  await dev.waitForStderr(/published .* v2/);
  synthsAfterHandlerEdit = synths();
  const fn = Object.values(state.functions)[0]?.name as string;
  const invoked = await lambdaClient(state.endpoints.lambda).send(
    new InvokeCommand({ FunctionName: fn, Qualifier: 'live', Payload: '{"Records":[]}' }),
  );
  versionAfterHandlerEdit = invoked.ExecutedVersion;

  // And then: the stack file changes (a comment), then the other half is put
  await appendFile(join(app.dir, 'lib', 'click-pipeline-stack.ts'), '\n// reviewed\n');
  await dev.waitForStderr(/no function code changed|published .* v3|synth failed/);
  synthsAfterStackEdit = synths();
  await putViews(state, RECORDS / 2, RECORDS / 2);
  exitCode = await dev.exited;
});

afterAll(async () => {
  if (dev.child.exitCode === null) dev.child.kill('SIGTERM');
  await app.remove();
});

it('publishes a handler edit as version 2 without running the app', () => {
  expect(synthsAfterHandlerEdit).toBe(1);
  expect(versionAfterHandlerEdit).toBe('2');
});

it('accounts for every record put before and after the edits, and exits 0', () => {
  expect(exitCode).toBe(0);
  expect(dev.stdout).toContain(`${RECORDS} records put; every record accounted for`);
});

it('synthesizes for a stack edit, and does not publish the unchanged handler again', () => {
  expect(synthsAfterStackEdit).toBe(2);
  expect(dev.stderr).toMatch(/no function code changed/);
});
