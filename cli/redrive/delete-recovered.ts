import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetteredAgain } from './find-dead-lettered-again';
import { ownedPayload } from './payload-location';
import type { FailureMessage, ReplaySet } from './replay-set';
import { deleteObject } from './s3-objects';
import { deleteMessages, releaseMessages } from './sqs-messages';

/**
 * The messages a replay recovered: every record they name replayed without a new failure, and
 * nothing in them this run could not replay (another function's letter, an unreadable one).
 */
export function recoveredMessages(set: ReplaySet): FailureMessage[] {
  return set.messages.filter(
    (m) => !m.incomplete && m.records.every((r) => r.outcome === 'recovered'),
  );
}

/** Makes every received message visible again at once. */
export async function releaseHeld(
  sqs: SQSClient,
  held: ReadonlyMap<string, readonly string[]>,
): Promise<void> {
  for (const [queueUrl, handles] of held) await releaseMessages(sqs, queueUrl, handles);
}

/**
 * Deletes the recovered messages: SQS messages in batches, S3 objects one by one, then the
 * payload objects of the letters deleted (recovered ones, and the replay's copies of failing
 * ones) that no kept letter names. Releases every other message received. Resolves with the
 * letters and pointers deleted.
 */
export async function deleteRecovered(
  sqs: SQSClient,
  s3: S3Client,
  set: ReplaySet,
  recovered: readonly FailureMessage[],
  again: DeadLetteredAgain,
  payloadBuckets: ReadonlySet<string>,
): Promise<number> {
  const toDelete = new Map<string, string[]>();
  for (const { origin } of recovered) {
    if (origin.kind !== 'sqs') continue;
    toDelete.set(origin.queueUrl, [...(toDelete.get(origin.queueUrl) ?? []), origin.receiptHandle]);
  }
  const gone = new Set<string>();
  for (const [queueUrl, handles] of toDelete) {
    for (const handle of await deleteMessages(sqs, queueUrl, handles)) gone.add(handle);
  }
  const kept = new Map(
    [...set.held].map(([queueUrl, handles]) => [queueUrl, handles.filter((h) => !gone.has(h))]),
  );
  await releaseHeld(sqs, kept);

  // Every object a letter still in a queue names stays: letters not replayed, letters whose
  // records failed or whose delete failed, and letters the replay wrote and kept. The runtime
  // writes one record's payload under one key, so letters of one record often share an object.
  const keptLocations = new Set([...set.keptLocations, ...again.keptLocations]);
  const payloads = new Set(again.deletedLocations);
  for (const { origin } of set.messages) {
    if (origin.kind !== 'sqs' || !origin.overflow) continue;
    if (gone.has(origin.receiptHandle)) payloads.add(origin.overflow);
    else keptLocations.add(origin.overflow);
  }
  let deleted = 0;
  for (const message of recovered) {
    const { origin } = message;
    if (origin.kind === 's3') {
      if (await deleteObject(s3, origin.bucket, origin.key)) deleted += message.count;
    } else if (gone.has(origin.receiptHandle)) {
      deleted += message.count;
    }
  }
  // The messages went first: an object left behind by a failed delete is harmless, a letter
  // naming a deleted object would not be.
  for (const location of payloads) {
    const where = keptLocations.has(location) ? undefined : ownedPayload(location, payloadBuckets);
    if (where) await deleteObject(s3, where.bucket, where.key);
  }
  return deleted;
}
