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
}

/** What a record is replayed from: where it was found, without its identity or outcome. */
export type ReplayFields = Omit<ReplayRecord, 'key' | 'functionName' | 'outcome'>;

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
  /** `dataLocation`s of letters read but not replayed: their objects must stay. */
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

  /** Adds a record `message` names, once per function however many messages name it. */
  add(message: FailureMessage, functionName: string, fields: ReplayFields): ReplayRecord {
    const key = recordKey(
      functionName,
      fields.shardId,
      fields.sequenceNumber,
      fields.subSequenceNumber,
    );
    let record = this.records.get(key);
    if (!record) {
      record = { ...fields, key, functionName, outcome: 'pending' };
      this.records.set(key, record);
    }
    message.records.push(record);
    return record;
  }

  /** Keeps `message` and reports `id` as not recoverable. */
  notRecoverable(message: FailureMessage, id: string): void {
    message.incomplete = true;
    this.notRecoverableIds.push(id);
  }
}
