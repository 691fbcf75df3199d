import type { KinesisEvent, KinesisEventRecord } from 'driverless/runtime';
import { windowStartOf } from '../../functions/kinesis/index';
import { FILE_SHARD_ID } from './synthetic-events';

/** Records of one shard that fall in one tumbling window, at most a batch of them. */
export interface WindowBatch {
  readonly shardId: string;
  readonly streamArn: string;
  /** Start of the records' window, epoch ms. */
  readonly windowStartMs: number;
  readonly records: readonly KinesisEventRecord[];
}

interface Pending {
  readonly shardId: string;
  readonly streamArn: string;
  windowStartMs: number;
  records: KinesisEventRecord[];
}

/** The shard a record was read from: the prefix of its `eventID` (`<shardId>:<sequenceNumber>`). */
function shardOf(record: KinesisEventRecord): string {
  const colon = record.eventID.lastIndexOf(':');
  return colon > 0 ? record.eventID.slice(0, colon) : FILE_SHARD_ID;
}

/**
 * Regroups the records of a run into the batches a mapping with `TumblingWindowInSeconds` would
 * send (docs/event-source-mapping.md#tumbling-windows), as the embedded mapping's ShardReader takes
 * them: per shard, in order, up to `batchSize` records, and never across a window boundary. Windows are aligned on
 * each record's arrival time (`approximateArrivalTimestamp`). The input's own event boundaries
 * (file batches, GetRecords pages, saved events) do not matter: the mapping decides batches.
 */
export async function* windowBatches(
  events: AsyncIterable<KinesisEvent>,
  options: { readonly tumblingMs: number; readonly batchSize: number },
): AsyncGenerator<WindowBatch> {
  const pending = new Map<string, Pending>();
  const take = (batch: Pending): WindowBatch => {
    const { records } = batch;
    batch.records = [];
    return { ...batch, records };
  };
  for await (const event of events) {
    for (const record of event.Records) {
      const shardId = shardOf(record);
      const windowStartMs = windowStartOf(
        record.kinesis.approximateArrivalTimestamp * 1000,
        options.tumblingMs,
      );
      let batch = pending.get(shardId);
      if (batch && batch.records.length > 0 && batch.windowStartMs !== windowStartMs) {
        yield take(batch);
      }
      if (!batch) {
        batch = { shardId, streamArn: record.eventSourceARN, windowStartMs, records: [] };
        pending.set(shardId, batch);
      }
      batch.windowStartMs = windowStartMs;
      batch.records.push(record);
      if (batch.records.length >= options.batchSize) yield take(batch);
    }
  }
  for (const batch of pending.values()) if (batch.records.length > 0) yield take(batch);
}
