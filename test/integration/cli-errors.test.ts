/**
 * The `driverless` CLI's handling of bad input: exit 2 and one line on stderr, nothing run. Run
 * through the launcher: commander 15 is ESM-only and does not load under jest's CommonJS.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../fixtures/cli/run-cli';

const HANDLER = 'test/fixtures/cli/counting-handler.ts';
async function run(
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(args);
}

async function recordsFile(): Promise<string> {
  const file = join(tmpdir(), `cli-program-${process.pid}.ndjson`);
  await writeFile(file, '{"data":{"n":1}}\n');
  return file;
}

it('prints help with examples and exits 0', async () => {
  // When
  const result = await run(['run', '--help']);

  // Then
  expect({ code: result.code, examples: result.stdout.includes('Examples:') }).toEqual({
    code: 0,
    examples: true,
  });
});

it('fails if an option is unknown, with exit 2 and one line', async () => {
  // When
  const result = await run(['run', HANDLER, '--file', 'x.ndjson', '--bogus']);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: "error: unknown option '--bogus'\n",
  });
});

it('fails if the file does not exist', async () => {
  // When
  const result = await run(['run', HANDLER, '--file', '/nonexistent/data.ndjson']);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: 'driverless run: --file /nonexistent/data.ndjson does not exist\n',
  });
});

it('fails if --batch-size is out of range', async () => {
  // When
  const result = await run(['run', HANDLER, '--file', await recordsFile(), '--batch-size', '0']);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: 'driverless run: --batch-size must be an integer between 1 and 10000 (given 0)\n',
  });
});

it('fails if --from is not a time', async () => {
  // When
  const result = await run(['run', HANDLER, '--stream', 'orders', '--from', 'yesterday']);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr:
      'driverless run: --from must be an ISO-8601 time (2026-01-15T09:00:00Z) or a duration like -15m, -2h, -7d (given yesterday)\n',
  });
});

it('fails if neither --file nor --stream is given', async () => {
  // When
  const result = await run(['run', HANDLER]);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: 'driverless run: give either --file <path> or --stream <name> --from <time>\n',
  });
});

it('fails if a job in --jobs is unknown, with the runtime configuration error on one line', async () => {
  // When
  const result = await run(['run', HANDLER, '--file', await recordsFile(), '--jobs', 'nope']);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: expect.stringMatching(
      /^driverless run: cannot load test\/fixtures\/cli\/counting-handler\.ts: ConfigurationError: [^\n]*nope[^\n]*\n$/,
    ),
  });
});

it('fails if the handler module does not exist', async () => {
  // When
  const result = await run(['run', 'functions/missing.ts', '--file', await recordsFile()]);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr:
      'driverless run: handler module functions/missing.ts does not exist (give the path of a .ts file exporting handler)\n',
  });
});

it('fails if a line of the file is neither a record nor an event', async () => {
  // Given
  const file = join(tmpdir(), `cli-program-bad-${process.pid}.ndjson`);
  await writeFile(file, '{"data":{"n":1}}\n{"value":2}\n');

  // When
  const result = await run(['run', HANDLER, '--file', file]);

  // Then
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: expect.stringMatching(
      new RegExp(`^driverless run: line 2 of ${file} is neither a record [^\\n]*\\n$`),
    ),
  });
});

it.each(['0', 'abc', '901'])(
  'fails if --tumbling-window is %s, outside 1-900 seconds',
  async (value) => {
    // When
    const result = await run([
      'run',
      HANDLER,
      '--file',
      await recordsFile(),
      '--tumbling-window',
      value,
    ]);

    // Then
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr: `driverless run: --tumbling-window must be an integer between 1 and 900 (given ${value})\n`,
    });
  },
);
