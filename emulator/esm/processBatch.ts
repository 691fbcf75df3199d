import {
  type BatchOutcome,
  classifyBatchResponse,
  type KinesisEvent,
  type OnFailureCondition,
  type OpenWindow,
  onFailureRecord,
  windowBounds,
} from '../../functions/kinesis/index';
import type { InvokeResult } from '../model';
import { retryDelayMs } from './EsmTuning';
import { batchEvent, type StreamRecord, windowEvent } from './kinesisEvent';
import type { MappingContext } from './MappingContext';

interface Attempts {
  /** Invocations these records were part of (`approximateInvokeCount`). */
  invokeCount: number;
  /** Retries used against MaximumRetryAttempts (docs/event-source-mapping.md#retry-counting). */
  retriesUsed: number;
}

/**
 * Processes one batch to its end: success, discard, or stop. The shard (or partition-key lane)
 * stays blocked meanwhile, as on AWS (docs/event-source-mapping.md#retries).
 *
 * Retry accounting (docs/event-source-mapping.md#retry-counting, #bisect, #emulator-choices):
 * - A function error or an invalid partial response fails the whole batch; a retry uses one of
 *   MaximumRetryAttempts. A partial response checkpoints the records before the lowest reported
 *   sequence number and retries the rest, also using one retry (observed on AWS).
 * - With BisectBatchOnFunctionError, a failed batch of 2+ records is split in two halves (first half
 *   `ceil(n/2)` records) that are processed in sequence order, first half to completion first. The
 *   split uses no retry; each half starts with the parent's counts (unconfirmed). Bisection goes
 *   down to single records, which are then retried under the normal quota. A partial response with
 *   bisect on splits at the returned sequence number (documented), which is the same tail retry.
 * - Invoke transport errors (the function host refused or was unreachable) are errors before
 *   invocation: retried with backoff, never counted (docs/event-source-mapping.md#retries).
 * - Record age is checked per record before every attempt; expired records go to the destination
 *   alone as `RecordAgeExceeded` (docs/event-source-mapping.md#record-age).
 */
export async function processBatch(
  ctx: MappingContext,
  shardId: string,
  records: readonly StreamRecord[],
  window?: OpenWindow,
): Promise<void> {
  await processRange(ctx, shardId, records, { invokeCount: 0, retriesUsed: 0 }, window);
}

async function processRange(
  ctx: MappingContext,
  shardId: string,
  batch: readonly StreamRecord[],
  attempts: Attempts,
  window: OpenWindow | undefined,
): Promise<void> {
  const { config, tuning } = ctx;
  let records = batch;
  let consecutiveFailures = 0;
  const backoff = async () => {
    consecutiveFailures += 1;
    await ctx.sleep(retryDelayMs(tuning, consecutiveFailures));
  };

  while (records.length > 0 && !ctx.isStopped()) {
    const expired = expiredPrefix(ctx, records);
    if (expired > 0) {
      const old = records.slice(0, expired);
      records = records.slice(expired);
      // An expired record that was never invoked still reports approximateInvokeCount 1
      // (docs/event-source-mapping.md#record-age).
      await discard(ctx, shardId, old, 'RecordAgeExceeded', Math.max(1, attempts.invokeCount), {
        event: buildEvent(ctx, shardId, old, window),
      });
      continue;
    }

    const event = buildEvent(ctx, shardId, records, window);
    const first = records[0] as StreamRecord;
    const last = records[records.length - 1] as StreamRecord;
    ctx.emit({
      type: 'batchInvoked',
      shardId,
      records: records.length,
      firstSequenceNumber: first.sequenceNumber,
      lastSequenceNumber: last.sequenceNumber,
      iteratorAgeMs: Math.max(0, tuning.now() - last.arrivalMs),
      invokeCount: attempts.invokeCount + 1,
    });
    const started = performance.now();
    let result: InvokeResult;
    try {
      result = await invokeCounted(ctx, event, records.length);
    } catch (error) {
      ctx.emit({ type: 'error', stage: 'invoke', shardId, message: errorMessage(error) });
      await backoff();
      continue;
    }
    attempts.invokeCount += 1;
    const outcome = classifyBatchResponse(
      result,
      records.map((r) => r.sequenceNumber),
      {
        reportBatchItemFailures: config.reportBatchItemFailures,
        tumblingWindow: window !== undefined,
      },
    );
    emitResult(ctx, shardId, outcome, result, records.length, performance.now() - started);

    if (outcome.kind === 'success') {
      if (window && outcome.state) window.state = outcome.state;
      checkpoint(ctx, shardId, records);
      return;
    }
    ctx.stats.failedInvokeRecords += records.length;
    const response = {
      executedVersion: result.executedVersion,
      functionError: outcome.kind === 'failure' ? outcome.functionError : null,
    };
    if (outcome.kind === 'partial') {
      if (window && outcome.state) window.state = outcome.state;
      checkpoint(ctx, shardId, records.slice(0, outcome.retryFrom));
      records = records.slice(outcome.retryFrom);
    } else if (config.bisectBatchOnFunctionError && records.length > 1) {
      const middle = Math.ceil(records.length / 2);
      await processRange(ctx, shardId, records.slice(0, middle), { ...attempts }, window);
      if (ctx.isStopped()) return;
      await processRange(ctx, shardId, records.slice(middle), { ...attempts }, window);
      return;
    }
    if (retriesExhausted(config.maximumRetryAttempts, attempts.retriesUsed)) {
      await discard(ctx, shardId, records, 'RetryAttemptsExhausted', attempts.invokeCount, {
        event,
        response,
      });
      return;
    }
    attempts.retriesUsed += 1;
    await backoff();
  }
}

