import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceEndpoints } from '../clients';
import { type DynamoServer, startDynamo } from './dynamo-server';
import { type KinesisEngine, type KinesisServer, startKinesis } from './kinesis-server';
import { type SqsS3Server, startSqsS3 } from './sqs-s3-server';

/** Every API server of the embedded stack, each in its own process. */
export interface EmbeddedServers {
  readonly kinesis: KinesisServer;
  readonly dynamo: DynamoServer;
  readonly sqsS3: SqsS3Server;
  /** Endpoints of the running servers (no `lambda`: the Invoke API is served elsewhere). */
  readonly endpoints: ServiceEndpoints;
  /** Child process ids of all servers. */
  readonly pids: readonly number[];
  /** Every port the servers listen on. */
  readonly ports: readonly number[];
  /** Stops all servers in parallel; resolves once every process has exited. */
  stop(): Promise<void>;
}

export interface StartServersOptions {
  /** @default 'kinesalite' */
  kinesisEngine?: KinesisEngine;
  /**
   * Absolute directory for state that survives restarts: `kinesis/` and `dynamodb/` below it.
   * fauxqs (SQS, S3) always runs in memory. @default - everything in memory
   */
  dataDir?: string;
  onOutput?: (server: string, chunk: string) => void;
}

/**
 * Starts Kinesis, DynamoDB and SQS/S3 in parallel. If any fails, the others are stopped
 * before the error is rethrown, so a failed start leaves no process behind.
 */
export async function startServers(options: StartServersOptions = {}): Promise<EmbeddedServers> {
  const { dataDir, onOutput } = options;
  const kinesisDir = dataDir === undefined ? undefined : join(dataDir, 'kinesis');
  const dynamoDir = dataDir === undefined ? undefined : join(dataDir, 'dynamodb');
  await Promise.all(
    [kinesisDir, dynamoDir].flatMap((dir) => (dir ? [mkdir(dir, { recursive: true })] : [])),
  );
  const output = (server: string) =>
    onOutput === undefined ? {} : { onOutput: (chunk: string) => onOutput(server, chunk) };
  const started = await Promise.allSettled([
    startKinesis({
      engine: options.kinesisEngine ?? 'kinesalite',
      ...(kinesisDir === undefined ? {} : { dataDir: kinesisDir }),
      ...output('kinesis'),
    }),
    startDynamo({
      ...(dynamoDir === undefined ? {} : { dataDir: dynamoDir }),
      ...output('dynamodb'),
    }),
    startSqsS3(output('sqs-s3')),
  ]);
  const [kinesis, dynamo, sqsS3] = started;
  if (
    kinesis.status !== 'fulfilled' ||
    dynamo.status !== 'fulfilled' ||
    sqsS3.status !== 'fulfilled'
  ) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    const reasons = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
    throw new Error(`embedded servers failed to start:\n${reasons.join('\n')}`);
  }
  const servers = [kinesis.value, dynamo.value, sqsS3.value];
  return {
    kinesis: kinesis.value,
    dynamo: dynamo.value,
    sqsS3: sqsS3.value,
    endpoints: {
      kinesis: kinesis.value.endpoint,
      dynamodb: dynamo.value.endpoint,
      sqs: sqsS3.value.endpoint,
      s3: sqsS3.value.endpoint,
    },
    pids: servers.map((s) => s.pid),
    ports: servers.flatMap((s) => s.ports),
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}
