import type * as Sqs from '@aws-sdk/client-sqs';
import type * as Documents from '@aws-sdk/lib-dynamodb';
import type { KinesisEvent, MicroBatchHandler, TickEvent } from 'driverless/runtime';

// Test support, kept in this file so the test needs nothing beyond Driverless's public API and the
// AWS SDK: Kinesis events and a Lambda context as Lambda passes them, and stubbed SDK clients.

type LambdaContext = Parameters<MicroBatchHandler>[1];
/** A command as the SDK's `send` receives it. */
type SentCommand = { readonly input: Record<string, unknown> };
/** A stubbed `send`; its calls are `[command, { abortSignal }]`. */
type SendStub = jest.Mock<Promise<unknown>, [SentCommand, { abortSignal?: AbortSignal }?]>;

const SHARD_ID = 'shardId-000000000003';
const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/sales';
const OTHER_SHARD_ID = 'shardId-000000000004';
const DEAD_LETTER_QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/dead-letters';

/** A 56-digit sequence number like Kinesis's (far beyond 2^53), offset by `n`. */
function sequenceNumber(n: number): string {
  return (
    49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n + BigInt(n)
  ).toString();
}

/** An event of JSON records on one shard whose sequence numbers step by 10 from `start`. */
function kinesisEvent(
  records: readonly { readonly data: unknown }[],
  options: { start?: number; shardId?: string; extra?: Partial<KinesisEvent> } = {},
): KinesisEvent {
  return {
    Records: records.map(({ data }, index) => {
      const sequence = sequenceNumber((options.start ?? 0) + index * 10);
      return {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: 'key-1',
          sequenceNumber: sequence,
          data: Buffer.from(JSON.stringify(data)).toString('base64'),
          approximateArrivalTimestamp: 1_700_000_000.123,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${options.shardId ?? SHARD_ID}:${sequence}`,
        eventName: 'aws:kinesis:record',
        awsRegion: 'us-east-1',
        eventSourceARN: STREAM_ARN,
      };
    }),
    ...options.extra,
  };
}

/** A Lambda context with a minute left. */
function lambdaContext(): LambdaContext {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'sales',
    functionVersion: '1',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:sales:live',
    memoryLimitInMB: '1024',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    logGroupName: '/aws/lambda/sales',
    logStreamName: '2026/11/23/[1]abcdef',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Sets the environment the handler module reads at import (as Lambda loads it), with dead letters
 * going to the stubbed queue and the runtime's logs and metrics off. Import the module after it.
 */
function setHandlerEnvironment(environment: Record<string, string>): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    DRIVERLESS_DEAD_LETTER_QUEUE_URL: DEAD_LETTER_QUEUE,
    DRIVERLESS_SOURCE: 'sales',
    ...environment,
  });
}

/**
 * Stubs `send` of the DynamoDB document client and of SQS (where dead letters go) in the modules
 * the handler loaded: all succeed.
 */
function stubAwsClients(
  documentsModule: typeof Documents,
  sqsModule: typeof Sqs,
): { documents: SendStub; sqs: SendStub } {
  const documents = jest
    .spyOn(documentsModule.DynamoDBDocumentClient.prototype, 'send')
    .mockImplementation(async () => ({})) as unknown as SendStub;
  const sqs = jest
    .spyOn(sqsModule.SQSClient.prototype, 'send')
    .mockImplementation(async () => ({ Successful: [], Failed: [] })) as unknown as SendStub;
  return { documents, sqs };
}

const TABLE = 'sales-per-store';
const ENTRY = './aggregate';
/** 2026-11-23T19:00:00Z, the start of a five-minute window. */
const T0 = Date.UTC(2026, 10, 23, 19, 0, 0);
const MINUTE = 60_000;

const sale = (storeId: string, amountCents: number, minutesAfterT0: number) => ({
  data: { storeId, amountCents, ts: T0 + minutesAfterT0 * MINUTE },
});

/** The end of the input: every open window is emitted. */
const finalTick: TickEvent = {
  driverless: 'tick',
  source: 'sales',
  time: new Date().toISOString(),
  final: true,
};

/** The items written, in order (only PutItem writes items). */
function written(documents: SendStub): unknown[] {
  return documents.mock.calls
    .map(([command]) => command.input)
    .filter((input) => input.Item !== undefined)
    .map((input) => input.Item);
}

/** The commands sent, by their class name. */
function sentNames(stub: SendStub): string[] {
  return stub.mock.calls.map(([command]) => command.constructor.name);
}

let runs = 0;

describe('aggregate template', () => {
  let handler: MicroBatchHandler;
  let documents: SendStub;
  let sqs: SendStub;

  beforeAll(() => {
    setHandlerEnvironment({ TABLE_NAME: TABLE });
  });

  // Each test gets a fresh handler with state of its own: the runtime keeps `memory:<name>` state
  // per process, and a final tick moves the watermark past every later record.
  beforeEach(async () => {
    jest.resetModules();
    runs += 1;
    process.env.DRIVERLESS_STATE_TABLE = `memory:test-${runs}`;
    ({ documents, sqs } = stubAwsClients(
      await import('@aws-sdk/lib-dynamodb'),
      await import('@aws-sdk/client-sqs'),
    ));
    ({ handler } = await import(ENTRY));
  });

  afterEach(() => jest.restoreAllMocks());

  it('writes nothing while the windows are open', async () => {
    // When
    const response = await handler(
      kinesisEvent([sale('open-1', 250, 0), sale('open-1', 50, 1)]),
      lambdaContext(),
    );

    // Then
    expect(response.batchItemFailures).toStrictEqual([]);
    expect(written(documents)).toStrictEqual([]);
  });

  it("writes each store's count and sum per window once, from every shard, at the end of the input", async () => {
    // Given: sales of one store on two shards, in two windows; the first shard's latest sale is
    // within the allowed lateness of the first window's end, so the other shard's sale still counts
    await handler(kinesisEvent([sale('s1', 250, 0), sale('s1', 50, 5.5)]), lambdaContext());
    await handler(kinesisEvent([sale('s1', 100, 2)], { shardId: OTHER_SHARD_ID }), lambdaContext());

    // When
    const response = await handler(finalTick, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(written(documents)).toEqual(
      expect.arrayContaining([
        {
          storeId: 's1',
          windowStart: '2026-11-23T19:00:00.000Z',
          windowEnd: '2026-11-23T19:05:00.000Z',
          count: 2,
          sumCents: 350,
        },
        {
          storeId: 's1',
          windowStart: '2026-11-23T19:05:00.000Z',
          windowEnd: '2026-11-23T19:10:00.000Z',
          count: 1,
          sumCents: 50,
        },
      ]),
    );
    expect(
      written(documents).filter((item) => (item as { storeId: string }).storeId === 's1'),
    ).toHaveLength(2);
  });

  it('dead-letters a sale behind the watermark instead of changing a window already written', async () => {
    // Given: a sale far ahead moves the watermark past the first window, which is written
    await handler(
      kinesisEvent([sale('late-1', 100, 0), sale('late-1', 1, 30)], { start: 1000 }),
      lambdaContext(),
    );

    // When: a sale of the first window arrives after it was written
    const response = await handler(
      kinesisEvent([sale('late-1', 999, 1)], { start: 2000 }),
      lambdaContext(),
    );
    await handler(finalTick, lambdaContext());

    // Then
    expect(response.batchItemFailures).toStrictEqual([]);
    expect(sentNames(sqs)).toContain('SendMessageBatchCommand');
    const firstWindow = written(documents).filter(
      (item) =>
        (item as { storeId: string; windowStart: string }).storeId === 'late-1' &&
        (item as { windowStart: string }).windowStart === '2026-11-23T19:00:00.000Z',
    );
    expect(firstWindow).toStrictEqual([
      {
        storeId: 'late-1',
        windowStart: '2026-11-23T19:00:00.000Z',
        windowEnd: '2026-11-23T19:05:00.000Z',
        count: 1,
        sumCents: 100,
      },
    ]);
  });
});
