import {
  json,
  type KinesisEvent,
  memoryDeadLetters,
  microBatch,
  type WindowContext,
  type WindowOptions,
} from 'driverless/runtime';
import { isWindowHandler } from '../../../functions/runtime/windows';
import {
  kinesisEvent,
  lambdaContext,
  SHARD_ID,
  STREAM_ARN,
  sequenceNumber,
} from '../../fixtures/kinesis-events';
import { kplAggregate } from '../../fixtures/kpl';

type Sale = { amount: number };
type Totals = { count: number; sum: number };

function windowed(
  records: { data: Sale }[],
  fields: Partial<KinesisEvent>,
  start = 0,
): KinesisEvent {
  return kinesisEvent(records, {
    start,
    extra: {
      window: { start: '2026-11-23T19:00:00Z', end: '2026-11-23T19:05:00Z' },
      state: {},
      shardId: SHARD_ID,
      eventSourceARN: STREAM_ARN,
      isFinalInvokeForWindow: false,
      isWindowTerminatedEarly: false,
      ...fields,
    },
  });
}

describe('tumbling windows', () => {
  const closed: Totals[] = [];
  const handler = microBatch({
    decode: json<Sale>(),
    deadLetters: memoryDeadLetters(),
    window: {
      init: (): Totals => ({ count: 0, sum: 0 }),
      reduce: (state, records) => ({
        count: state.count + records.length,
        sum: state.sum + records.reduce((total, r) => total + r.data.amount, 0),
      }),
      onClose: (state) => void closed.push(state),
    },
    jobs: {
      audit: async ({ records }) => ({ failed: records.filter((r) => r.data.amount < 0) }),
    },
  });

  beforeEach(() => {
    closed.length = 0;
  });

  it('start from init() when Lambda sends the empty state of a new window', async () => {
    // When
    const response = await handler(
      windowed([{ data: { amount: 5 } }, { data: { amount: 7 } }], {}),
      lambdaContext(),
    );

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [], state: { count: 2, sum: 12 } });
  });

  it('carry the returned state into the next invocation', async () => {
    // Given
    const first = await handler(windowed([{ data: { amount: 5 } }], {}), lambdaContext());

    // When
    const second = await handler(
      windowed([{ data: { amount: 1 } }], { state: first.state }, 10),
      lambdaContext(),
    );

    // Then
    expect(second.state).toStrictEqual({ count: 2, sum: 6 });
  });

  it('run onClose with the final state on the final invocation', async () => {
    // When
    const response = await handler(
      windowed([{ data: { amount: 3 } }], {
        state: { count: 2, sum: 6 },
        isFinalInvokeForWindow: true,
      }),
      lambdaContext(),
    );

    // Then
    expect(response.state).toStrictEqual({ count: 3, sum: 9 });
    expect(closed).toStrictEqual([{ count: 3, sum: 9 }]);
  });

  it('fold only the records before a failure, so the retry does not count them twice', async () => {
    // Given: the third record fails its job
    const event = windowed(
      [
        { data: { amount: 1 } },
        { data: { amount: 2 } },
        { data: { amount: -1 } },
        { data: { amount: 4 } },
      ],
      {},
    );

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(20) }],
      state: { count: 2, sum: 3 },
    });
  });

  it('do not close the window on an invocation that is not its final one', async () => {
    // When
    await handler(windowed([{ data: { amount: 3 } }], {}), lambdaContext());

    // Then
    expect(closed).toStrictEqual([]);
  });

  it('do not close a window whose final invocation has failures', async () => {
    // When
    await handler(
      windowed([{ data: { amount: -1 } }], { isFinalInvokeForWindow: true }),
      lambdaContext(),
    );

    // Then
    expect(closed).toStrictEqual([]);
  });

  it('always answer with a state, even without a window option (Lambda fails a response without one)', async () => {
    // Given
    const plain = microBatch({
      decode: json<Sale>(),
      deadLetters: memoryDeadLetters(),
      jobs: { a: async () => undefined },
    });

    // When
    const response = await plain(
      windowed([{ data: { amount: 1 } }], { state: { kept: true } as never }),
      lambdaContext(),
    );

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [], state: { kept: true } });
  });
});

