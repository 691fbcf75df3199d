import type * as Kinesis from '@aws-sdk/client-kinesis';
import { type KinesisEventRecord, kinesisEventRecord } from '../../kinesis/index';
import type { ShardSlice } from './backfill-event';
import type { SliceBatch } from './slice-batch';

/** How a shard slice reaches Kinesis; a seam for tests. */
export interface ShardReadOptions {
  readonly client: Kinesis.KinesisClient;
  readonly batchSize: number;
  /** Resolves after `ms`; aborted early when the invocation must stop. */
  readonly sleep: (ms: number) => Promise<void>;
  /** True once the invocation has no time left to read another batch. */
  readonly outOfTime: () => boolean;
  readonly region: string;
}

// GetRecords is limited to 5 calls/s per shard, shared with the live mapping, and a throttled
// call is answered ProvisionedThroughputExceededException; waiting a second lets the quota refill.
// https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html
const THROTTLED = new Set(['ProvisionedThroughputExceededException', 'LimitExceededException']);
const THROTTLE_WAIT_MS = 1000;
// Kinesis may answer an empty page while records are still ahead (MillisBehindLatest > 0); a
// page needs no wait then, but an empty page at the tip would spin, so it ends the slice.

/**
 * Reads a shard's range [fromMs, toMs) of arrival time, batch by batch (one GetRecords page each,
 * `Limit` = batch size), resuming after `afterSequenceNumber` when given. Ends at the first record
 * that arrived at or after `toMs`, at the shard's tip, or where a closed shard ends. Holds one
 * page at a time.
 */
export async function* readShardSlice(
  slice: ShardSlice,
  afterSequenceNumber: string | undefined,
  options: ShardReadOptions,
): AsyncGenerator<SliceBatch, { complete: boolean }> {
  // `require`: Lambda provides the SDK on NODE_PATH, which only `require` honours.
  const sdk = require('@aws-sdk/client-kinesis') as typeof Kinesis;
  const { ShardIterator } = await options.client.send(
    new sdk.GetShardIteratorCommand({
      // By name: every Kinesis API accepts it, not every emulator accepts StreamARN.
      StreamName: streamNameOf(slice.streamArn),
      ShardId: slice.shardId,
      ...(afterSequenceNumber === undefined
        ? { ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(slice.fromMs) }
        : {
            ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
            StartingSequenceNumber: afterSequenceNumber,
          }),
    }),
  );
  let iterator = ShardIterator;
  while (iterator) {
    if (options.outOfTime()) return { complete: false };
    let page: Kinesis.GetRecordsCommandOutput;
    try {
      page = await options.client.send(
        new sdk.GetRecordsCommand({
          ShardIterator: iterator,
          Limit: options.batchSize,
        }),
      );
    } catch (error) {
      if (!THROTTLED.has((error as { name?: string }).name ?? '')) throw error;
      await options.sleep(THROTTLE_WAIT_MS);
      continue;
    }
    const records: KinesisEventRecord[] = [];
    let ended = false;
    for (const record of page.Records ?? []) {
      const arrivedMs = record.ApproximateArrivalTimestamp?.getTime() ?? 0;
      if (arrivedMs >= slice.toMs) {
        ended = true;
        break;
      }
      records.push(
        kinesisEventRecord({
          shardId: slice.id,
          sequenceNumber: record.SequenceNumber ?? '',
          partitionKey: record.PartitionKey ?? '',
          data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
          approximateArrivalTimestamp: arrivedMs / 1000,
          awsRegion: options.region,
          eventSourceARN: slice.streamArn,
        }),
      );
    }
    if (records.length > 0) {
      yield {
        shardId: slice.id,
        streamArn: slice.streamArn,
        records,
        continuation: {
          afterSequenceNumber: records[records.length - 1]?.kinesis.sequenceNumber as string,
        },
      };
    }
    if (ended) return { complete: true };
    const atTip = (page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0;
    if (atTip) return { complete: true };
    iterator = page.NextShardIterator;
  }
  // No next iterator: a closed shard read to its end.
  return { complete: true };
}

/** `arn:aws:kinesis:<region>:<account>:stream/<name>` → `<name>`. */
export function streamNameOf(streamArn: string): string {
  return streamArn.slice(streamArn.indexOf(':stream/') + ':stream/'.length);
}
