/** One record of a Kinesis event as Lambda delivers it (ESM-SEMANTICS §1.1). */
export interface KinesisEventRecord {
  readonly kinesis: {
    readonly kinesisSchemaVersion?: string;
    readonly partitionKey: string;
    readonly sequenceNumber: string;
    /** Base64 of the record's bytes. */
    readonly data: string;
    /** Unix epoch seconds with a millisecond fraction. */
    readonly approximateArrivalTimestamp: number;
  };
  readonly eventSource?: string;
  readonly eventVersion?: string;
  /** `<shardId>:<sequenceNumber>`. */
  readonly eventID: string;
  readonly eventName?: string;
  readonly invokeIdentityArn?: string;
  readonly awsRegion?: string;
  readonly eventSourceARN: string;
}

/** The tumbling-window additions to a Kinesis event (ESM-SEMANTICS §1.2). */
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

/** The partial batch response (ESM-SEMANTICS §3.4), with `state` for tumbling windows (§1.2). */
export interface BatchResponse<State = never> {
  batchItemFailures: { itemIdentifier: string }[];
  state?: State;
}
