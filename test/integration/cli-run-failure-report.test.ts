/** What a failed `driverless run` says on stderr: why records failed, and what to do about it. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../fixtures/cli/run-cli';

const UNSET = 'test/fixtures/cli/unset-variable-handler.ts';
const COUNTING = 'test/fixtures/cli/counting-handler.ts';
const WINDOW = 'functions/templates/window.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-run-report-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (values: readonly unknown[]) =>
  values.map((value) => `${JSON.stringify(value)}\n`).join('');

const stderrLines = (stderr: string) => stderr.split('\n').map((line) => line.trim());

describe('driverless run: the failure report on stderr', () => {
  it('names each distinct job error with its counts when records fail', async () => {
    // Given a job that fails every batch because a variable is unset
    const file = join(dir, 'numbers.ndjson');
    await writeFile(file, lines([{ data: { n: 1 } }, { data: { n: 2 } }]));

    // When
    const result = await runCli(['run', UNSET, '--file', file], { GREETINGS_TABLE: '' });

    // Then
    expect({ code: result.code, lines: stderrLines(result.stderr) }).toMatchObject({
      code: 1,
      lines: expect.arrayContaining([
        'why records failed (1 distinct error):',
        'job greet failed 3 invocations (6 records, retries included): Error: GREETINGS_TABLE is not set',
      ]),
    });
  });

  it('hints at the unset variable an error names', async () => {
    // Given
    const file = join(dir, 'numbers.ndjson');
    await writeFile(file, lines([{ data: { n: 1 } }]));

    // When
    const result = await runCli(['run', UNSET, '--file', file], { GREETINGS_TABLE: '' });

    // Then
    expect(result.stderr).toMatch(
      /^hint: GREETINGS_TABLE is not set here\. .*GREETINGS_TABLE=<value> npx driverless run/m,
    );
  });

  it('says nothing of failures when the run succeeds', async () => {
    // Given the variable set: every batch succeeds
    const file = join(dir, 'numbers.ndjson');
    await writeFile(file, lines([{ data: { n: 1 } }]));

    // When
    const result = await runCli(['run', UNSET, '--file', file], { GREETINGS_TABLE: 'greetings' });

    // Then
    expect({ code: result.code, stderr: result.stderr }).toStrictEqual({ code: 0, stderr: '' });
  });

  it('counts the reasons records were dead-lettered', async () => {
    // Given two undecodable records and a good one
    const file = join(dir, 'poison.ndjson');
    await writeFile(file, lines([{ data: 'not json' }, { data: { n: 1 } }, { data: { n: 'x' } }]));

    // When
    const result = await runCli(['run', COUNTING, '--file', file]);

    // Then
    expect({ code: result.code, lines: stderrLines(result.stderr) }).toMatchObject({
      code: 1,
      lines: expect.arrayContaining([
        'why records were dead-lettered (2 letters, 2 reasons):',
        '(--allow-dead-letters exits 0 when dead letters are expected)',
      ]),
    });
  });

  it('warns when a window handler runs without --tumbling-window', async () => {
    // Given the window template and sales records
    const file = join(dir, 'sales.ndjson');
    await writeFile(file, lines([{ data: { storeId: 's1', amountCents: 100 } }]));

    // When
    const result = await runCli(['run', WINDOW, '--file', file], { TABLE_NAME: 'sales' });

    // Then
    expect(result.stderr).toContain(
      `warning: ${WINDOW} has a tumbling window, but --tumbling-window is not set`,
    );
  });

  it('does not warn for a handler without a window', async () => {
    // Given a handler without a window
    const file = join(dir, 'numbers.ndjson');
    await writeFile(file, lines([{ data: { n: 1 } }]));

    // When
    const result = await runCli(['run', COUNTING, '--file', file]);

    // Then
    expect(result.stderr).not.toContain('tumbling window');
  });
});
