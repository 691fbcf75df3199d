import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisEvent, MicroBatchHandler } from 'driverless/runtime';

// Test support, kept in this file so the test needs nothing beyond Driverless's public API and the
// AWS SDK: Kinesis events and a Lambda context as Lambda passes them, and stubbed SDK clients.

type LambdaContext = Parameters<MicroBatchHandler>[1];
/** A command as the SDK's `send` receives it. */
type SentCommand = { readonly input: Record<string, unknown> };
/** A stubbed `send`; its calls are `[command, { abortSignal }]`. */
type SendStub = jest.Mock<Promise<unknown>, [SentCommand, { abortSignal?: AbortSignal }?]>;

const SHARD_ID = 'shardId-000000000003';
const STREAM_ARN = 'arn:aws:kinesis:us-east-1:123456789012:stream/orders';
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
    functionName: 'orders',
    functionVersion: '1',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders:live',
    memoryLimitInMB: '1024',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
    logGroupName: '/aws/lambda/orders',
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

const TABLE = 'customer-totals';
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/big-spenders';
const ENTRY = './multi-job';

const padded = (n: number) => sequenceNumber(n).padStart(128, '0');
const order = (orderId: string, customerId: string, amount: number) => ({
  data: { orderId, customerId, amount },
});
const inputsOf = (stub: SendStub, type: abstract new (...args: never[]) => unknown) =>
  stub.mock.calls.filter(([command]) => command instanceof type).map(([command]) => command.input);

