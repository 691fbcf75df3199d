import { type CursorStore, json, memoryDeadLetters, microBatch } from 'driverless/runtime';
import { kinesisEvent, lambdaContext, sequenceNumber } from '../../fixtures/kinesis-events';
import { withLogs } from '../../fixtures/runtime-logs';

type Item = { n: number };
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ data: { n: i } }));
/** The sequence number of record `i` of a `kinesisEvent`. */
const at = (i: number) => sequenceNumber(i * 10);

/** A store without cursors that records the commits it is asked for. */
function recordingStore(advance: CursorStore['advance'] = async () => true) {
  const commits: unknown[][] = [];
  const store: CursorStore = {
    load: async () => new Map(),
    advance: (...args) => {
      commits.push(args.slice(0, 4));
      return advance(...args);
    },
  };
  return { store, commits };
}

/** Two records through one job that succeeds, cursors in `store`, with the log lines. */
function runOneJob(store: CursorStore) {
  return withLogs(
    () =>
      microBatch({
        decode: json<Item>(),
        deadLetters: memoryDeadLetters(),
        cursors: store,
        jobs: { a: async () => undefined },
      }),
    kinesisEvent(items(2)),
    lambdaContext(),
  );
}

describe('cursor commits', () => {
  it('move no cursor for a job that failed its first record', async () => {
    // Given
    const { store, commits } = recordingStore();
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors: store,
      jobs: { a: async ({ records }) => ({ failed: records.slice(0, 1) }) },
    });

    // When
    const response = await handler(kinesisEvent(items(3)), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: at(0) }] });
    expect(commits).toStrictEqual([]);
  });

  it('move no cursor for a job that threw', async () => {
    // Given
    const { store, commits } = recordingStore();
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors: store,
      jobs: {
        a: async () => {
          throw new Error('sink down');
        },
      },
    });

    // When
    await handler(kinesisEvent(items(2)), lambdaContext());

    // Then
    expect(commits).toStrictEqual([]);
  });

  it("report a job whose commit was cut off as failed, with the commit's error", async () => {
    // Given
    const { store } = recordingStore(async () =>
      Promise.reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
    );

    // When
    const { logs } = await runOneJob(store);

    // Then
    const batch = logs.find((line) => line.message === 'batch')?.batch as {
      jobs: Record<string, unknown>;
    };
    expect(batch.jobs.a).toMatchObject({
      status: 'failed',
      records: 2,
      failed: 2,
      error: 'AbortError: Request aborted',
    });
  });

  it.each([
    [true, []],
    [false, ['cursor moved by another invocation']],
  ])(
    'warn, naming the job and batch, only when another invocation moved the cursor first (moved: %s)',
    async (moved, warnings) => {
      // Given
      const { store } = recordingStore(async () => moved);

      // When
      const { result, logs } = await runOneJob(store);

      // Then: the job's records are acknowledged either way; its effects were applied
      expect(result).toStrictEqual({ batchItemFailures: [] });
      const warned = logs.filter((line) => line.level === 'WARN');
      expect(warned.map((line) => line.message)).toStrictEqual(warnings);
      const batch = logs.find((line) => line.message === 'batch')?.batch as { batchId: string };
      expect(batch.batchId).toMatch(/^[0-9a-f]{32}$/);
      for (const line of warned) {
        expect(line).toMatchObject({
          job: 'a',
          shardId: 'shardId-000000000003',
          batchId: batch.batchId,
        });
      }
    },
  );

  it("warn with the store's error, and acknowledge the records, when a commit fails", async () => {
    // Given: a store that answers with an error (not a cut-off): the cursor stays behind, which
    // costs only repeated idempotent work on a retry
    const { store } = recordingStore(async () => Promise.reject(new Error('throttled')));

    // When
    const { result, logs } = await runOneJob(store);

    // Then
    expect(result).toStrictEqual({ batchItemFailures: [] });
    expect(logs.filter((line) => line.level === 'WARN')).toMatchObject([
      { message: 'cursor not advanced', job: 'a', error: 'Error: throttled' },
    ]);
  });
});
