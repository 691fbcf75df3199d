/**
 * `driverless run` for stateful jobs: state in memory for the run, and one final tick after the
 * last record; a handler without stateful jobs runs as it did.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonSummary, runCli } from '../fixtures/cli/run-cli';

const RECORDING_HANDLER = 'test/fixtures/cli/tick-recording-handler.ts';
const STATELESS_HANDLER = 'test/fixtures/cli/counting-handler.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-run-state-'));
});

afterEach(() => rm(dir, { recursive: true, force: true }));

/** `count` records `{ n }` in a file. */
async function recordsFile(count: number): Promise<string> {
  const file = join(dir, 'numbers.ndjson');
  const lines = Array.from({ length: count }, (_, n) => `${JSON.stringify({ data: { n } })}\n`);
  await writeFile(file, lines.join(''));
  return file;
}

describe('driverless run, end of input', () => {
  test('invokes the handler with one final tick after the last record, state in memory', async () => {
    // given
    const file = await recordsFile(5);
    const events = join(dir, 'events.ndjson');
    // when
    const result = await runCli(
      ['run', RECORDING_HANDLER, '--file', file, '--batch-size', '2', '--json'],
      { EVENTS_FILE: events, DRIVERLESS_STATE_TABLE: undefined, DRIVERLESS_SOURCE: 'views' },
    );
    const lines = (await readFile(events, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    // then
    expect(result.code).toBe(0);
    expect(lines.map((line) => ('tick' in line ? 'tick' : line.records.length))).toStrictEqual([
      2,
      2,
      1,
      'tick',
    ]);
    expect(lines[3]).toStrictEqual({
      tick: {
        driverless: 'tick',
        source: 'views',
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        final: true,
      },
      stateTable: 'memory:',
    });
    expect(jsonSummary(result.stdout)).toMatchObject({ batches: 3, invocations: 3, records: 5 });
  });

  test('runs a handler without stateful jobs as before: same tallies, exit 0', async () => {
    // given
    const file = await recordsFile(5);
    const sum = join(dir, 'sum');
    // when
    const result = await runCli(
      ['run', STATELESS_HANDLER, '--file', file, '--batch-size', '2', '--json'],
      { SUM_FILE: sum },
    );
    const summary = jsonSummary(result.stdout);
    // then
    expect(result.code).toBe(0);
    expect(summary).toMatchObject({
      batches: 3,
      invocations: 3,
      records: 5,
      processed: 5,
      failed: 0,
    });
    expect(summary.finalTickFailed).toBeUndefined();
    expect(summary.lastError).toBeUndefined();
    expect((await readFile(sum, 'utf8')).trim().split('\n').map(Number)).toStrictEqual([
      0, 1, 2, 3, 4,
    ]);
  });
});
