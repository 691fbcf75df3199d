/**
 * `driverless run` with bad input: it is found before any record runs (exit 2, one line naming
 * the file and the line), and when the input breaks while it runs, the run says what it did.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { jsonSummary, runCli } from '../fixtures/cli/run-cli';

const HANDLER = 'test/fixtures/cli/counting-handler.ts';
const TRUNCATING_HANDLER = 'test/fixtures/cli/truncating-handler.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-run-input-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (values: readonly unknown[]) =>
  values.map((value) => `${JSON.stringify(value)}\n`).join('');

const numbers = (count: number) =>
  lines(Array.from({ length: count }, (_, n) => ({ data: { n } })));

/** A saved event's record, as Lambda delivers it, with `kinesis` fields overridden. */
const savedRecord = (sequenceNumber: string, kinesis: Record<string, unknown> = {}) => ({
  kinesis: {
    partitionKey: 'p',
    sequenceNumber,
    data: Buffer.from(JSON.stringify({ n: Number(sequenceNumber) })).toString('base64'),
    approximateArrivalTimestamp: 1_700_000_000,
    ...kinesis,
  },
  eventID: `shardId-000000000000:${sequenceNumber}`,
  eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/saved',
});

describe('driverless run with bad input', () => {
  it('fails before any record runs if a gzip is truncated, naming the file and its last whole line', async () => {
    // Given: the first half of a gzip of 2,000 records
    const file = join(dir, 'numbers.ndjson.gz');
    const gzip = gzipSync(numbers(2000));
    await writeFile(file, gzip.subarray(0, gzip.length / 2));
    const sum = join(dir, 'sum');

    // When
    const result = await runCli(['run', HANDLER, '--file', file], { SUM_FILE: sum });

    // Then
    expect({
      code: result.code,
      stdout: result.stdout,
      stderr: result.stderr,
      ran: existsSync(sum),
    }).toStrictEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(
        new RegExp(
          `^driverless run: ${file.replace(/[.]/g, '\\.')} is a truncated gzip: it ends after line [\\d,]+ \\(unexpected end of file\\)\\n$`,
        ),
      ),
      ran: false,
    });
  });

  it('fails before any record runs if --dead-letters cannot be written', async () => {
    // Given
    const file = join(dir, 'numbers.ndjson');
    await writeFile(file, numbers(3));
    const letters = join(dir, 'missing-folder', 'letters.ndjson');
    const sum = join(dir, 'sum');

    // When
    const result = await runCli(['run', HANDLER, '--file', file, '--dead-letters', letters], {
      SUM_FILE: sum,
    });

    // Then
    expect({ code: result.code, stderr: result.stderr, ran: existsSync(sum) }).toStrictEqual({
      code: 2,
      stderr: `driverless run: --dead-letters ${letters} cannot be written (ENOENT: its folder does not exist)\n`,
      ran: false,
    });
  });

  it('fails before any record runs if the default dead-letter file cannot be written', async () => {
    // Given: a folder where the letters would go
    const file = join(dir, 'numbers.ndjson');
    await writeFile(file, numbers(3));
    await mkdir(`${file}.dead-letters.ndjson`);
    const sum = join(dir, 'sum');

    // When
    const result = await runCli(['run', HANDLER, '--file', file], { SUM_FILE: sum });

    // Then
    expect({ code: result.code, stderr: result.stderr, ran: existsSync(sum) }).toStrictEqual({
      code: 2,
      stderr: `driverless run: the dead-letter file ${file}.dead-letters.ndjson cannot be written (EISDIR: it is a folder): pass --dead-letters <path>\n`,
      ran: false,
    });
  });

  it('leaves no dead-letter file behind when it checked the path and nothing was dead-lettered', async () => {
    // Given
    const file = join(dir, 'numbers.ndjson');
    await writeFile(file, numbers(3));

    // When
    const result = await runCli(['run', HANDLER, '--file', file]);

    // Then
    expect({ code: result.code, letters: existsSync(`${file}.dead-letters.ndjson`) }).toStrictEqual(
      { code: 0, letters: false },
    );
  });

  it('fails with exit 2 before any record runs if a saved event holds a record Lambda could not have sent', async () => {
    // Given: a good event, then one whose record has no data
    const file = join(dir, 'events.ndjson');
    await writeFile(
      file,
      lines([
        { Records: [savedRecord('1')] },
        { Records: [savedRecord('2'), savedRecord('3', { data: undefined })] },
      ]),
    );
    const sum = join(dir, 'sum');

    // When
    const result = await runCli(['run', HANDLER, '--file', file], { SUM_FILE: sum });

    // Then
    expect({ code: result.code, stderr: result.stderr, ran: existsSync(sum) }).toStrictEqual({
      code: 2,
      stderr: `driverless run: line 2 of ${file}: Records[1].kinesis.data is missing, not base64\n`,
      ran: false,
    });
  });

  it("fails with exit 2 before any record runs if a record is over Kinesis's 1 MiB with its partition key", async () => {
    // Given: 1 MiB of data, and a partition key that takes it over
    const file = join(dir, 'big.ndjson');
    await writeFile(
      file,
      lines([{ data: { n: 1 } }, { data: 'x'.repeat(1024 * 1024 - 2), partitionKey: 'abc' }]),
    );
    const sum = join(dir, 'sum');

    // When
    const result = await runCli(['run', HANDLER, '--file', file], { SUM_FILE: sum });

    // Then
    expect({ code: result.code, stderr: result.stderr, ran: existsSync(sum) }).toStrictEqual({
      code: 2,
      stderr: `driverless run: line 2 of ${file}: the record is 1,048,577 bytes with its partition key, over Kinesis's 1 MiB record limit (1,048,576 bytes)\n`,
      ran: false,
    });
  });

  it('fails with exit 2 if --from is in the future, where nothing has arrived', async () => {
    // When
    const result = await runCli([
      'run',
      HANDLER,
      '--stream',
      'orders',
      '--from',
      new Date(Date.now() + 3_600_000).toISOString(),
      '--endpoint',
      'http://127.0.0.1:9',
    ]);

    // Then
    expect({ code: result.code, stderr: result.stderr }).toStrictEqual({
      code: 2,
      stderr: expect.stringMatching(/^driverless run: --from must not be in the future [^\n]*\n$/),
    });
  });

  it('says what was already done, in one line with exit 2, when the file breaks while it runs', async () => {
    // Given: a gzip far larger than what is read ahead of the first batch, which the handler cuts
    const file = join(dir, 'records.ndjson.gz');
    await writeFile(
      file,
      gzipSync(
        lines(
          Array.from({ length: 20_000 }, (_, n) => ({
            data: { n, pad: randomBytes(150).toString('base64') },
          })),
        ),
      ),
    );
    const counts = join(dir, 'counts');

    // When
    const result = await runCli(
      ['run', TRUNCATING_HANDLER, '--file', file, '--batch-size', '10', '--json'],
      { TRUNCATE_FILE: file, TRUNCATE_BYTES: '0', COUNT_FILE: counts },
    );

    // Then: the summary on stdout and the line on stderr count what the handler saw
    const ran = (await readFile(counts, 'utf8'))
      .trim()
      .split('\n')
      .reduce((total, count) => total + Number(count), 0);
    expect({
      code: result.code,
      summary: jsonSummary(result.stdout),
      stderr: result.stderr,
    }).toStrictEqual({
      code: 2,
      summary: expect.objectContaining({ records: ran, processed: ran }),
      stderr: expect.stringMatching(
        new RegExp(
          `^driverless run: [^\\n]* is a truncated gzip: it ends after line [\\d,]+ \\(unexpected end of file\\); stopped after ${ran.toLocaleString('en-US')} records had run \\(${ran.toLocaleString('en-US')} processed, 0 dead-lettered, 0 failed; summary on stdout\\)\\n$`,
        ),
      ),
    });
  });
});
