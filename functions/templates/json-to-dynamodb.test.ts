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
const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/products';
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
    functionName: 'products',
    functionVersion: '1',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:products:live',
    memoryLimitInMB: '1024',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    logGroupName: '/aws/lambda/products',
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

const TABLE = 'products';
const ENTRY = './json-to-dynamodb';

const product = (id: string, price = 10) => ({
  id,
  name: `Product ${id}`,
  price,
  updatedAt: '2026-11-23T19:00:00.000Z',
});

describe('json-to-dynamodb template', () => {
  let handler: MicroBatchHandler;
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

  it('puts each record as an item of TABLE_NAME, with the job signal', async () => {
    // Given
    const event = kinesisEvent([{ data: product('p1') }, { data: product('p2') }]);

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(documents.mock.calls.map(([command]) => command)).toStrictEqual([
      expect.any(PutCommand),
      expect.any(PutCommand),
    ]);
    expect(documents.mock.calls.map(([command]) => command.input)).toStrictEqual([
      { TableName: TABLE, Item: product('p1') },
      { TableName: TABLE, Item: product('p2') },
    ]);
    expect(documents.mock.calls[0]?.[1]?.abortSignal).toBeInstanceOf(AbortSignal);
  });

  it('writes only the last record of an id in a batch', async () => {
    // Given: p1 changes price twice in one batch
    const event = kinesisEvent([{ data: product('p1', 10) }, { data: product('p1', 12) }]);

    // When
    await handler(event, lambdaContext());

    // Then
    expect(documents.mock.calls.map(([command]) => command.input)).toStrictEqual([
      { TableName: TABLE, Item: product('p1', 12) },
    ]);
  });

  it('reports only the record whose write failed', async () => {
    // Given: the write of p2 is throttled
    documents.mockImplementation(async (command) => {
      if ((command.input.Item as { id: string }).id === 'p2') throw new Error('throttled');
      return {};
    });
    const event = kinesisEvent([
      { data: product('p1') },
      { data: product('p2') },
      { data: product('p3') },
    ]);

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
    expect(documents).toHaveBeenCalledTimes(3);
  });

  it('dead-letters a record that fails the schema and writes the others', async () => {
    // Given: the second record has a negative price
    const event = kinesisEvent([{ data: product('p1') }, { data: product('p2', -1) }]);

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(documents.mock.calls.map(([command]) => command.input.Item)).toStrictEqual([
      product('p1'),
    ]);
    expect(sqs).toHaveBeenCalledTimes(1);
    const [command] = sqs.mock.calls[0]!;
    expect(command).toBeInstanceOf(SendMessageBatchCommand);
    const { QueueUrl, Entries } = command.input as {
      QueueUrl: string;
      Entries: { MessageBody: string }[];
    };
    expect(QueueUrl).toBe(DEAD_LETTER_QUEUE);
    expect(Entries.map((entry) => JSON.parse(entry.MessageBody))).toStrictEqual([
      expect.objectContaining({
        sequenceNumber: sequenceNumber(10),
        reason: expect.stringContaining('schema: price'),
      }),
    ]);
  });

  it('fails if TABLE_NAME is not set, at import rather than on a batch', async () => {
    // Given
    const saved = process.env.TABLE_NAME;
    delete process.env.TABLE_NAME;

    // When / Then
    try {
      await jest.isolateModulesAsync(async () => {
        await expect(import(ENTRY)).rejects.toThrow('TABLE_NAME is not set');
      });
    } finally {
      process.env.TABLE_NAME = saved;
    }
  });
});