describe('a window without onClose', () => {
  it('answers its final invocation with the final state', async () => {
    // Given
    const handler = microBatch({
      decode: json<Sale>(),
      deadLetters: memoryDeadLetters(),
      window: {
        init: (): Totals => ({ count: 0, sum: 0 }),
        reduce: (state, records) => ({ count: state.count + records.length, sum: state.sum }),
      },
    });

    // When
    const response = await handler(
      windowed([], { state: { count: 2, sum: 6 }, isFinalInvokeForWindow: true }),
      lambdaContext(),
    );

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [], state: { count: 2, sum: 6 } });
  });
});

describe('isWindowHandler', () => {
  it('recognises a handler made with a window option', () => {
    // Given
    const handler = microBatch({
      decode: json<Sale>(),
      deadLetters: memoryDeadLetters(),
      window: { init: () => ({}), reduce: (state) => state },
    });

    // When / Then
    expect(isWindowHandler(handler)).toBe(true);
  });

  it('does not take a handler without a window option for one', () => {
    // Given
    const handler = microBatch({
      decode: json<Sale>(),
      deadLetters: memoryDeadLetters(),
      jobs: { a: async () => undefined },
    });

    // When / Then
    expect(isWindowHandler(handler)).toBe(false);
  });

  it('recognises a window handler made by another copy of the runtime, by the registered symbol', () => {
    // Given: what a bundled copy's microBatch marks its handler with
    const bundled = Object.defineProperty(
      async () => ({}),
      Symbol.for('driverless.windowHandler'),
      {
        value: true,
      },
    );

    // When / Then
    expect(isWindowHandler(bundled)).toBe(true);
  });

  it('does not take an object carrying the mark for a handler', () => {
    // Given
    const notAFunction = { [Symbol.for('driverless.windowHandler')]: true };

    // When / Then
    expect(isWindowHandler(notAFunction)).toBe(false);
  });
});

describe('closing a window against the deadline', () => {
  // 1.3 s left and a 1 s margin leave ~300 ms before the deadline.
  const remainingMs = 1300;
  const deadlineMarginMs = 1000;
  const final = () =>
    windowed([{ data: { amount: 3 } }], {
      state: { count: 2, sum: 6 },
      isFinalInvokeForWindow: true,
    });
  const closing = (onClose: WindowOptions<Sale, Totals>['onClose']) =>
    microBatch({
      decode: json<Sale>(),
      deadLetters: memoryDeadLetters(),
      deadlineMarginMs,
      window: {
        init: (): Totals => ({ count: 0, sum: 0 }),
        reduce: (state, records) => ({
          count: state.count + records.length,
          sum: state.sum + records.reduce((total, r) => total + r.data.amount, 0),
        }),
        onClose,
      },
      jobs: { audit: async () => undefined },
    });

  it('fails the final invocation in time, for Lambda to retry, when onClose never finishes', async () => {
    // Given
    const handler = closing(() => new Promise<void>(() => undefined));
    const started = Date.now();

    // When
    const answer = handler(final(), lambdaContext({ remainingMs }));

    // Then: a rejection, not an answer with a state, which would close the window for good
    await expect(answer).rejects.toMatchObject({
      name: 'CallTimeoutError',
      message: 'closing the window did not finish by the deadline',
    });
    expect(Date.now() - started).toBeLessThan(remainingMs);
  });

  it("aborts onClose's signal at the deadline", async () => {
    // Given
    const signals: AbortSignal[] = [];
    const handler = closing((_state, context) => {
      signals.push(context.signal);
      return new Promise<void>(() => undefined);
    });

    // When
    await handler(final(), lambdaContext({ remainingMs })).catch(() => undefined);

    // Then
    expect(signals.map((signal) => signal.aborted)).toStrictEqual([true]);
  });

  it('hands onClose the bounds of the window it closes, and whether Lambda ended it early', async () => {
    // Given
    const contexts: WindowContext[] = [];
    const handler = closing((_state, context) => void contexts.push(context));

    // When
    await handler(
      windowed([], { isFinalInvokeForWindow: true, isWindowTerminatedEarly: true }),
      lambdaContext(),
    );

    // Then
    expect(
      contexts.map(({ window, isFinal, terminatedEarly }) => ({
        window,
        isFinal,
        terminatedEarly,
      })),
    ).toStrictEqual([
      {
        window: {
          start: new Date('2026-11-23T19:00:00Z'),
          end: new Date('2026-11-23T19:05:00Z'),
        },
        isFinal: true,
        terminatedEarly: true,
      },
    ]);
  });

  it('fails the final invocation when onClose throws', async () => {
    // Given
    const handler = closing(() => {
      throw new Error('sink down');
    });

    // When
    const answer = handler(final(), lambdaContext());

    // Then
    await expect(answer).rejects.toThrow('sink down');
  });
});

