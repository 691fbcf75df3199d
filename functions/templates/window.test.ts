import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisEvent, MicroBatchHandler } from 'driverless/runtime';
import {
  invoke,
  sequenceNumber,
  setHandlerEnvironment,
  shardIdOf,
  type TestStream,
  testStream,
} from 'driverless/testing';

/** A command as the SDK's `send` receives it. */
type SentCommand = { readonly input: Record<string, unknown> };
/** A stubbed `send`; its calls are `[command, { abortSignal }]`. */
type SendStub = jest.Mock<Promise<unknown>, [SentCommand, { abortSignal?: AbortSignal }?]>;

/** Stubs `send` of the DynamoDB document client: every write succeeds. */
function stubDocuments(): SendStub {
  return jest
    .spyOn(DynamoDBDocumentClient.prototype, 'send')
    .mockImplementation(async () => ({})) as unknown as SendStub;
}

type SalesWindow = {
  from?: string;
  stores: Record<string, { count: number; sumCents: number }>;
};

const TABLE = 'sales-per-window';
const ENTRY = './window';
// Lambda sends window bounds in ISO-8601 without milliseconds.
const START = '2026-11-23T19:00:00Z';
const END = '2026-11-23T19:05:00Z';
/** The bounds as the template writes them (`Date#toISOString`). */
const iso = (bound: string) => new Date(bound).toISOString();
/** The shard of every event here: the stream has one. */
const SHARD_ID = shardIdOf(0);

const sale = (storeId: string, amountCents: number): { data: unknown } => ({
  data: { storeId, amountCents },
});

/** An invocation of the five-minute window START–END on `stream`, as Lambda sends it. */
function windowed(
  stream: TestStream,
  records: { data: unknown }[],
  fields: { state?: SalesWindow; isFinalInvokeForWindow?: boolean } = {},
): KinesisEvent {
  return stream.event(records, {
    window: {
      tumblingSeconds: 300,
      start: START,
      ...(fields.state === undefined ? {} : { state: fields.state }),
      isFinalInvokeForWindow: fields.isFinalInvokeForWindow ?? false,
    },
  });
}

describe('window template', () => {
  let handler: MicroBatchHandler<SalesWindow>;
  let documents: SendStub;
  let sales: TestStream;

  beforeAll(async () => {
    // The handler reads its environment when imported, as on Lambda; dead letters go to a file
    // that `invoke` reads.
    setHandlerEnvironment({ TABLE_NAME: TABLE });
    ({ handler } = await import(ENTRY));
  });

  beforeEach(() => {
    documents = stubDocuments();
    sales = testStream({ streamName: 'sales' });
  });

  afterEach(() => jest.restoreAllMocks());

  it("counts and sums each store's sales into the state of a new window, writing nothing", async () => {
    // When
    const { response } = await invoke(
      handler,
      windowed(sales, [sale('s1', 250), sale('s2', 100), sale('s1', 50)]),
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
    const { response: first } = await invoke(handler, windowed(sales, [sale('s1', 250)]));

    // When
    const { response: second } = await invoke(
      handler,
      windowed(sales, [sale('s1', 50), sale('s2', 10)], { state: first.state }),
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
    const { response } = await invoke(
      handler,
      windowed(sales, [sale('s1', 20), sale('s2', 7)], { state, isFinalInvokeForWindow: true }),
    );

    // Then
    expect(response.batchItemFailures).toStrictEqual([]);
    expect(documents.mock.calls.map(([command]) => command)).toStrictEqual([
      expect.any(PutCommand),
      expect.any(PutCommand),
    ]);
    const window = `${iso(START)}#${SHARD_ID}#${sequenceNumber(0)}`;
    expect(documents.mock.calls.map(([command]) => command.input)).toStrictEqual([
      {
        TableName: TABLE,
        Item: {
          storeId: 's1',
          window,
          windowStart: iso(START),
          windowEnd: iso(END),
          count: 2,
          sumCents: 25,
        },
      },
      {
        TableName: TABLE,
        Item: {
          storeId: 's2',
          window,
          windowStart: iso(START),
          windowEnd: iso(END),
          count: 1,
          sumCents: 7,
        },
      },
    ]);
    expect(documents.mock.calls[0]?.[1]?.abortSignal).toBeInstanceOf(AbortSignal);
  });

  it('writes nothing when a window closes without sales', async () => {
    // When
    await invoke(handler, windowed(sales, [], { isFinalInvokeForWindow: true }));

    // Then
    expect(documents).not.toHaveBeenCalled();
  });

  it('fails the final invocation when a write fails, so Lambda retries it with the same state', async () => {
    // Given
    documents.mockRejectedValue(new Error('throttled'));

    // When
    const invocation = invoke(
      handler,
      windowed(sales, [sale('s1', 20)], { isFinalInvokeForWindow: true }),
    );

    // Then
    await expect(invocation).rejects.toThrow('throttled');
  });

  it('dead-letters a sale that fails the schema and leaves it out of the state', async () => {
    // Given: the second sale has a fractional amount
    const event = windowed(sales, [sale('s1', 20), sale('s1', 1.5)]);

    // When
    const { response, deadLetters } = await invoke(handler, event);

    // Then
    expect(response.state?.stores).toStrictEqual({ s1: { count: 1, sumCents: 20 } });
    expect(deadLetters).toStrictEqual([
      expect.objectContaining({
        sequenceNumber: sequenceNumber(1),
        reason: expect.stringContaining('schema: amountCents'),
      }),
    ]);
  });
});
