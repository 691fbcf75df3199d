import {
  compareSequenceNumbers,
  isOnFailurePointer,
  isSequenceNumber,
  type OnFailurePointer,
  S3_ON_FAILURE_PREFIX,
} from '../../functions/kinesis/index';
import type { SourceFunction } from './discover-source';
import { parseJson } from './parse-json';
import { describeError, type ReadContext } from './read-context';
import { readStreamRange } from './read-stream-range';
import { RedriveUsageError } from './redrive-error';
import type { FailureMessage, ReplayFields } from './replay-set';
import { listObjects, readObject, unreadableBucket, writtenBefore } from './s3-objects';
import { receiveAll } from './sqs-messages';

/** One Kinesis record of an invocation event, as the S3 on-failure `payload` carries it. */
interface PayloadRecord {
  readonly kinesis?: {
    readonly sequenceNumber?: unknown;
    readonly partitionKey?: unknown;
    readonly data?: unknown;
    readonly approximateArrivalTimestamp?: unknown;
  };
}

/**
 * The records of the pointer's range in its S3 `payload` (the invocation event). AWS documents
 * the payload as an escaped JSON string; LocalStack writes an object (unconfirmed,
 * docs/event-source-mapping.md#on-failure-delivery): both are
 * read. Records of the event outside the range were not discarded and are left out.
 */
function payloadRecords(
  pointer: OnFailurePointer & { readonly payload?: unknown },
): ReplayFields[] {
  const event =
    typeof pointer.payload === 'string'
      ? parseJson<{ Records?: unknown }>(pointer.payload)
      : (pointer.payload as { Records?: unknown } | undefined);
  const info = pointer.KinesisBatchInfo;
  const records = Array.isArray(event?.Records) ? (event.Records as PayloadRecord[]) : [];
  const fields: ReplayFields[] = [];
  for (const { kinesis } of records) {
    const sequenceNumber = kinesis?.sequenceNumber;
    if (typeof sequenceNumber !== 'string' || typeof kinesis?.data !== 'string') continue;
    if (
      !isSequenceNumber(sequenceNumber) ||
      compareSequenceNumbers(sequenceNumber, info.startSequenceNumber) < 0 ||
      compareSequenceNumbers(sequenceNumber, info.endSequenceNumber) > 0
    ) {
      continue;
    }
    fields.push({
      shardId: info.shardId,
      streamArn: info.streamArn,
      sequenceNumber,
      subSequenceNumber: undefined,
      partitionKey: typeof kinesis.partitionKey === 'string' ? kinesis.partitionKey : '',
      data: kinesis.data,
      approximateArrivalTimestamp:
        typeof kinesis.approximateArrivalTimestamp === 'number'
          ? kinesis.approximateArrivalTimestamp
          : 0,
    });
  }
  return fields;
}

/**
 * Why the mapping discarded a pointer's batch, from the on-failure record's `requestContext`
 * (`condition`: RetryAttemptsExhausted, RecordAgeExceeded…) and `responseContext` (the function's
 * error type), as Lambda writes them (docs/event-source-mapping.md#on-failure-record).
 */
function pointerReason(pointer: OnFailurePointer): string {
  const { requestContext, responseContext } = pointer as {
    requestContext?: { condition?: unknown };
    responseContext?: { functionError?: unknown };
  };
  const condition =
    typeof requestContext?.condition === 'string' ? requestContext.condition : 'unknown condition';
  const error =
    typeof responseContext?.functionError === 'string' && responseContext.functionError !== ''
      ? `, function error ${responseContext.functionError}`
      : '';
  return `discarded by the mapping (${condition}${error})`;
}

/**
 * Adds the records of a pointer's range: those `known` already (an S3 payload), the rest re-read
 * from the stream. Records trimmed by retention are reported not recoverable and keep the pointer.
 */
