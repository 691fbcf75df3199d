import {
  type CursorStore,
  json,
  memoryCursors,
  memoryDeadLetters,
  microBatch,
} from 'driverless/runtime';
import {
  kinesisEvent,
  lambdaContext,
  SHARD_ID,
  sequenceNumber,
} from '../../fixtures/kinesis-events';
import { withLogs } from '../../fixtures/runtime-logs';

type Item = { n: number };
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ data: { n: i } }));
/** The sequence number of record `i` of a `kinesisEvent`. */
const at = (i: number) => sequenceNumber(i * 10);
const never = <T>() => new Promise<T>(() => undefined);
/** What the AWS SDK rejects with when a request's `abortSignal` fires (or it times out). */
const abortError = (name = 'AbortError') => Object.assign(new Error('Request aborted'), { name });

// 1.3 s left and a 1 s margin leave ~300 ms before the deadline.
const remainingMs = 1300;
const deadlineMarginMs = 1000;

/** A store holding `cursors`, whose calls the test replaces. */
function store(overrides: Partial<CursorStore>, cursors = memoryCursors()): CursorStore {
  return {
    load: (shardId, jobs) => cursors.load(shardId, jobs),
    advance: (shardId, job, from, to, batchId) => cursors.advance(shardId, job, from, to, batchId),
    ...overrides,
  };
}

describe('cursor loads against the deadline', () => {
  it('fail every job at the first record, in time, when the cursors never load', async () => {
    // Given
    const a = jest.fn();
    const b = jest.fn();
    const started = Date.now();

    // When
    const { result, logs } = await withLogs(
      () =>
        microBatch({
          decode: json<Item>(),
          deadLetters: memoryDeadLetters(),
          deadlineMarginMs,
          cursors: store({ load: never }),
          jobs: { a, b },
        }),
      kinesisEvent(items(3)),
      lambdaContext({ remainingMs }),
    );

    // Then
    expect(Date.now() - started).toBeLessThan(remainingMs);
    expect(result).toStrictEqual({ batchItemFailures: [{ itemIdentifier: at(0) }] });
    expect([a, b].map((job) => job.mock.calls.length)).toStrictEqual([0, 0]);
    expect(logs.find((line) => line.level === 'ERROR')).toMatchObject({
      message: 'cursors not loaded; every job fails its records',
      error: 'CallTimeoutError: loading the cursors did not finish by the deadline',
    });
  });

  it("abort the load's requests at the deadline", async () => {
    // Given
    const signals: (AbortSignal | undefined)[] = [];
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      deadlineMarginMs,
      cursors: store({
        load: (_shardId, _jobs, options) => {
          signals.push(options?.signal);
          return never();
        },
      }),
      jobs: { a: async () => undefined },
    });

    // When
    await handler(kinesisEvent(items(1)), lambdaContext({ remainingMs }));

    // Then
    expect(signals.map((signal) => signal?.aborted)).toStrictEqual([true]);
  });

  it('fail every job at the first record when the load is aborted', async () => {
    // Given
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors: store({ load: async () => Promise.reject(abortError()) }),
      jobs: { a: async () => undefined },
    });

    // When
    const response = await handler(kinesisEvent(items(2)), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: at(0) }] });
  });
});