function retriesExhausted(maximumRetryAttempts: number, retriesUsed: number): boolean {
  return maximumRetryAttempts !== -1 && retriesUsed >= maximumRetryAttempts;
}

/** Records are in arrival order within a shard, so the expired ones are a prefix. */
function expiredPrefix(ctx: MappingContext, records: readonly StreamRecord[]): number {
  const maxAge = ctx.config.maximumRecordAgeSeconds;
  if (maxAge === -1) return 0;
  const oldestAllowed = ctx.tuning.now() - maxAge * 1000;
  let count = 0;
  while (count < records.length && (records[count] as StreamRecord).arrivalMs < oldestAllowed) {
    count += 1;
  }
  return count;
}

function buildEvent(
  ctx: MappingContext,
  shardId: string,
  records: readonly StreamRecord[],
  window: OpenWindow | undefined,
): KinesisEvent {
  if (!window) return batchEvent(records);
  return windowEvent(records, shardId, ctx.source.streamArn, {
    ...windowBounds(window),
    state: window.state,
    isFinalInvokeForWindow: false,
    isWindowTerminatedEarly: false,
  });
}

export async function invokeCounted(
  ctx: MappingContext,
  event: unknown,
  recordCount: number,
): Promise<InvokeResult> {
  const { stats } = ctx;
  stats.inFlightInvocations += 1;
  stats.peakInFlightInvocations = Math.max(
    stats.peakInFlightInvocations,
    stats.inFlightInvocations,
  );
  try {
    const result = await ctx.invoke(ctx.functionName, ctx.qualifier, event);
    stats.invocations += 1;
    stats.invokedRecords += recordCount;
    return result;
  } finally {
    stats.inFlightInvocations -= 1;
  }
}

function emitResult(
  ctx: MappingContext,
  shardId: string,
  outcome: BatchOutcome,
  result: InvokeResult,
  records: number,
  durationMs: number,
): void {
  ctx.emit({
    type: 'batchResult',
    shardId,
    outcome: outcome.kind === 'success' ? 'ok' : outcome.kind === 'partial' ? 'partial' : 'error',
    durationMs,
    records,
    executedVersion: result.executedVersion,
    ...(result.functionError && { functionError: result.functionError }),
    ...(outcome.kind === 'failure' && { reason: outcome.reason }),
  });
}

function checkpoint(ctx: MappingContext, shardId: string, records: readonly StreamRecord[]): void {
  const first = records[0];
  const last = records[records.length - 1];
  if (!first || !last) return;
  ctx.stats.checkpointedRecords += records.length;
  ctx.emit({
    type: 'recordsCheckpointed',
    shardId,
    count: records.length,
    firstSequenceNumber: first.sequenceNumber,
    lastSequenceNumber: last.sequenceNumber,
    sequenceNumbers: records.map((r) => r.sequenceNumber),
    arrivalTimestampsMs: records.map((r) => r.arrivalMs),
  });
}

/**
 * Gives up on records: one on-failure record for them, then processing continues with the next
 * records (docs/event-source-mapping.md#retries). The S3 `payload` is the last invocation event
 * that carried them (for expired records never invoked, the event they would have been sent in).
 */
async function discard(
  ctx: MappingContext,
  shardId: string,
  records: readonly StreamRecord[],
  condition: OnFailureCondition,
  approximateInvokeCount: number,
  context: {
    event: unknown;
    response?: { executedVersion: string; functionError: 'Unhandled' | null };
  },
): Promise<void> {
  const first = records[0] as StreamRecord;
  const last = records[records.length - 1] as StreamRecord;
  ctx.stats.discardedRecords += records.length;
  let delivered = false;
  const destination = ctx.destination;
  if (destination) {
    const record = onFailureRecord({
      functionArn: ctx.functionArn,
      streamArn: ctx.source.streamArn,
      shardId,
      condition,
      approximateInvokeCount,
      response: condition === 'RecordAgeExceeded' ? undefined : context.response,
      records,
      now: new Date(ctx.tuning.now()),
    });
    // A failing destination write is retried a few times, then the records count as dropped.
    for (let attempt = 1; attempt <= 3 && !delivered; attempt += 1) {
      try {
        await destination.deliver(record, context.event);
        delivered = true;
        ctx.stats.destinationDeliveredRecords += records.length;
      } catch (error) {
        ctx.emit({ type: 'error', stage: 'destination', shardId, message: errorMessage(error) });
        if (attempt < 3) await ctx.sleep(retryDelayMs(ctx.tuning, attempt));
      }
    }
  }
  ctx.emit({
    type: 'recordsDiscarded',
    shardId,
    condition,
    count: records.length,
    firstSequenceNumber: first.sequenceNumber,
    lastSequenceNumber: last.sequenceNumber,
    sequenceNumbers: records.map((r) => r.sequenceNumber),
    approximateInvokeCount,
    ...(destination && { destination: destination.kind }),
    delivered,
  });
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
