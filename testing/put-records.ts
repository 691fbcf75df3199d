import { type KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { PutRecord, PutResult } from './local-pipeline';

/** PutRecords takes at most 500 records per request. */
const MAX_RECORDS_PER_REQUEST = 500;
/** Attempts for records Kinesis throttles before `put` gives up on them. */
const MAX_ATTEMPTS = 8;

function bytesOf(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  return Buffer.from(typeof data === 'string' ? data : JSON.stringify(data), 'utf8');
}

/**
 * Puts records in order with PutRecords, retrying the entries Kinesis rejects (throttling) with a
 * growing pause. A record that names a shard is sent with that shard's starting hash key.
 */
export async function putRecords(
  kinesis: KinesisClient,
  streamName: string,
  records: readonly PutRecord[],
): Promise<PutResult[]> {
  const hashKeys = records.some((r) => r.shard !== undefined)
    ? await startingHashKeys(kinesis, streamName)
    : [];
  const entries = records.map((record, index) => {
    let explicitHashKey: string | undefined;
    if (record.shard !== undefined) {
      explicitHashKey = hashKeys[record.shard];
      if (explicitHashKey === undefined) {
        throw new Error(
          `shard must be an integer from 0 to ${hashKeys.length - 1} for ${streamName} (given ${record.shard})`,
        );
      }
    }
    return {
      Data: bytesOf(record.data),
      PartitionKey: record.partitionKey ?? String(index),
      ...(explicitHashKey === undefined ? {} : { ExplicitHashKey: explicitHashKey }),
    };
  });
  const results: PutResult[] = new Array(entries.length);
  for (let start = 0; start < entries.length; start += MAX_RECORDS_PER_REQUEST) {
    let pending = entries
      .slice(start, start + MAX_RECORDS_PER_REQUEST)
      .map((entry, offset) => ({ entry, index: start + offset }));
    for (let attempt = 1; pending.length > 0; attempt++) {
      const out = await kinesis.send(
        new PutRecordsCommand({ StreamName: streamName, Records: pending.map((p) => p.entry) }),
      );
      const failed: typeof pending = [];
      (out.Records ?? []).forEach((result, i) => {
        const item = pending[i];
        if (item === undefined) return;
        if (result.SequenceNumber && result.ShardId) {
          results[item.index] = { shardId: result.ShardId, sequenceNumber: result.SequenceNumber };
        } else failed.push(item);
      });
      if (failed.length > 0 && attempt === MAX_ATTEMPTS) {
        const reason = out.Records?.find((r) => r.ErrorCode)?.ErrorMessage ?? 'rejected';
        throw new Error(
          `Kinesis refused ${failed.length} records of ${streamName} after ${MAX_ATTEMPTS} attempts: ${reason}`,
        );
      }
      pending = failed;
      if (failed.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
  return results;
}

/** Each open shard's starting hash key, in shard order. */
async function startingHashKeys(kinesis: KinesisClient, streamName: string): Promise<string[]> {
  const keys: { shardId: string; key: string }[] = [];
  let nextToken: string | undefined;
  do {
    const out = await kinesis.send(
      new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }),
    );
    for (const shard of out.Shards ?? []) {
      const open = shard.SequenceNumberRange?.EndingSequenceNumber === undefined;
      if (open && shard.ShardId && shard.HashKeyRange?.StartingHashKey) {
        keys.push({ shardId: shard.ShardId, key: shard.HashKeyRange.StartingHashKey });
      }
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return keys.sort((a, b) => a.shardId.localeCompare(b.shardId)).map((k) => k.key);
}
