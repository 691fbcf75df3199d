import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  type KinesisClient,
  RegisterStreamConsumerCommand,
  StartStreamEncryptionCommand,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { dynamoClient, kinesisClient, type ServiceEndpoints, s3Client, sqsClient } from './clients';
import type { LocalApp, LocalStream, LocalStreamConsumer, LocalTable } from './model';
import type { KinesisFeatures } from './servers/kinesis-server';

/** Where to create the app's resources. */
export interface ProvisionTarget {
  endpoints: ServiceEndpoints;
  /** What the Kinesis engine implements (`KinesisServer.features`). */
  kinesisFeatures: KinesisFeatures;
  /** How long a stream, consumer or table may take to become ACTIVE. @default 10000 */
  activeTimeoutMs?: number;
}

export interface ProvisionResult {
  /** The app with ARNs and URLs as the servers reported them (consumer ARNs, queue URLs). */
  app: LocalApp;
  /** What was emulated or skipped locally, one line each (for the user). */
  notes: string[];
  /**
   * Consumer ARNs the engine could not register (kinesalite has no enhanced fan-out): mappings on
   * them are delivered by polling the stream with shared iterators instead.
   */
  emulatedConsumers: string[];
  /**
   * Each model value (a queue URL or ARN, a consumer ARN) the servers answered differently, with
   * theirs: what resources added later must see in place of the model's.
   */
  replacements: ReadonlyMap<string, string>;
}

const KMS_KEY = 'alias/aws/kinesis';

/**
 * Creates everything `app` needs on the embedded servers: streams (ACTIVE, retention, encryption
 * where the engine has it), consumers, tables (on-demand, with their keys), queues and buckets.
 * Idempotent: resources that already exist are kept (a restart with a data directory, or a
 * second run).
 */
export async function provision(app: LocalApp, target: ProvisionTarget): Promise<ProvisionResult> {
  const { endpoints, kinesisFeatures: features } = target;
  const timeoutMs = target.activeTimeoutMs ?? 10_000;
  const kinesis = kinesisClient(endpoints.kinesis);
  const notes: string[] = [];
  const emulatedConsumers: string[] = [];
  /** Model value → value the server reported. */
  const replacements = new Map<string, string>();
  try {
    await Promise.all([
      (async () => {
        await Promise.all(
          app.streams.map((stream) => createStream(kinesis, stream, features, notes, timeoutMs)),
        );
        for (const consumer of app.consumers) {
          if (!features.consumers) {
            emulatedConsumers.push(consumer.arn);
            notes.push(
              `consumer ${consumer.name}: this Kinesis engine has no enhanced fan-out; its mappings poll the stream`,
            );
            continue;
          }
          const arn = await registerConsumer(kinesis, consumer, timeoutMs);
          if (arn !== consumer.arn) replacements.set(consumer.arn, arn);
        }
      })(),
      createTables(endpoints.dynamodb, app.tables, timeoutMs),
      createQueues(endpoints.sqs, app, replacements),
      createBuckets(endpoints.s3, app),
    ]);
  } finally {
    kinesis.destroy();
  }
  return { app: replaceStrings(app, replacements), notes, emulatedConsumers, replacements };
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not ACTIVE after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function createStream(
  kinesis: KinesisClient,
  stream: LocalStream,
  features: KinesisFeatures,
  notes: string[],
  timeoutMs: number,
): Promise<void> {
  try {
    await kinesis.send(
      new CreateStreamCommand({ StreamName: stream.name, ShardCount: stream.shardCount }),
    );
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
  const summary = async () =>
    (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream.name })))
      .StreamDescriptionSummary;
  const active = () =>
    waitUntil(
      `stream ${stream.name}`,
      timeoutMs,
      async () => (await summary())?.StreamStatus === 'ACTIVE',
    );
  await active();
  const current = await summary();
  if ((current?.OpenShardCount ?? stream.shardCount) !== stream.shardCount) {
    notes.push(
      `stream ${stream.name}: kept the existing stream with ${current?.OpenShardCount} open shards (template: ${stream.shardCount})`,
    );
  }
  if ((current?.RetentionPeriodHours ?? 24) < stream.retentionHours) {
    await kinesis.send(
      new IncreaseStreamRetentionPeriodCommand({
        StreamName: stream.name,
        RetentionPeriodHours: stream.retentionHours,
      }),
    );
    await active();
  }
  if (stream.encryption !== 'KMS') return;
  if (!features.encryption) {
    notes.push(`stream ${stream.name}: KMS encryption is a no-op on this Kinesis engine`);
    return;
  }
  if (current?.EncryptionType === 'KMS') return;
  await kinesis.send(
    new StartStreamEncryptionCommand({
      StreamName: stream.name,
      EncryptionType: 'KMS',
      KeyId: KMS_KEY,
    }),
  );
  await active();
}

