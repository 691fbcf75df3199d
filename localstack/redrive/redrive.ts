import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { type DiscoveredSource, discoverSource, type SourceFunction } from './discover-source';
import { readStreamRange } from './read-stream-range';
import { RedriveUsageError } from './redrive-error';

/** A dead letter as the runtime writes it (`functions/runtime/dead-letter.ts`). */
interface DeadLetterMessage {
  readonly id: string;
  readonly reason: string;
  readonly data?: string;
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

/** The on-failure record Lambda writes for records the mapping discarded (ESM-SEMANTICS §4). */
interface OnFailurePointer {
  readonly timestamp: string;
  readonly KinesisBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

/** Progress of a redrive, for a progress bar. */
export interface RedriveProgress {
  readonly phase: 'reading' | 'replaying';
  readonly done: number;
  readonly total: number;
}

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
  };
  /** The qualifier invoked. @default 'live' */
  readonly qualifier?: string;
  /** Records per replayed event (Lambda's 6 MB limit applies too). Range 1-10000. @default 100 */
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
  /** Messages read: dead letters and on-failure pointers that matched the filters. */
  readonly messages: number;
  /** Distinct records to replay (duplicate letters of one record count once per function). */
  readonly records: number;
  /** Replayed and accepted by the function. */
  readonly recovered: number;
  /** Replayed and rejected again (failed, or dead-lettered again by the replay). */
  readonly stillFailing: number;
  /** Gone from the stream (retention) or otherwise unreadable: listed in `notRecoverableIds`. */
  readonly notRecoverable: number;
  /** Messages deleted because every record they name was recovered. */
  readonly deleted: number;
  readonly notRecoverableIds: readonly string[];
  readonly stillFailingIds: readonly string[];
}

interface ReplayRecord {
  readonly key: string;
  readonly functionName: string;
  readonly shardId: string;
  readonly streamArn: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number | undefined;
  readonly partitionKey: string;
  readonly data: string;
  readonly approximateArrivalTimestamp: number;
  /** Messages that name this record (a pointer range or one or more dead letters). */
  readonly messages: Set<ReadMessage>;
  outcome: 'pending' | 'recovered' | 'failing';
}

interface ReadMessage {
  readonly queueUrl: string;
  readonly receiptHandle: string;
  readonly records: ReplayRecord[];
  /** True when some record of the message could not be re-read: the message is kept. */
  incomplete: boolean;
}

const compareSequence = (a: string, b: string): number =>
  a.length === b.length ? (a < b ? -1 : a > b ? 1 : 0) : a.length - b.length;

function checkRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RedriveUsageError(`${name} must be between ${min} and ${max} (given ${value})`);
  }
}

/** Receives every visible message of a queue (until two empty receives in a row). */
async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  visibilityTimeout: number,
): Promise<Message[]> {
  const messages: Message[] = [];
  for (let empty = 0; empty < 2; ) {
    const page = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: empty === 0 ? 0 : 1,
        VisibilityTimeout: visibilityTimeout,
      }),
    );
    const received = page.Messages ?? [];
    if (received.length === 0) empty++;
    else empty = 0;
    messages.push(...received);
  }
  return messages;
}

async function inBatchesOfTen<T>(items: readonly T[], send: (chunk: T[]) => Promise<unknown>) {
  for (let start = 0; start < items.length; start += 10) await send(items.slice(start, start + 10));
}

async function release(sqs: SQSClient, queueUrl: string, receiptHandles: readonly string[]) {
  await inBatchesOfTen(receiptHandles, (chunk) =>
    sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((handle, index) => ({
          Id: String(index),
          ReceiptHandle: handle,
          VisibilityTimeout: 0,
        })),
      }),
    ),
  );
}

async function remove(sqs: SQSClient, queueUrl: string, receiptHandles: readonly string[]) {
  let deleted = 0;
  await inBatchesOfTen(receiptHandles, async (chunk) => {
    const out = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle })),
      }),
    );
    deleted += out.Successful?.length ?? 0;
  });
  return deleted;
}

function parse<T>(body: string | undefined): T | undefined {
  try {
    return JSON.parse(body ?? '') as T;
  } catch {
    return undefined;
  }
}

function isDeadLetter(value: unknown): value is DeadLetterMessage {
  const letter = value as Partial<DeadLetterMessage> | undefined;
  return (
    typeof letter?.id === 'string' &&
    typeof letter.shardId === 'string' &&
    typeof letter.sequenceNumber === 'string' &&
    typeof letter.streamArn === 'string'
  );
}

