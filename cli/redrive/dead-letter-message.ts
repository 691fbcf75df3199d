import { isSequenceNumber } from '../../functions/kinesis/index';
import type { ReplayFields } from './replay-set';

/** A dead letter as the runtime writes it (`functions/runtime/dead-letter.ts`). */
export interface DeadLetterMessage {
  readonly id: string;
  readonly reason: string;
  readonly data?: string;
  /** `s3://bucket/key` of the whole letter, when it was too large for one SQS message. */
  readonly dataLocation?: string;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber?: number;
  readonly shardId: string;
  readonly streamArn: string;
  readonly approximateArrivalTimestamp: number;
  readonly functionName?: string;
  readonly deadLetteredAt: string;
}

/** Whether `value` names a record the way a dead letter does (payload aside). */
export function isDeadLetter(value: unknown): value is DeadLetterMessage {
  const letter = value as Partial<DeadLetterMessage> | undefined;
  return (
    typeof letter?.id === 'string' &&
    typeof letter.shardId === 'string' &&
    typeof letter.sequenceNumber === 'string' &&
    isSequenceNumber(letter.sequenceNumber) &&
    typeof letter.streamArn === 'string'
  );
}

/** The record a letter names, with `data` (base64) from the letter or from where it overflowed. */
export function replayFieldsOf(letter: DeadLetterMessage, data: string): ReplayFields {
  return {
    shardId: letter.shardId,
    streamArn: letter.streamArn,
    sequenceNumber: letter.sequenceNumber,
    subSequenceNumber: letter.subSequenceNumber,
    partitionKey: letter.partitionKey,
    data,
    approximateArrivalTimestamp: letter.approximateArrivalTimestamp,
  };
}
