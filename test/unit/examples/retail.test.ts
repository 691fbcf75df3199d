import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { MicroBatchHandler } from 'driverless/runtime';
import type { SendStub } from '../../fixtures/aws-stubs';
import {
  kinesisEvent,
  lambdaContext,
  type RecordFixture,
  SHARD_ID,
  sequenceNumber,
} from '../../fixtures/kinesis-events';

const RECOMMENDATIONS = 'recommendations';
const POPULARITY = 'popularity';
const TRENDING = 'trending';
const CONVERSIONS = 'conversions';
const PRODUCT_VIEWS = '../../../functions/example/product-views';
const ORDERS = '../../../functions/example/orders';
// 2026-11-23T19:00:00Z, and the minute it falls in.
const T0 = Date.UTC(2026, 10, 23, 19, 0, 0);
const MINUTE = '2026-11-23T19:00';
const MARK = `seq_${SHARD_ID}`;

const padded = (n: number) => sequenceNumber(n).padStart(128, '0');
const view = (userId: string, productId: string, ts: number): RecordFixture => ({
  data: { userId, productId, ts },
});
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const sentTo = (stub: SendStub, table: string, type: abstract new (...args: never[]) => unknown) =>
  stub.mock.calls
    .map(([command]) => command)
    .filter((command) => command instanceof type && command.input.TableName === table)
    .map((command) => command.input);

