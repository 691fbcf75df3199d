/**
 * `driverless dev` in a user's project when a stack edit adds a source (stream, function, event
 * source mapping): the new source is created and runs beside the rest, its records are
 * processed, and a resource the same edit changes is named as needing a restart, not ignored.
 */
import { readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient, type StackState } from '../../emulator/index';
import { type DevProcess, startDev } from '../fixtures/dev-app/dev-process';
import { type DevApp, makeDevApp } from '../fixtures/dev-app/make-dev-app';

const ROOT = join(__dirname, '..', '..');
const RECORDS = 40;
/** The source the edit adds, with a stream name of its own. */
const NEW_STREAM = 'clicks';
let app: DevApp;
let dev: DevProcess;
let exitCode: number;

async function put(state: StackState, stream: string, from: number, count: number) {
  await kinesisClient(state.endpoints.kinesis).send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: Array.from({ length: count }, (_, i) => ({
        PartitionKey: `user-${from + i}`,
        Data: Buffer.from(
          JSON.stringify({ page: `/p/${i % 3}`, userId: `u${from + i}`, at: new Date() }),
        ),
      })),
    }),
  );
}

beforeAll(async () => {
  // Given: a session waiting for RECORDS records, in watch mode, half of them put on the
  // project's own stream
  app = await makeDevApp(join(ROOT, '.driverless', `dev-add-test-${process.pid}`));
  dev = startDev(app.dir, ['--records', String(RECORDS), '--timeout', '90']);
  await dev.waitForStderr(/› running/);
  const state: StackState = JSON.parse(
    readFileSync(join(app.dir, '.driverless', 'local.json'), 'utf8'),
  );
  const ownStream = Object.values(state.streams)[0]?.name as string;
  await put(state, ownStream, 0, RECORDS / 2);

  // When: one stack edit adds a source on a new stream and changes the first stream's shard count
  const stackFile = join(app.dir, 'lib', 'click-pipeline-stack.ts');
  const source = await readFile(stackFile, 'utf8');
  const edited = source.replace('shardCount: 1,', 'shardCount: 2,').replace(
    "jobs: ['report'],\n        },",
    `jobs: ['report'],
        },
        clicks: {
          stream: { shardCount: 1, streamName: '${NEW_STREAM}', removalPolicy: cdk.RemovalPolicy.DESTROY },
          entry: path.join(__dirname, '..', 'functions', 'page-views.ts'),
        },`,
  );
  if (edited === source) throw new Error('the stack template changed: the edit does not apply');
  await writeFile(stackFile, edited);
  await dev.waitForStderr(/added .*stream|adding .* failed|synth failed/);

  // And then: the other half is put on the new stream
  await put(state, NEW_STREAM, RECORDS / 2, RECORDS / 2);
  exitCode = await dev.exited;
});

afterAll(async () => {
  if (dev.child.exitCode === null) dev.child.kill('SIGTERM');
  await app.remove();
});

it("adds the new source's stream, function and mapping while the session runs", () => {
  expect(dev.stderr).toMatch(
    new RegExp(
      `added stream ${NEW_STREAM}, .*function \\w+, event source mapping on ${NEW_STREAM}`,
    ),
  );
});

it('processes the records put on the new stream, and exits 0', () => {
  expect(dev.stdout).toContain(`${RECORDS} records put; every record accounted for`);
  expect(exitCode).toBe(0);
});

it('names the changed stream as needing a restart', () => {
  expect(dev.stderr).toMatch(/restart to apply: stream page-views: shardCount changed/);
});
