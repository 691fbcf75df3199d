/**
 * `driverless run --tumbling-window` with the window template (`functions/templates/window.ts`)
 * writing to a real DynamoDB API (dynalite): `onClose` writes exactly the per-window totals of the
 * input, and the same records through the embedded mapping with the same TumblingWindowInSeconds
 * leave the same items.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisEvent, MicroBatchHandler } from 'driverless/runtime';
import { documentClient, dynamoClient } from '../../emulator/clients';
import { type DynamoServer, startDynamo } from '../../emulator/servers/dynamo-server';
import type { SalesWindow } from '../../functions/templates/window';
import { jsonSummary, runCli } from '../fixtures/cli/run-cli';
import { fakeFunction, waitFor } from '../fixtures/esm/fakeInvoke';
import { startMapping, stopAllMappings } from '../fixtures/esm/harness';
import {
  createStream,
  type KinesisTestServer,
  putRecordsBatch,
  startKinesalite,
} from '../fixtures/esm/kinesaliteServer';
import { mappingConfig } from '../fixtures/esm/mappingConfig';
import { lambdaContext } from '../fixtures/kinesis-events';

jest.setTimeout(60_000);

const TEMPLATE = 'functions/templates/window.ts';
/** The table the template, imported in this process for the mapping, writes to. */
const STREAMED_TABLE = 'streamed-sales';

interface Sale {
  readonly storeId: string;
  readonly amountCents: number;
}

/** One line of a `driverless run` record file. */
interface SaleLine {
  readonly data: Sale;
  readonly partitionKey: string;
  readonly sequenceNumber?: string;
  readonly arrivedAt: string;
}

/** An item the template's `onClose` writes, without its `window` key (which names the shard). */
interface WindowTotal {
  readonly storeId: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly count: number;
  readonly sumCents: number;
}

let dynamo: DynamoServer;
let dir: string;

beforeAll(async () => {
  dynamo = await startDynamo();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  });
});

