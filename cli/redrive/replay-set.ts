/** One record to replay through one function, and what became of it. */
export interface ReplayRecord {
  readonly key: string;
  readonly functionName: string;
  readonly shardId: string;
  readonly streamArn: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number | undefined;
  readonly partitionKey: string;
  /** The record's bytes, base64, as Kinesis delivers them. */
  readonly data: string;
  readonly approximateArrivalTimestamp: number;
  outcome: 'pending' | 'recovered' | 'failing';
  /**
   * Whether a dead letter read holds the record's payload. Only on-failure pointers name it
   * otherwise, and they hold no payload: once the stream trims the record, a letter the replay
   * writes for it is its only copy.
   */
  inLetter: boolean;
  /**
   * Why it failed, as the first letter naming it says (the runtime's reason), else as its
   * on-failure record says (the mapping's condition): what a dry run reports per reason.
   */
  reason?: string;
}

/** What a record is replayed from: where it was found, without its identity or outcome. */
export type ReplayFields = Omit<
  ReplayRecord,
  'key' | 'functionName' | 'outcome' | 'inLetter' | 'reason'
>;

/** Where a failure message is kept, and so how it is deleted once recovered. */
export type FailureOrigin =
  | {
      readonly kind: 'sqs';
      readonly queueUrl: string;
      readonly receiptHandle: string;
      /** `s3://bucket/key` holding the letter's payload, deleted with the message. */
      readonly overflow?: string;
    }
  | { readonly kind: 's3'; readonly bucket: string; readonly key: string };

/** A dead letter, an S3 object of dead letters, or an on-failure pointer that matched the filters. */
export interface FailureMessage {
  readonly origin: FailureOrigin;
  readonly records: ReplayRecord[];
  /** Letters or pointers it holds that matched the filters (an S3 object holds a batch's letters). */
  count: number;
  /** True when it names something this run does not replay (unreadable, other function): kept. */
  incomplete: boolean;
}

/** The key of a record per function: duplicate letters of one record are replayed once. */
export function recordKey(
  functionName: string,
  shardId: string,
  sequenceNumber: string,
  subSequenceNumber: number | undefined,
): string {
  return `${functionName}|${shardId}|${sequenceNumber}|${subSequenceNumber ?? ''}`;
}

/** What a redrive read: the messages, the distinct records they name, and what cannot be replayed. */
export class ReplaySet {
  readonly records = new Map<string, ReplayRecord>();
  readonly messages: FailureMessage[] = [];
  readonly notRecoverableIds: string[] = [];
  /** Every SQS message received, per queue: whatever is not deleted is released at the end. */
  readonly held = new Map<string, string[]>();
  /** `dataLocation`s of letters read but not replayed (another function's, older): their objects stay. */
  readonly keptLocations = new Set<string>();

  /** Notes a received SQS message, so it is released if it is not deleted. */
  hold(queueUrl: string, receiptHandle: string | undefined): void {
    if (receiptHandle === undefined) return;
    this.held.set(queueUrl, [...(this.held.get(queueUrl) ?? []), receiptHandle]);
  }

  message(origin: FailureOrigin, count = 1): FailureMessage {
    const message: FailureMessage = { origin, records: [], count, incomplete: false };
    this.messages.push(message);
    return message;
  }

  /** Letters whose payload is missing, settled once every message is read: see {@link settle}. */
  private readonly withoutPayload: { message: FailureMessage; key: string; id: string }[] = [];

  /**
   * Adds a record `message` names, once per function however many messages name it: a record
   * dead-lettered twice (a retried batch, two sinks) is replayed once, and every message naming
   * it is deleted once it is recovered.
   */
  add(
    message: FailureMessage,
    functionName: string,
    fields: ReplayFields,
    from: 'letter' | 'pointer',
    reason?: string,
  ): ReplayRecord {
    const key = recordKey(
      functionName,
      fields.shardId,
      fields.sequenceNumber,
      fields.subSequenceNumber,
    );
    let record = this.records.get(key);
    if (!record) {
      record = { ...fields, key, functionName, outcome: 'pending', inLetter: false };
      this.records.set(key, record);
    }
    // A letter's reason (the handler's) says more than an on-failure record's condition.
    if (
      reason !== undefined &&
      (record.reason === undefined || (from === 'letter' && !record.inLetter))
    )
      record.reason = reason;
    if (from === 'letter') record.inLetter = true;
    if (!message.records.includes(record)) message.records.push(record);
    return record;
  }

  /**
   * Notes a letter of `functionName` whose payload cannot be read (`id` says why). If another
   * letter names the same record with its payload, this one is a duplicate of it and shares its
   * fate; otherwise the record is not recoverable. Decided by {@link settle}.
   */
  withoutPayloadOf(
    message: FailureMessage,
    functionName: string,
    letter: {
      readonly shardId: string;
      readonly sequenceNumber: string;
      readonly subSequenceNumber?: number | undefined;
    },
    id: string,
  ): void {
    const key = recordKey(
      functionName,
      letter.shardId,
      letter.sequenceNumber,
      letter.subSequenceNumber,
    );
    this.withoutPayload.push({ message, key, id });
  }

  /** Resolves the letters without payload, once every message is read. */
  settle(): void {
    for (const { message, key, id } of this.withoutPayload.splice(0)) {
      const record = this.records.get(key);
      if (record) {
        if (!message.records.includes(record)) message.records.push(record);
      } else {
        this.notRecoverable(message, id);
      }
    }
  }

  /** Keeps `message` and reports `id` as not recoverable. */
  notRecoverable(message: FailureMessage, id: string): void {
    message.incomplete = true;
    this.notRecoverableIds.push(id);
  }

  /** Takes `record` out of the replay: it cannot be replayed (`id` says why); its messages stay. */
  drop(record: ReplayRecord, id: string): void {
    this.records.delete(record.key);
    this.notRecoverableIds.push(id);
    for (const message of this.messages) {
      if (message.records.includes(record)) message.incomplete = true;
    }
  }
}