describe('cursor commits against the deadline', () => {
  it("fail the job's records from its first, in time, when its commit never answers", async () => {
    // Given: the job committed record 0 before, so it is handed records 1 and 2
    const cursors = memoryCursors();
    await cursors.advance(SHARD_ID, 'a', undefined, { sequenceNumber: at(0) }, 'b0');
    const seen: number[] = [];
    const started = Date.now();

    // When
    const { result, logs } = await withLogs(
      () =>
        microBatch({
          decode: json<Item>(),
          deadLetters: memoryDeadLetters(),
          deadlineMarginMs,
          cursors: store({ advance: never }, cursors),
          jobs: { a: async ({ records }) => void seen.push(...records.map((r) => r.data.n)) },
        }),
      kinesisEvent(items(3)),
      lambdaContext({ remainingMs }),
    );

    // Then
    expect(Date.now() - started).toBeLessThan(remainingMs);
    expect(seen).toStrictEqual([1, 2]);
    expect(result).toStrictEqual({ batchItemFailures: [{ itemIdentifier: at(1) }] });
    expect(logs.find((line) => line.level === 'ERROR')).toMatchObject({
      message: 'cursor not committed; the job fails its records',
      job: 'a',
      error: 'CallTimeoutError: committing the cursor of "a" did not finish by the deadline',
    });
  });

  it.each(['AbortError', 'TimeoutError'])(
    "fail the job's records when its commit ends in the SDK's %s",
    async (name) => {
      // Given
      const handler = microBatch({
        decode: json<Item>(),
        deadLetters: memoryDeadLetters(),
        cursors: store({ advance: async () => Promise.reject(abortError(name)) }),
        jobs: { a: async () => undefined },
      });

      // When
      const response = await handler(kinesisEvent(items(2)), lambdaContext());

      // Then
      expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: at(0) }] });
    },
  );

  it("fail only that job's records when its commit is aborted after the jobs ran", async () => {
    // Given: "late" committed records 0..1 before; "steady" commits, "late"'s commit is aborted
    const cursors = memoryCursors();
    await cursors.advance(SHARD_ID, 'late', undefined, { sequenceNumber: at(1) }, 'b');
    const ran: string[] = [];
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors: store(
        {
          advance: (shardId, job, from, to, batchId) =>
            job === 'late'
              ? Promise.reject(abortError())
              : cursors.advance(shardId, job, from, to, batchId),
        },
        cursors,
      ),
      jobs: {
        steady: async () => void ran.push('steady'),
        late: async () => void ran.push('late'),
      },
    });

    // When
    const response = await handler(kinesisEvent(items(4)), lambdaContext());

    // Then: "late" was handed 2..3, so the retry starts at 2
    expect(ran.sort()).toStrictEqual(['late', 'steady']);
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: at(2) }] });
    expect(cursors.cursors.get(`${SHARD_ID}|steady`)?.sequenceNumber).toBe(at(3));
  });

  it('abort the commit request at the deadline and leave no rejection unhandled', async () => {
    // Given: a store that, like the AWS SDK, rejects its request 20 ms after the signal fires
    const signals: (AbortSignal | undefined)[] = [];
    let rejected = false;
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      deadlineMarginMs,
      cursors: store({
        advance: (_shardId, _job, _from, _to, _batchId, options) => {
          signals.push(options?.signal);
          return new Promise((_, reject) =>
            options?.signal?.addEventListener('abort', () =>
              setTimeout(() => {
                rejected = true;
                reject(abortError());
              }, 20),
            ),
          );
        },
      }),
      jobs: { a: async () => undefined },
    });

    // When: the response, then time for the late rejection. Jest fails the running test when a
    // rejection goes unhandled, so this test fails if the runtime leaves it unhandled.
    const response = await handler(kinesisEvent(items(1)), lambdaContext({ remainingMs }));
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: at(0) }] });
    expect(signals.map((signal) => signal?.aborted)).toStrictEqual([true]);
    expect(rejected).toBe(true);
  });

  it('still acknowledge a job whose commit the store answered with an error', async () => {
    // Given: a retry would only repeat the job's idempotent work
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors: store({ advance: async () => Promise.reject(new Error('throttled')) }),
      jobs: { a: async () => undefined },
    });

    // When
    const response = await handler(kinesisEvent(items(2)), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
  });
});

describe('cursor calls that answer in time', () => {
  it.each([
    ['without a Lambda context', undefined],
    ['well before the deadline', 60_000],
  ])('wait for a slow store %s', async (_name, remaining) => {
    // Given: a store that answers after 50 ms
    const cursors = memoryCursors();
    const slow = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 50));
    const job = jest.fn();
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors: store({
        load: (shardId, jobs) => cursors.load(shardId, jobs).then(slow),
        advance: (shardId, name, from, to, batchId) =>
          cursors.advance(shardId, name, from, to, batchId).then(slow),
      }),
      jobs: { a: job },
    });

    // When
    const context = remaining === undefined ? undefined : lambdaContext({ remainingMs: remaining });
    const response = await handler(kinesisEvent(items(2)), context as never);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(job).toHaveBeenCalledTimes(1);
    expect(cursors.cursors.get(`${SHARD_ID}|a`)?.sequenceNumber).toBe(at(1));
  });

  it('leave the signal of a call that answered unaborted after the deadline', async () => {
    // Given: ~300 ms before the deadline, and a store that answers at once
    const signals: (AbortSignal | undefined)[] = [];
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      deadlineMarginMs,
      cursors: store({
        load: async (_shardId, _jobs, options) => {
          signals.push(options?.signal);
          return new Map();
        },
      }),
      jobs: { a: async () => undefined },
    });

    // When: the invocation answers, then the deadline passes
    await handler(kinesisEvent(items(1)), lambdaContext({ remainingMs }));
    await new Promise((resolve) => setTimeout(resolve, remainingMs - deadlineMarginMs + 100));

    // Then
    expect(signals.map((signal) => signal?.aborted)).toStrictEqual([false]);
  });
});