/** Registers a consumer (or finds the registered one) and returns its ARN once ACTIVE. */
async function registerConsumer(
  kinesis: KinesisClient,
  consumer: LocalStreamConsumer,
  timeoutMs: number,
): Promise<string> {
  const ids = { StreamARN: consumer.streamArn, ConsumerName: consumer.name };
  try {
    await kinesis.send(new RegisterStreamConsumerCommand(ids));
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw error;
  }
  let arn = '';
  await waitUntil(`consumer ${consumer.name}`, timeoutMs, async () => {
    const { ConsumerDescription: description } = await kinesis.send(
      new DescribeStreamConsumerCommand(ids),
    );
    arn = description?.ConsumerARN ?? '';
    return description?.ConsumerStatus === 'ACTIVE';
  });
  return arn;
}

async function createTables(endpoint: string, tables: LocalTable[], timeoutMs: number) {
  const dynamo = dynamoClient(endpoint);
  try {
    await Promise.all(
      tables.map(async (table) => {
        const keys = [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])];
        try {
          await dynamo.send(
            new CreateTableCommand({
              TableName: table.name,
              BillingMode: 'PAY_PER_REQUEST',
              AttributeDefinitions: keys.map((k) => ({
                AttributeName: k.name,
                AttributeType: k.type,
              })),
              KeySchema: keys.map((k, i) => ({
                AttributeName: k.name,
                KeyType: i === 0 ? 'HASH' : 'RANGE',
              })),
            }),
          );
        } catch (error) {
          if (errorName(error) !== 'ResourceInUseException') throw error;
        }
        await waitUntil(`table ${table.name}`, timeoutMs, async () => {
          const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: table.name }));
          return Table?.TableStatus === 'ACTIVE';
        });
      }),
    );
  } finally {
    dynamo.destroy();
  }
}

/** Creates the queues and records any URL or ARN that differs from the model's. */
async function createQueues(endpoint: string, app: LocalApp, replacements: Map<string, string>) {
  const sqs = sqsClient(endpoint);
  try {
    await Promise.all(
      app.queues.map(async (queue) => {
        const fifo = queue.name.endsWith('.fifo');
        const { QueueUrl: url } = await sqs.send(
          new CreateQueueCommand({
            QueueName: queue.name,
            ...(fifo ? { Attributes: { FifoQueue: 'true' } } : {}),
          }),
        );
        if (url === undefined) throw new Error(`CreateQueue ${queue.name} returned no QueueUrl`);
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
        );
        const arn = Attributes?.QueueArn ?? queue.arn;
        if (url !== queue.url) replacements.set(queue.url, url);
        if (arn !== queue.arn) replacements.set(queue.arn, arn);
      }),
    );
  } finally {
    sqs.destroy();
  }
}

async function createBuckets(endpoint: string, app: LocalApp) {
  const s3 = s3Client(endpoint);
  try {
    await Promise.all(
      app.buckets.map(async (bucket) => {
        try {
          await s3.send(new CreateBucketCommand({ Bucket: bucket.name }));
        } catch (error) {
          const name = errorName(error);
          if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
        }
      }),
    );
  } finally {
    s3.destroy();
  }
}

/**
 * Replaces every occurrence of a model value by the server's, everywhere in the app: mappings,
 * consumers and function environments (where a URL may sit inside a longer string).
 */
export function replaceStrings(app: LocalApp, replacements: ReadonlyMap<string, string>): LocalApp {
  if (replacements.size === 0) return app;
  const replace = (value: unknown): unknown => {
    if (typeof value === 'string') {
      let out = value;
      for (const [from, to] of replacements) out = out.split(from).join(to);
      return out;
    }
    if (Array.isArray(value)) return value.map(replace);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replace(v)]));
    }
    return value;
  };
  return replace(app) as LocalApp;
}
