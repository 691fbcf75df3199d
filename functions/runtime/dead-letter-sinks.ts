import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import type * as S3 from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type * as SQS from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_KEY_PREFIX, type DeadLetter, type DeadLetterSink } from './dead-letter';
import { ENVIRONMENT } from './environment';
import { ConfigurationError } from './errors';

// SQS caps a message at 1 MiB (256 KiB before 2025); stay under the older cap so any queue accepts it.
const MAX_MESSAGE_BYTES = 250 * 1024;
const MAX_BATCH_ENTRIES = 10;

/** Batch mode (`driverless run`) names a local NDJSON file for dead letters; the constructs never set it. */
export const DEAD_LETTER_FILE_VARIABLE = 'DRIVERLESS_DEAD_LETTER_FILE';

/** Options of {@link sqsDeadLetters}. */
export interface SqsDeadLettersOptions {
  readonly queueUrl: string;
  /**
   * Bucket for letters too large for one SQS message: the payload goes to S3 and the message
   * carries `dataLocation` instead of `data`.
   * @default - none: an oversized letter is not delivered and its batch is reported failed
   */
  readonly overflowBucket?: string;
  /** @default - a client for the environment's region and endpoint */
  readonly client?: SQSClient;
  /** @default - a client for the environment's region and endpoint */
  readonly s3Client?: S3Client;
}

/** A dead letter whose payload was moved to S3 because it was too large for SQS. */
export type OverflowDeadLetter = Omit<DeadLetter, 'data'> & { readonly dataLocation: string };

const hasEndpointOverride = (service: 'SQS' | 'S3'): boolean =>
  Boolean(process.env[`AWS_ENDPOINT_URL_${service}`] ?? process.env.AWS_ENDPOINT_URL);

// The SDK is loaded on first use, so functions that never dead-letter skip its start-up cost.
// `require`, not `import()`: Lambda provides the SDK on NODE_PATH, which only `require` honours.
const loadSqs = (): typeof SQS => require('@aws-sdk/client-sqs');
const loadS3 = (): typeof S3 => require('@aws-sdk/client-s3');

async function defaultSqsClient(): Promise<SQSClient> {
  const { SQSClient } = loadSqs();
  // With an endpoint override (LocalStack, the embedded stack) the queue URL's host may not
  // resolve; keep requests on the configured endpoint.
  return new SQSClient({ useQueueUrlAsEndpoint: !hasEndpointOverride('SQS') });
}

async function defaultS3Client(): Promise<S3Client> {
  const { S3Client } = loadS3();
  return new S3Client({ forcePathStyle: hasEndpointOverride('S3') });
}

function datePath(iso: string): string {
  return iso.slice(0, 10).replaceAll('-', '/');
}

/**
 * The folder of a function's letters of one shard and day. Several functions read one stream
 * (`isolateJobs`) and each dead-letters the records it missed: their objects must never share a key.
 */
function letterFolder(prefix: string, letter: DeadLetter): string {
  const writer = encodeURIComponent(letter.functionName ?? letter.source ?? 'local');
  return `${prefix}${letter.shardId}/${datePath(letter.deadLetteredAt)}/${writer}/`;
}

// SQS accepts only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in a message
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
// JSON.stringify already escapes control characters and lone surrogates; U+FFFE and U+FFFF (which
// V8 quotes in JSON.parse errors, and a partition key may hold) are escaped here, and JSON reads
// the escapes back as the same characters.
const NOT_SQS_TEXT = /[\uFFFE\uFFFF]/g;

/** A letter as a message body SQS accepts, whatever characters its fields hold. */
function sqsBody(value: unknown): string {
  return JSON.stringify(value).replace(
    NOT_SQS_TEXT,
    (char) => `\\u${char.charCodeAt(0).toString(16)}`,
  );
}

/** Sends dead letters to SQS in batches of up to ten messages, retrying failed entries once. */
export function sqsDeadLetters(options: SqsDeadLettersOptions): DeadLetterSink {
  let client: Promise<SQSClient> | undefined = options.client && Promise.resolve(options.client);
  let s3: Promise<S3Client> | undefined = options.s3Client && Promise.resolve(options.s3Client);

  async function overflow(
    letter: DeadLetter,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    if (!options.overflowBucket) return undefined;
    const { PutObjectCommand } = loadS3();
    s3 ??= defaultS3Client();
    // Unique per attempt: a letter of the same record written again (a retry, a replay) must never
    // replace the payload an earlier letter, perhaps kept, points at.
    const key = `${letterFolder(DEAD_LETTER_KEY_PREFIX, letter)}${letter.id}-${randomUUID()}.json`;
    await (await s3).send(
      new PutObjectCommand({
        Bucket: options.overflowBucket,
        Key: key,
        Body: JSON.stringify(letter),
        ContentType: 'application/json',
      }),
      { abortSignal: signal },
    );
    const { data: _data, ...rest } = letter;
    return sqsBody({ ...rest, dataLocation: `s3://${options.overflowBucket}/${key}` });
  }

  async function sendChunk(
    sqs: SQSClient,
    entries: { letter: DeadLetter; body: string }[],
    signal: AbortSignal | undefined,
  ): Promise<DeadLetter[]> {
    const { SendMessageBatchCommand } = loadSqs();
    let pending = entries;
    let lastError: unknown;
    for (let attempt = 0; attempt < 2 && pending.length > 0; attempt++) {
      try {
        const result = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: pending.map((entry, index) => ({
              Id: String(index),
              MessageBody: entry.body,
            })),
          }),
          { abortSignal: signal },
        );
        const failed = new Set((result.Failed ?? []).map((failure) => Number(failure.Id)));
        pending = pending.filter((_, index) => failed.has(index));
      } catch (error) {
        // Network or service error: the whole chunk is retried once, then the error is raised
        // so the batch reports its letters undelivered and logs why.
        lastError = error;
      }
    }
    if (pending.length > 0 && lastError !== undefined) throw lastError;
    return pending.map((entry) => entry.letter);
  }

  return {
    async send(letters, { signal } = {}) {
      if (letters.length === 0) return [];
      client ??= defaultSqsClient();
      const sqs = await client;
      const undelivered: DeadLetter[] = [];
      const entries: { letter: DeadLetter; body: string }[] = [];
      for (const letter of letters) {
        let body: string | undefined = sqsBody(letter);
        if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
          body = await overflow(letter, signal).catch(() => undefined);
          if (body === undefined) {
            undelivered.push(letter);
            continue;
          }
        }
        entries.push({ letter, body });
      }
      const chunks: { letter: DeadLetter; body: string }[][] = [];
      let chunk: { letter: DeadLetter; body: string }[] = [];
      let chunkBytes = 0;
      for (const entry of entries) {
        const bytes = Buffer.byteLength(entry.body);
        if (chunk.length === MAX_BATCH_ENTRIES || chunkBytes + bytes > MAX_MESSAGE_BYTES) {
          chunks.push(chunk);
          chunk = [];
          chunkBytes = 0;
        }
        chunk.push(entry);
        chunkBytes += bytes;
      }
      if (chunk.length > 0) chunks.push(chunk);
      const results = await Promise.all(chunks.map((c) => sendChunk(sqs, c, signal)));
      return undelivered.concat(...results);
    },
  };
}