function isPointer(value: unknown): value is OnFailurePointer {
  const info = (value as Partial<OnFailurePointer> | undefined)?.KinesisBatchInfo;
  return typeof info?.startSequenceNumber === 'string' && typeof info.shardId === 'string';
}

/**
 * Replays a source's dead letters and on-failure pointers through its functions' `live` alias,
 * as Kinesis events of the original shape (one event per shard, records in sequence order), and
 * deletes each message whose records were all accepted. Idempotent: a record named by several
 * letters is replayed once per function; a message is deleted only after its replay succeeded,
 * so running it again replays only what is still there.
 */
export async function redrive(options: RedriveOptions): Promise<RedriveSummary> {
  const { lambda, sqs, kinesis } = options.clients;
  const batchSize = options.batchSize ?? 100;
  const visibility = options.visibilityTimeoutSeconds ?? 300;
  checkRange('batchSize', batchSize, 1, 10_000);
  checkRange('visibilityTimeoutSeconds', visibility, 1, 43_200);
  if (options.since !== undefined && Number.isNaN(options.since.getTime())) {
    throw new RedriveUsageError('since must be a valid time (given an invalid date)');
  }
  const dryRun = options.dryRun ?? false;
  const qualifier = options.qualifier ?? 'live';
  const since = options.since?.getTime() ?? Number.NEGATIVE_INFINITY;

  const discovered: DiscoveredSource = await discoverSource(lambda, options.source, options.job);
  const queueUrls = new Set(discovered.functions.flatMap((fn) => fn.deadLetterQueueUrl ?? []));
  const pointerQueues = new Map<string, SourceFunction>();
  for (const fn of discovered.functions) {
    for (const arn of fn.onFailureQueueArns) {
      const [, , , , account, name] = arn.split(':');
      const out = await sqs
        .send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))
        .catch((error: unknown) => {
          throw new RedriveUsageError(
            `on-failure queue ${arn} of ${fn.name} does not exist (${error instanceof Error ? error.name : String(error)}): deploy the pipeline`,
          );
        });
      if (out.QueueUrl) pointerQueues.set(out.QueueUrl, fn);
    }
  }
  if (queueUrls.size === 0 && pointerQueues.size === 0) {
    throw new RedriveUsageError(
      `source "${options.source}" has no dead-letter queue (DRIVERLESS_DEAD_LETTER_QUEUE_URL) and no on-failure queue: nothing to redrive from`,
    );
  }

  const records = new Map<string, ReplayRecord>();
  const messages: ReadMessage[] = [];
  const skipped = new Map<string, string[]>();
  const notRecoverableIds: string[] = [];
  const byName = new Map(discovered.functions.map((fn) => [fn.name, fn]));
  // Letters without a function name belong to the main function: every job, or all but `!isolated`.
  const mainFunction = discovered.functions.find(
    (fn) => fn.jobs === undefined || fn.jobs.split(',').every((e) => e.trim().startsWith('!')),
  );
  const skip = (queueUrl: string, message: Message) => {
    if (!message.ReceiptHandle) return;
    skipped.set(queueUrl, [...(skipped.get(queueUrl) ?? []), message.ReceiptHandle]);
  };
  const recordFor = (
    functionName: string,
    fields: Omit<ReplayRecord, 'key' | 'functionName' | 'messages' | 'outcome'>,
  ): ReplayRecord => {
    const key = `${functionName}|${fields.shardId}|${fields.sequenceNumber}|${fields.subSequenceNumber ?? ''}`;
    let record = records.get(key);
    if (!record) {
      record = { ...fields, key, functionName, messages: new Set(), outcome: 'pending' };
      records.set(key, record);
    }
    return record;
  };

  const unreachable = (error: unknown, what: string): never => {
    throw new RedriveUsageError(
      `cannot read ${what} (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}): check the endpoint and that the queue exists`,
    );
  };

  for (const queueUrl of queueUrls) {
    const received = await receiveAll(sqs, queueUrl, visibility).catch((error: unknown) =>
      unreachable(error, `dead-letter queue ${queueUrl}`),
    );
    for (const message of received) {
      const letter = parse<unknown>(message.Body);
      if (!isDeadLetter(letter) || !message.ReceiptHandle) {
        skip(queueUrl, message);
        continue;
      }
      const fn = letter.functionName ? byName.get(letter.functionName) : mainFunction;
      if (!fn || Date.parse(letter.deadLetteredAt) < since) {
        skip(queueUrl, message);
        continue;
      }
      const read: ReadMessage = {
        queueUrl,
        receiptHandle: message.ReceiptHandle,
        records: [],
        incomplete: false,
      };
      messages.push(read);
      if (letter.data === undefined) {
        // Overflowed to S3 (`dataLocation`): not replayed here; the message is kept.
        read.incomplete = true;
        notRecoverableIds.push(letter.id);
        continue;
      }
      const record = recordFor(fn.name, {
        shardId: letter.shardId,
        streamArn: letter.streamArn,
        sequenceNumber: letter.sequenceNumber,
        subSequenceNumber: letter.subSequenceNumber,
        partitionKey: letter.partitionKey,
        data: letter.data,
        approximateArrivalTimestamp: letter.approximateArrivalTimestamp,
      });
      record.messages.add(read);
      read.records.push(record);
    }
  }

  for (const [queueUrl, fn] of pointerQueues) {
    const received = await receiveAll(sqs, queueUrl, visibility).catch((error: unknown) =>
      unreachable(error, `on-failure queue ${queueUrl}`),
    );
    let done = 0;
    for (const message of received) {
      options.onProgress?.({ phase: 'reading', done: done++, total: received.length });
      const pointer = parse<unknown>(message.Body);
      if (!isPointer(pointer) || !message.ReceiptHandle || Date.parse(pointer.timestamp) < since) {
        skip(queueUrl, message);
        continue;
      }
      const info = pointer.KinesisBatchInfo;
      const read: ReadMessage = {
        queueUrl,
        receiptHandle: message.ReceiptHandle,
        records: [],
        incomplete: false,
      };
      messages.push(read);
      const range = await readStreamRange(
        kinesis,
        info.streamArn,
        info.shardId,
        info.startSequenceNumber,
        info.endSequenceNumber,
      );
      for (const streamRecord of range.records) {
        const record = recordFor(fn.name, {
          shardId: info.shardId,
          streamArn: info.streamArn,
          sequenceNumber: streamRecord.SequenceNumber ?? '',
          subSequenceNumber: undefined,
          partitionKey: streamRecord.PartitionKey ?? '',
          data: Buffer.from(streamRecord.Data ?? new Uint8Array()).toString('base64'),
          approximateArrivalTimestamp:
            (streamRecord.ApproximateArrivalTimestamp?.getTime() ?? 0) / 1000,
        });
        record.messages.add(read);
        read.records.push(record);
      }
      const missing = info.batchSize - range.records.length;
      if (missing > 0 || range.records.length === 0) {
        read.incomplete = true;
        notRecoverableIds.push(
          `${info.shardId}:${info.startSequenceNumber}..${info.endSequenceNumber} (${Math.max(missing, 1)} of ${info.batchSize} records ${range.missingReason ?? 'expired from the stream'})`,
        );
      }
    }
  }

  const replayable = [...records.values()];
  const started = Date.now();
  if (!dryRun) {
    await replay(lambda, qualifier, replayable, batchSize, options.onProgress);
    await findDeadLetteredAgain(sqs, [...queueUrls], records, started, visibility);
  }

  let deleted = 0;
  const toRelease = new Map<string, string[]>(skipped);
  const toDelete = new Map<string, string[]>();
  for (const message of messages) {
    const recovered =
      !dryRun && !message.incomplete && message.records.every((r) => r.outcome === 'recovered');
    const target = recovered ? toDelete : toRelease;
    target.set(message.queueUrl, [...(target.get(message.queueUrl) ?? []), message.receiptHandle]);
  }
  for (const [queueUrl, handles] of toDelete) deleted += await remove(sqs, queueUrl, handles);
  for (const [queueUrl, handles] of toRelease) await release(sqs, queueUrl, handles);

  const failing = replayable.filter((r) => r.outcome === 'failing');
  return {
    source: options.source,
    ...(options.job === undefined ? {} : { job: options.job }),
    dryRun,
    messages: messages.length,
    records: replayable.length,
    recovered: replayable.filter((r) => r.outcome === 'recovered').length,
    stillFailing: failing.length,
    notRecoverable: notRecoverableIds.length,
    deleted,
    notRecoverableIds,
    stillFailingIds: failing.map((r) => `${r.functionName}:${r.shardId}:${r.sequenceNumber}`),
  };
}

