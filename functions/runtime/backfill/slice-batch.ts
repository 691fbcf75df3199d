import type { KinesisEventRecord } from '../../kinesis/index';
import type { BackfillContinuation } from './backfill-event';

/** One batch a slice reader hands over: the records of one shard (or archive object), in order. */
export interface SliceBatch {
  /** The batch's `shardId`: what the event's eventIDs carry, and what cursors are kept under. */
  readonly shardId: string;
  readonly streamArn: string;
  readonly records: KinesisEventRecord[];
  /** Where the slice goes on once this batch is processed. */
  readonly continuation: BackfillContinuation;
}
