import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_KEY_PREFIX } from '../../functions/runtime/dead-letter';
import { type DeadLetterMessage, isDeadLetter } from './dead-letter-message';
import { parseJson } from './parse-json';
import { type ReplayRecord, recordKey } from './replay-set';
import { deleteObject, listObjects, parseS3Url, readObject, writtenBefore } from './s3-objects';
import { deleteMessages, receiveAll, releaseMessages } from './sqs-messages';

/** Where {@link findDeadLetteredAgain} looks for letters the replay wrote. */
export interface DeadLetteredAgainOptions {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly queueUrls: readonly string[];
  /** Dead-letter buckets, each with the keys listed before the replay. */
  readonly buckets: ReadonlyMap<string, ReadonlySet<string>>;
  readonly records: ReadonlyMap<string, ReplayRecord>;
  /** `dataLocation`s of the letters kept from before the replay: their objects stay. */
  readonly keptLocations: ReadonlySet<string>;
  /** Epoch milliseconds the replay started. */
  readonly startedAt: number;
  readonly visibilityTimeoutSeconds: number;
}

/** The replayed record a letter written since the replay started names, if any. */
function replayedRecordOf(
  letter: unknown,
  options: DeadLetteredAgainOptions,
): { record: ReplayRecord; letter: DeadLetterMessage } | undefined {
  if (!isDeadLetter(letter) || !letter.functionName) return undefined;
  // A second of slack: the replay's first letters may be stamped as it starts.
  if (Date.parse(letter.deadLetteredAt) < options.startedAt - 1000) return undefined;
  const record = options.records.get(
    recordKey(letter.functionName, letter.shardId, letter.sequenceNumber, letter.subSequenceNumber),
  );
  return record ? { record, letter } : undefined;
}

/**
 * The runtime dead-letters a record it still cannot decode and reports the batch a success, so a
 * replayed record counts as recovered only if no new letter for it appeared. The new letters are
 * deleted: the original message or object, kept, already holds the record. An object the replay
 * rewrote under a key read before (same batch, same day) is that original and stays.
 */
export async function findDeadLetteredAgain(options: DeadLetteredAgainOptions): Promise<void> {
  const { sqs, s3 } = options;
  for (const queueUrl of options.queueUrls) {
    const received = await receiveAll(sqs, queueUrl, options.visibilityTimeoutSeconds);
    const again: string[] = [];
    const others: string[] = [];
    const overflows = new Map<string, string>();
    for (const message of received) {
      if (!message.ReceiptHandle) continue;
      const found = replayedRecordOf(parseJson<unknown>(message.Body), options);
      if (!found) {
        others.push(message.ReceiptHandle);
        continue;
      }
      found.record.outcome = 'failing';
      again.push(message.ReceiptHandle);
      const location = found.letter.dataLocation;
      if (location && !options.keptLocations.has(location)) {
        overflows.set(message.ReceiptHandle, location);
      }
    }
    const deleted = await deleteMessages(sqs, queueUrl, again);
    // A new letter's payload object goes with it, unless the kept letter points at it as well.
    for (const [handle, location] of overflows) {
      const where = deleted.has(handle) ? parseS3Url(location) : undefined;
      if (where) await deleteObject(s3, where.bucket, where.key);
    }
    await releaseMessages(sqs, queueUrl, others);
  }
  for (const [bucket, before] of options.buckets) {
    for (const object of await listObjects(s3, bucket, DEAD_LETTER_KEY_PREFIX)) {
      if (writtenBefore(object, options.startedAt)) continue;
      const text = await readObject(s3, bucket, object.key);
      const lines = (text ?? '').split('\n').filter((line) => line.trim() !== '');
      let allAgain = lines.length > 0;
      for (const line of lines) {
        const found = replayedRecordOf(parseJson<unknown>(line), options);
        if (found) found.record.outcome = 'failing';
        else allAgain = false;
      }
      // Only letters of this replay: a copy of what the kept objects hold.
      if (allAgain && !before.has(object.key)) await deleteObject(s3, bucket, object.key);
    }
  }
}
