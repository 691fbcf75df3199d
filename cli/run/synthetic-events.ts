import { basename } from 'node:path';
import { type KinesisEventRecord, kinesisEventRecord } from '../../functions/kinesis/index';

/** The one shard of a file: records read from a file have no shard of their own. */
export const FILE_SHARD_ID = 'shardId-000000000000';

// Kinesis sequence numbers are 56 decimal digits that grow along a shard
// (docs/event-source-mapping.md#event-record).
const SEQUENCE_BASE = 49_590_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000n;

/** The n-th synthetic sequence number of a file's shard (56 digits, increasing with n). */
export function syntheticSequenceNumber(n: number): string {
  return (SEQUENCE_BASE + BigInt(n)).toString();
}

/** The stream a file stands for: its name without `.gz` and `.ndjson`/`.jsonl`/`.json`. */
export function streamNameOfFile(path: string): string {
  return basename(path)
    .replace(/\.gz$/, '')
    .replace(/\.(ndjson|jsonl|json)$/, '');
}

export function streamArn(region: string, streamName: string): string {
  return `arn:aws:kinesis:${region}:000000000000:stream/${streamName}`;
}

/** One line of a record file (see `driverless run --help`). */
export interface FileRecord {
  readonly data: unknown;
  readonly partitionKey?: string;
  readonly sequenceNumber?: string;
  readonly arrivedAt?: string;
}

/** Bytes of a record: a string is taken as is (UTF-8), anything else as its JSON. */
export function bytesOf(data: unknown): Buffer {
  return Buffer.from(typeof data === 'string' ? data : JSON.stringify(data), 'utf8');
}

/** The partition key of the `index`-th record of a file when the line gives none. */
export function defaultPartitionKey(index: number): string {
  return String(index);
}

/** A Kinesis event record as Lambda delivers it (docs/event-source-mapping.md#event-record). */
export function eventRecord(props: {
  readonly data: Uint8Array;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly arrivalSeconds: number;
  readonly shardId: string;
  readonly streamArn: string;
  readonly region: string;
}): KinesisEventRecord {
  return kinesisEventRecord({
    shardId: props.shardId,
    sequenceNumber: props.sequenceNumber,
    partitionKey: props.partitionKey,
    data: Buffer.from(props.data).toString('base64'),
    approximateArrivalTimestamp: props.arrivalSeconds,
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/driverless-run',
    awsRegion: props.region,
    eventSourceARN: props.streamArn,
  });
}

/** The event record of the `index`-th record of a file (0-based). */
export function fileEventRecord(
  record: FileRecord,
  index: number,
  file: { readonly streamArn: string; readonly region: string },
): KinesisEventRecord {
  const arrival = record.arrivedAt === undefined ? Date.now() : Date.parse(record.arrivedAt);
  return eventRecord({
    data: bytesOf(record.data),
    partitionKey: record.partitionKey ?? defaultPartitionKey(index),
    sequenceNumber: record.sequenceNumber ?? syntheticSequenceNumber(index),
    arrivalSeconds: (Number.isNaN(arrival) ? Date.now() : arrival) / 1000,
    shardId: FILE_SHARD_ID,
    streamArn: file.streamArn,
    region: file.region,
  });
}