/** Options of {@link s3DeadLetters}. */
export interface S3DeadLettersOptions {
  readonly bucket: string;
  /** @default 'dead-letters/' */
  readonly prefix?: string;
  /** @default - a client for the environment's region and endpoint */
  readonly client?: S3Client;
}

/**
 * Writes each batch's dead letters as one NDJSON object,
 * `<prefix><shardId>/YYYY/MM/DD/<functionName>/<batchId>-<firstSequenceNumber>-<uuid>.ndjson`.
 * The key is new on every call, so no write ever replaces letters a reader may still need; a
 * record written twice (a replay that rejects it again) carries the same `letterId` in both.
 */
export function s3DeadLetters(options: S3DeadLettersOptions): DeadLetterSink {
  let client: Promise<S3Client> | undefined = options.client && Promise.resolve(options.client);
  const prefix = options.prefix ?? DEAD_LETTER_KEY_PREFIX;
  return {
    async send(letters, { signal } = {}) {
      const first = letters[0];
      if (first === undefined) return [];
      const { PutObjectCommand } = loadS3();
      client ??= defaultS3Client();
      const key = `${letterFolder(prefix, first)}${first.batchId}-${first.sequenceNumber}-${randomUUID()}.ndjson`;
      try {
        await (await client).send(
          new PutObjectCommand({
            Bucket: options.bucket,
            Key: key,
            Body: `${letters.map((letter) => JSON.stringify(letter)).join('\n')}\n`,
            ContentType: 'application/x-ndjson',
          }),
          { abortSignal: signal },
        );
        return [];
      } catch {
        return letters;
      }
    },
  };
}

/**
 * Appends dead letters to a local NDJSON file, one letter per line; for batch mode. A letter whose
 * `letterId` this sink already wrote is skipped, so a record appears once however often it is
 * rejected during the run.
 */
export function fileDeadLetters(path: string): DeadLetterSink {
  const written = new Set<string>();
  return {
    async send(letters) {
      const fresh = letters.filter(
        (letter) => letter.letterId === undefined || !written.has(letter.letterId),
      );
      if (fresh.length === 0) return [];
      await appendFile(path, fresh.map((letter) => `${JSON.stringify(letter)}\n`).join(''));
      for (const letter of fresh) if (letter.letterId !== undefined) written.add(letter.letterId);
      return [];
    },
  };
}

/** Keeps dead letters in memory; for tests. */
export interface MemoryDeadLetterSink extends DeadLetterSink {
  readonly letters: DeadLetter[];
}

export function memoryDeadLetters(): MemoryDeadLetterSink {
  const letters: DeadLetter[] = [];
  return {
    letters,
    async send(batch) {
      letters.push(...batch);
      return [];
    },
  };
}

/**
 * The sink the environment names: a file (batch mode), the queue (with the bucket as overflow), or the bucket.
 * Throws at cold start when neither is set, so a misconfigured function never reaches a batch.
 */
export function deadLettersFromEnvironment(env: NodeJS.ProcessEnv = process.env): DeadLetterSink {
  const queueUrl = env[ENVIRONMENT.deadLetterQueueUrl];
  const bucket = env[ENVIRONMENT.deadLetterBucket];
  const file = env[DEAD_LETTER_FILE_VARIABLE];
  if (file) return fileDeadLetters(file);
  if (queueUrl) return sqsDeadLetters({ queueUrl, ...(bucket ? { overflowBucket: bucket } : {}) });
  if (bucket) return s3DeadLetters({ bucket });
  throw new ConfigurationError(
    `no dead-letter destination: set ${ENVIRONMENT.deadLetterQueueUrl}, ${ENVIRONMENT.deadLetterBucket} ` +
      `or ${DEAD_LETTER_FILE_VARIABLE} ` +
      '(MicroBatchPipeline sets them), or pass `deadLetters` to microBatch()',
  );
}
