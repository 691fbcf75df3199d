import { isSequenceNumber } from '../../functions/kinesis/index';

/** The on-failure record Lambda writes for records the mapping discarded (ESM-SEMANTICS §4). */
export interface OnFailurePointer {
  readonly timestamp: string;
  readonly requestContext?: { readonly functionArn?: string };
  readonly KinesisBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

/** Whether `value` is an on-failure record of a Kinesis mapping. */
export function isPointer(value: unknown): value is OnFailurePointer {
  const info = (value as Partial<OnFailurePointer> | undefined)?.KinesisBatchInfo;
  return (
    typeof info?.shardId === 'string' &&
    typeof info.startSequenceNumber === 'string' &&
    isSequenceNumber(info.startSequenceNumber) &&
    typeof info.endSequenceNumber === 'string' &&
    isSequenceNumber(info.endSequenceNumber)
  );
}
