import { type DeadLetterMessage, isDeadLetter, replayFieldsOf } from './dead-letter-message';
import { parseJson } from './parse-json';
import { ownedPayload } from './payload-location';
import { describeError, type ReadContext } from './read-context';
import { RedriveUsageError } from './redrive-error';
import { parseS3Url, readObject, unreadableBucket } from './s3-objects';
import { receiveAll } from './sqs-messages';

/**
 * The payload of a letter that overflowed to S3: the object holds the whole letter
 * (`sqsDeadLetters` in `functions/runtime/dead-letter-sinks.ts`), or why it cannot be used.
 */
async function overflowPayload(
  context: ReadContext,
  letter: DeadLetterMessage,
  location: string,
): Promise<{ data: string } | { missing: string }> {
  if (!parseS3Url(location)) return { missing: `dataLocation ${location} is not an s3:// URL` };
  const where = ownedPayload(location, context.payloadBuckets);
  if (!where) {
    const buckets = [...context.payloadBuckets].join(', ') || 'none';
    return {
      missing: `dataLocation ${location} is outside the source's dead-letter buckets (${buckets}): not read`,
    };
  }
  const text = await readObject(context.s3, where.bucket, where.key).catch((error: unknown) => {
    throw new RedriveUsageError(unreadableBucket(`dead-letter payload ${location}`, error));
  });
  if (text === undefined) return { missing: `payload ${location} is gone (NoSuchKey)` };
  const stored = parseJson<{ data?: unknown; shardId?: unknown; sequenceNumber?: unknown }>(text);
  if (
    (stored?.shardId !== undefined && stored.shardId !== letter.shardId) ||
    (stored?.sequenceNumber !== undefined && stored.sequenceNumber !== letter.sequenceNumber)
  ) {
    return { missing: `payload ${location} holds another record` };
  }
  return typeof stored?.data === 'string'
    ? { data: stored.data }
    : { missing: `payload ${location} holds no data` };
}

/**
 * Reads a dead-letter queue: each letter of a selected function written since `--since` names
 * one record to replay, its payload in the letter or, for a letter too large for SQS, in the S3
 * object its `dataLocation` names. Other messages are held and released at the end.
 */
export async function readSqsDeadLetters(context: ReadContext, queueUrl: string): Promise<void> {
  const { set } = context;
  const received = await receiveAll(context.sqs, queueUrl, context.visibilityTimeoutSeconds).catch(
    (error: unknown) => {
      throw new RedriveUsageError(
        `cannot read dead-letter queue ${queueUrl} (${describeError(error)}): check the endpoint and that the queue exists`,
      );
    },
  );
  for (const message of received) set.hold(queueUrl, message.ReceiptHandle);
  let done = 0;
  for (const message of received) {
    context.onProgress?.({ phase: 'reading', done: done++, total: received.length });
    const letter = parseJson<unknown>(message.Body);
    if (!isDeadLetter(letter) || !message.ReceiptHandle) {
      // Kept as it is; whatever object it may name stays too.
      const location = (letter as { dataLocation?: unknown } | undefined)?.dataLocation;
      if (typeof location === 'string') set.keptLocations.add(location);
      continue;
    }
    const fn = context.functionOf(letter);
    if (!fn || Date.parse(letter.deadLetteredAt) < context.since) {
      // Kept, so the object its payload overflowed to stays too.
      if (letter.dataLocation) set.keptLocations.add(letter.dataLocation);
      continue;
    }
    const overflow = letter.data === undefined ? letter.dataLocation : undefined;
    const read = set.message({
      kind: 'sqs',
      queueUrl,
      receiptHandle: message.ReceiptHandle,
      ...(overflow === undefined ? {} : { overflow }),
    });
    let data = letter.data;
    if (data === undefined) {
      const payload = overflow
        ? await overflowPayload(context, letter, overflow)
        : { missing: 'the letter has neither data nor dataLocation' };
      if ('missing' in payload) {
        // Unless another letter holds the same record's payload (a duplicate), decided at the end.
        set.withoutPayloadOf(read, fn.name, letter, `${letter.id} (${payload.missing})`);
        continue;
      }
      data = payload.data;
    }
    set.add(read, fn.name, replayFieldsOf(letter, data), 'letter', letter.reason);
  }
  context.onProgress?.({ phase: 'reading', done: received.length, total: received.length });
}
