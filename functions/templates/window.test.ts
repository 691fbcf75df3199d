import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisEvent, MicroBatchHandler } from 'driverless/runtime';

// Test support, kept in this file so the test needs nothing beyond Driverless's public API and the
// AWS SDK: Kinesis events and a Lambda context as Lambda passes them, and stubbed SDK clients.

type LambdaContext = Parameters<MicroBatchHandler>[1];
/** A command as the SDK's `send` receives it. */
type SentCommand = { readonly input: Record<string, unknown> };
/** A stubbed `send`; its calls are `[command, { abortSignal }]`. */
type SendStub = jest.Mock<Promise<unknown>, [SentCommand, { abortSignal?: AbortSignal }?]>;

const SHARD_ID = 'shardId-000000000003';
const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/sales';
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
  options: { start?: number; extra?: Partial<KinesisEvent> } = {},
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
        eventID: `${SHARD_ID}:${sequence}`,
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
    ...environment,
  });
}

/** Stubs `send` of the DynamoDB document client and of SQS (where dead letters go): all succeed. */
function stubAwsClients(): { documents: SendStub; sqs: SendStub } {
  const documents = jest
    .spyOn(DynamoDBDocumentClient.prototype, 'send')
    .mockImplementation(async () => ({})) as unknown as SendStub;
  const sqs = jest
    .spyOn(SQSClient.prototype, 'send')
    .mockImplementation(async () => ({ Successful: [], Failed: [] })) as unknown as SendStub;
  return { documents, sqs };
}

type SalesWindow = {
  from?: string;
  stores: Record<string, { count: number; sumCents: number }>;
};

const TABLE = 'sales-per-window';
const ENTRY = './window';
const START = '2026-11-23T19:00:00.000Z';
const END = '2026-11-23T19:05:00.000Z';

const sale = (storeId: string, amountCents: number): { data: unknown } => ({
  data: { storeId, amountCents },
});

/** An invocation of the window START–END, as Lambda sends it. */
function windowed(
  records: { data: unknown }[],
  fields: { state?: SalesWindow; isFinalInvokeForWindow?: boolean; start?: number } = {},
): KinesisEvent {
  return kinesisEvent(records, {
    start: fields.start ?? 0,
    extra: {
      window: { start: START, end: END },
      state: fields.state ?? {},
      shardId: SHARD_ID,
      eventSourceARN: STREAM_ARN,
      isFinalInvokeForWindow: fields.isFinalInvokeForWindow ?? false,
      isWindowTerminatedEarly: false,
    },
  });
}

describe('window template', () => {
  let handler: MicroBatchHandler<SalesWindow>;
  let documents: SendStub;
  let sqs: SendStub;

  beforeAll(async () => {
    setHandlerEnvironment({
      TABLE_NAME: TABLE,
    });
    ({ handler } = await import(ENTRY));
  });

  beforeEach(() => {
    ({ documents, sqs } = stubAwsClients());
  });

  afterEach(() => jest.restoreAllMocks());

  it("counts and sums each store's sales into the state of a new window, writing nothing", async () => {
    // When
    const response = await handler(
      windowed([sale('s1', 250), sale('s2', 100), sale('s1', 50)]),
      lambdaContext(),
    );

    // Then
    expect(response).toStrictEqual({
      batchItemFailures: [],
      state: {
        from: sequenceNumber(0),
        stores: { s1: { count: 2, sumCents: 300 }, s2: { count: 1, sumCents: 100 } },
      },
    });
    expect(documents).not.toHaveBeenCalled();
  });

  it('carries the returned state into the next invocation of the window', async () => {
    // Given
    const first = await handler(windowed([sale('s1', 250)]), lambdaContext());

    // When
    const second = await handler(
      windowed([sale('s1', 50), sale('s2', 10)], { state: first.state, start: 10 }),
      lambdaContext(),
    );

    // Then
    expect(second.state).toStrictEqual({
      from: sequenceNumber(0),
      stores: { s1: { count: 2, sumCents: 300 }, s2: { count: 1, sumCents: 10 } },
    });
  });

  it('writes one item per store with the final aggregate when the window closes', async () => {
    // Given: the window's earlier invocations counted one sale of s1
    const state: SalesWindow = {
      from: sequenceNumber(0),
      stores: { s1: { count: 1, sumCents: 5 } },
    };

    // When
    const response = await handler(
      windowed([sale('s1', 20), sale('s2', 7)], { state, isFinalInvokeForWindow: true, start: 10 }),
      lambdaContext(),
    );

    // Then
    expect(response.batchItemFailures).toStrictEqual([]);
    expect(documents.mock.calls.map(([command]) => command)).toStrictEqual([
      expect.any(PutCommand),
      expect.any(PutCommand),
    ]);
    const window = `${START}#${SHARD_ID}#${sequenceNumber(0)}`;
    expect(documents.mock.calls.map(([command]) => command.input)).toStrictEqual([
      {
        TableName: TABLE,
        Item: { storeId: 's1', window, windowStart: START, windowEnd: END, count: 2, sumCents: 25 },
      },
      {
        TableName: TABLE,
        Item: { storeId: 's2', window, windowStart: START, windowEnd: END, count: 1, sumCents: 7 },
      },
    ]);
    expect(documents.mock.calls[0]?.[1]?.abortSignal).toBeInstanceOf(AbortSignal);
  });

  it('writes nothing when a window closes without sales', async () => {
    // When
    await handler(windowed([], { isFinalInvokeForWindow: true }), lambdaContext());

    // Then
    expect(documents).not.toHaveBeenCalled();
  });

  it('fails the final invocation when a write fails, so Lambda retries it with the same state', async () => {
    // Given
    documents.mockRejectedValue(new Error('throttled'));

    // When
    const invocation = handler(
      windowed([sale('s1', 20)], { isFinalInvokeForWindow: true }),
      lambdaContext(),
    );

    // Then
    await expect(invocation).rejects.toThrow('throttled');
  });

  it('dead-letters a sale that fails the schema and leaves it out of the state', async () => {
    // Given: the second sale has a fractional amount
    const event = windowed([sale('s1', 20), sale('s1', 1.5)]);

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response.state?.stores).toStrictEqual({ s1: { count: 1, sumCents: 20 } });
    const [command] = sqs.mock.calls[0]!;
    expect(command).toBeInstanceOf(SendMessageBatchCommand);
    const { Entries } = command.input as { Entries: { MessageBody: string }[] };
    expect(Entries.map((entry) => JSON.parse(entry.MessageBody))).toStrictEqual([
      expect.objectContaining({
        sequenceNumber: sequenceNumber(10),
        reason: expect.stringContaining('schema: amountCents'),
      }),
    ]);
  });
});
