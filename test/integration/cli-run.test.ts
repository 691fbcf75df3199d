/** `driverless run` end to end: the launcher, a handler over files and over a stream's time range. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { jsonSummary, runCli } from '../fixtures/cli/run-cli';
import {
  createStream,
  type KinesisTestServer,
  startKinesalite,
} from '../fixtures/esm/kinesaliteServer';

const HANDLER = 'test/fixtures/cli/counting-handler.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-run-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = (values: readonly unknown[]) =>
  values.map((value) => `${JSON.stringify(value)}\n`).join('');

/** The `letterId` of each line of a dead-letter file (none if the file was not written). */
async function letterIds(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => String((JSON.parse(line) as { letterId?: unknown }).letterId));
}

async function sums(file: string): Promise<number[]> {
  return (await readFile(file, 'utf8')).trim().split('\n').map(Number);
}

describe('driverless run --file', () => {
  it('runs every record in batches and exits 0', async () => {
    // Given
    const file = join(dir, 'numbers.ndjson.gz');
    await writeFile(file, gzipSync(lines(Array.from({ length: 25 }, (_, n) => ({ data: { n } })))));

    // When
    const result = await runCli(['run', HANDLER, '--file', file, '--batch-size', '10', '--json'], {
      SUM_FILE: join(dir, 'sum'),
    });

    // Then
    expect({
      code: result.code,
      summary: jsonSummary(result.stdout),
      sums: await sums(join(dir, 'sum')),
    }).toMatchObject({
      code: 0,
      summary: { batches: 3, records: 25, processed: 25, deadLettered: 0, failed: 0 },
      sums: Array.from({ length: 25 }, (_, n) => n),
    });
  });

  it('dead-letters an undecodable record to a local file and exits 1', async () => {
    // Given
    const file = join(dir, 'poison.ndjson');
    await writeFile(file, lines([{ data: { n: 1 } }, { data: 'not json' }, { data: { n: 2 } }]));

    // When
    const result = await runCli(['run', HANDLER, '--file', file, '--json']);

    // Then
    const letters = (await readFile(`${file}.dead-letters.ndjson`, 'utf8')).trim().split('\n');
    expect({
      code: result.code,
      summary: jsonSummary(result.stdout),
      letter: JSON.parse(letters[0] ?? '{}').data,
    }).toMatchObject({
      code: 1,
      summary: { records: 3, processed: 2, deadLettered: 1, failed: 0 },
      letter: Buffer.from('not json').toString('base64'),
    });
  });

  it('exits 0 with dead letters when --allow-dead-letters is given', async () => {
    // Given
    const file = join(dir, 'poison.ndjson');
    await writeFile(file, lines([{ data: 'not json' }]));

    // When
    const result = await runCli(['run', HANDLER, '--file', file, '--allow-dead-letters']);

    // Then
    expect(result.code).toBe(0);
  });

  it('retries a batch from the record its response names, three attempts, then counts the rest failed', async () => {
    // Given
    const file = join(dir, 'failing.ndjson');
    await writeFile(
      file,
      lines([{ data: { n: 1 } }, { data: { n: 2, fail: true } }, { data: { n: 3 } }]),
    );

    // When
    const result = await runCli(['run', HANDLER, '--file', file, '--json'], {
      SUM_FILE: join(dir, 'sum'),
    });

    // Then
    expect({
      code: result.code,
      summary: jsonSummary(result.stdout),
      sums: await sums(join(dir, 'sum')),
    }).toMatchObject({
      code: 1,
      summary: { batches: 1, invocations: 3, records: 3, processed: 1, failed: 2 },
      sums: [1, 2, 3, 2, 3, 2, 3],
    });
  });

  it('writes no letter for a poison record its retried batch never got past, and the summary adds up', async () => {
    // Given: the poison record comes after a record that fails every attempt
    const file = join(dir, 'failing-poison.ndjson');
    await writeFile(
      file,
      lines([
        { data: { n: 1 } },
        { data: { n: 2, fail: true } },
        { data: 'not json' },
        { data: { n: 3 } },
      ]),
    );

    // When
    const result = await runCli(['run', HANDLER, '--file', file, '--json']);

    // Then: it was never acknowledged, so it counts failed, once
    const summary = jsonSummary(result.stdout);
    expect({
      code: result.code,
      summary,
      letters: await letterIds(`${file}.dead-letters.ndjson`),
    }).toMatchObject({
      code: 1,
      summary: { invocations: 3, records: 4, processed: 1, deadLettered: 0, failed: 3 },
      letters: [],
    });
  });

  it('writes one letter for a poison record before the failing one, whatever the retries', async () => {
    // Given
    const file = join(dir, 'poison-then-failing.ndjson');
    await writeFile(
      file,
      lines([
        { data: { n: 1 } },
        { data: 'not json' },
        { data: { n: 2, fail: true } },
        { data: { n: 3 } },
      ]),
    );

    // When
    const result = await runCli(['run', HANDLER, '--file', file, '--json']);

    // Then: processed + dead-lettered + failed = records
    const letters = await letterIds(`${file}.dead-letters.ndjson`);
    expect({
      code: result.code,
      summary: jsonSummary(result.stdout),
      letters: letters.length,
    }).toMatchObject({
      code: 1,
      summary: { invocations: 3, records: 4, processed: 1, deadLettered: 1, failed: 2 },
      letters: 1,
    });
  });

  it('fails with one line naming the problem when --jobs is given to a handler without jobs', async () => {
    // Given: the window template folds a window and has no jobs
    const file = join(dir, 'sales.ndjson');
    await writeFile(
      file,
      lines([{ data: { storeId: 's1', amountCents: 5 }, arrivedAt: '2026-01-01T00:00:00Z' }]),
    );

    // When
    const result = await runCli(
      [
        'run',
        'functions/templates/window.ts',
        '--file',
        file,
        '--tumbling-window',
        '60',
        '--jobs',
        'foo',
      ],
      { TABLE_NAME: 'sales' },
    );

    // Then
    expect({ code: result.code, stderr: result.stderr }).toStrictEqual({
      code: 2,
      stderr:
        'driverless run: cannot load functions/templates/window.ts: ConfigurationError: ' +
        'DRIVERLESS_JOBS="foo" names unknown job foo; this handler has no jobs (it only folds a tumbling window)\n',
    });
  });

  it('invokes saved Kinesis events as they were saved', async () => {
    // Given
    const record = (n: number, sequenceNumber: string) => ({
      kinesis: {
        partitionKey: 'p',
        sequenceNumber,
        data: Buffer.from(JSON.stringify({ n })).toString('base64'),
        approximateArrivalTimestamp: 1_700_000_000,
      },
      eventID: `shardId-000000000007:${sequenceNumber}`,
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/saved',
    });
    const file = join(dir, 'events.ndjson');
    await writeFile(
      file,
      lines([{ Records: [record(7, '1'), record(8, '2')] }, { Records: [record(9, '3')] }]),
    );

    // When
    const result = await runCli(['run', HANDLER, '--file', file, '--json'], {
      SUM_FILE: join(dir, 'sum'),
    });

    // Then
    expect({
      code: result.code,
      summary: jsonSummary(result.stdout),
      sums: await sums(join(dir, 'sum')),
    }).toMatchObject({
      code: 0,
      summary: { batches: 2, records: 3, processed: 3 },
      sums: [7, 8, 9],
    });
  });
});

