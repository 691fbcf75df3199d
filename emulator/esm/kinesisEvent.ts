import {
  type KinesisEvent,
  type KinesisEventRecord,
  type KinesisWindowEvent,
  kinesisEventRecord,
  type WindowInvocation,
  windowFields,
} from '../../functions/kinesis/index';

/** A record read from a shard, with its prebuilt event record. Internal to the emulator. */
export interface StreamRecord {
  shardId: string;
  sequenceNumber: string;
  partitionKey: string;
  /** Kinesis arrival time, epoch ms. */
  arrivalMs: number;
  /** The raw bytes, for filtering. */
  data: Uint8Array;
  eventRecord: KinesisEventRecord;
  /** JSON length of `eventRecord`, for the payload cap. */
  sizeBytes: number;
}

export interface RecordSource {
  invokeIdentityArn: string;
  awsRegion: string;
  streamArn: string;
}

export function toStreamRecord(
  source: RecordSource,
  shardId: string,
  raw: {
    SequenceNumber?: string;
    PartitionKey?: string;
    Data?: Uint8Array;
    ApproximateArrivalTimestamp?: Date;
  },
): StreamRecord {
  const sequenceNumber = raw.SequenceNumber ?? '';
  const partitionKey = raw.PartitionKey ?? '';
  const data = raw.Data ?? new Uint8Array();
  const arrivalMs = raw.ApproximateArrivalTimestamp?.getTime() ?? Date.now();
  const eventRecord = kinesisEventRecord({
    shardId,
    sequenceNumber,
    partitionKey,
    data: Buffer.from(data).toString('base64'),
    approximateArrivalTimestamp: arrivalMs / 1000,
    invokeIdentityArn: source.invokeIdentityArn,
    awsRegion: source.awsRegion,
    eventSourceARN: source.streamArn,
  });
  return {
    shardId,
    sequenceNumber,
    partitionKey,
    arrivalMs,
    data,
    eventRecord,
    sizeBytes: JSON.stringify(eventRecord).length,
  };
}

export function batchEvent(records: readonly StreamRecord[]): KinesisEvent {
  return { Records: records.map((r) => r.eventRecord) };
}

export function windowEvent(
  records: readonly StreamRecord[],
  shardId: string,
  streamArn: string,
  window: WindowInvocation,
): KinesisWindowEvent {
  return {
    Records: records.map((r) => r.eventRecord),
    ...windowFields(shardId, streamArn, window),
  };
}
