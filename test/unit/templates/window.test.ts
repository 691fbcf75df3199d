import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisEvent, MicroBatchHandler } from 'driverless/runtime';
import { type SendStub, setHandlerEnvironment, stubAwsClients } from '../../fixtures/aws-stubs';
import {
  kinesisEvent,
  lambdaContext,
  type RecordFixture,
  SHARD_ID,
  STREAM_ARN,
  sequenceNumber,
} from '../../fixtures/kinesis-events';

type SalesWindow = {
  from?: string;
  stores: Record<string, { count: number; sumCents: number }>;
};

const TABLE = 'sales-per-window';
const ENTRY = '../../../functions/templates/window';
const START = '2026-11-23T19:00:00.000Z';
const END = '2026-11-23T19:05:00.000Z';

const sale = (storeId: string, amountCents: number): RecordFixture => ({
  data: { storeId, amountCents },
});

/** An invocation of the window START–END, as Lambda sends it. */
function windowed(
  records: RecordFixture[],
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
