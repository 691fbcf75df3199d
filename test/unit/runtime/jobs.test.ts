import type { Context } from 'aws-lambda';
import {
  batchIdOf,
  ConfigurationError,
  json,
  memoryDeadLetters,
  microBatch,
} from 'driverless/runtime';
import {
  deferred,
  kinesisEvent,
  lambdaContext,
  sequenceNumber,
} from '../../fixtures/kinesis-events';

type Item = { user: string; product: string };
const decode = json<Item>();
const deadLetters = memoryDeadLetters();
const event = kinesisEvent([
  { data: { user: 'u1', product: 'p1' } },
  { data: { user: 'u2', product: 'p1' } },
  { data: { user: 'u1', product: 'p2' } },
]);

describe('jobs', () => {
  it('run concurrently: each starts before the other ends', async () => {
    // Given: each job waits for the other to have started, which only concurrent jobs can do
    const log: string[] = [];
    const aStarted = deferred();
    const bStarted = deferred();
    const handler = microBatch({
      decode,
      deadLetters,
      jobs: {
        a: async () => {
          log.push('a:start');
          aStarted.resolve();
          await bStarted.promise;
          log.push('a:end');
        },
        b: async () => {
          log.push('b:start');
          bStarted.resolve();
          await aStarted.promise;
          log.push('b:end');
        },
      },
    });

    // When
    await handler(event, lambdaContext());

    // Then
    expect(log.indexOf('a:start')).toBeLessThan(log.indexOf('b:end'));
    expect(log.indexOf('b:start')).toBeLessThan(log.indexOf('a:end'));
  });

  it('share a stage read by two jobs, computed once', async () => {
    // Given
    const byUser = jest.fn((records: readonly { data: Item }[]) =>
      Object.groupBy(records, (r) => r.data.user),
    );
    let fromA: unknown;
    let fromB: unknown;
    const handler = microBatch({
      decode,
      deadLetters,
      stages: { byUser },
      jobs: {
        a: async ({ byUser }) => {
          fromA = byUser;
        },
        b: async ({ byUser }) => {
          fromB = byUser;
        },
      },
    });

    // When
    await handler(event, lambdaContext());

    // Then
    expect(byUser).toHaveBeenCalledTimes(1);
    expect(fromA).toBe(fromB);
  });

  it('never compute a stage no job reads', async () => {
    // Given
    const unused = jest.fn(() => 1);
    const used = jest.fn(() => 2);
    const handler = microBatch({
      decode,
      deadLetters,
      stages: { unused, used },
      jobs: { a: async ({ used }) => void used },
    });

    // When
    await handler(event, lambdaContext());

    // Then
    expect(unused).not.toHaveBeenCalled();
    expect(used).toHaveBeenCalledTimes(1);
  });

  it('compute each stage again for the next batch', async () => {
    // Given
    const stage = jest.fn(() => 1);
    const handler = microBatch({
      decode,
      deadLetters,
      stages: { stage },
      jobs: { a: async ({ stage }) => void stage },
    });

    // When
    await handler(event, lambdaContext());
    await handler(event, lambdaContext());

    // Then
    expect(stage).toHaveBeenCalledTimes(2);
  });

  it('read each batch’s own stage result, batch after batch', async () => {
    // Given: a stage of the record count, read by a job, on batches of 3 and then 1 record
    const seen: number[] = [];
    const handler = microBatch({
      decode,
      deadLetters,
      stages: { count: (records) => records.length },
      jobs: { a: async ({ count }) => void seen.push(count) },
    });

    // When
    await handler(event, lambdaContext());
    await handler(kinesisEvent([{ data: { user: 'u3', product: 'p3' } }]), lambdaContext());

    // Then
    expect(seen).toStrictEqual([3, 1]);
  });

  it('spread their input into its records and the value of every stage, nothing else', async () => {
    // Given
    let spread: Record<string, unknown> | undefined;
    const handler = microBatch({
      decode,
      deadLetters,
      stages: { count: (records) => records.length, first: (records) => records[0]?.data.user },
      jobs: {
        a: async (input) => {
          spread = { ...input };
        },
      },
    });

    // When
    await handler(event, lambdaContext());

    // Then
    expect(Object.keys(spread ?? {})).toStrictEqual(['records', 'count', 'first']);
    expect(spread?.count).toBe(3);
    expect(spread?.first).toBe('u1');
  });

  it('fail only the jobs that read a failing stage', async () => {
    // Given
    const handler = microBatch({
      decode,
      deadLetters,
      stages: {
        broken: (): number => {
          throw new Error('bad stage');
        },
      },
      jobs: { reader: async ({ broken }) => void broken, other: async () => undefined },
    });

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }] });
  });

  it('share a stage’s error: a failing stage read by two jobs is computed once', async () => {
    // Given
    const broken = jest.fn((): number => {
      throw new Error('bad stage');
    });
    const handler = microBatch({
      decode,
      deadLetters,
      stages: { broken },
      jobs: { a: async ({ broken }) => void broken, b: async ({ broken }) => void broken },
    });

    // When
    await handler(event, lambdaContext());

    // Then
    expect(broken).toHaveBeenCalledTimes(1);
  });

  it('are reported timed-out, not failed, when they pass their deadline', async () => {
    // Given: 1.2 s left and a 1 s margin leaves the job ~200 ms
    const level = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    const handler = microBatch({
      decode,
      deadLetters,
      deadlineMarginMs: 1000,
      jobs: {
        slow: () => new Promise<void>(() => undefined),
        broken: () => Promise.reject(new Error('x')),
      },
    });
    if (level === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = level;
    const chunks: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      chunks.push(String(chunk));
      return true;
    });

    // When
    try {
      await handler(event, lambdaContext({ remainingMs: 1200 }));
    } finally {
      spy.mockRestore();
    }

    // Then
    const line = chunks
      .join('')
      .split('\n')
      .filter((text) => text.startsWith('{'))
      .map((text) => JSON.parse(text) as { message?: string; batch?: unknown })
      .find((parsed) => parsed.message === 'batch');
    expect(line?.batch).toMatchObject({
      jobs: {
        slow: { status: 'timed-out', error: 'JobTimeoutError: job "slow" passed its deadline' },
        broken: { status: 'failed', error: 'Error: x' },
      },
    });
  });

  it('count as failed when they pass their deadline, and see their signal aborted', async () => {
    // Given: 1.2 s left and a 1 s margin leaves the job ~200 ms
    let aborted = false;
    const handler = microBatch({
      decode,
      deadLetters,
      deadlineMarginMs: 1000,
      jobs: {
        slow: (_input, { signal }) =>
          new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              aborted = true;
              resolve();
            });
          }),
        quick: async () => undefined,
      },
    });

    // When
    const response = await handler(event, lambdaContext({ remainingMs: 1200 }));

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }] });
    expect(aborted).toBe(true);
  });

  it('are not called for an invocation without records', async () => {
    // Given
    const called: string[] = [];
    const handler = microBatch({
      decode,
      deadLetters,
      jobs: { counts: async () => void called.push('counts') },
    });

    // When
    const response = await handler({ Records: [] }, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(called).toStrictEqual([]);
  });

  it('have no deadline when the handler is called without a Lambda context, as a script may', async () => {
    // Given
    const deadlines: number[] = [];
    const handler = microBatch({
      decode,
      deadLetters,
      jobs: { counts: async (_input, context) => void deadlines.push(context.deadline) },
    });

    // When
    const response = await handler(event, undefined as unknown as Context);

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(deadlines).toStrictEqual([Number.POSITIVE_INFINITY]);
  });

  it('receive a batch id that is the same when the batch is retried and differs for another batch', async () => {
    // Given
    const ids: string[] = [];
    const handler = microBatch({
      decode,
      deadLetters,
      jobs: { a: async (_input, { batchId }) => void ids.push(batchId) },
    });

    // When
    await handler(event, lambdaContext());
    await handler(event, lambdaContext());
    await handler(
      kinesisEvent([{ data: { user: 'u1', product: 'p1' } }], { start: 5 }),
      lambdaContext(),
    );

    // Then
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('batchIdOf', () => {
  it('derives from stream, shard, first and last sequence number', () => {
    // Given
    const batch = {
      streamArn: 's',
      shardId: 'x',
      firstSequenceNumber: '1',
      lastSequenceNumber: '2',
    };

    // When / Then
    expect(batchIdOf(batch as never)).toBe(batchIdOf({ ...batch } as never));
    expect(batchIdOf({ ...batch, lastSequenceNumber: '3' } as never)).not.toBe(
      batchIdOf(batch as never),
    );
  });

  it('differs for the same shard and sequence numbers in another stream', () => {
    // Given
    const batch = {
      streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/a',
      shardId: 'shardId-000000000000',
      firstSequenceNumber: '1',
      lastSequenceNumber: '2',
    };

    // When / Then
    expect(
      batchIdOf({
        ...batch,
        streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/b',
      } as never),
    ).not.toBe(batchIdOf(batch as never));
  });

  it('differs for the same sequence numbers in another shard', () => {
    // Given
    const batch = {
      streamArn: 's',
      shardId: 'x',
      firstSequenceNumber: '1',
      lastSequenceNumber: '2',
    };

    // When / Then
    expect(batchIdOf({ ...batch, shardId: 'y' } as never)).not.toBe(batchIdOf(batch as never));
  });
});

describe('DRIVERLESS_JOBS', () => {
  afterEach(() => {
    delete process.env.DRIVERLESS_JOBS;
  });

  async function jobsRunWith(spec: string): Promise<string[]> {
    process.env.DRIVERLESS_JOBS = spec;
    const ran: string[] = [];
    const handler = microBatch({
      decode,
      deadLetters,
      jobs: {
        recommendations: async () => void ran.push('recommendations'),
        popularity: async () => void ran.push('popularity'),
        audit: async () => void ran.push('audit'),
      },
    });
    await handler(event, lambdaContext());
    return ran.sort();
  }

  it('runs only the named jobs', async () => {
    expect(await jobsRunWith('popularity')).toStrictEqual(['popularity']);
  });

  it('runs every job but the excluded ones', async () => {
    expect(await jobsRunWith('!popularity')).toStrictEqual(['audit', 'recommendations']);
  });

  it('fails at cold start if it names an unknown job, listing the known ones', () => {
    // Given
    process.env.DRIVERLESS_JOBS = 'popularty';

    // When / Then
    expect(() =>
      microBatch({
        decode,
        deadLetters,
        jobs: { recommendations: async () => undefined, popularity: async () => undefined },
      }),
    ).toThrow(
      new ConfigurationError(
        'DRIVERLESS_JOBS="popularty" names unknown job popularty; known jobs: recommendations, popularity',
      ),
    );
  });

  it('fails at cold start if it excludes every job', () => {
    // Given: with no job left, every record would be acknowledged unhandled
    process.env.DRIVERLESS_JOBS = '!recommendations,!popularity';

    // When / Then
    expect(() =>
      microBatch({
        decode,
        deadLetters,
        jobs: { recommendations: async () => undefined, popularity: async () => undefined },
      }),
    ).toThrow(
      new ConfigurationError('DRIVERLESS_JOBS="!recommendations,!popularity" leaves no job to run'),
    );
  });

  it('fails at cold start if it excludes an unknown job, listing the known ones', () => {
    // Given
    process.env.DRIVERLESS_JOBS = '!popularty';

    // When / Then
    expect(() =>
      microBatch({
        decode,
        deadLetters,
        jobs: { recommendations: async () => undefined, popularity: async () => undefined },
      }),
    ).toThrow(
      new ConfigurationError(
        'DRIVERLESS_JOBS="!popularty" names unknown job popularty; known jobs: recommendations, popularity',
      ),
    );
  });

  it('fails at cold start if it names a job of a handler that has none, saying so', () => {
    // Given
    process.env.DRIVERLESS_JOBS = 'foo';

    // When / Then
    expect(() =>
      microBatch({
        decode,
        deadLetters,
        window: { init: () => 0, reduce: (state: number) => state },
      }),
    ).toThrow(
      new ConfigurationError(
        'DRIVERLESS_JOBS="foo" names unknown job foo; this handler has no jobs (it only folds a tumbling window)',
      ),
    );
  });

  it('fails at cold start if it mixes names and exclusions', () => {
    process.env.DRIVERLESS_JOBS = 'a,!b';
    expect(() =>
      microBatch({
        decode,
        deadLetters,
        jobs: { a: async () => undefined, b: async () => undefined },
      }),
    ).toThrow(/mixes job names and !exclusions/);
  });
});

describe('options', () => {
  it('fails at cold start if there is neither a job nor a window', () => {
    expect(() => microBatch({ decode, deadLetters })).toThrow(/give at least one job/);
  });

  it('fails at cold start if a stage is named "records"', () => {
    expect(() =>
      microBatch({
        decode,
        deadLetters,
        stages: { records: () => 1 },
        jobs: { a: async () => undefined },
      }),
    ).toThrow(/cannot be named "records"/);
  });
});
