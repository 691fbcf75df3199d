import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetterMessage } from './dead-letter-message';
import { deleteRecovered, recoveredMessages, releaseHeld } from './delete-recovered';
import { discoverSource, namedJobs, type SourceFunction } from './discover-source';
import { type DeadLetteredAgain, findDeadLetteredAgain } from './find-dead-lettered-again';
import type { ReadContext } from './read-context';
import { readS3Pointers, readSqsPointers } from './read-pointers';
import { readS3DeadLetters } from './read-s3-dead-letters';
import { readSqsDeadLetters } from './read-sqs-dead-letters';
import { RedriveStoppedError, RedriveUsageError, ReplayInvokeError } from './redrive-error';
import type { RedriveProgress } from './redrive-progress';
import { MAX_INVOKE_PAYLOAD_BYTES, replay, singleRecordEventBytes } from './replay';
import { ReplaySet } from './replay-set';

export type { RedriveProgress } from './redrive-progress';
export { REDRIVE_CLIENT_CONTEXT } from './replay';

/** Options of {@link redrive}. */
export interface RedriveOptions {
  /** The source (`DRIVERLESS_SOURCE`) whose failures are replayed. */
  readonly source: string;
  /** Only the function running this (isolated) job. @default - every function of the source */
  readonly job?: string;
  /** Only letters and pointers written at or after this time. @default - all */
  readonly since?: Date;
  /** Read and report, invoke nothing, delete nothing. @default false */
  readonly dryRun?: boolean;
  readonly clients: {
    readonly lambda: LambdaClient;
    readonly sqs: SQSClient;
    readonly kinesis: KinesisClient;
    readonly s3: S3Client;
  };
  /** The qualifier invoked. @default 'live' */
  readonly qualifier?: string;
  /**
   * Most records per replayed event; an event is also kept under Lambda's 6 MB invoke payload
   * limit, whatever its count. Range 1-10000. @default 100
   */
  readonly batchSize?: number;
  /**
   * How long messages read stay hidden from other readers while the redrive runs, in seconds.
   * Range 1-43200. @default 300
   */
  readonly visibilityTimeoutSeconds?: number;
  readonly onProgress?: (progress: RedriveProgress) => void;
}

/** What a redrive did, counted in records (dead letters and re-read pointer records). */
export interface RedriveSummary {
  readonly source: string;
  readonly job?: string;
  readonly dryRun: boolean;
  /**
   * Messages read: dead letters and on-failure records that matched the filters. A letter in an S3
   * object counts like one in SQS (an object holds a batch's letters); an on-failure object is one.
   */
  readonly messages: number;
  /** Distinct records to replay (duplicate letters of one record count once per function). */
  readonly records: number;
  /** Replayed and accepted by the function. */
  readonly recovered: number;
  /** Replayed and rejected again (failed, or dead-lettered again by the replay). */
  readonly stillFailing: number;
  /**
   * Gone from the stream (retention), payload object gone, or otherwise unreadable: listed in
   * `notRecoverableIds`.
   */
  readonly notRecoverable: number;
  /** Of those, deleted because every record they name was recovered (counted as `messages`). */
  readonly deleted: number;
  readonly notRecoverableIds: readonly string[];
  readonly stillFailingIds: readonly string[];
  /** The records read, per function and reason, most frequent first: what a dry run shows. */
  readonly reasons: readonly RedriveReason[];
}

/** How many records read for one function failed for one reason, with a few to look at. */
export interface RedriveReason {
  readonly functionName: string;
  /** The letter's reason, or the mapping's on-failure condition. */
  readonly reason: string;
  readonly records: number;
  /** Up to {@link SAMPLES_PER_REASON} records: `<shardId>:<sequenceNumber> <data, as text, cut>`. */
  readonly samples: readonly string[];
}

const SAMPLES_PER_REASON = 2;
const SAMPLE_CHARS = 80;

/** A record as a sample line: where it is, and the start of its data as text. */
function sampleOf(record: {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly data: string;
}): string {
  const text = Buffer.from(record.data, 'base64').toString('utf8').replace(/\s+/g, ' ');
  const cut = text.length > SAMPLE_CHARS ? `${text.slice(0, SAMPLE_CHARS)}…` : text;
  return `${record.shardId}:${record.sequenceNumber} ${JSON.stringify(cut)}`;
}

