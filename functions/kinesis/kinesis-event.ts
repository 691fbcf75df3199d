/**
 * One record of a Kinesis event as Lambda delivers it
 * (docs/event-source-mapping.md#event-record). Keys the runtime does not read are optional, so a
 * test can build a record with only what it needs; Lambda always sends all of them.
 */
export interface KinesisEventRecord {
  readonly kinesis: {
    readonly kinesisSchemaVersion?: string;
    readonly partitionKey: string;
    /** Decimal string; compare with `compareSequenceNumbers`, never as a number. */
    readonly sequenceNumber: string;
    /** Base64 of the record's bytes. */
    readonly data: string;
    /** Unix epoch seconds with a millisecond fraction (never milliseconds). */
    readonly approximateArrivalTimestamp: number;
  };
  readonly eventSource?: string;
  readonly eventVersion?: string;
  /** `<shardId>:<sequenceNumber>`. */
  readonly eventID: string;
  readonly eventName?: string;
  readonly invokeIdentityArn?: string;
  readonly awsRegion?: string;
  /** The stream ARN, also for enhanced fan-out (consumer ARN) mappings. */
  readonly eventSourceARN: string;
}

/** The tumbling-window additions to a Kinesis event (docs/event-source-mapping.md#window-event). */
export interface KinesisWindowFields<State = unknown> {
  readonly window: { readonly start: string; readonly end: string };
  readonly state: State | Record<string, never>;
  readonly shardId: string;
  readonly eventSourceARN: string;
  readonly isFinalInvokeForWindow: boolean;
  readonly isWindowTerminatedEarly: boolean;
}

/** A Kinesis event: records from one shard of one stream, with window fields when windowed. */
export interface KinesisEvent extends Partial<KinesisWindowFields> {
  readonly Records: readonly KinesisEventRecord[];
}

/** The event of a mapping with tumbling windows: every window key is present. */
export interface KinesisWindowEvent<State = Record<string, unknown>>
  extends KinesisWindowFields<State> {
  readonly Records: readonly KinesisEventRecord[];
}

/** What varies between the records of events; {@link kinesisEventRecord} adds the constant keys. */
export interface KinesisRecordFields {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  /** Base64 of the record's bytes. */
  readonly data: string;
  /** Unix epoch seconds with a millisecond fraction. */
  readonly approximateArrivalTimestamp: number;
  /** The function's execution role; left out of the record when the sender does not know it. */
  readonly invokeIdentityArn?: string;
  readonly awsRegion: string;
  /** The stream ARN. */
  readonly eventSourceARN: string;
}

/**
 * A record with every key Lambda sends, in the order real AWS sends them
 * (docs/event-source-mapping.md#event-record): tools that compare events as JSON text rely on it.
 */
export function kinesisEventRecord(fields: KinesisRecordFields): KinesisEventRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: fields.partitionKey,
      sequenceNumber: fields.sequenceNumber,
      data: fields.data,
      approximateArrivalTimestamp: fields.approximateArrivalTimestamp,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${fields.shardId}:${fields.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    ...(fields.invokeIdentityArn !== undefined && { invokeIdentityArn: fields.invokeIdentityArn }),
    awsRegion: fields.awsRegion,
    eventSourceARN: fields.eventSourceARN,
  };
}
