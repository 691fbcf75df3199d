/**
 * `driverless backfill` runs history in the deployed functions: a backfill over a stream range and
 * over an archive prefix leaves DynamoDB exactly as streaming the same records did, also when the
 * orchestrator is killed mid-way and the backfill is resumed.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriteCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { CliResult } from '../fixtures/cli/run-cli';
import type { RecordPosition } from './support/mapping-events';
import { type RetailInput, retailInputs } from './support/retail-inputs';
import { type EmbeddedTarget, startTarget } from './support/target';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..', '..');

const text = (input: RetailInput) =>
  typeof input.data === 'string' ? input.data : JSON.stringify(input.data);

let target: EmbeddedTarget;
const tables = { recommendations: '', popularity: '' };
const keys = { recommendations: ['userId', 'productId'], popularity: ['productId', 'minute'] };
const data = retailInputs();
let range: { from: string; to: string };
let endpointFile: string;
let streamed: { recommendations: unknown[]; popularity: unknown[] };

const only = (values: readonly (string | undefined)[], what: string): string => {
  const unique = [...new Set(values.filter((value): value is string => value !== undefined))];
  if (unique.length !== 1 || !unique[0])
    throw new Error(`expected one ${what}, found ${unique.length}`);
  return unique[0];
};

async function scanAll(table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await target.clients.documents.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** A table's items without the per-shard `seq_*` marks, which name shards (or slices). */
async function scan(table: string): Promise<Record<string, unknown>[]> {
  const projected = (await scanAll(table)).map((item) =>
    Object.fromEntries(Object.entries(item).filter(([key]) => !key.startsWith('seq_'))),
  );
  return projected.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

async function results(): Promise<{ recommendations: unknown[]; popularity: unknown[] }> {
  return {
    recommendations: await scan(tables.recommendations),
    popularity: await scan(tables.popularity),
  };
}

/** Empties both result tables, so the next run starts from nothing. */
async function clearTables(): Promise<void> {
  for (const kind of ['recommendations', 'popularity'] as const) {
    const items = await scanAll(tables[kind]);
    for (let start = 0; start < items.length; start += 25) {
      await target.clients.documents.send(
        new BatchWriteCommand({
          RequestItems: {
            [tables[kind]]: items.slice(start, start + 25).map((item) => ({
              DeleteRequest: { Key: Object.fromEntries(keys[kind].map((k) => [k, item[k]])) },
            })),
          },
        }),
      );
    }
  }
}

async function put(stream: string, records: readonly RetailInput[]): Promise<RecordPosition[]> {
  const result = await target.clients.kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: records.map((record) => ({
        PartitionKey: record.key,
        Data: Buffer.from(text(record)),
      })),
    }),
  );
  return (result.Records ?? []).map((entry) => ({
    shardId: entry.ShardId ?? '',
    sequenceNumber: entry.SequenceNumber ?? '',
  }));
}

/**
 * `driverless backfill <args>` against the embedded stack. Not `runCli`, whose 60 s guard is for
 * local commands: a resumed backfill waits, by design, for the lease of a slice the killed one
 * left running (the function's timeout, 60 s here) before it invokes that slice again.
 */
function backfill(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'driverless.mjs'), 'backfill', ...args, '--endpoint-file', endpointFile],
      { cwd: ROOT, timeout: 240_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** 0, or the exit code with what the CLI said, so a failure shows why. */
const outcome = (result: CliResult): number | string =>
  result.code === 0 ? 0 : `${result.code}: ${result.stdout}${result.stderr}`;

beforeAll(async () => {
  target = (await startTarget('embedded', {
    pipeline: 'Retail',
    tuning: {
      idlePollIntervalMs: 100,
      consumerPollIntervalMs: 50,
      retryBackoff: { initialMs: 100, multiplier: 2, maxMs: 500 },
    },
  })) as EmbeddedTarget;
  const { functions, stack } = target;
  tables.recommendations = only(
    functions.map((fn) => fn.environment.RECOMMENDATIONS_TABLE),
    'recommendations table',
  );
  tables.popularity = only(
    functions.map((fn) => fn.environment.POPULARITY_TABLE),
    'popularity table',
  );
  const mappings = (source: string) =>
    functions.filter((fn) => fn.source === source).flatMap((fn) => fn.mappings);
  const streamOf = (source: string) =>
    only(
      mappings(source).map((m) => m.streamName),
      `stream of ${source}`,
    );
  // What `npm start` writes for tools to attach with; the CLI reads only endpoints and region.
  endpointFile = join(ROOT, '.driverless', `backfill-${process.pid}.json`);
  await writeFile(
    endpointFile,
    JSON.stringify({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      endpoints: stack.endpoints,
    }),
  );

  // Streamed: put the records and wait for every mapping to checkpoint them all.
  const from = new Date(Date.now() - 1000).toISOString();
  const [viewPuts, orderPuts] = [
    await put(streamOf('productViews'), data.views),
    await put(streamOf('orders'), data.orders),
  ];
  const expected: [string, RecordPosition[]][] = [
    ...mappings('productViews').map((m): [string, RecordPosition[]] => [m.uuid, viewPuts]),
    ...mappings('orders').map((m): [string, RecordPosition[]] => [m.uuid, orderPuts]),
  ];
  const events = target.mappingEvents;
  await events.until(
    () => expected.every(([uuid, puts]) => events.completedAt(uuid, puts) !== undefined),
    60_000,
    () =>
      expected
        .map(([uuid, puts]) => `${uuid}: ${events.checkpointedCount(uuid, puts)}/${puts.length}`)
        .join(', '),
  );
  range = { from, to: new Date(Date.now() + 1000).toISOString() };
  streamed = await results();
});

afterAll(async () => {
  await rm(endpointFile, { force: true });
  await target?.stop();
});

it('leaves the same tables as the stream, backfilling the stream range in parallel slices, two per shard', async () => {
  // given: the streamed results, then empty tables, and a range twice as long as the streamed one
  // (over now), so each shard's later part holds no record: it starts at an AT_TIMESTAMP after
  // the shard's last record
  await clearTables();
  const from = Date.parse(range.from);
  const to = Date.parse(range.to) + (Date.parse(range.to) - from);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, to - Date.now())));
  // when
  const views = await backfill([
    '--source',
    'productViews',
    '--from',
    range.from,
    '--to',
    new Date(to).toISOString(),
    '--slices-per-shard',
    '2',
    '--concurrency',
    '4',
    '--allow-dead-letters',
  ]);
  const orders = await backfill([
    '--source',
    'orders',
    '--from',
    range.from,
    '--to',
    new Date(to).toISOString(),
    '--slices-per-shard',
    '2',
  ]);
  // then
  expect({ views: outcome(views), orders: outcome(orders) }).toEqual({ views: 0, orders: 0 });
  expect(streamed.recommendations.length).toBeGreaterThan(50);
  expect(await results()).toEqual(streamed);
});

