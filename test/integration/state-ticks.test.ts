/**
 * The state ticks of a pipeline with `state: true` on the embedded stack: the scheduled rule the
 * constructs make is run by a timer that invokes the source's `live` alias with the tick event, and
 * the state table exists with the key schema the runtime relies on.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  dynamoClient,
  type EmbeddedStack,
  type ScheduleFiring,
  startEmbeddedStack,
} from '../../emulator/index';
import { STATE_STACK } from '../fixtures/state/state-app';

// Hooks synthesize the app and start servers: seconds on a loaded 2-core machine.
jest.setTimeout(120_000);

const execFileAsync = promisify(execFile);
/** The rate the test asks of the embedded stack instead of the rule's minute. */
const TICK_MS = 400;
const TICKS = 4;

let dir: string;
let tickFile: string;
let stack: EmbeddedStack;
const firings: ScheduleFiring[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'driverless-state-ticks-'));
  tickFile = join(dir, 'ticks.ndjson');
  const outdir = join(dir, 'cdk.out');
  await execFileAsync(process.execPath, [
    '--import',
    'tsx',
    join(__dirname, '../fixtures/state/synth-state-app.ts'),
    outdir,
  ]);
  stack = await startEmbeddedStack({
    assemblyDir: outdir,
    stackName: STATE_STACK,
    functionEnvironment: { TICK_FILE: tickFile },
    scheduleIntervalMs: TICK_MS,
    onScheduleFiring: (firing) => firings.push(firing),
  });
});

afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The tick lines the handler wrote, once at least `count` are there. */
async function ticksRecorded(count: number): Promise<Array<Record<string, unknown>>> {
  for (;;) {
    const text = await readFile(tickFile, 'utf8').catch(() => '');
    const lines = text.split('\n').filter(Boolean);
    if (lines.length >= count) return lines.map((line) => JSON.parse(line));
    await new Promise((resolve) => setTimeout(resolve, TICK_MS / 4));
  }
}

describe('state ticks on the embedded stack', () => {
  test('reads the tick rule of the source: its rate and the live alias as its one target', () => {
    // then
    expect(stack.app.schedules).toStrictEqual([
      expect.objectContaining({
        rateMs: 60_000,
        targets: [
          expect.objectContaining({
            functionName: stack.app.functions[0]?.name,
            qualifier: 'live',
          }),
        ],
      }),
    ]);
  });

  test('invokes the live alias with the tick event of the source, at the interval asked', async () => {
    // when
    const ticks = await ticksRecorded(TICKS);
    // then
    for (const tick of ticks.slice(0, TICKS)) {
      expect(tick).toStrictEqual({
        event: {
          driverless: 'tick',
          source: 'events',
          time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        },
        invokedFunctionArn: expect.stringMatching(/:function:[^:]+:live$/),
        stateTable: expect.any(String),
      });
    }
    // Never faster than asked (a timer may fire a little late, never early).
    const fired = firings.map((f) => f.firedAt).sort((a, b) => a - b);
    for (let i = 1; i < fired.length; i++) {
      expect(fired[i]! - fired[i - 1]!).toBeGreaterThanOrEqual(TICK_MS - 5);
    }
  });

  test('answers each tick as the runtime does, with no failed records', async () => {
    // when
    await ticksRecorded(1);
    const answered = firings.find((f) => 'payload' in f.result);
    // then
    expect(answered?.result).toMatchObject({ payload: { batchItemFailures: [] } });
  });

  test('creates the state table the functions are given, keyed by strings pk and sk', async () => {
    // given
    const [tick] = await ticksRecorded(1);
    // when
    const { Table } = await dynamoClient(stack.endpoints.dynamodb).send(
      new DescribeTableCommand({ TableName: String(tick!.stateTable) }),
    );
    // then
    expect(Table?.KeySchema).toStrictEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(
      [...(Table?.AttributeDefinitions ?? [])].sort((a, b) =>
        String(a.AttributeName).localeCompare(String(b.AttributeName)),
      ),
    ).toStrictEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
  });
});