/** Groups records by function and reason, most records first. */
export function reasonsOf(
  records: Iterable<{
    readonly functionName: string;
    readonly reason?: string;
    readonly shardId: string;
    readonly sequenceNumber: string;
    readonly data: string;
  }>,
): RedriveReason[] {
  const groups = new Map<
    string,
    { functionName: string; reason: string; records: number; samples: string[] }
  >();
  for (const record of records) {
    const reason = record.reason ?? 'no reason recorded';
    const key = `${record.functionName}\u0000${reason}`;
    let group = groups.get(key);
    if (!group) {
      group = { functionName: record.functionName, reason, records: 0, samples: [] };
      groups.set(key, group);
    }
    group.records += 1;
    if (group.samples.length < SAMPLES_PER_REASON) group.samples.push(sampleOf(record));
  }
  return [...groups.values()].sort((a, b) => b.records - a.records);
}

function checkRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RedriveUsageError(`${name} must be between ${min} and ${max} (given ${value})`);
  }
}

/** The functions of a source whose letters carry no function name: the main one. */
function mainFunctionOf(functions: readonly SourceFunction[]): SourceFunction | undefined {
  // The main function runs every job, or all but the isolated ones (`!a,!b`).
  return functions.find((fn) => namedJobs(fn.jobs).included.length === 0);
}

async function pointerQueuesOf(
  sqs: SQSClient,
  functions: readonly SourceFunction[],
): Promise<Map<string, SourceFunction>> {
  const queues = new Map<string, SourceFunction>();
  for (const fn of functions) {
    for (const arn of fn.onFailureQueueArns) {
      const [, , , , account, name] = arn.split(':');
      const out = await sqs
        .send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))
        .catch((error: unknown) => {
          throw new RedriveUsageError(
            `on-failure queue ${arn} of ${fn.name} does not exist (${error instanceof Error ? error.name : String(error)}): deploy the pipeline`,
          );
        });
      if (out.QueueUrl) queues.set(out.QueueUrl, fn);
    }
  }
  return queues;
}

/**
 * Replays a source's dead letters and on-failure pointers through its functions' `live` alias,
 * as Kinesis events of the original shape (one event per shard, records in sequence order), and
 * deletes each message whose records were all accepted. Idempotent: a record named by several
 * letters is replayed once per function; a message is deleted only after its replay succeeded,
 * so running it again replays only what is still there.
 */