it('leaves the same tables as the stream after the orchestrator is killed mid-way and resumed', async () => {
  // given: a backfill killed once its first slice is done
  await clearTables();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'driverless.mjs'),
      'backfill',
      '--source',
      'productViews',
      '--from',
      range.from,
      '--to',
      range.to,
      '--slices-per-shard',
      '1',
      '--batch-size',
      '50',
      '--concurrency',
      '2',
      '--allow-dead-letters',
      '--endpoint-file',
      endpointFile,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (/slices [1-9]\d*\/\d+ done/.test(seen)) {
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`backfill ended before it was killed: ${seen}`)));
  });
  const interrupted = await scan(tables.popularity);
  // when
  const resumed = await backfill([
    '--source',
    'productViews',
    '--resume',
    '--allow-dead-letters',
    '--json',
  ]);
  const orders = await backfill([
    '--source',
    'orders',
    '--from',
    range.from,
    '--to',
    range.to,
    '--slices-per-shard',
    '1',
  ]);
  // then: it had been stopped part-way, and the resumed one finished it with nothing applied twice
  expect(interrupted).not.toEqual(streamed.popularity);
  expect({ resumed: outcome(resumed), orders: outcome(orders) }).toEqual({ resumed: 0, orders: 0 });
  expect(await results()).toEqual(streamed);
});

/**
 * The archived bodies of `records`: NDJSON (a newline after each, as Firehose writes with a
 * delimiter), or Firehose's raw format (concatenated with nothing between them), where a cut-off
 * record can only be told apart at an object's end, so the poison goes last there.
 */
function archived(records: RetailInput[], format: 'ndjson' | 'raw'): Buffer {
  if (format === 'ndjson') return Buffer.from(records.map((r) => `${text(r)}\n`).join(''));
  const poison = records.filter((r) => typeof r.data === 'string');
  const valid = records.filter((r) => typeof r.data !== 'string');
  return Buffer.from([...valid, ...poison].map(text).join(''));
}

it.each([
  ['NDJSON', 'ndjson'],
  ['raw-format (no delimiter)', 'raw'],
] as const)(
  'leaves the same tables as the stream, backfilling %s archive objects of those records',
  async (_, format) => {
    // given: the records archived as the archive option lays them out (gzipped or not, per hour)
    await clearTables();
    const bucket = `archive-${format}-${process.pid}`;
    await target.clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const objects: [string, RetailInput[], boolean][] = [
      ['records/productViews/2026/01/15/09/views-1.gz', data.views.slice(0, 70), true],
      ['records/productViews/2026/01/15/10/views-2', data.views.slice(70), false],
      ['records/orders/2026/01/15/09/orders-1.gz', data.orders, true],
    ];
    for (const [key, records, gzipped] of objects) {
      const body = archived(records, format);
      await target.clients.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipped ? gzipSync(body) : body }),
      );
    }
    // when
    const views = await backfill([
      '--source',
      'productViews',
      '--archive',
      `s3://${bucket}/records/productViews/`,
      '--batch-size',
      '25',
      '--allow-dead-letters',
    ]);
    const orders = await backfill([
      '--source',
      'orders',
      '--archive',
      `s3://${bucket}/records/orders/`,
    ]);
    // then
    expect({ views: outcome(views), orders: outcome(orders) }).toEqual({ views: 0, orders: 0 });
    expect(await results()).toEqual(streamed);
  },
);
