import { randomUUID } from 'node:crypto';
import { isSequenceNumber } from './sequence-numbers';

/** Why the mapping gave up on records (docs/event-source-mapping.md#on-failure-record). */
export type OnFailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

/**
 * The metadata document Lambda writes for discarded records
 * (docs/event-source-mapping.md#on-failure-record), keys in AWS order.
 */
export interface OnFailureRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: OnFailureCondition;
    approximateInvokeCount: number;
  };
  /** Omitted for `RecordAgeExceeded`. */
  responseContext?: {
    statusCode: 200;
    executedVersion: string;
    /** `Unhandled` for a thrown error, `null` after a partial-batch or invalid response. */
    functionError: 'Unhandled' | null;
  };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

/** What {@link onFailureRecord} needs to describe discarded records. */
export interface OnFailureInput {
  functionArn: string;
  streamArn: string;
  shardId: string;
  condition: OnFailureCondition;
  approximateInvokeCount: number;
  response?: { executedVersion: string; functionError: 'Unhandled' | null };
  /** The discarded records, in order (at least one), with their arrival time in epoch ms. */
  records: readonly { readonly sequenceNumber: string; readonly arrivalMs: number }[];
  now: Date;
}

/** The on-failure record of discarded records, as Lambda writes it. */
export function onFailureRecord(input: OnFailureInput): OnFailureRecord {
  const first = input.records[0];
  const last = input.records[input.records.length - 1];
  if (!first || !last) throw new Error('an on-failure record needs at least one record');
  return {
    requestContext: {
      requestId: randomUUID(),
      functionArn: input.functionArn,
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
    },
    ...(input.response && {
      responseContext: {
        statusCode: 200 as const,
        executedVersion: input.response.executedVersion,
        functionError: input.response.functionError,
      },
    }),
    version: '1.0',
    timestamp: input.now.toISOString(),
    KinesisBatchInfo: {
      shardId: input.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: last.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(last.arrivalMs).toISOString(),
      batchSize: input.records.length,
      streamArn: input.streamArn,
    },
  };
}

/**
 * The part of an on-failure record a reader relies on to find the discarded records again: the
 * shard and sequence-number range, the batch size, when it was written and (when present) the
 * function it was written for.
 */
export interface OnFailurePointer {
  readonly timestamp: string;
  readonly requestContext?: { readonly functionArn?: string };
  readonly KinesisBatchInfo: Readonly<
    Pick<
      OnFailureRecord['KinesisBatchInfo'],
      'shardId' | 'startSequenceNumber' | 'endSequenceNumber' | 'batchSize' | 'streamArn'
    >
  >;
}

/** Whether `value` is an on-failure record of a Kinesis mapping: it names a shard and a range. */
export function isOnFailurePointer(value: unknown): value is OnFailurePointer {
  const info = (value as Partial<OnFailurePointer> | undefined)?.KinesisBatchInfo;
  return (
    typeof info?.shardId === 'string' &&
    typeof info.startSequenceNumber === 'string' &&
    isSequenceNumber(info.startSequenceNumber) &&
    typeof info.endSequenceNumber === 'string' &&
    isSequenceNumber(info.endSequenceNumber)
  );
}

/** Where Lambda writes on-failure records in a bucket: `aws/lambda/<ESM-UUID>/...`. */
export const S3_ON_FAILURE_PREFIX = 'aws/lambda/';

/**
 * `aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>`, UTC
 * (docs/event-source-mapping.md#on-failure-delivery).
 */
export function onFailureObjectKey(mappingUuid: string, shardId: string, at: Date): string {
  const iso = at.toISOString();
  const [yyyy, mm, dd] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  const time = iso.slice(11, 19).replaceAll(':', '.');
  return `${S3_ON_FAILURE_PREFIX}${mappingUuid}/${shardId}/${yyyy}/${mm}/${dd}/${yyyy}-${mm}-${dd}T${time}-${randomUUID()}`;
}
