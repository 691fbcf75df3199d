import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import {
  type OpenWindow,
  openWindow,
  windowBounds,
  windowStartOf,
  windowStateBytes,
} from '../../functions/kinesis/index';
import { retryDelayMs } from './EsmTuning';
import { type StreamRecord, toStreamRecord, windowEvent } from './kinesisEvent';
import type { MappingContext } from './MappingContext';
import { errorMessage, invokeCounted, processBatch } from './processBatch';
import { Signal } from './Signal';

/** The smallest GetRecords call the reader makes (unless `getRecordsLimit` is smaller). */
const MIN_READ_RECORDS = 1000;

export type StartingIterator =
  | { type: 'TRIM_HORIZON' }
  | { type: 'LATEST' }
  | { type: 'AT_TIMESTAMP'; timestampSeconds: number };

/** A GetRecords call's answer, with when it was sent (the mapping's clock), or its failure. */
type Read =
  | { readonly out: GetRecordsCommandOutput; readonly sentAt: number }
  | { readonly error: unknown };

/** Records of one partition-key lane; with ParallelizationFactor 1 a shard has one lane. */
interface Lane {
  queue: StreamRecord[];
  window: OpenWindow | undefined;
  /**
   * End of the last tumbling window this lane closed: earlier windows never open again, so a
   * record stamped in one of them joins the window starting there
   * (docs/event-source-mapping.md#emulator-choices).
   */
  closedUntilMs: number;
}

/**
 * Reads one shard and drives its lanes (docs/event-source-mapping.md#batching, #retries,
 * #polling-and-limits):
 * - a fetch loop calls GetRecords (≤ getRecordsLimit records; fewer for small batches, see
 *   fetchLoop) back to back while records are waiting, and once per idle interval when caught
 *   up; Kinesis errors are retried with backoff
 *   (docs/event-source-mapping.md#retries, not counted against MaximumRetryAttempts),
 *   re-opening the iterator after the last read;
 * - filtered-out records are consumed at read time (docs/event-source-mapping.md#filtering);
 * - each lane invokes one batch at a time, so with ParallelizationFactor N there are at most N
 *   batches in flight per shard, each partition key always in the same lane (ordered per key);
 * - the shard finishes when GetRecords returns no NextShardIterator (closed after resharding) and
 *   every lane has drained; tumbling windows still open then get their final invocation
 *   (docs/event-source-mapping.md#tumbling-windows).
 */
export class ShardReader {
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly lanes: Lane[];
  private readonly recordsArrived = new Signal();
  private readonly recordsTaken = new Signal();
  private readonly pollWanted = new Signal();
  /** A poll was asked for while a read was out: the next idle wait is skipped. */
  private pollRequested = false;
  private ended = false;
  /**
   * When the last GetRecords that found the shard caught up was sent (ctx clock), for closing
   * windows: only what was readable when the request went out is known to have been read.
   */
  private caughtUpAt = 0;
  private lastReadSequence: string | undefined;
  private readonly tumblingMs: number;

