/**
 * Tumbling windows under `driverless run` (docs/event-source-mapping.md#tumbling-windows): how
 * records are cut into window
 * batches, and which events the handler receives, with a scripted handler in place of a bundle.
 */
import type { BatchResponse, KinesisEvent } from 'driverless/runtime';
import { BatchRunner, type RunSummary } from '../../../cli/run/batch-runner';
import type { LoadedHandler } from '../../../cli/run/load-handler';
import { runWindows } from '../../../cli/run/run-windows';
import { type WindowBatch, windowBatches } from '../../../cli/run/window-batches';
import { kinesisRecord, SHARD_ID, sequenceNumber } from '../../fixtures/kinesis-events';

const TUMBLING_MS = 60_000;
/** 2026-11-23T19:00:00Z, the start of a one-minute window. */
const T0 = Date.UTC(2026, 10, 23, 19, 0, 0) / 1000;
const WINDOW_0 = { start: '2026-11-23T19:00:00Z', end: '2026-11-23T19:01:00Z' };
const WINDOW_1 = { start: '2026-11-23T19:01:00Z', end: '2026-11-23T19:02:00Z' };

type Count = { count?: number };

/** A record `n` that arrived `secondsAfterT0` after T0 on `shardId`. */
function arrival(n: number, secondsAfterT0: number, shardId: string = SHARD_ID) {
  return kinesisRecord({
    sequenceNumber: sequenceNumber(n),
    arrival: T0 + secondsAfterT0,
    shardId,
    data: { n },
  });
}

async function* eventsOf(...events: KinesisEvent[]): AsyncGenerator<KinesisEvent> {
  yield* events;
}

async function collect(batches: AsyncIterable<WindowBatch>): Promise<WindowBatch[]> {
  const all: WindowBatch[] = [];
  for await (const batch of batches) all.push(batch);
  return all;
}

/** What each invocation received, in a form a test can compare whole. */
interface Seen {
  readonly records: readonly string[];
  readonly window: { readonly start: string; readonly end: string } | undefined;
  readonly state: unknown;
  readonly final: boolean | undefined;
  readonly early: boolean | undefined;
}

/** A handler answering from `script`, recording every event it is given. */
function scripted(
  script: (event: KinesisEvent, call: number) => BatchResponse<Count> | Promise<never>,
): { handler: LoadedHandler; seen: Seen[] } {
  const seen: Seen[] = [];
  const handler: LoadedHandler = async (event) => {
    seen.push({
      records: event.Records.map((record) => record.kinesis.sequenceNumber),
      window: event.window,
      state: structuredClone(event.state),
      final: event.isFinalInvokeForWindow,
      early: event.isWindowTerminatedEarly,
    });
    return script(event, seen.length - 1);
  };
  return { handler, seen };
}

/** A window handler that counts its records in the state. */
const counting = (event: KinesisEvent): BatchResponse<Count> => ({
  batchItemFailures: [],
  state: { count: ((event.state as Count | undefined)?.count ?? 0) + event.Records.length },
});

/** Runs `events` through windows of one minute, as `driverless run --tumbling-window 60` does. */
async function runWindowed(
  handler: LoadedHandler,
  events: readonly KinesisEvent[],
  options: { batchSize?: number; maxStateBytes?: number } = {},
): Promise<RunSummary> {
  const runner = new BatchRunner(handler, 'windowed');
  const batches = windowBatches(eventsOf(...events), {
    tumblingMs: TUMBLING_MS,
    batchSize: options.batchSize ?? 100,
  });
  await runWindows(batches, runner, {
    tumblingMs: TUMBLING_MS,
    maxStateBytes: options.maxStateBytes ?? 1024 * 1024,
  });
  return runner.summary;
}

describe('windowBatches', () => {
  it('cuts a batch at a window boundary, so no batch crosses one', async () => {
    // Given: three records in the first minute, two in the next, all in one event
    const events = eventsOf({
      Records: [arrival(0, 1), arrival(1, 30), arrival(2, 59.999), arrival(3, 60), arrival(4, 61)],
    });

    // When
    const batches = await collect(
      windowBatches(events, { tumblingMs: TUMBLING_MS, batchSize: 10 }),
    );

    // Then
    expect(batches.map((batch) => [batch.windowStartMs, batch.records.length])).toStrictEqual([
      [T0 * 1000, 3],
      [T0 * 1000 + TUMBLING_MS, 2],
    ]);
  });

  it('fills batches up to the batch size across the events it reads', async () => {
    // Given: five records of one window in events of two, two and one
    const events = eventsOf(
      { Records: [arrival(0, 1), arrival(1, 2)] },
      { Records: [arrival(2, 3), arrival(3, 4)] },
      { Records: [arrival(4, 5)] },
    );

    // When
    const batches = await collect(windowBatches(events, { tumblingMs: TUMBLING_MS, batchSize: 3 }));

    // Then
    expect(batches.map((batch) => batch.records.length)).toStrictEqual([3, 2]);
  });

  it("keeps each shard's records apart", async () => {
    // Given: records of two shards interleaved in one window
    const events = eventsOf({
      Records: [arrival(0, 1, 'shardId-a'), arrival(1, 2, 'shardId-b'), arrival(2, 3, 'shardId-a')],
    });

    // When
    const batches = await collect(
      windowBatches(events, { tumblingMs: TUMBLING_MS, batchSize: 10 }),
    );

    // Then
    expect(batches.map((batch) => [batch.shardId, batch.records.length])).toStrictEqual([
      ['shardId-a', 2],
      ['shardId-b', 1],
    ]);
  });
});