/**
 * Lambda's client context (`context.clientContext.custom`) of every replay: the event keeps its
 * original shape, and a runtime can still tell a replay from a mapping's delivery (per-job
 * cursors must not skip replayed records that are behind them).
 * @see https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#lambda-Invoke-request-ClientContext
 */
export const REDRIVE_CLIENT_CONTEXT = Buffer.from(
  JSON.stringify({ custom: { driverlessRedrive: '1' } }),
).toString('base64');

/** Invokes each function once per chunk of one shard's records, in sequence order, as the ESM does. */
async function replay(
  lambda: LambdaClient,
  qualifier: string,
  records: readonly ReplayRecord[],
  batchSize: number,
  onProgress: RedriveOptions['onProgress'],
): Promise<void> {
  const groups = new Map<string, ReplayRecord[]>();
  for (const record of records) {
    const key = `${record.functionName}|${record.streamArn}|${record.shardId}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  let done = 0;
  const total = records.length;
  onProgress?.({ phase: 'replaying', done, total });
  for (const group of groups.values()) {
    group.sort(
      (a, b) =>
        compareSequence(a.sequenceNumber, b.sequenceNumber) ||
        (a.subSequenceNumber ?? 0) - (b.subSequenceNumber ?? 0),
    );
    let failedFrom = -1;
    for (let start = 0; start < group.length && failedFrom < 0; start += batchSize) {
      const chunk = group.slice(start, start + batchSize);
      const first = chunk[0] as ReplayRecord;
      const event = {
        Records: chunk.map((record) => ({
          kinesis: {
            kinesisSchemaVersion: '1.0',
            partitionKey: record.partitionKey,
            sequenceNumber: record.sequenceNumber,
            data: record.data,
            approximateArrivalTimestamp: record.approximateArrivalTimestamp,
          },
          eventSource: 'aws:kinesis',
          eventVersion: '1.0',
          eventID: `${record.shardId}:${record.sequenceNumber}`,
          eventName: 'aws:kinesis:record',
          awsRegion: record.streamArn.split(':')[3] ?? 'us-east-1',
          eventSourceARN: record.streamArn,
        })),
      };
      const out = await lambda.send(
        new InvokeCommand({
          FunctionName: first.functionName,
          Qualifier: qualifier,
          ClientContext: REDRIVE_CLIENT_CONTEXT,
          Payload: Buffer.from(JSON.stringify(event)),
        }),
      );
      // As the ESM reads a response (ESM-SEMANTICS §3.4): an error fails the whole chunk; a
      // reported item fails it and everything after it in the shard.
      let failedAt = out.FunctionError ? 0 : -1;
      if (failedAt < 0) {
        const response = parse<{ batchItemFailures?: { itemIdentifier?: string }[] }>(
          Buffer.from(out.Payload ?? new Uint8Array()).toString('utf8'),
        );
        const ids = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier ?? '');
        const indexes = ids.map((id) => chunk.findIndex((r) => r.sequenceNumber === id));
        if (indexes.length > 0) failedAt = Math.min(...indexes.map((i) => Math.max(i, 0)));
      }
      for (const [index, record] of chunk.entries()) {
        // The replay marker makes the runtime bypass per-job cursors, so an accepted record
        // reached every job of the function.
        record.outcome = failedAt >= 0 && index >= failedAt ? 'failing' : 'recovered';
      }
      if (failedAt >= 0) failedFrom = start + failedAt;
      done += chunk.length;
      onProgress?.({ phase: 'replaying', done, total });
    }
    if (failedFrom >= 0) {
      for (const record of group.slice(failedFrom)) record.outcome = 'failing';
      done = Math.min(total, done + group.length - failedFrom);
    }
  }
  onProgress?.({ phase: 'replaying', done: total, total });
}

/**
 * The runtime dead-letters a record it still cannot decode and reports the batch a success, so a
 * replayed record counts as recovered only if no new letter for it appeared. The new letters are
 * deleted: the original message, kept, already holds the record.
 */
async function findDeadLetteredAgain(
  sqs: SQSClient,
  queueUrls: readonly string[],
  records: ReadonlyMap<string, ReplayRecord>,
  startedAt: number,
  visibility: number,
): Promise<void> {
  for (const queueUrl of queueUrls) {
    const received = await receiveAll(sqs, queueUrl, visibility);
    const again: string[] = [];
    const others: string[] = [];
    for (const message of received) {
      const letter = parse<unknown>(message.Body);
      const key =
        isDeadLetter(letter) && letter.functionName
          ? `${letter.functionName}|${letter.shardId}|${letter.sequenceNumber}|${letter.subSequenceNumber ?? ''}`
          : undefined;
      const record = key === undefined ? undefined : records.get(key);
      if (
        record &&
        isDeadLetter(letter) &&
        Date.parse(letter.deadLetteredAt) >= startedAt - 1000 &&
        message.ReceiptHandle
      ) {
        record.outcome = 'failing';
        again.push(message.ReceiptHandle);
      } else if (message.ReceiptHandle) {
        others.push(message.ReceiptHandle);
      }
    }
    await remove(sqs, queueUrl, again);
    await release(sqs, queueUrl, others);
  }
}
