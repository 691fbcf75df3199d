/**
 * `driverless dev` in a user's project (a `driverless init` app against these sources): records
 * put by the user's own client are processed and accounted for, and a change to the handler is
 * published as a new version while records flow, with none lost.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { kinesisClient, lambdaClient, type StackState } from '../../emulator/index';
import { type DevProcess, startDev } from '../fixtures/dev-app/dev-process';
import { type DevApp, makeDevApp } from '../fixtures/dev-app/make-dev-app';

const ROOT = join(__dirname, '..', '..');
const RECORDS = 40;
let app: DevApp;
let dev: DevProcess;
let exitCode: number;
let stateWhileRunning: StackState & { pid: number };
let stateMode: number;
let versionAfterChange: string | undefined;

async function putViews(state: StackState, from: number, count: number): Promise<void> {
  const stream = Object.values(state.streams)[0]?.name as string;
  await kinesisClient(state.endpoints.kinesis).send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: Array.from({ length: count }, (_, i) => ({
        PartitionKey: `user-${from + i}`,
        Data: Buffer.from(
          JSON.stringify({
            page: `/p/${(from + i) % 3}`,
            userId: `u${from + i}`,
            at: new Date().toISOString(),
          }),
        ),
      })),
    }),
  );
}

beforeAll(async () => {
  // Given: a session waiting for RECORDS records, in watch mode
  app = await makeDevApp(join(ROOT, '.driverless', `dev-test-${process.pid}`));
  dev = startDev(app.dir, ['--records', String(RECORDS), '--timeout', '60']);
  await dev.waitForStderr(/› running/);
  const statePath = join(app.dir, '.driverless', 'local.json');
  stateWhileRunning = JSON.parse(readFileSync(statePath, 'utf8'));
  stateMode = statSync(statePath).mode & 0o777;

  // When: half the records are put, the handler changes, then the other half is put
  await putViews(stateWhileRunning, 0, RECORDS / 2);
  const source = await readFile(app.handler, 'utf8');
  await writeFile(app.handler, source.replace('views per page on', 'page views (v2) on'));
  await dev.waitForStderr(/published .* v2/);
  const fn = Object.values(stateWhileRunning.functions)[0]?.name as string;
  const invoked = await lambdaClient(stateWhileRunning.endpoints.lambda).send(
    new InvokeCommand({
      FunctionName: fn,
      Qualifier: 'live',
      Payload: JSON.stringify({ Records: [] }),
    }),
  );
  versionAfterChange = invoked.ExecutedVersion;
  await putViews(stateWhileRunning, RECORDS / 2, RECORDS / 2);
  exitCode = await dev.exited;
});

afterAll(async () => {
  if (dev.child.exitCode === null) dev.child.kill('SIGTERM');
  await app.remove();
});

it('accounts for every record put before and after the change, and exits 0', () => {
  expect(exitCode).toBe(0);
  expect(dev.stdout).toContain(`${RECORDS} records put; every record accounted for`);
});

it('publishes the changed handler as version 2, which the live alias runs', () => {
  expect(versionAfterChange).toBe('2');
  expect(dev.stdout).toMatch(/code published while running: \S+ v2/);
});

it("writes the stack's endpoints to a state file only its owner reads, and removes it on exit", () => {
  expect(stateMode).toBe(0o600);
  expect(stateWhileRunning.pid).toBe(dev.child.pid);
  expect(existsSync(join(app.dir, '.driverless', 'local.json'))).toBe(false);
});
