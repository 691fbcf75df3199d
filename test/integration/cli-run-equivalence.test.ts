/**
 * Batch mode reuses the stream code: the example handlers run by `driverless run --file` over a
 * file leave DynamoDB exactly as the same records streamed through the embedded stack do. The
 * batch run writes to a second pair of tables in the stack's own DynamoDB.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { runCli } from '../fixtures/cli/run-cli';
import type { RecordPosition } from './support/mapping-events';
import { retailInputs } from './support/retail-inputs';
import { type EmbeddedTarget, startTarget } from './support/target';

jest.setTimeout(120_000);

let target: EmbeddedTarget;
const streamed = { recommendations: '', popularity: '', trending: '', conversions: '' };
const batch = {
  recommendations: 'BatchRecommendations',
  popularity: 'BatchPopularity',
  trending: 'BatchTrending',
  conversions: 'BatchConversions',
};
const data = retailInputs();

const only = (values: readonly (string | undefined)[], what: string): string => {
  const unique = [...new Set(values.filter((value): value is string => value !== undefined))];
  if (unique.length !== 1 || !unique[0])
    throw new Error(`expected one ${what}, found ${unique.length}`);
  return unique[0];
};

async function scan(table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await target.clients.documents.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  // Per-shard `seq_*` marks are bookkeeping that names shards, which differ between the two runs.
  const projected = items.map((item) =>
    Object.fromEntries(Object.entries(item).filter(([key]) => !key.startsWith('seq_'))),
  );
  return projected.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

async function put(
  stream: string,
  records: readonly { key: string; data: unknown }[],
): Promise<RecordPosition[]> {
  const result = await target.clients.kinesis.send(
    new PutRecordsCommand({
      StreamName: stream,
      Records: records.map((record) => ({
        PartitionKey: record.key,
        Data: Buffer.from(
          typeof record.data === 'string' ? record.data : JSON.stringify(record.data),
        ),
      })),
    }),
  );
  return (result.Records ?? []).map((entry) => ({
    shardId: entry.ShardId ?? '',
    sequenceNumber: entry.SequenceNumber ?? '',
  }));
}

beforeAll(async () => {
  target = (await startTarget('embedded', {
    pipeline: 'Retail',
    tuning: {
      idlePollIntervalMs: 100,
      consumerPollIntervalMs: 50,
      retryBackoff: { initialMs: 100, multiplier: 2, maxMs: 500 },
    },
  })) as EmbeddedTarget;
  const { functions } = target;
  streamed.recommendations = only(
    functions.map((fn) => fn.environment.RECOMMENDATIONS_TABLE),
    'recommendations table',
  );
  streamed.popularity = only(
    functions.map((fn) => fn.environment.POPULARITY_TABLE),
    'popularity table',
  );
  // The stateful jobs' tables: the batch run writes them too (its final tick emits every window).
  streamed.trending = only(
    functions.map((fn) => fn.environment.TRENDING_TABLE),
    'trending table',
  );
  streamed.conversions = only(
    functions.map((fn) => fn.environment.CONVERSIONS_TABLE),
    'conversions table',
  );
  const mappings = (source: string) =>
    functions.filter((fn) => fn.source === source).flatMap((fn) => fn.mappings);
  const streamOf = (source: string) =>
    only(
      mappings(source).map((m) => m.streamName),
      `stream of ${source}`,
    );

  // Tables for the batch run: copies of the streamed ones' keys, in the same DynamoDB.
  const dynamodb = new DynamoDBClient({
    endpoint: target.stack.endpoints.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    requestHandler: new NodeHttpHandler(),
  });
  for (const kind of ['recommendations', 'popularity', 'trending', 'conversions'] as const) {
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: streamed[kind] }));
    await dynamodb.send(
      new CreateTableCommand({
        TableName: batch[kind],
        KeySchema: Table?.KeySchema,
        AttributeDefinitions: Table?.AttributeDefinitions,
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  }
  dynamodb.destroy();

  // Streamed: put the records and wait for every mapping to checkpoint them all.
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
});

afterAll(async () => {
  await target?.stop();
});

it('leaves the same recommendations and popularity as the stream', async () => {
  // Given: the same records as files
  const dir = join(__dirname, '..', '..', '.driverless');
  const files = {
    views: join(dir, `views-${process.pid}.ndjson`),
    orders: join(dir, `orders-${process.pid}.ndjson`),
  };
  const ndjson = (records: readonly { key: string; data: unknown }[]) =>
    records
      .map((record) => `${JSON.stringify({ data: record.data, partitionKey: record.key })}\n`)
      .join('');
  await writeFile(files.views, ndjson(data.views));
  await writeFile(files.orders, ndjson(data.orders));
  const env = {
    AWS_ENDPOINT_URL_DYNAMODB: target.stack.endpoints.dynamodb,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    RECOMMENDATIONS_TABLE: batch.recommendations,
    POPULARITY_TABLE: batch.popularity,
    TRENDING_TABLE: batch.trending,
    CONVERSIONS_TABLE: batch.conversions,
  };

  // When
  const views = await runCli(
    [
      'run',
      'functions/example/product-views.ts',
      '--file',
      files.views,
      '--batch-size',
      '50',
      '--allow-dead-letters',
      '--dead-letters',
      `${files.views}.dead`,
    ],
    env,
  );
  const orders = await runCli(
    [
      'run',
      'functions/example/orders.ts',
      '--file',
      files.orders,
      '--dead-letters',
      `${files.orders}.dead`,
    ],
    env,
  );

  await Promise.all(
    [files.views, files.orders, `${files.views}.dead`, `${files.orders}.dead`].map((file) =>
      rm(file, { force: true }),
    ),
  );

  // Then
  expect({ views: views.code, orders: orders.code }).toEqual({ views: 0, orders: 0 });
  const [streamedRecommendations, batchRecommendations] = [
    await scan(streamed.recommendations),
    await scan(batch.recommendations),
  ];
  const [streamedPopularity, batchPopularity] = [
    await scan(streamed.popularity),
    await scan(batch.popularity),
  ];
  expect(streamedRecommendations.length).toBeGreaterThan(50);
  expect({ recommendations: batchRecommendations, popularity: batchPopularity }).toEqual({
    recommendations: streamedRecommendations,
    popularity: streamedPopularity,
  });
});
