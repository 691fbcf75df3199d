/**
 * The invocation event Lambda sends for Kinesis (ESM-SEMANTICS §1). Objects are built with their
 * keys in the order real AWS sends them (§1.1 [OBS O]); JSON consumers that compare text rely on it.
 */

export interface KinesisEventRecord {
  kinesis: {
    kinesisSchemaVersion: '1.0';
    partitionKey: string;
    /** Decimal string; compare as a big integer. */
    sequenceNumber: string;
    /** Base64 of the record bytes. */
    data: string;
    /** Unix epoch seconds with a millisecond fraction (never milliseconds, §1.1). */
    approximateArrivalTimestamp: number;
  };
  eventSource: 'aws:kinesis';
  eventVersion: '1.0';
  /** `<shardId>:<sequenceNumber>` */
  eventID: string;
  eventName: 'aws:kinesis:record';
  invokeIdentityArn: string;
  awsRegion: string;
  /** The stream ARN, also for consumer (EFO) mappings. */
  eventSourceARN: string;
}

export interface KinesisStreamEvent {
  Records: KinesisEventRecord[];
}

/** Tumbling-window additions (§1.2). */
export interface KinesisWindowEvent extends KinesisStreamEvent {
  window: { start: string; end: string };
  state: Record<string, unknown>;
  shardId: string;
  eventSourceARN: string;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
}

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
  const eventRecord: KinesisEventRecord = {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: Buffer.from(data).toString('base64'),
      approximateArrivalTimestamp: arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: source.invokeIdentityArn,
    awsRegion: source.awsRegion,
    eventSourceARN: source.streamArn,
  };
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

export function batchEvent(records: readonly StreamRecord[]): KinesisStreamEvent {
  return { Records: records.map((r) => r.eventRecord) };
}

export interface WindowInvocation {
  start: string;
  end: string;
  state: Record<string, unknown>;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
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

/**
 * The keys a tumbling window adds to an event, in the order AWS sends them after `Records`
 * (§1.2). Also used by `driverless run`, which builds its own records.
 */
export function windowFields(
  shardId: string,
  streamArn: string,
  window: WindowInvocation,
): Omit<KinesisWindowEvent, 'Records'> {
  return {
    window: { start: window.start, end: window.end },
    state: window.state,
    shardId,
    eventSourceARN: streamArn,
    isFinalInvokeForWindow: window.isFinalInvokeForWindow,
    isWindowTerminatedEarly: window.isWindowTerminatedEarly,
  };
}