describe('tumbling windows over KPL aggregates', () => {
  it('fold none of the sub-records of an aggregate that failed: Lambda redelivers it whole', async () => {
    // Given: the aggregate's second sub-record fails its job
    const handler = microBatch({
      decode: json<Sale>(),
      deadLetters: memoryDeadLetters(),
      window: {
        init: (): Totals => ({ count: 0, sum: 0 }),
        reduce: (state, records) => ({
          count: state.count + records.length,
          sum: state.sum + records.reduce((total, r) => total + r.data.amount, 0),
        }),
      },
      jobs: {
        audit: async ({ records }) => ({ failed: records.filter((r) => r.data.amount < 0) }),
      },
    });
    const aggregate = await kplAggregate([
      { partitionKey: 'a', data: { amount: 2 } },
      { partitionKey: 'b', data: { amount: -1 } },
      { partitionKey: 'c', data: { amount: 4 } },
    ]);
    const event = kinesisEvent(
      [{ data: { amount: 1 } }, { raw: aggregate }, { data: { amount: 8 } }],
      {
        extra: {
          window: { start: '2026-11-23T19:00:00Z', end: '2026-11-23T19:05:00Z' },
          state: {},
          shardId: SHARD_ID,
          eventSourceARN: STREAM_ARN,
          isFinalInvokeForWindow: false,
          isWindowTerminatedEarly: false,
        },
      },
    );

    // When
    const response = await handler(event, lambdaContext());

    // Then: only the record before the aggregate is folded
    expect(response).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }],
      state: { count: 1, sum: 1 },
    });
  });
});

describe('the batch id of a final window invocation without records', () => {
  async function batchIdsOf(events: KinesisEvent[]): Promise<string[]> {
    const ids: string[] = [];
    const handler = microBatch({
      decode: json<Sale>(),
      deadLetters: memoryDeadLetters(),
      window: {
        init: () => ({ n: 0 }),
        reduce: (state) => state,
        onClose: (_state, context: WindowContext) => void ids.push(context.batchId),
      },
    });
    for (const event of events) await handler(event, lambdaContext());
    return ids;
  }
  const final = (fields: Partial<KinesisEvent>): KinesisEvent => ({
    Records: [],
    window: { start: '2026-11-23T19:00:00Z', end: '2026-11-23T19:05:00Z' },
    state: { n: 1 },
    shardId: SHARD_ID,
    eventSourceARN: STREAM_ARN,
    isFinalInvokeForWindow: true,
    isWindowTerminatedEarly: false,
    ...fields,
  });

  it('differs between two windows of one shard', async () => {
    // When
    const ids = await batchIdsOf([
      final({}),
      final({ window: { start: '2026-11-23T19:05:00Z', end: '2026-11-23T19:10:00Z' } }),
    ]);

    // Then
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('differs between shards and between streams', async () => {
    // When
    const ids = await batchIdsOf([
      final({}),
      final({ shardId: 'shardId-000000000004' }),
      final({ eventSourceARN: `${STREAM_ARN}-2` }),
    ]);

    // Then
    expect(new Set(ids).size).toBe(3);
  });

  it('differs between two windows of the same bounds that ended early with other states', async () => {
    // When
    const ids = await batchIdsOf([
      final({ isWindowTerminatedEarly: true, state: { n: 1 } }),
      final({ isWindowTerminatedEarly: true, state: { n: 2 } }),
    ]);

    // Then
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('is the same when the final invocation is retried', async () => {
    // When
    const ids = await batchIdsOf([final({}), final({})]);

    // Then
    expect(ids[0]).toBe(ids[1]);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
  });
});
