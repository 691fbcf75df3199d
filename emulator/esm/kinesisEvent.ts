import {
  type KinesisEvent,
  type KinesisEventRecord,
  type KinesisRecordFields,
  type KinesisWindowEvent,
  kinesisEventRecord,
  kinesisEventRecordJson,
  type WindowInvocation,
  windowFields,
} from '../../functions/kinesis/index';
import { withJsonText } from '../event-json';

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
  /** `eventRecord` as JSON: measured for the payload cap, reused for the batch's text. */
  json: string;
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
  const fields: KinesisRecordFields = {
    shardId,
    sequenceNumber,
    partitionKey,
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'),
    approximateArrivalTimestamp: arrivalMs / 1000,
    invokeIdentityArn: source.invokeIdentityArn,
    awsRegion: source.awsRegion,
    eventSourceARN: source.streamArn,
  };
  const eventRecord = kinesisEventRecord(fields);
  const json = kinesisEventRecordJson(fields);
  return {
    shardId,
    sequenceNumber,
    partitionKey,
    arrivalMs,
    data,
    eventRecord,
    json,
    sizeBytes: json.length,
  };
}

/** `"Records":[…]` from the records' own JSON, without serializing them again. */
function recordsJson(records: readonly StreamRecord[]): string {
  return `"Records":[${records.map((r) => r.json).join(',')}]`;
}

export function batchEvent(records: readonly StreamRecord[]): KinesisEvent {
  return withJsonText({ Records: records.map((r) => r.eventRecord) }, `{${recordsJson(records)}}`);
}

export function windowEvent(
  records: readonly StreamRecord[],
  shardId: string,
  streamArn: string,
  window: WindowInvocation,
): KinesisWindowEvent {
  const fields = windowFields(shardId, streamArn, window);
  // Key order as in the object below: Records first, then the window fields.
  const fieldsJson = JSON.stringify(fields).slice(1, -1);
  return withJsonText(
    { Records: records.map((r) => r.eventRecord), ...fields },
    `{${recordsJson(records)}${fieldsJson === '' ? '' : `,${fieldsJson}`}}`,
  );
}