afterAll(() => dynamo.stop());

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cli-run-windows-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let tables = 0;
async function createTable(name = `sales-${++tables}`): Promise<string> {
  await dynamoClient(dynamo.endpoint).send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [
        { AttributeName: 'storeId', KeyType: 'HASH' },
        { AttributeName: 'window', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'storeId', AttributeType: 'S' },
        { AttributeName: 'window', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return name;
}

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const page = await documentClient(dynamo.endpoint).send(
    new ScanCommand({ TableName: table, ConsistentRead: true }),
  );
  return (page.Items ?? []).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

const totalsOf = (items: readonly Record<string, unknown>[]): WindowTotal[] =>
  items
    .map(({ storeId, windowStart, windowEnd, count, sumCents }) => ({
      storeId,
      windowStart,
      windowEnd,
      count,
      sumCents,
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) as WindowTotal[];

/** The totals per store and window, computed from the lines alone. */
function expectedTotals(lines: readonly SaleLine[], windowSeconds: number): WindowTotal[] {
  const totals = new Map<string, WindowTotal>();
  for (const { data, arrivedAt } of lines) {
    const windowMs = windowSeconds * 1000;
    const start = Math.floor(Date.parse(arrivedAt) / windowMs) * windowMs;
    const key = `${data.storeId}|${start}`;
    const seen = totals.get(key);
    totals.set(key, {
      storeId: data.storeId,
      windowStart: new Date(start).toISOString(),
      windowEnd: new Date(start + windowMs).toISOString(),
      count: (seen?.count ?? 0) + 1,
      sumCents: (seen?.sumCents ?? 0) + data.amountCents,
    });
  }
  return [...totals.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

async function writeLines(lines: readonly SaleLine[]): Promise<string> {
  const file = join(dir, 'sales.ndjson');
  await writeFile(file, lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
  return file;
}

/** Runs the template over `file` with windows of `seconds`, writing to `table`. */
function runTemplate(file: string, table: string, seconds: number, batchSize = 4) {
  return runCli(
    [
      'run',
      TEMPLATE,
      '--file',
      file,
      '--tumbling-window',
      String(seconds),
      '--batch-size',
      String(batchSize),
      '--json',
    ],
    { TABLE_NAME: table },
  );
}

describe('driverless run --tumbling-window with the window template', () => {
  it('writes exactly the per-window totals of the input when each window closes', async () => {
    // Given: 21 sales of three stores over four one-minute windows
    const base = Date.UTC(2026, 10, 23, 19, 0, 0);
    const lines: SaleLine[] = Array.from({ length: 21 }, (_, n) => ({
      data: { storeId: `store-${n % 3}`, amountCents: 100 + n * 7 },
      partitionKey: `store-${n % 3}`,
      arrivedAt: new Date(base + n * 11_000).toISOString(),
    }));
    const table = await createTable();

    // When
    const result = await runTemplate(await writeLines(lines), table, 60);

    // Then
    expect({
      code: result.code,
      summary: jsonSummary(result.stdout),
      totals: totalsOf(await scan(table)),
    }).toMatchObject({
      code: 0,
      summary: { records: 21, processed: 21, failed: 0, windowsClosed: 4, windowsFailed: 0 },
      totals: expectedTotals(lines, 60),
    });
  });

  describe('against the embedded mapping', () => {
    let kinesis: KinesisTestServer;
    let streamedHandler: MicroBatchHandler<SalesWindow>;

    beforeAll(async () => {
      kinesis = await startKinesalite();
      await createTable(STREAMED_TABLE);
      // The template reads its table and dead-letter sink at import, as Lambda loads it.
      process.env.TABLE_NAME = STREAMED_TABLE;
      process.env.DRIVERLESS_DEAD_LETTER_FILE = join(tmpdir(), `windows-${process.pid}.ndjson`);
      ({ handler: streamedHandler } = await import('../../functions/templates/window'));
    });

    afterEach(stopAllMappings);

    afterAll(() => kinesis.close());

    it('leaves the same items as the mapping with the same TumblingWindowInSeconds', async () => {
      // Given: sales put in three rounds about a second apart, so they span at least three 1 s
      // windows. Each round is one PutRecords: kinesalite stamps a record's arrival before the
      // record is readable, so with one PutRecord per sale, a sale stamped late in a window could
      // become readable only after the mapping, caught up past the window's end, had closed it;
      // the mapping then opens and closes that window a second time, which the batch run cannot
      // reproduce. One PutRecords makes a round readable at once.
      const stream = await createStream(kinesis.kinesis);
      const fn = fakeFunction(async (event) => {
        try {
          return { payload: await streamedHandler(event as KinesisEvent, lambdaContext()) };
        } catch (error) {
          return { functionError: 'Unhandled', payload: { errorMessage: String(error) } };
        }
      });
      const putRound = (round: number) =>
        putRecordsBatch(
          kinesis.kinesis,
          stream.name,
          Array.from({ length: 4 }, (_, n) => ({
            partitionKey: `store-${n % 2}`,
            data: { storeId: `store-${n % 2}`, amountCents: 10 * round + n },
          })),
        );
      // The first round is on the stream before the mapping reads it: kinesalite moves an empty
      // shard's iterator to the time of the read, past a first record stamped but not yet readable.
      await putRound(0);
      const { eventsOf } = startMapping(
        kinesis,
        mappingConfig(stream.arn, { tumblingWindowSeconds: 1 }),
        fn,
      );
      for (let round = 1; round < 3; round++) {
        await new Promise((resolve) => setTimeout(resolve, 1050));
        await putRound(round);
      }
      const lines = await readBack(kinesis, stream.name);
      const windows = [
        ...new Set(lines.map((line) => Math.floor(Date.parse(line.arrivedAt) / 1000) * 1000)),
      ].sort((a, b) => a - b);
      // Each window by its start, as the mapping bounds it: a count could be reached by a window
      // closed twice while another is still open.
      const closed = () =>
        eventsOf('windowFinalInvoked')
          .filter((event) => event.ok)
          .map((event) => Date.parse(event.window.start))
          .sort((a, b) => a - b);
      await waitFor(
        () => windows.every((start) => closed().includes(start)),
        10_000,
        'every window to close',
      );
      const batchTable = await createTable();

      // When
      const result = await runTemplate(await writeLines(lines), batchTable, 1);

      // Then
      expect({
        windows: windows.length >= 3,
        closedByTheMapping: closed(),
        code: result.code,
        windowsClosed: jsonSummary(result.stdout).windowsClosed,
        items: await scan(batchTable),
      }).toStrictEqual({
        windows: true,
        closedByTheMapping: windows,
        code: 0,
        windowsClosed: windows.length,
        items: await scan(STREAMED_TABLE),
      });
      expect(totalsOf(await scan(batchTable))).toStrictEqual(expectedTotals(lines, 1));
    });
  });
});

/** The stream's records as file lines, with the sequence numbers and arrival times Kinesis gave. */
async function readBack(server: KinesisTestServer, streamName: string): Promise<SaleLine[]> {
  const { ShardIterator } = await server.kinesis.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: 'shardId-000000000000',
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const { Records = [] } = await server.kinesis.send(
    new GetRecordsCommand({ ShardIterator, Limit: 10_000 }),
  );
  return Records.map((record) => ({
    data: JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')) as Sale,
    partitionKey: record.PartitionKey ?? '',
    sequenceNumber: record.SequenceNumber ?? '',
    arrivedAt: (record.ApproximateArrivalTimestamp ?? new Date()).toISOString(),
  }));
}