  constructor(
    private readonly ctx: MappingContext,
    readonly shardId: string,
    private readonly start: StartingIterator,
  ) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    this.tumblingMs = ctx.config.tumblingWindowSeconds * 1000;
    // Windows keep one state per shard, so a windowed mapping uses a single lane (unconfirmed
    // whether AWS requires ParallelizationFactor 1 with windows,
    // docs/event-source-mapping.md#tumbling-windows).
    const laneCount = this.tumblingMs > 0 ? 1 : ctx.config.parallelizationFactor;
    this.lanes = Array.from({ length: laneCount }, () => ({
      queue: [],
      window: undefined,
      closedUntilMs: Number.NEGATIVE_INFINITY,
    }));
  }

  /** Resolves when the shard is fully processed (true) or the mapping stopped (false). */
  async run(): Promise<boolean> {
    const fetching = this.fetchLoop();
    await Promise.all([fetching, ...this.lanes.map((lane) => this.laneLoop(lane))]);
    this.markReady();
    return this.ended && !this.ctx.isStopped();
  }

  private buffered(): number {
    let total = 0;
    for (const lane of this.lanes) total += lane.queue.length;
    return total;
  }

  private async openIterator(): Promise<string | undefined> {
    const { ctx } = this;
    let failures = 0;
    while (!ctx.isStopped()) {
      try {
        const position = this.lastReadSequence
          ? {
              ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as ShardIteratorType,
              StartingSequenceNumber: this.lastReadSequence,
            }
          : this.start.type === 'AT_TIMESTAMP'
            ? {
                ShardIteratorType: 'AT_TIMESTAMP' as ShardIteratorType,
                Timestamp: new Date(this.start.timestampSeconds * 1000),
              }
            : { ShardIteratorType: this.start.type as ShardIteratorType };
        const out = await ctx.kinesis.send(
          new GetShardIteratorCommand({
            StreamName: ctx.streamName,
            ShardId: this.shardId,
            ...position,
          }),
        );
        return out.ShardIterator;
      } catch (error) {
        ctx.emit({
          type: 'error',
          stage: 'getShardIterator',
          shardId: this.shardId,
          message: errorMessage(error),
        });
        failures += 1;
        await ctx.sleep(retryDelayMs(ctx.tuning, failures));
      }
    }
    return undefined;
  }

  private async fetchLoop(): Promise<void> {
    const { ctx } = this;
    const { tuning, config } = ctx;
    const idleMs = config.consumerArn ? tuning.consumerPollIntervalMs : tuning.idlePollIntervalMs;
    const inFlight = config.batchSize * config.parallelizationFactor;
    // Read ahead about two rounds of batches, not 10,000 records per shard whatever the batch
    // size: every buffered record holds its event record and JSON in this process, and with many
    // shards (32 × 20,000 records of a backlog) that was hundreds of MB. Reads stay large enough
    // that their per-call cost does not matter.
    const readLimit = Math.min(tuning.getRecordsLimit, Math.max(MIN_READ_RECORDS, inFlight));
    const highWater = Math.max(readLimit, 2 * inFlight);
    let iterator = await this.openIterator();
    this.markReady();
    let failures = 0;
    /** A read already sent for `iterator` while the previous one was being handled. */
    let ahead: Promise<Read> | undefined;
    while (!ctx.isStopped() && iterator) {
      if (ahead === undefined && this.buffered() >= highWater) {
        await this.recordsTaken.wait(idleMs);
        continue;
      }
      const read = await (ahead ?? this.read(iterator, readLimit));
      ahead = undefined;
      if ('error' in read) {
        ctx.emit({
          type: 'error',
          stage: 'getRecords',
          shardId: this.shardId,
          message: errorMessage(read.error),
        });
        failures += 1;
        await ctx.sleep(retryDelayMs(tuning, failures));
        // The iterator may have expired or been invalidated: re-open it after the last record read.
        iterator = await this.openIterator();
        continue;
      }
      failures = 0;
      const { out, sentAt } = read;
      const raw = out.Records ?? [];
      // Caught up: nothing returned, or a short read with no lag reported. A full read, or any
      // reported lag, means more is waiting and the next call goes out at once
      // (docs/event-source-mapping.md#polling-and-limits).
      const caughtUp =
        raw.length === 0 || (raw.length < readLimit && !(out.MillisBehindLatest ?? 0));
      iterator = out.NextShardIterator;
      // The next call goes out before this one's records are turned into event records, so the
      // shard is read back to back, as by the service, while this process does its own work.
      // Reads stay one at a time and in iterator order; the records are queued in that order.
      if (!caughtUp && iterator && this.buffered() + raw.length < highWater) {
        ahead = this.read(iterator, readLimit);
        // The SDK writes the request only after a few turns of the event loop; without this
        // yield it waited for the records below to be turned into events (~45 ms per 10,000),
        // and the shard sat unread meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (raw.length > 0) this.accept(raw);
      if (caughtUp) this.caughtUpAt = sentAt;
      if (!iterator) this.ended = true;
      this.recordsArrived.notify();
      if (caughtUp && iterator) await this.idle(idleMs);
    }
    // A stop while a read was ahead: wait for it, so nothing of the mapping outlives stop().
    if (ahead !== undefined) await ahead;
    this.recordsArrived.notify();
  }

  /** One GetRecords call; failures are returned, not thrown, so a read sent ahead never rejects unobserved. */
  private async read(iterator: string, limit: number): Promise<Read> {
    const sentAt = this.ctx.tuning.now();
    try {
      const out = await this.ctx.kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }),
      );
      return { out, sentAt };
    } catch (error) {
      return { error };
    }
  }

  /** The caught-up wait between reads: `idleMs`, or until `pollNow` or a stop. */
  private async idle(idleMs: number): Promise<void> {
    if (this.pollRequested || this.ctx.isStopped()) {
      this.pollRequested = false;
      return;
    }
    await this.pollWanted.wait(idleMs);
    this.pollRequested = false;
  }

  /**
   * Sends the next GetRecords now instead of at the end of the idle wait (or right after the read
   * that is out). Changes when the shard is read, never what is read or in which order.
   */
  pollNow(): void {
    this.pollRequested = true;
    this.pollWanted.notify();
  }

  private accept(raw: NonNullable<GetRecordsCommandOutput['Records']>): void {
    const { ctx } = this;
    const filteredOut: string[] = [];
    for (const item of raw) {
      const record = toStreamRecord(ctx.source, this.shardId, item);
      this.lastReadSequence = record.sequenceNumber;
      if (ctx.filter && !ctx.filter(record)) {
        filteredOut.push(record.sequenceNumber);
        continue;
      }
      this.laneOf(record).queue.push(record);
    }
    ctx.stats.polledRecords += raw.length;
    if (filteredOut.length > 0) {
      ctx.stats.filteredOutRecords += filteredOut.length;
      ctx.emit({
        type: 'recordsFilteredOut',
        shardId: this.shardId,
        count: filteredOut.length,
        sequenceNumbers: filteredOut,
      });
    }
  }

  /**
   * Partition keys are hashed to lanes so each key keeps its order
   * (docs/event-source-mapping.md#parallelization).
   */
  private laneOf(record: StreamRecord): Lane {
    if (this.lanes.length === 1) return this.lanes[0] as Lane;
    let hash = 0x811c9dc5;
    for (let i = 0; i < record.partitionKey.length; i += 1) {
      hash ^= record.partitionKey.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return this.lanes[hash % this.lanes.length] as Lane;
  }

  /** Wakes sleeping loops so a stop takes effect at once. */
  interrupt(): void {
    this.recordsArrived.notify();
    this.recordsTaken.notify();
    this.pollWanted.notify();
  }

  private fetchFinished(): boolean {
    return this.ended || this.ctx.isStopped();
  }

  private async laneLoop(lane: Lane): Promise<void> {
    const { ctx } = this;
    const { config, tuning } = ctx;
    const batchingWindowMs = config.maximumBatchingWindowSeconds * 1000;
    const idleMs = config.consumerArn ? tuning.consumerPollIntervalMs : tuning.idlePollIntervalMs;
    // With a batching window, the next window starts when the previous invocation completes
    // (docs/event-source-mapping.md#batching).
    let windowOpenedAt = performance.now();
    while (!ctx.isStopped()) {
      if (this.tumblingMs > 0 && (await this.closeWindowIfDue(lane))) continue;
      if (lane.queue.length === 0) {
        if (this.ended) break;
        await this.recordsArrived.wait(idleMs);
        continue;
      }
      if (batchingWindowMs > 0 && lane.queue.length < config.batchSize && !this.ended) {
        const remaining = windowOpenedAt + batchingWindowMs - performance.now();
        if (remaining > 0 && queuedBytes(lane.queue) < tuning.maxPayloadBytes) {
          await this.recordsArrived.wait(remaining);
          continue;
        }
      }
      const batch = this.takeBatch(lane);
      this.recordsTaken.notify();
      await processBatch(ctx, this.shardId, batch, lane.window);
      if (lane.window && windowStateBytes(lane.window) > tuning.maxWindowStateBytes) {
        // State over 1 MB ends the window early; later records start with fresh state
        // (docs/event-source-mapping.md#tumbling-windows).
        await this.finalInvoke(lane.window, true);
        lane.window = undefined;
      }
      windowOpenedAt = performance.now();
    }
    if (this.tumblingMs > 0 && lane.window && this.ended && !ctx.isStopped()) {
      // Windows do not survive resharding: a finished shard closes its window
      // (docs/event-source-mapping.md#tumbling-windows).
      await this.finalInvoke(lane.window, false);
      lane.window = undefined;
    }
  }

  /**
   * Batch = up to BatchSize records within the 6 MB payload cap
   * (docs/event-source-mapping.md#batching); a single record over the cap is sent alone (how AWS
   * handles it is unconfirmed, docs/event-source-mapping.md#emulator-choices). With tumbling
   * windows a batch never crosses a window boundary, and opens the window of its first record.
   */
  private takeBatch(lane: Lane): StreamRecord[] {
    const { config, tuning } = this.ctx;
    let windowStart: number | undefined;
    if (this.tumblingMs > 0) {
      windowStart = this.windowStartOf(lane, lane.queue[0] as StreamRecord);
      lane.window ??= openWindow(windowStart, this.tumblingMs);
    }
    // Envelope: `{"Records":[]}` plus, with windows, the window keys and the state.
    let bytes = 16 + (lane.window ? 512 + windowStateBytes(lane.window) : 0);
    let count = 0;
    while (count < lane.queue.length && count < config.batchSize) {
      const record = lane.queue[count] as StreamRecord;
      if (windowStart !== undefined && this.windowStartOf(lane, record) !== windowStart) break;
      if (count > 0 && bytes + record.sizeBytes + 1 > tuning.maxPayloadBytes) break;
      bytes += record.sizeBytes + 1;
      count += 1;
    }
    return lane.queue.splice(0, count);
  }

  /**
   * The window a record goes to: the one of its arrival time, or, when that window is already
   * closed (the record became readable only after its window was closed), the window following
   * the last closed one. A closed window never reopens.
   */
  private windowStartOf(lane: Lane, record: StreamRecord): number {
    return Math.max(windowStartOf(record.arrivalMs, this.tumblingMs), lane.closedUntilMs);
  }

  /**
   * Closes the lane's window when the next record belongs to a later window, or when a read sent
   * at least `windowCloseGraceMs` after the window's end found the shard caught up. The grace
   * covers Kinesis servers that stamp a record's arrival time before the record is readable
   * (kinesalite does): a read sent right after the end can miss a record stamped inside the
   * window.
   */
  private async closeWindowIfDue(lane: Lane): Promise<boolean> {
    const window = lane.window;
    if (!window) return false;
    const head = lane.queue[0];
    const due = head
      ? this.windowStartOf(lane, head) !== window.startMs
      : this.caughtUpAt >= window.endMs + this.ctx.tuning.windowCloseGraceMs ||
        this.fetchFinished();
    if (!due || this.ctx.isStopped()) return false;
    await this.finalInvoke(window, false);
    lane.window = undefined;
    lane.closedUntilMs = window.endMs;
    return true;
  }

  /**
   * The window's closing call: `isFinalInvokeForWindow: true`, no records, the final state (the
   * emulator's choice; AWS documents only that the final call carries the final state). It is
   * retried until it succeeds: AWS suspends the shard until then
   * (docs/event-source-mapping.md#tumbling-windows).
   */
  private async finalInvoke(window: OpenWindow, terminatedEarly: boolean): Promise<void> {
    const { ctx } = this;
    const event = windowEvent([], this.shardId, ctx.source.streamArn, {
      ...windowBounds(window),
      state: window.state,
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: terminatedEarly,
    });
    let failures = 0;
    while (!ctx.isStopped()) {
      const started = performance.now();
      let ok = false;
      try {
        const result = await invokeCounted(ctx, event, 0);
        const payload = result.payload as { state?: unknown } | null | undefined;
        ok =
          !result.functionError &&
          typeof payload === 'object' &&
          payload !== null &&
          typeof payload.state === 'object' &&
          payload.state !== null;
      } catch (error) {
        ctx.emit({
          type: 'error',
          stage: 'invoke',
          shardId: this.shardId,
          message: errorMessage(error),
        });
      }
      ctx.emit({
        type: 'windowFinalInvoked',
        shardId: this.shardId,
        window: windowBounds(window),
        terminatedEarly,
        ok,
        durationMs: performance.now() - started,
      });
      if (ok) return;
      failures += 1;
      await ctx.sleep(retryDelayMs(ctx.tuning, failures));
    }
  }
}

function queuedBytes(queue: readonly StreamRecord[]): number {
  let total = 0;
  for (const record of queue) total += record.sizeBytes + 1;
  return total;
}
