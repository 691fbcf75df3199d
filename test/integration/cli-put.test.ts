/**
 * `driverless put` against a running embedded stack, attached through its state file as a user's
 * terminal would be: records arrive, `--records` waits until every mapping accounted for each,
 * exit codes, bad input.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type EmbeddedStack, startEmbeddedStack } from '../../emulator/index';
import { jsonSummary, runCli } from '../fixtures/cli/run-cli';

jest.setTimeout(240_000);

let dir: string;
let stack: EmbeddedStack;
let streamName: string;

const lines = (values: readonly unknown[]) =>
  values.map((value) => `${JSON.stringify(value)}\n`).join('');

/** `driverless put <args>` from the project directory, where `.driverless/local.json` is. */
const put = (args: readonly string[]) => runCli(['put', '--stream', streamName, ...args], {}, dir);

/** The mapping rows of a `--json` summary, by whether the mapping is the filtered alias one. */
function rows(stdout: string): { processed: number; filtered: number; missing: number }[] {
  const summary = jsonSummary(stdout) as {
    mappings: { label: string; processed: number; filtered: number; missing: number }[];
  };
  return summary.mappings
    .map(({ processed, filtered, missing }) => ({ processed, filtered, missing }))
    .sort((a, b) => a.filtered - b.filtered);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-put-'));
  // A package.json makes the folder a project: `--generate` bundles the module under it.
  await writeFile(join(dir, 'package.json'), '{"name":"put-test","private":true}\n');
  const assembly = join(dir, 'cdk.out');
  await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    join(__dirname, '../fixtures/assembly/synth-fixture.ts'),
    assembly,
  ]);
  await mkdir(join(dir, '.driverless'), { recursive: true });
  // The fixture app: one stream read by the function (every record) and by its alias (only
  // records of kind "view", the others filtered out).
  stack = await startEmbeddedStack({
    assemblyDir: assembly,
    stateFile: join(dir, '.driverless', 'local.json'),
    tuning: { idlePollIntervalMs: 100 },
  });
  streamName = stack.app.streams[0]?.name ?? '';
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('driverless put', () => {
  it('puts every record of a file and exits 0 once each mapping has accounted for each', async () => {
    // Given two views and two clicks
    const file = join(dir, 'events.ndjson');
    const kinds = ['view', 'click', 'view', 'click'];
    await writeFile(file, lines(kinds.map((kind, n) => ({ data: { kind, n } }))));

    // When
    const result = await put(['--file', file, '--wait', '--json']);

    // Then the function processed all four, its alias the views, and filtered out the clicks
    expect({ code: result.code, rows: rows(result.stdout) }).toStrictEqual({
      code: 0,
      rows: [
        { processed: 4, filtered: 0, missing: 0 },
        { processed: 2, filtered: 2, missing: 0 },
      ],
    });
  });

  it('sends only the first N records with --records N', async () => {
    // Given
    const file = join(dir, 'ten.ndjson');
    await writeFile(
      file,
      lines(Array.from({ length: 10 }, (_, n) => ({ data: { kind: 'view', n } }))),
    );

    // When
    const result = await put(['--file', file, '--records', '3', '--json']);

    // Then
    expect({ code: result.code, sent: jsonSummary(result.stdout).sent }).toStrictEqual({
      code: 0,
      sent: 3,
    });
  });

  it('puts what a --generate module makes, paced by --rate', async () => {
    // Given a generator of views
    const module = join(dir, 'views.ts');
    await writeFile(
      module,
      'export default (n: number) => ({ kind: "view", n, page: "/p/" + (n % 3) });\n',
    );

    // When
    const result = await put([
      '--generate',
      module,
      '--records',
      '5',
      '--rate',
      '50',
      '--partition-key',
      'page',
      '--json',
    ]);

    // Then
    expect({ code: result.code, rows: rows(result.stdout) }).toStrictEqual({
      code: 0,
      rows: [
        { processed: 5, filtered: 0, missing: 0 },
        { processed: 5, filtered: 0, missing: 0 },
      ],
    });
  });

  it('fails with exit 2 and one line if the stream does not exist', async () => {
    // Given
    const file = join(dir, 'one.ndjson');
    await writeFile(file, lines([{ data: { kind: 'view' } }]));

    // When
    const result = await runCli(['put', '--stream', 'nope', '--file', file], {}, dir);

    // Then
    expect({ code: result.code, stderr: result.stderr }).toStrictEqual({
      code: 2,
      stderr: expect.stringMatching(
        new RegExp(
          `^driverless put: stream nope does not exist at http://127\\.0\\.0\\.1:\\d+ \\(streams there: ${streamName}\\)\\n$`,
        ),
      ),
    });
  });

  it('fails with exit 2 on a bad line, before sending anything', async () => {
    // Given a good line, then a bad one
    const file = join(dir, 'bad.ndjson');
    await writeFile(file, `${JSON.stringify({ data: { kind: 'view' } })}\nnot json\n`);

    // When
    const result = await put(['--file', file, '--json']);

    // Then
    expect({ code: result.code, stdout: result.stdout, stderr: result.stderr }).toStrictEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(
        /^driverless put: line 2 of .*bad\.ndjson is not JSON: [^\n]*\n$/,
      ),
    });
  });

  it('fails with exit 2 if --rate is not a positive number', async () => {
    // Given / When
    const result = await put(['--file', 'any.ndjson', '--rate', '0']);

    // Then
    expect({ code: result.code, stderr: result.stderr }).toStrictEqual({
      code: 2,
      stderr:
        'driverless put: --rate must be a positive number of records per second, e.g. 200 or 0.5 (given 0)\n',
    });
  });

  it('fails with exit 2 if a record lacks the --partition-key field', async () => {
    // Given
    const file = join(dir, 'keyless.ndjson');
    await writeFile(
      file,
      lines([{ data: { kind: 'view', page: '/a' } }, { data: { kind: 'view' } }]),
    );

    // When
    const result = await put(['--file', file, '--partition-key', 'page']);

    // Then
    expect({ code: result.code, stderr: result.stderr }).toStrictEqual({
      code: 2,
      stderr: expect.stringMatching(
        /^driverless put: line 2 of .*keyless\.ndjson: --partition-key page needs a non-empty string or number field page in the record's data \(given none\)\n$/,
      ),
    });
  });

  // Last: it stops a mapping of the shared stack.
  it('exits 1 when a mapping has not processed every record by --timeout', async () => {
    // Given the function's own mapping stopped: it will never settle a record
    const consumerMapping = stack.app.mappings.find((m) => m.functionQualifier === undefined);
    await stack.mappings.get(consumerMapping?.uuid ?? '')?.stop();
    const file = join(dir, 'late.ndjson');
    await writeFile(file, lines([{ data: { kind: 'view' } }, { data: { kind: 'view' } }]));

    // When
    const result = await put(['--file', file, '--wait', '--timeout', '2', '--json']);

    // Then
    expect({
      code: result.code,
      rows: rows(result.stdout),
      verdict: result.stdout.includes(
        'SOME RECORDS WERE NOT ACCOUNTED FOR: 2 deliveries still missing at --timeout.',
      ),
    }).toStrictEqual({
      code: 1,
      rows: [
        { processed: 0, filtered: 0, missing: 2 },
        { processed: 2, filtered: 0, missing: 0 },
      ],
      verdict: true,
    });
  });
});