describe('retail example', () => {
  let productViews: MicroBatchHandler;
  let orders: MicroBatchHandler;
  let documents: SendStub;

  beforeAll(async () => {
    // The handlers read their environment at import, so they are imported after setting it.
    process.env.RECOMMENDATIONS_TABLE = RECOMMENDATIONS;
    process.env.POPULARITY_TABLE = POPULARITY;
    process.env.TRENDING_TABLE = TRENDING;
    process.env.CONVERSIONS_TABLE = CONVERSIONS;
    // trending and conversions keep keyed state; here in the process, as `driverless run` does.
    process.env.DRIVERLESS_STATE_TABLE = 'memory:retail-example';
    process.env.DRIVERLESS_DEAD_LETTER_QUEUE_URL =
      'https://sqs.us-east-1.amazonaws.com/123456789012/dead-letters';
    ({ handler: productViews } = await import(PRODUCT_VIEWS));
    ({ handler: orders } = await import(ORDERS));
  });

  beforeEach(() => {
    documents = jest
      .spyOn(DynamoDBDocumentClient.prototype, 'send')
      .mockImplementation(async () => ({})) as unknown as SendStub;
  });

  afterEach(() => jest.restoreAllMocks());

  describe('product views', () => {
    it("records each user's latest view of each product, under a condition that keeps the latest", async () => {
      // Given: u1 views p1 twice, u2 once
      const event = kinesisEvent([
        view('u1', 'p1', T0 + 1000),
        view('u2', 'p1', T0 + 2000),
        view('u1', 'p1', T0 + 3000),
      ]);

      // When
      const response = await productViews(event, lambdaContext());

      // Then
      expect(response).toStrictEqual({ batchItemFailures: [] });
      expect(sentTo(documents, RECOMMENDATIONS, UpdateCommand)).toStrictEqual([
        {
          TableName: RECOMMENDATIONS,
          Key: { userId: 'u1', productId: 'p1' },
          UpdateExpression: 'SET viewedAt = :at',
          ConditionExpression: 'attribute_not_exists(viewedAt) OR viewedAt < :at',
          ExpressionAttributeValues: { ':at': T0 + 3000 },
        },
        expect.objectContaining({
          Key: { userId: 'u2', productId: 'p1' },
          ExpressionAttributeValues: { ':at': T0 + 2000 },
        }),
      ]);
    });

    it('treats a view older than the stored one as done, not failed', async () => {
      // Given: the table already holds a later view
      documents.mockImplementation(async (command) => {
        if (command.input.TableName === RECOMMENDATIONS) throw conditionFailed();
        return {};
      });

      // When
      const response = await productViews(kinesisEvent([view('u1', 'p1', T0)]), lambdaContext());

      // Then
      expect(response).toStrictEqual({ batchItemFailures: [] });
    });

    it("adds each product's views per minute, with the shard's last counted sequence number", async () => {
      // Given: p1 is viewed twice in one minute and once in the next, p2 once
      const event = kinesisEvent([
        view('u1', 'p1', T0 + 1000),
        view('u2', 'p2', T0 + 2000),
        view('u3', 'p1', T0 + 3000),
        view('u1', 'p1', T0 + 61_000),
      ]);

      // When
      await productViews(event, lambdaContext());

      // Then
      expect(sentTo(documents, POPULARITY, UpdateCommand)).toStrictEqual([
        {
          TableName: POPULARITY,
          Key: { productId: 'p1', minute: MINUTE },
          UpdateExpression: 'ADD #views :n SET #mark = :last',
          ConditionExpression: 'attribute_not_exists(#mark) OR #mark < :first',
          ExpressionAttributeNames: { '#views': 'views', '#mark': MARK },
          ExpressionAttributeValues: { ':n': 2, ':last': padded(20), ':first': padded(0) },
        },
        expect.objectContaining({
          Key: { productId: 'p2', minute: MINUTE },
          ExpressionAttributeValues: { ':n': 1, ':last': padded(10), ':first': padded(10) },
        }),
        expect.objectContaining({
          Key: { productId: 'p1', minute: '2026-11-23T19:01' },
          ExpressionAttributeValues: { ':n': 1, ':last': padded(30), ':first': padded(30) },
        }),
      ]);
    });

    it('counts only the views after the stored mark when a retried write loses its condition', async () => {
      // Given: an earlier attempt counted this shard's views of p1 up to sequence number 10
      documents.mockImplementation(async (command) => {
        if (command instanceof GetCommand) return { Item: { views: 2, [MARK]: padded(10) } };
        if (command.input.TableName !== POPULARITY) return {};
        if (command.input.ConditionExpression === '#mark = :expected') return {};
        throw conditionFailed();
      });
      const event = kinesisEvent([
        view('u1', 'p1', T0 + 1000),
        view('u2', 'p1', T0 + 2000),
        view('u3', 'p1', T0 + 3000),
      ]);

      // When
      const response = await productViews(event, lambdaContext());

      // Then: the mark is read consistently, and only the third view is added, from that mark
      expect(response).toStrictEqual({ batchItemFailures: [] });
      expect(sentTo(documents, POPULARITY, GetCommand)).toStrictEqual([
        { TableName: POPULARITY, Key: { productId: 'p1', minute: MINUTE }, ConsistentRead: true },
      ]);
      const updates = sentTo(documents, POPULARITY, UpdateCommand);
      expect(updates).toHaveLength(2);
      expect(updates[1]).toMatchObject({
        ConditionExpression: '#mark = :expected',
        ExpressionAttributeValues: { ':n': 1, ':last': padded(20), ':expected': padded(10) },
      });
    });

    it('fails the batch at the first view of a product whose count cannot be written', async () => {
      // Given: the popularity table throttles p2
      documents.mockImplementation(async (command) => {
        const key = command.input.Key as { productId: string };
        if (command.input.TableName === POPULARITY && key.productId === 'p2') {
          throw new Error('throttled');
        }
        return {};
      });
      const event = kinesisEvent([view('u1', 'p1', T0), view('u1', 'p2', T0)]);

      // When
      const response = await productViews(event, lambdaContext());

      // Then: the job throws, so all its records fail and the batch resumes at the first
      expect(response).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }],
      });
    });

    it('runs only popularity when DRIVERLESS_JOBS=popularity', async () => {
      // Given: the isolated deployment of popularity, with fresh modules so the variable is read
      process.env.DRIVERLESS_JOBS = 'popularity';
      try {
        await jest.isolateModulesAsync(async () => {
          const { DynamoDBDocumentClient: Isolated } = await import('@aws-sdk/lib-dynamodb');
          const send = jest
            .spyOn(Isolated.prototype, 'send')
            .mockImplementation(async () => ({})) as unknown as SendStub;
          const popularityOnly: MicroBatchHandler = (await import(PRODUCT_VIEWS)).handler;

          // When
          await popularityOnly(kinesisEvent([view('u1', 'p1', T0)]), lambdaContext());

          // Then
          expect(send.mock.calls.map(([command]) => command.input.TableName)).toStrictEqual([
            POPULARITY,
          ]);
        });
      } finally {
        delete process.env.DRIVERLESS_JOBS;
      }
    });
  });

  describe('orders', () => {
    it('marks every product of an order as purchased by its user', async () => {
      // Given
      const event = kinesisEvent([
        {
          data: {
            orderId: 'o1',
            userId: 'u1',
            items: [
              { productId: 'p1', quantity: 1 },
              { productId: 'p2', quantity: 3 },
            ],
            ts: T0,
          },
        },
      ]);

      // When
      const response = await orders(event, lambdaContext({ functionName: 'orders' }));

      // Then
      expect(response).toStrictEqual({ batchItemFailures: [] });
      expect(sentTo(documents, RECOMMENDATIONS, UpdateCommand)).toStrictEqual([
        {
          TableName: RECOMMENDATIONS,
          Key: { userId: 'u1', productId: 'p1' },
          UpdateExpression: 'SET purchased = :yes, orderId = :order',
          ExpressionAttributeValues: { ':yes': true, ':order': 'o1' },
        },
        {
          TableName: RECOMMENDATIONS,
          Key: { userId: 'u1', productId: 'p2' },
          UpdateExpression: 'SET purchased = :yes, orderId = :order',
          ExpressionAttributeValues: { ':yes': true, ':order': 'o1' },
        },
      ]);
      expect(documents.mock.calls[0]?.[1]?.abortSignal).toBeInstanceOf(AbortSignal);
    });
  });

  describe('conversions', () => {
    it('counts a view followed by an order of the product by the same user within 30 minutes as converted', async () => {
      // Given: u7 views p7, on a shard the other tests have not used
      const shardId = 'shardId-000000000007';
      await productViews(
        kinesisEvent([{ ...view('u7', 'p7', T0 + 60_000), shardId }]),
        lambdaContext(),
      );
      const order = kinesisEvent([
        {
          data: {
            orderId: 'o7',
            userId: 'u7',
            items: [
              { productId: 'p8', quantity: 1 },
              { productId: 'p7', quantity: 2 },
            ],
            ts: T0 + 10 * 60_000,
          },
          shardId,
        },
      ]);

      // When
      const response = await orders(order, lambdaContext({ functionName: 'orders' }));

      // Then
      expect(response).toStrictEqual({ batchItemFailures: [] });
      const counted = sentTo(documents, CONVERSIONS, UpdateCommand).filter((update) =>
        String(update.UpdateExpression).startsWith('ADD #counter'),
      );
      expect(counted).toStrictEqual([
        {
          TableName: CONVERSIONS,
          Key: { productId: 'p7' },
          UpdateExpression: 'ADD #counter :one, #counting :id',
          ConditionExpression: 'NOT contains(#counting, :resultId)',
          ExpressionAttributeNames: { '#counter': 'converted', '#counting': 'counting' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':id': new Set([expect.stringMatching(/\|/)]),
            ':resultId': expect.stringMatching(/\|/),
          },
        },
      ]);
    });
  });
});
