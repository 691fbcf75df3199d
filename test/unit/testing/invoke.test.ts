import { json, type MicroBatchHandler, microBatch } from 'driverless/runtime';
import {
  invoke,
  kinesisEvent,
  kplAggregate,
  lambdaContext,
  sequenceNumber,
  setHandlerEnvironment,
  testStream,
} from 'driverless/testing';

interface Order {
  readonly id: string;
  readonly amount: number;
}

const isOrder = (value: unknown): value is Order =>
  typeof (value as Order)?.id === 'string' && typeof (value as Order).amount === 'number';

describe('invoke', () => {
  const seen: Order[][] = [];
  let handler: MicroBatchHandler;

  beforeAll(() => {
    // Given: the environment first, as a test imports a handler module after it
    setHandlerEnvironment({ ORDERS_TABLE: 'orders' });
    handler = microBatch({
      decode: json<Order>(),
      jobs: {
        record: async ({ records }) => {
          const orders = records.map((r) => r.data);
          if (!orders.every(isOrder)) throw new Error('not an order');
          seen.push(orders);
        },
        // Fails the records whose amount is negative.
        refuse: async ({ records }) => ({
          failed: records.filter((r) => r.data.amount < 0),
        }),
      },
    });
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it('returns the response and the dead letters of the invocation', async () => {
    // Given
    const event = kinesisEvent([{ data: { id: 'o1', amount: 5 } }, { data: '{"id":' }]);

    // When
    const { response, outcome, deadLetters } = await invoke(handler, event);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(outcome).toStrictEqual({ kind: 'success', state: undefined });
    expect(seen).toStrictEqual([[{ id: 'o1', amount: 5 }]]);
    expect(deadLetters).toStrictEqual([
      expect.objectContaining({
        sequenceNumber: sequenceNumber(1),
        reason: expect.stringMatching(/^invalid JSON: /),
        data: Buffer.from('{"id":').toString('base64'),
      }),
    ]);
  });

  it('returns no letters of earlier invocations', async () => {
    // Given: an earlier invocation wrote a letter
    const stream = testStream();
    await invoke(handler, stream.event([{ data: 'bad' }]));

    // When
    const { deadLetters } = await invoke(
      handler,
      stream.event([{ data: { id: 'o2', amount: 1 } }]),
    );

    // Then
    expect(deadLetters).toStrictEqual([]);
  });

  it('reads a partial response as Lambda does: redelivery from the first failed record', async () => {
    // Given
    const event = kinesisEvent([
      { data: { id: 'o1', amount: 1 } },
      { data: { id: 'o2', amount: -1 } },
      { data: { id: 'o3', amount: 1 } },
    ]);

    // When
    const { response, outcome } = await invoke(handler, event);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(1) }] });
    expect(outcome).toStrictEqual({ kind: 'partial', retryFrom: 1, state: undefined });
  });

  it('gives the handler the context it is given', async () => {
    // Given
    let functionName: string | undefined;
    const probe = microBatch({
      decode: json(),
      jobs: {
        probe: async (_stages, { lambda }) => {
          functionName = lambda.functionName;
        },
      },
    });

    // When
    await invoke(probe, kinesisEvent([{ data: {} }]), {
      context: lambdaContext({ functionName: 'orders-fn' }),
    });

    // Then
    expect(functionName).toBe('orders-fn');
  });

  it('delivers the user records of a KPL aggregate to the jobs', async () => {
    // Given
    const aggregate = await kplAggregate([
      { data: { id: 'a1', amount: 1 } },
      { data: { id: 'a2', amount: 2 } },
    ]);

    // When
    await invoke(handler, kinesisEvent([aggregate]));

    // Then
    expect(seen).toStrictEqual([
      [
        { id: 'a1', amount: 1 },
        { id: 'a2', amount: 2 },
      ],
    ]);
  });
});

describe('lambdaContext', () => {
  it('counts the remaining time down from remainingMs', async () => {
    // Given
    const context = lambdaContext({ remainingMs: 5_000 });

    // When
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Then
    const remaining = context.getRemainingTimeInMillis();
    expect(remaining).toBeLessThanOrEqual(4_980);
    expect(remaining).toBeGreaterThan(4_000);
  });

  it('names the function, version and alias it is given, with a fresh request id each time', () => {
    // When
    const first = lambdaContext({ functionName: 'orders', functionVersion: '7' });
    const second = lambdaContext({ functionName: 'orders', functionVersion: '7' });

    // Then
    expect(first).toMatchObject({
      functionName: 'orders',
      functionVersion: '7',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:orders:live',
      logGroupName: '/aws/lambda/orders',
    });
    expect(first.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.awsRequestId).not.toBe(second.awsRequestId);
  });
});
