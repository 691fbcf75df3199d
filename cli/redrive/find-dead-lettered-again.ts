import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_KEY_PREFIX } from '../../functions/runtime/dead-letter';
import { type DeadLetterMessage, isDeadLetter } from './dead-letter-message';
import { parseJson } from './parse-json';
import { type ReplayRecord, recordKey } from './replay-set';
import { deleteObject, listObjects, readObject, writtenBefore } from './s3-objects';
import { deleteMessages, receiveAll, releaseMessages } from './sqs-messages';

/** Where {@link findDeadLetteredAgain} looks for letters the replay wrote. */
export interface DeadLetteredAgainOptions {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly queueUrls: readonly string[];
  /** Dead-letter buckets, each with the keys listed before the replay. */
  readonly buckets: ReadonlyMap<string, ReadonlySet<string>>;
  readonly records: ReadonlyMap<string, ReplayRecord>;
  /** Epoch milliseconds the replay started. */
  readonly startedAt: number;
  readonly visibilityTimeoutSeconds: number;
  /**
   * The function a letter's record was replayed through: the one it names, or the source's main
   * function for a letter that names none (as the letters were read).
   */
  readonly functionOf: (letter: DeadLetterMessage) => { readonly name: string } | undefined;
}

/** The payload objects the letters of the replay name, by what became of the letter. */
export interface DeadLetteredAgain {
  /** `dataLocation`s of new letters deleted: their objects may go, unless a kept letter names them. */
  readonly deletedLocations: readonly string[];
  /** `dataLocation`s of new letters kept: their objects stay. */
  readonly keptLocations: readonly string[];
}

/** The replayed record a letter written since the replay started names, if any. */
function replayedRecordOf(
  letter: unknown,
  options: DeadLetteredAgainOptions,
): { record: ReplayRecord; letter: DeadLetterMessage } | undefined {
  if (!isDeadLetter(letter)) return undefined;
  const functionName = options.functionOf(letter)?.name;
  if (!functionName) return undefined;
  // A second of slack: the replay's first letters may be stamped as it starts.
  if (Date.parse(letter.deadLetteredAt) < options.startedAt - 1000) return undefined;
  // A pointer's record has no sub-sequence: it is the whole aggregate a sub-record's letter names.
  const record =
    options.records.get(
      recordKey(functionName, letter.shardId, letter.sequenceNumber, letter.subSequenceNumber),
    ) ??
    options.records.get(recordKey(functionName, letter.shardId, letter.sequenceNumber, undefined));
  if (record) return { record, letter };
  return undefined;
}

/**
 * The runtime dead-letters a record it still cannot decode and reports the batch a success, so a
 * replayed record counts as recovered only if no new letter for it appeared. A new letter is
 * deleted when a letter read before, kept because its record failed, already holds the record;
 * a record only on-failure pointers named keeps its new letter, the only copy of its payload
 * once the stream trims it. Payload objects are not deleted here: the caller deletes an object
 * only when no kept letter names it (the runtime writes a record's payload under one key, so a new
 * letter and the kept one often name the same object).
 */
export async function findDeadLetteredAgain(
  options: DeadLetteredAgainOptions,
): Promise<DeadLetteredAgain> {
  const { sqs, s3 } = options;
  const deletedLocations: string[] = [];
  const keptLocations: string[] = [];
  for (const queueUrl of options.queueUrls) {
    const received = await receiveAll(sqs, queueUrl, options.visibilityTimeoutSeconds);
    const again = new Map<string, string | undefined>();
    const others: string[] = [];
    for (const message of received) {
      if (!message.ReceiptHandle) continue;
      const found = replayedRecordOf(parseJson<unknown>(message.Body), options);
      if (found) found.record.outcome = 'failing';
      if (found?.record.inLetter) {
        again.set(message.ReceiptHandle, found.letter.dataLocation);
        continue;
      }
      others.push(message.ReceiptHandle);
      const location = parseJson<{ dataLocation?: unknown }>(message.Body)?.dataLocation;
      if (typeof location === 'string') keptLocations.push(location);
    }
    const deleted = await deleteMessages(sqs, queueUrl, [...again.keys()]);
    for (const [handle, location] of again) {
      if (location === undefined) continue;
      (deleted.has(handle) ? deletedLocations : keptLocations).push(location);
    }
    await releaseMessages(
      sqs,
      queueUrl,
      others.concat([...again.keys()].filter((handle) => !deleted.has(handle))),
    );
  }
  for (const [bucket, before] of options.buckets) {
    for (const object of await listObjects(s3, bucket, DEAD_LETTER_KEY_PREFIX)) {
      if (writtenBefore(object, options.startedAt)) continue;
      const text = await readObject(s3, bucket, object.key);
      // Gone since it was listed: whoever deleted it decided its fate.
      if (text === undefined) continue;
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      let copiesOnly = lines.length > 0;
      for (const line of lines) {
        const found = replayedRecordOf(parseJson<unknown>(line), options);
        if (found) found.record.outcome = 'failing';
        if (!found?.record.inLetter) copiesOnly = false;
      }
      // Only letters of this replay whose records kept objects hold: copies of what they hold.
      // An object the replay rewrote under a key read before is one of those kept objects.
      if (copiesOnly && !before.has(object.key)) await deleteObject(s3, bucket, object.key);
    }
  }
  return { deletedLocations, keptLocations };
}
