import { DEAD_LETTER_KEY_PREFIX } from '../../functions/runtime/dead-letter';
import { isDeadLetter, replayFieldsOf } from './dead-letter-message';
import { parseJson } from './parse-json';
import type { ReadContext } from './read-context';
import { RedriveUsageError } from './redrive-error';
import type { FailureMessage } from './replay-set';
import { listObjects, readObject, unreadableBucket, writtenBefore } from './s3-objects';

/**
 * Where `s3DeadLetters` (`functions/runtime/dead-letter-sinks.ts`) writes: one NDJSON object per
 * batch, function and attempt,
 * `<DEAD_LETTER_KEY_PREFIX><shardId>/YYYY/MM/DD/<functionName>/<batchId>-<firstSequenceNumber>-<uuid>.ndjson`.
 * Payloads that overflowed from SQS share the prefix as `.json` objects; the queue's letters name those.
 */
const LETTERS_SUFFIX = '.ndjson';

/**
 * Reads a dead-letter bucket: every letter of a selected function written since `--since` names
 * one record to replay. An object is deleted only when all its letters were recovered, so one
 * holding letters this run does not replay (another function's, older ones, unreadable lines)
 * is kept. Resolves with every key listed: the replay may rewrite one of them.
 */
export async function readS3DeadLetters(
  context: ReadContext,
  bucket: string,
): Promise<Set<string>> {
  const listed = await listObjects(context.s3, bucket, DEAD_LETTER_KEY_PREFIX).catch(
    (error: unknown) => {
      throw new RedriveUsageError(unreadableBucket(`dead-letter bucket ${bucket}`, error));
    },
  );
  const objects = listed.filter((object) => object.key.endsWith(LETTERS_SUFFIX));
  let done = 0;
  for (const object of objects) {
    context.onProgress?.({ phase: 'reading', done: done++, total: objects.length });
    // Written before --since, so every letter in it was too: not even read.
    if (writtenBefore(object, context.since)) continue;
    const text = await readObject(context.s3, bucket, object.key).catch((error: unknown) => {
      throw new RedriveUsageError(unreadableBucket(`dead-letter bucket ${bucket}`, error));
    });
    if (text === undefined) continue;
    let message: FailureMessage | undefined;
    let complete = true;
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const letter = parseJson<unknown>(line);
      const fn = isDeadLetter(letter) ? context.functionOf(letter) : undefined;
      if (!isDeadLetter(letter) || !fn || Date.parse(letter.deadLetteredAt) < context.since) {
        complete = false;
        continue;
      }
      message ??= context.set.message({ kind: 's3', bucket, key: object.key }, 0);
      message.count += 1;
      if (letter.data === undefined) {
        context.set.withoutPayloadOf(
          message,
          fn.name,
          letter,
          `${letter.id} (the letter in s3://${bucket}/${object.key} has no data)`,
        );
        continue;
      }
      context.set.add(
        message,
        fn.name,
        replayFieldsOf(letter, letter.data),
        'letter',
        letter.reason,
      );
    }
    if (message && !complete) message.incomplete = true;
  }
  context.onProgress?.({ phase: 'reading', done: objects.length, total: objects.length });
  return new Set(listed.map((object) => object.key));
}