describe('runWindows', () => {
  it('passes the state returned by one invocation to the next invocation of the window', async () => {
    // Given
    const { handler, seen } = scripted(counting);

    // When
    await runWindowed(handler, [{ Records: [arrival(0, 1), arrival(1, 2), arrival(2, 3)] }], {
      batchSize: 1,
    });

    // Then
    expect(seen.map((event) => [event.state, event.final])).toStrictEqual([
      [{}, false],
      [{ count: 1 }, false],
      [{ count: 2 }, false],
      [{ count: 3 }, true],
    ]);
  });

  it('gives each window a final invocation, when the next window starts and when the input ends', async () => {
    // Given
    const { handler, seen } = scripted(counting);

    // When
    const summary = await runWindowed(handler, [
      { Records: [arrival(0, 1), arrival(1, 2), arrival(2, 61)] },
    ]);

    // Then
    expect(seen).toStrictEqual([
      {
        records: [sequenceNumber(0), sequenceNumber(1)],
        window: WINDOW_0,
        state: {},
        final: false,
        early: false,
      },
      { records: [], window: WINDOW_0, state: { count: 2 }, final: true, early: false },
      { records: [sequenceNumber(2)], window: WINDOW_1, state: {}, final: false, early: false },
      { records: [], window: WINDOW_1, state: { count: 1 }, final: true, early: false },
    ]);
    expect(summary.windowsClosed).toBe(2);
  });

  it('retries a partial failure from the named record, with the state its response returned', async () => {
    // Given: the first answer folds record 0 and names record 1 as failed
    const { handler, seen } = scripted((event, call) =>
      call === 0
        ? { batchItemFailures: [{ itemIdentifier: sequenceNumber(1) }], state: { count: 1 } }
        : counting(event),
    );

    // When
    const summary = await runWindowed(handler, [
      { Records: [arrival(0, 1), arrival(1, 2), arrival(2, 3)] },
    ]);

    // Then
    expect(seen.map((event) => [event.records, event.state, event.final])).toStrictEqual([
      [[sequenceNumber(0), sequenceNumber(1), sequenceNumber(2)], {}, false],
      [[sequenceNumber(1), sequenceNumber(2)], { count: 1 }, false],
      [[], { count: 3 }, true],
    ]);
    expect(summary.failed).toBe(0);
  });

  it('ends a window early when its state passes the limit; the next records start fresh', async () => {
    // Given: a 10-byte limit stands in for AWS's 1 MB; {"count":1} is 11 bytes
    const { handler, seen } = scripted(counting);

    // When
    const summary = await runWindowed(handler, [{ Records: [arrival(0, 1), arrival(1, 2)] }], {
      batchSize: 1,
      maxStateBytes: 10,
    });

    // Then
    expect(
      seen.map((event) => [event.records, event.state, event.final, event.early]),
    ).toStrictEqual([
      [[sequenceNumber(0)], {}, false, false],
      [[], { count: 1 }, true, true],
      [[sequenceNumber(1)], {}, false, false],
      [[], { count: 1 }, true, true],
    ]);
    expect(summary.windowsClosed).toBe(2);
  });

  it('fails if a window response has no state: the batch is retried, then its records count failed', async () => {
    // Given
    const { handler, seen } = scripted(() => ({ batchItemFailures: [] }));

    // When
    const summary = await runWindowed(handler, [{ Records: [arrival(0, 1)] }]);

    // Then
    expect({
      batchAttempts: seen.filter((event) => event.final === false).length,
      failed: summary.failed,
    }).toStrictEqual({ batchAttempts: 3, failed: 1 });
  });

  it('fails if the final invocation keeps throwing: the window counts failed after three attempts', async () => {
    // Given: onClose throws on every final invocation
    const { handler, seen } = scripted((event) =>
      event.isFinalInvokeForWindow ? Promise.reject(new Error('table missing')) : counting(event),
    );

    // When
    const summary = await runWindowed(handler, [{ Records: [arrival(0, 1)] }]);

    // Then
    expect({
      finalAttempts: seen.filter((event) => event.final === true).length,
      windowsClosed: summary.windowsClosed,
      windowsFailed: summary.windowsFailed,
      lastError: summary.lastError,
    }).toStrictEqual({
      finalAttempts: 3,
      windowsClosed: 0,
      windowsFailed: 1,
      lastError: 'Error: table missing',
    });
  });
});

describe('a saved event with window keys, run without --tumbling-window', () => {
  it('is replayed as that invocation, its retry carrying the state its partial response returned', async () => {
    // Given: a saved final invocation whose first answer fails record 1
    const saved: KinesisEvent = {
      Records: [arrival(0, 1), arrival(1, 2)],
      window: WINDOW_0,
      state: { count: 5 },
      shardId: SHARD_ID,
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/saved',
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
    };
    const { handler, seen } = scripted((event, call) =>
      call === 0
        ? { batchItemFailures: [{ itemIdentifier: sequenceNumber(1) }], state: { count: 6 } }
        : counting(event),
    );

    // When
    await new BatchRunner(handler, 'saved').run(saved);

    // Then
    expect(seen.map((event) => [event.records, event.state, event.final])).toStrictEqual([
      [[sequenceNumber(0), sequenceNumber(1)], { count: 5 }, true],
      [[sequenceNumber(1)], { count: 6 }, true],
    ]);
  });
});