describe('driverless run --stream', () => {
  let server: KinesisTestServer;

  beforeAll(async () => {
    server = await startKinesalite();
  });

  afterAll(async () => {
    await server.close();
  });

  it('backfills every shard of a stream from a time to its tip', async () => {
    // Given
    const stream = await createStream(server.kinesis, 2);
    await server.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream.name,
        Records: Array.from({ length: 30 }, (_, n) => ({
          Data: Buffer.from(JSON.stringify({ n })),
          PartitionKey: `key-${n}`,
        })),
      }),
    );

    // When
    const result = await runCli(
      [
        'run',
        HANDLER,
        '--stream',
        stream.name,
        '--from',
        '-10m',
        '--endpoint',
        server.endpoint,
        '--batch-size',
        '7',
        '--json',
      ],
      { SUM_FILE: join(dir, 'sum') },
    );

    // Then
    expect({
      code: result.code,
      summary: jsonSummary(result.stdout),
      sums: (await sums(join(dir, 'sum'))).sort((a, b) => a - b),
    }).toMatchObject({
      code: 0,
      summary: { records: 30, processed: 30, failed: 0 },
      sums: Array.from({ length: 30 }, (_, n) => n),
    });
  });

  it('stops at --to: records that arrived later are not read', async () => {
    // Given
    const stream = await createStream(server.kinesis, 1);
    await server.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream.name,
        Records: [{ Data: Buffer.from('{"n":1}'), PartitionKey: 'k' }],
      }),
    );

    // When
    const result = await runCli(
      [
        'run',
        HANDLER,
        '--stream',
        stream.name,
        '--from',
        '-10m',
        '--to',
        '-5m',
        '--endpoint',
        server.endpoint,
        '--json',
      ],
      { SUM_FILE: join(dir, 'sum') },
    );

    // Then
    expect({ code: result.code, summary: jsonSummary(result.stdout) }).toMatchObject({
      code: 0,
      summary: { batches: 0, records: 0 },
    });
  });

  it('fails if the endpoint is unreachable, with exit 2 and one line', async () => {
    // When
    const result = await runCli([
      'run',
      HANDLER,
      '--stream',
      'orders',
      '--from',
      '-1h',
      '--endpoint',
      'http://127.0.0.1:9',
    ]);

    // Then
    expect({ code: result.code, stderr: result.stderr }).toEqual({
      code: 2,
      stderr: expect.stringMatching(
        /^driverless run: cannot reach Kinesis at http:\/\/127\.0\.0\.1:9 \(ECONNREFUSED\)[^\n]*\n$/,
      ),
    });
  });
});