describe('multi-job template', () => {
  let handler: MicroBatchHandler;
  let documents: SendStub;
  let sqs: SendStub;

  beforeAll(async () => {
    setHandlerEnvironment({
      TABLE_NAME: TABLE,
      QUEUE_URL: QUEUE,
    });
    ({ handler } = await import(ENTRY));
  });

  beforeEach(() => {
    ({ documents, sqs } = stubAwsClients());
  });

  afterEach(() => jest.restoreAllMocks());

  it("adds each customer's orders to their total once, under the shard's mark", async () => {
    // Given: c1 orders twice, c2 once
    const event = kinesisEvent([order('o1', 'c1', 10), order('o2', 'c2', 5), order('o3', 'c1', 7)]);

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(inputsOf(documents, UpdateCommand)).toStrictEqual([
      {
        TableName: TABLE,
        Key: { customerId: 'c1' },
        UpdateExpression: 'ADD #total :total, #count :count SET #mark = :last',
        ConditionExpression: 'attribute_not_exists(#mark) OR #mark < :first',
        ExpressionAttributeNames: {
          '#total': 'total',
          '#count': 'orderCount',
          '#mark': `counted_${SHARD_ID}`,
        },
        ExpressionAttributeValues: {
          ':total': 17,
          ':count': 2,
          ':last': padded(20),
          ':first': padded(0),
        },
      },
      expect.objectContaining({
        Key: { customerId: 'c2' },
        ExpressionAttributeValues: {
          ':total': 5,
          ':count': 1,
          ':last': padded(10),
          ':first': padded(10),
        },
      }),
    ]);
  });

  it('notifies each customer whose spend in the batch reaches BIG_SPEND', async () => {
    // Given: c1 spends 1000 over two orders, c2 spends 999
    const event = kinesisEvent([
      order('o1', 'c1', 600),
      order('o2', 'c2', 999),
      order('o3', 'c1', 400),
    ]);

    // When
    await handler(event, lambdaContext());

    // Then
    const sent = inputsOf(sqs, SendMessageCommand);
    expect(sent).toStrictEqual([{ QueueUrl: QUEUE, MessageBody: expect.any(String) }]);
    expect(JSON.parse(sent[0]?.MessageBody as string)).toStrictEqual({
      customerId: 'c1',
      total: 1000,
      orderIds: ['o1', 'o3'],
    });
  });

  it('runs both jobs at once: notifications go out while totals are still being written', async () => {
    // Given: the totals write waits until a notification has been sent
    let notify!: () => void;
    const notified = new Promise<void>((resolve) => {
      notify = resolve;
    });
    sqs.mockImplementation(async () => notify());
    documents.mockImplementation(async () => notified.then(() => ({})));

    // When
    const response = await handler(kinesisEvent([order('o1', 'c1', 2000)]), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(inputsOf(documents, UpdateCommand)).toHaveLength(1);
  });

  it('adds only the orders after the mark when a retried write finds some already counted', async () => {
    // Given: an earlier attempt counted c1's orders up to sequence number 10
    documents.mockImplementation(async (command) => {
      if (command instanceof GetCommand) return { Item: { [`counted_${SHARD_ID}`]: padded(10) } };
      if (command.input.ConditionExpression !== '#mark = :counted') {
        throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
      }
      return {};
    });
    const event = kinesisEvent([order('o1', 'c1', 1), order('o2', 'c1', 2), order('o3', 'c1', 4)]);

    // When
    const response = await handler(event, lambdaContext());

    // Then: the retry reads the mark consistently and adds only o3 under a condition on that mark
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(inputsOf(documents, GetCommand)).toStrictEqual([
      {
        TableName: TABLE,
        Key: { customerId: 'c1' },
        ConsistentRead: true,
        ProjectionExpression: '#mark',
        ExpressionAttributeNames: { '#mark': `counted_${SHARD_ID}` },
      },
    ]);
    expect(inputsOf(documents, UpdateCommand)[1]).toMatchObject({
      ConditionExpression: '#mark = :counted',
      ExpressionAttributeValues: {
        ':total': 4,
        ':count': 1,
        ':last': padded(20),
        ':counted': padded(10),
      },
    });
  });

  it("reports a customer's orders as failed when their total cannot be written", async () => {
    // Given: c2's write is throttled
    documents.mockImplementation(async (command) => {
      if ((command.input.Key as { customerId: string }).customerId === 'c2') {
        throw new Error('throttled');
      }
      return {};
    });
    const event = kinesisEvent([order('o1', 'c1', 1), order('o2', 'c2', 2), order('o3', 'c2', 3)]);

    // When
    const response = await handler(event, lambdaContext());

    // Then: the batch resumes at c2's first order
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
  });

  it("reports a customer's orders as failed when their notification cannot be sent", async () => {
    // Given
    sqs.mockRejectedValue(new Error('queue unavailable'));
    const event = kinesisEvent([order('o1', 'c1', 1), order('o2', 'c2', 5000)]);

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
  });

  it('dead-letters an order that fails the schema, and neither job sees it', async () => {
    // Given: the second order has no customer
    const event = kinesisEvent([order('o1', 'c1', 1), { data: { orderId: 'o2', amount: 1 } }]);

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    const letters = inputsOf(sqs, SendMessageBatchCommand);
    expect(letters).toStrictEqual([
      { QueueUrl: DEAD_LETTER_QUEUE, Entries: [{ Id: '0', MessageBody: expect.any(String) }] },
    ]);
    expect(inputsOf(documents, UpdateCommand).map((input) => input.Key)).toStrictEqual([
      { customerId: 'c1' },
    ]);
  });

  it('runs only the jobs DRIVERLESS_JOBS names', async () => {
    // Given: a deployment of the totals job alone, with fresh modules so the variable is read
    process.env.DRIVERLESS_JOBS = 'totals';
    try {
      await jest.isolateModulesAsync(async () => {
        const dynamodb = await import('@aws-sdk/lib-dynamodb');
        const sqsModule = await import('@aws-sdk/client-sqs');
        const writes = jest
          .spyOn(dynamodb.DynamoDBDocumentClient.prototype, 'send')
          .mockImplementation(async () => ({}));
        const messages = jest
          .spyOn(sqsModule.SQSClient.prototype, 'send')
          .mockImplementation(async () => ({}));
        const totalsOnly: MicroBatchHandler = (await import(ENTRY)).handler;

        // When
        await totalsOnly(kinesisEvent([order('o1', 'c1', 5000)]), lambdaContext());

        // Then
        expect(writes).toHaveBeenCalledTimes(1);
        expect(messages).not.toHaveBeenCalled();
      });
    } finally {
      delete process.env.DRIVERLESS_JOBS;
    }
  });
});
