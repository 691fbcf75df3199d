import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';

/** What is left in the stream of a discarded range: the records still retained, in order. */
export interface StreamRange {
  readonly records: readonly _Record[];
  /** Why records of the range could not be read (trimmed, stream gone), when some are missing. */
  readonly missingReason?: string;
}

const compare = (a: string, b: string): number =>
  a.length === b.length ? (a < b ? -1 : a > b ? 1 : 0) : a.length - b.length;

/**
 * Re-reads `start..end` (inclusive sequence numbers) of one shard: GetShardIterator
 * AT_SEQUENCE_NUMBER, then GetRecords until past `end` or caught up. A record trimmed by the
 * stream's retention is simply absent; the caller compares counts with the pointer's batch size.
 * @see https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetShardIterator.html
 */
export async function readStreamRange(
  kinesis: KinesisClient,
  streamArn: string,
  shardId: string,
  start: string,
  end: string,
): Promise<StreamRange> {
  let iterator: string | undefined;
  try {
    const out = await kinesis.send(
      new GetShardIteratorCommand({
        // The name, not StreamARN: older Kinesis emulators (kinesalite) know only the name.
        StreamName: streamArn.split('/').pop(),
        ShardId: shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: start,
      }),
    );
    iterator = out.ShardIterator;
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    // A trimmed start position or a deleted stream: nothing of the range is retained.
    if (name === 'ResourceNotFoundException' || name === 'InvalidArgumentException') {
      return { records: [], missingReason: `expired from the stream (${name})` };
    }
    throw error;
  }
  const records: _Record[] = [];
  for (let reads = 0; iterator !== undefined && reads < 10_000; reads++) {
    const page = await kinesis.send(
      new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }),
    );
    for (const record of page.Records ?? []) {
      const seq = record.SequenceNumber ?? '';
      if (compare(seq, end) > 0) return { records };
      if (compare(seq, start) >= 0) records.push(record);
    }
    if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
    iterator = page.NextShardIterator;
  }
  return { records };
}
