import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetter } from '../functions/runtime/index';
import type { ModelFunction } from './app-model';

// The variables the pipeline gives its functions (the runtime's environment contract).
const QUEUE_VARIABLE = 'DRIVERLESS_DEAD_LETTER_QUEUE_URL';
const BUCKET_VARIABLE = 'DRIVERLESS_DEAD_LETTER_BUCKET';
/** Where the runtime writes letters in a bucket: batches (`.ndjson`) and SQS overflow (`.json`). */
const LETTER_PREFIX = 'dead-letters/';

/** A letter whose payload went to S3 because it was too large for a message. */
interface OverflowLetter {
  readonly dataLocation?: string;
}

/**
 * Reads a pipeline's dead letters where its functions write them. Messages are deleted once read
 * (a queue hides what it handed out, so reading without deleting would lose them from the next
 * read) and kept here; bucket objects are only read.
 */
export class DeadLetterReader {
  private readonly fromQueues = new Map<string, DeadLetter[]>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly s3: S3Client,
  ) {}

  async read(functions: readonly ModelFunction[]): Promise<DeadLetter[]> {
    const queues = new Set<string>();
    const buckets = new Set<string>();
    for (const fn of functions) {
      const queue = fn.environment[QUEUE_VARIABLE];
      const bucket = fn.environment[BUCKET_VARIABLE];
      if (queue) queues.add(queue);
      else if (bucket) buckets.add(bucket);
    }
    if (queues.size === 0 && buckets.size === 0) {
      throw new Error(
        `${functions.map((fn) => fn.name).join(', ')} has no dead-letter queue or bucket ` +
          `(${QUEUE_VARIABLE} / ${BUCKET_VARIABLE}): is it a MicroBatchPipeline function?`,
      );
    }
    const names = new Set(functions.map((fn) => fn.name));
    const letters: DeadLetter[] = [];
    for (const queue of queues) letters.push(...(await this.drainQueue(queue)));
    for (const bucket of buckets) letters.push(...(await this.readBucket(bucket)));
    // Functions of several sources may share a queue: keep the letters of the functions asked for.
    return letters.filter((l) => l.functionName === undefined || names.has(l.functionName));
  }

  private async drainQueue(queueUrl: string): Promise<DeadLetter[]> {
    const kept = this.fromQueues.get(queueUrl) ?? [];
    this.fromQueues.set(queueUrl, kept);
    for (;;) {
      const out = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      const messages = out.Messages ?? [];
      if (messages.length === 0) return [...kept];
      for (const message of messages) {
        const letter = JSON.parse(message.Body ?? '{}') as DeadLetter & OverflowLetter;
        kept.push(letter.dataLocation ? await this.readOverflow(letter.dataLocation) : letter);
      }
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }

  /** The whole letter the runtime stored at `s3://bucket/key` for an oversized message. */
  private async readOverflow(location: string): Promise<DeadLetter> {
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(location) ?? [];
    if (!bucket || !key) throw new Error(`dead letter points at ${location}, not an S3 object`);
    const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await (out.Body?.transformToString() ?? '{}')) as DeadLetter;
  }

  private async readBucket(bucket: string): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: LETTER_PREFIX,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key?.endsWith('.ndjson')) continue;
        const out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key }));
        const text = (await out.Body?.transformToString()) ?? '';
        for (const line of text.split('\n')) {
          if (line.trim() !== '') letters.push(JSON.parse(line) as DeadLetter);
        }
      }
      token = page.NextContinuationToken;
    } while (token);
    return letters;
  }
}