async function addPointerRecords(
  context: ReadContext,
  message: FailureMessage,
  fn: SourceFunction,
  pointer: OnFailurePointer,
  known: readonly ReplayFields[] = [],
): Promise<void> {
  const info = pointer.KinesisBatchInfo;
  const found = new Map(known.map((fields) => [fields.sequenceNumber, fields]));
  let missingReason: string | undefined;
  if (found.size < info.batchSize) {
    const range = await readStreamRange(
      context.kinesis,
      info.streamArn,
      info.shardId,
      info.startSequenceNumber,
      info.endSequenceNumber,
    );
    missingReason = range.missingReason;
    for (const streamRecord of range.records) {
      const sequenceNumber = streamRecord.SequenceNumber ?? '';
      if (found.has(sequenceNumber)) continue;
      found.set(sequenceNumber, {
        shardId: info.shardId,
        streamArn: info.streamArn,
        sequenceNumber,
        subSequenceNumber: undefined,
        partitionKey: streamRecord.PartitionKey ?? '',
        data: Buffer.from(streamRecord.Data ?? new Uint8Array()).toString('base64'),
        approximateArrivalTimestamp:
          (streamRecord.ApproximateArrivalTimestamp?.getTime() ?? 0) / 1000,
      });
    }
  }
  const reason = pointerReason(pointer);
  for (const fields of found.values()) context.set.add(message, fn.name, fields, 'pointer', reason);
  const missing = info.batchSize - found.size;
  if (missing > 0 || found.size === 0) {
    context.set.notRecoverable(
      message,
      `${info.shardId}:${info.startSequenceNumber}..${info.endSequenceNumber} (${Math.max(missing, 1)} of ${info.batchSize} records ${missingReason ?? 'expired from the stream'})`,
    );
  }
}

/** Reads an SQS on-failure destination of `fn`'s mappings: metadata only, records re-read by range. */
export async function readSqsPointers(
  context: ReadContext,
  queueUrl: string,
  fn: SourceFunction,
): Promise<void> {
  const received = await receiveAll(context.sqs, queueUrl, context.visibilityTimeoutSeconds).catch(
    (error: unknown) => {
      throw new RedriveUsageError(
        `cannot read on-failure queue ${queueUrl} (${describeError(error)}): check the endpoint and that the queue exists`,
      );
    },
  );
  for (const message of received) context.set.hold(queueUrl, message.ReceiptHandle);
  let done = 0;
  for (const message of received) {
    context.onProgress?.({ phase: 'reading', done: done++, total: received.length });
    const pointer = parseJson<unknown>(message.Body);
    if (
      !isOnFailurePointer(pointer) ||
      !message.ReceiptHandle ||
      Date.parse(pointer.timestamp) < context.since
    ) {
      continue;
    }
    const read = context.set.message({
      kind: 'sqs',
      queueUrl,
      receiptHandle: message.ReceiptHandle,
    });
    await addPointerRecords(context, read, fn, pointer);
  }
  context.onProgress?.({ phase: 'reading', done: received.length, total: received.length });
}

/**
 * Reads an S3 on-failure destination: each object is one on-failure record plus `payload`, the
 * invocation event, whose records are replayed; records it lacks are re-read from the stream. An
 * object belongs to the function its `requestContext.functionArn` names, so a bucket shared by
 * several functions yields only the selected ones' objects.
 */
export async function readS3Pointers(
  context: ReadContext,
  bucket: string,
  owners: readonly SourceFunction[],
): Promise<void> {
  const unreadable = (error: unknown): never => {
    throw new RedriveUsageError(unreadableBucket(`on-failure bucket ${bucket}`, error));
  };
  const objects = await listObjects(context.s3, bucket, S3_ON_FAILURE_PREFIX).catch(unreadable);
  let done = 0;
  for (const object of objects) {
    context.onProgress?.({ phase: 'reading', done: done++, total: objects.length });
    if (writtenBefore(object, context.since)) continue;
    const text = await readObject(context.s3, bucket, object.key).catch(unreadable);
    const pointer = parseJson<unknown>(text);
    if (!isOnFailurePointer(pointer) || Date.parse(pointer.timestamp) < context.since) continue;
    // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
    const name = pointer.requestContext?.functionArn?.split(':')[6];
    const fn =
      name === undefined
        ? owners.length === 1
          ? owners[0]
          : undefined
        : owners.find((owner) => owner.name === name);
    if (!fn) continue;
    const read = context.set.message({ kind: 's3', bucket, key: object.key });
    await addPointerRecords(context, read, fn, pointer, payloadRecords(pointer));
  }
  context.onProgress?.({ phase: 'reading', done: objects.length, total: objects.length });
}