export async function redrive(options: RedriveOptions): Promise<RedriveSummary> {
  const { lambda, sqs, kinesis, s3 } = options.clients;
  const batchSize = options.batchSize ?? 100;
  const visibility = options.visibilityTimeoutSeconds ?? 300;
  checkRange('batchSize', batchSize, 1, 10_000);
  checkRange('visibilityTimeoutSeconds', visibility, 1, 43_200);
  if (options.since !== undefined && Number.isNaN(options.since.getTime())) {
    throw new RedriveUsageError('since must be a valid time (given an invalid date)');
  }
  const dryRun = options.dryRun ?? false;
  const qualifier = options.qualifier ?? 'live';

  const { functions } = await discoverSource(lambda, options.source, options.job);
  const queueUrls = [...new Set(functions.flatMap((fn) => fn.deadLetterQueueUrl ?? []))];
  // With a queue, the bucket only holds payloads too large for SQS; the queue's letters name them.
  const letterBuckets = [
    ...new Set(
      functions.flatMap((fn) => (fn.deadLetterQueueUrl ? [] : (fn.deadLetterBucket ?? []))),
    ),
  ];
  const pointerQueues = await pointerQueuesOf(sqs, functions);
  const pointerBuckets = new Map<string, SourceFunction[]>();
  for (const fn of functions) {
    for (const bucket of fn.onFailureBuckets) {
      pointerBuckets.set(bucket, [...(pointerBuckets.get(bucket) ?? []), fn]);
    }
  }
  if (
    queueUrls.length + letterBuckets.length === 0 &&
    pointerQueues.size + pointerBuckets.size === 0
  ) {
    throw new RedriveUsageError(
      `source "${options.source}" has no dead-letter queue or bucket (DRIVERLESS_DEAD_LETTER_QUEUE_URL, DRIVERLESS_DEAD_LETTER_BUCKET) and no on-failure queue or bucket: nothing to redrive from`,
    );
  }

  const payloadBuckets = new Set(functions.flatMap((fn) => fn.deadLetterBucket ?? []));
  const set = new ReplaySet();
  const byName = new Map(functions.map((fn) => [fn.name, fn]));
  const mainFunction = mainFunctionOf(functions);
  // The bar says which destination it is reading: readers report counts only.
  let reading: Pick<RedriveProgress, 'what' | 'unit'> = {};
  const onProgress = options.onProgress
    ? (progress: RedriveProgress) => options.onProgress?.({ ...reading, ...progress })
    : undefined;
  const nameOf = (queueUrl: string) => queueUrl.slice(queueUrl.lastIndexOf('/') + 1);
  const context: ReadContext = {
    sqs,
    s3,
    kinesis,
    set,
    since: options.since?.getTime() ?? Number.NEGATIVE_INFINITY,
    visibilityTimeoutSeconds: visibility,
    payloadBuckets,
    functionOf: (letter: DeadLetterMessage) =>
      letter.functionName ? byName.get(letter.functionName) : mainFunction,
    onProgress,
  };
  const listedKeys = new Map<string, ReadonlySet<string>>();
  try {
    // Buckets first: a bucket that cannot be read fails the run before any message is received.
    for (const bucket of letterBuckets) {
      reading = { what: `dead letters in bucket ${bucket}`, unit: 'objects' };
      listedKeys.set(bucket, await readS3DeadLetters(context, bucket));
    }
    for (const [bucket, owners] of pointerBuckets) {
      reading = { what: `on-failure records in bucket ${bucket}`, unit: 'objects' };
      await readS3Pointers(context, bucket, owners);
    }
    for (const queueUrl of queueUrls) {
      reading = { what: `dead letters in queue ${nameOf(queueUrl)}`, unit: 'messages' };
      await readSqsDeadLetters(context, queueUrl);
    }
    for (const [queueUrl, fn] of pointerQueues) {
      reading = { what: `on-failure records in queue ${nameOf(queueUrl)}`, unit: 'messages' };
      await readSqsPointers(context, queueUrl, fn);
    }
    set.settle();
  } catch (error) {
    // Whatever was received becomes visible again at once: a failed read loses and hides nothing.
    await releaseHeld(sqs, set.held).catch(() => undefined);
    throw error;
  }

  // No Kinesis record is that large (1 MiB at most), so such a letter was not written by the
  // runtime; it stays, reported, and the rest of its shard is replayed as after an expired record.
  for (const record of [...set.records.values()]) {
    const bytes = singleRecordEventBytes(record);
    if (bytes > MAX_INVOKE_PAYLOAD_BYTES) {
      set.drop(
        record,
        `${record.shardId}:${record.sequenceNumber}${record.subSequenceNumber === undefined ? '' : `:${record.subSequenceNumber}`} (its event is ${bytes} bytes, over Lambda's ${MAX_INVOKE_PAYLOAD_BYTES}-byte invoke payload limit)`,
      );
    }
  }
  const replayable = [...set.records.values()];
  let again: DeadLetteredAgain = { deletedLocations: [], keptLocations: [] };
  let stopped: ReplayInvokeError | undefined;
  if (!dryRun) {
    const startedAt = Date.now();
    try {
      const through = [...new Set(replayable.map((r) => `${r.functionName}:${qualifier}`))];
      reading = { what: `records through ${through.join(', ')}`, unit: 'records' };
      await replay(lambda, qualifier, replayable, batchSize, onProgress);
    } catch (error) {
      if (!(error instanceof ReplayInvokeError)) {
        await releaseHeld(sqs, set.held).catch(() => undefined);
        throw error;
      }
      // What was replayed before stays done: its letters are checked and deleted as usual.
      stopped = error;
    }
    again = await findDeadLetteredAgain({
      sqs,
      s3,
      queueUrls,
      buckets: listedKeys,
      records: set.records,
      startedAt,
      visibilityTimeoutSeconds: visibility,
      functionOf: context.functionOf,
    });
  }

  const recovered = dryRun ? [] : recoveredMessages(set);
  const deleted = await deleteRecovered(sqs, s3, set, recovered, again, payloadBuckets);

  const failing = replayable.filter((r) => r.outcome === 'failing');
  if (stopped) {
    const replayed = replayable.filter((r) => r.outcome !== 'pending').length;
    const left = replayable.length - replayed;
    throw new RedriveStoppedError(
      `${stopped.message}: stopped after replaying ${replayed} of ${replayable.length} records ` +
        `(${replayed - failing.length} recovered, ${failing.length} still failing, ` +
        `${deleted} ${deleted === 1 ? 'message' : 'messages'} deleted); the ${left} ` +
        `${left === 1 ? 'record' : 'records'} not replayed and ${left === 1 ? 'its' : 'their'} messages are kept for the next run`,
      stopped.usage,
    );
  }
  return {
    source: options.source,
    ...(options.job === undefined ? {} : { job: options.job }),
    dryRun,
    messages: set.messages.reduce((sum, m) => sum + m.count, 0),
    records: replayable.length,
    recovered: replayable.filter((r) => r.outcome === 'recovered').length,
    stillFailing: failing.length,
    notRecoverable: set.notRecoverableIds.length,
    deleted,
    notRecoverableIds: set.notRecoverableIds,
    stillFailingIds: failing.map((r) => `${r.functionName}:${r.shardId}:${r.sequenceNumber}`),
    reasons: reasonsOf(replayable),
  };
}
