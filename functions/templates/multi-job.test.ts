import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MicroBatchHandler } from 'driverless/runtime';
import {
  invoke,
  kinesisEvent,
  sequenceNumber,
  setHandlerEnvironment,
  shardIdOf,
} from 'driverless/testing';

/** A command as the SDK's `send` receives it. */
type SentCommand = { readonly input: Record<string, unknown> };
/** A stubbed `send`; its calls are `[command, { abortSignal }]`. */
type SendStub = jest.Mock<Promise<unknown>, [SentCommand, { abortSignal?: AbortSignal }?]>;

/** Stubs `send` of the DynamoDB document client and of SQS (where notifications go): all succeed. */
function stubAwsClients(): { documents: SendStub; sqs: SendStub } {
  const documents = jest
    .spyOn(DynamoDBDocumentClient.prototype, 'send')
    .mockImplementation(async () => ({})) as unknown as SendStub;
  const sqs = jest
    .spyOn(SQSClient.prototype, 'send')
    .mockImplementation(async () => ({})) as unknown as SendStub;
  return { documents, sqs };
}

/** The shard of every event here: `kinesisEvent` builds one-shard events. */
const SHARD_ID = shardIdOf(0);
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
    // The handler reads its environment when imported, as on Lambda; dead letters go to a file
    // that `invoke` reads.
    setHandlerEnvironment({ TABLE_NAME: TABLE, QUEUE_URL: QUEUE });
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
    const { response } = await invoke(handler, event);

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
          ':last': padded(2),
          ':first': padded(0),
        },
      },
      expect.objectContaining({
        Key: { customerId: 'c2' },
        ExpressionAttributeValues: {
          ':total': 5,
          ':count': 1,
          ':last': padded(1),
          ':first': padded(1),
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
    await invoke(handler, event);

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
    const { response } = await invoke(handler, kinesisEvent([order('o1', 'c1', 2000)]));

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(inputsOf(documents, UpdateCommand)).toHaveLength(1);
  });

  it('adds only the orders after the mark when a retried write finds some already counted', async () => {
    // Given: an earlier attempt counted c1's orders up to sequence number 10
    documents.mockImplementation(async (command) => {
      if (command instanceof GetCommand) return { Item: { [`counted_${SHARD_ID}`]: padded(1) } };
      if (command.input.ConditionExpression !== '#mark = :counted') {
        throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
      }
      return {};
    });
    const event = kinesisEvent([order('o1', 'c1', 1), order('o2', 'c1', 2), order('o3', 'c1', 4)]);

    // When
    const { response } = await invoke(handler, event);

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
        ':last': padded(2),
        ':counted': padded(1),
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
    const { response } = await invoke(handler, event);

    // Then: the batch resumes at c2's first order
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(1) }] });
  });

  it("reports a customer's orders as failed when their notification cannot be sent", async () => {
    // Given
    sqs.mockRejectedValue(new Error('queue unavailable'));
    const event = kinesisEvent([order('o1', 'c1', 1), order('o2', 'c2', 5000)]);

    // When
    const { response } = await invoke(handler, event);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(1) }] });
  });

  it('dead-letters an order that fails the schema, and neither job sees it', async () => {
    // Given: the second order has no customer
    const event = kinesisEvent([order('o1', 'c1', 1), { data: { orderId: 'o2', amount: 1 } }]);

    // When
    const { response, deadLetters } = await invoke(handler, event);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(deadLetters).toStrictEqual([
      expect.objectContaining({
        sequenceNumber: sequenceNumber(1),
        reason: expect.stringContaining('schema: customerId'),
      }),
    ]);
    expect(inputsOf(documents, UpdateCommand).map((input) => input.Key)).toStrictEqual([
      { customerId: 'c1' },
    ]);
    expect(inputsOf(sqs, SendMessageCommand)).toStrictEqual([]);
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
        await invoke(totalsOnly, kinesisEvent([order('o1', 'c1', 5000)]));

        // Then
        expect(writes).toHaveBeenCalledTimes(1);
        expect(messages).not.toHaveBeenCalled();
      });
    } finally {
      delete process.env.DRIVERLESS_JOBS;
    }
  });
});
