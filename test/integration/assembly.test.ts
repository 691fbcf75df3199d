import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
} from '@aws-sdk/client-kinesis';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { readAssembly } from '../../emulator/assembly';
import { dynamoClient, kinesisClient, s3Client, sqsClient } from '../../emulator/clients';
import { executionRoleArn } from '../../emulator/embedded-stack';
import type { LocalApp } from '../../emulator/model';
import { provision } from '../../emulator/provision';
import { type EmbeddedServers, startServers } from '../../emulator/servers/embedded-servers';
import { FIXTURE_STACK, VIEW_FILTER } from '../fixtures/assembly/fixture-app';

const ACCOUNT = '000000000000';

// The integration project's testTimeout is not applied to hooks when jest runs with projects;
// servers and the CDK synth take seconds on a loaded 2-core machine.
jest.setTimeout(60_000);

const execFileAsync = promisify(execFile);

let outdir: string;

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'driverless-assembly-'));
  const started = Date.now();
  await execFileAsync(process.execPath, [
    '--import',
    'tsx',
    join(__dirname, '../fixtures/assembly/synth-fixture.ts'),
    outdir,
  ]);
  console.log(`fixture app synthesized in ${Date.now() - started} ms`);
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** The one element of `items`, failing the test if there is not exactly one. */
function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

/** Logical ids carry CDK's hash suffix; tests match on the construct id prefix. */
function byLogicalId<T extends { logicalId: string }>(items: T[], prefix: string): T {
  return only(items.filter((item) => item.logicalId.startsWith(prefix)));
}

describe('readAssembly', () => {
  let app: LocalApp;

  beforeAll(() => {
    app = readAssembly(outdir, { sqsEndpoint: 'http://127.0.0.1:4566' });
  });

  it('reads the stream with its shard count, retention and CDK default encryption', () => {
    // Given / When
    const stream = only(app.streams);

    // Then
    expect(stream).toStrictEqual({
      logicalId: expect.stringMatching(/^Events/),
      name: expect.stringMatching(/^assemblyfixture-events[0-9a-f]{8}$/),
      arn: expect.stringMatching(
        /^arn:aws:kinesis:us-east-1:000000000000:stream\/assemblyfixture-events/,
      ),
      shardCount: 2,
      retentionHours: 48,
      encryption: 'KMS',
    });
  });

  it('reads the consumer on the stream', () => {
    // Given / When
    const consumer = only(app.consumers);

    // Then
    expect(consumer.name).toBe('fanout');
    expect(consumer.streamArn).toBe(only(app.streams).arn);
    expect(consumer.arn).toMatch(new RegExp(`^${consumer.streamArn}/consumer/fanout:\\d+$`));
  });

  it('reads the table keys', () => {
    // Given / When
    const table = only(app.tables);

    // Then
    expect([table.partitionKey, table.sortKey]).toStrictEqual([
      { name: 'pk', type: 'S' },
      { name: 'sk', type: 'N' },
    ]);
  });

  it('reads the queue with a URL on the given SQS endpoint, and the named bucket', () => {
    // Given / When
    const queue = only(app.queues);
    const bucket = only(app.buckets);

    // Then
    expect(queue.url).toBe(`http://127.0.0.1:4566/${ACCOUNT}/${queue.name}`);
    expect(queue.arn).toBe(`arn:aws:sqs:us-east-1:${ACCOUNT}:${queue.name}`);
    expect(bucket).toStrictEqual({
      logicalId: expect.stringMatching(/^Archive/),
      name: 'assembly-fixture-archive',
      arn: 'arn:aws:s3:::assembly-fixture-archive',
    });
  });

  it('reads the function with its bundle, settings, resolved environment and alias', () => {
    // Given / When
    const fn = only(app.functions);

    // Then
    expect(existsSync(join(fn.codeDirectory, 'index.js'))).toBe(true);
    expect(fn).toStrictEqual({
      logicalId: expect.stringMatching(/^Handler/),
      name: expect.stringMatching(/^assemblyfixture-handler/),
      arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${fn.name}`,
      codeDirectory: expect.stringContaining(outdir),
      handler: 'index.handler',
      timeoutSeconds: 10,
      memoryMb: 256,
      reservedConcurrency: 5,
      environment: {
        TABLE_NAME: only(app.tables).name,
        DEAD_LETTER_QUEUE_URL: only(app.queues).url,
        ARCHIVE_BUCKET: 'assembly-fixture-archive',
        STREAM_ARN: only(app.streams).arn,
      },
      aliases: ['live'],
      roleArn: expect.any(String),
    });
  });

  it("reads the function's execution role ARN from the template's role resource", () => {
    // Given / When
    const fn = only(app.functions);

    // Then: the role CDK made for the function, not a name derived from the function's
    expect(fn.roleArn).toMatch(
      new RegExp(`^arn:aws:iam::${ACCOUNT}:role/assemblyfixture-handlerservicerole`),
    );
  });

  it("gives the mappings the function's execution role as their invoke identity", () => {
    // Given
    const fn = only(app.functions);

    // When
    const identities = app.mappings.map((mapping) => executionRoleArn(app, mapping));

    // Then
    expect(identities).toStrictEqual(app.mappings.map(() => fn.roleArn));
  });

  it('reads the alias mapping with its properties, qualifier and on-failure queue', () => {
    // Given / When
    const mapping = byLogicalId(app.mappings, 'Live');

    // Then
    expect(mapping).toStrictEqual({
      logicalId: mapping.logicalId,
      uuid: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
      functionName: only(app.functions).name,
      functionQualifier: 'live',
      eventSourceArn: only(app.streams).arn,
      streamArn: only(app.streams).arn,
      batchSize: 50,
      maximumBatchingWindowSeconds: 0,
      parallelizationFactor: 2,
      startingPosition: 'TRIM_HORIZON',
      maximumRetryAttempts: 3,
      maximumRecordAgeSeconds: 300,
      bisectBatchOnFunctionError: true,
      reportBatchItemFailures: true,
      tumblingWindowSeconds: 0,
      filters: [JSON.stringify(VIEW_FILTER)],
      onFailure: { kind: 'sqs', arn: only(app.queues).arn },
      enabled: true,
      metricsEventCount: false,
    });
  });

  it('applies AWS defaults to the consumer mapping', () => {
    // Given / When
    const mapping = byLogicalId(app.mappings, 'HandlerKinesisConsumer');

    // Then
    expect(mapping).toMatchObject({
      functionName: only(app.functions).name,
      eventSourceArn: only(app.consumers).arn,
      consumerArn: only(app.consumers).arn,
      streamArn: only(app.streams).arn,
      batchSize: 100,
      parallelizationFactor: 1,
      startingPosition: 'LATEST',
      maximumRetryAttempts: -1,
      maximumRecordAgeSeconds: -1,
      bisectBatchOnFunctionError: false,
      reportBatchItemFailures: false,
      filters: [],
    });
    expect(mapping.functionQualifier).toBeUndefined();
  });

  it('gives the same mapping UUIDs on every read', () => {
    // Given / When
    const again = readAssembly(outdir);

    // Then
    expect(again.mappings.map((m) => m.uuid)).toStrictEqual(app.mappings.map((m) => m.uuid));
  });

  it('lists the resource types it does not run', () => {
    // Given / When
    const types = new Set(app.skipped.map((s) => s.type));

    // Then
    expect([...types].sort()).toStrictEqual(['AWS::IAM::Policy', 'AWS::IAM::Role']);
  });

  it('fails if the stack is not in the assembly', () => {
    // Given / When / Then
    expect(() => readAssembly(outdir, { stackName: 'Nope' })).toThrow(
      `stack "Nope" is not in ${outdir} (stacks: ${FIXTURE_STACK})`,
    );
  });
});

describe.each(['kinesis-local', 'kinesalite'] as const)('provision on %s', (engine) => {
  let servers: EmbeddedServers;
  let app: LocalApp;

  beforeAll(async () => {
    servers = await startServers({ kinesisEngine: engine });
    app = readAssembly(outdir, { sqsEndpoint: servers.endpoints.sqs });
  });

  afterAll(() => servers?.stop());

  it('creates every resource, and a second run keeps them', async () => {
    // Given
    const target = { endpoints: servers.endpoints, kinesisFeatures: servers.kinesis.features };
    const kinesis = kinesisClient(servers.endpoints.kinesis);
    const dynamo = dynamoClient(servers.endpoints.dynamodb);
    const sqs = sqsClient(servers.endpoints.sqs);
    const s3 = s3Client(servers.endpoints.s3);

    // When
    const first = await provision(app, target);
    const second = await provision(app, target);
    const stream = only(first.app.streams);
    const { StreamDescriptionSummary: summary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: stream.name }),
    );
    const { Table } = await dynamo.send(
      new DescribeTableCommand({ TableName: only(app.tables).name }),
    );
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: only(first.app.queues).url,
        AttributeNames: ['QueueArn'],
      }),
    );
    const bucket = await s3.send(new HeadBucketCommand({ Bucket: only(app.buckets).name }));
    [kinesis, dynamo, sqs, s3].forEach((client) => void client.destroy());

    // Then
    expect(second.app).toStrictEqual(first.app);
    expect(summary).toMatchObject({
      StreamARN: stream.arn,
      StreamStatus: 'ACTIVE',
      OpenShardCount: 2,
      RetentionPeriodHours: 48,
    });
    expect(Table?.KeySchema).toStrictEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Attributes?.QueueArn).toBe(only(first.app.queues).arn);
    expect(first.app.queues).toStrictEqual(app.queues);
    expect(bucket.$metadata.httpStatusCode).toBe(200);
  });

  if (engine === 'kinesis-local') {
    it('registers the consumer, encrypts the stream, and puts the real consumer ARN in the model', async () => {
      // Given
      const kinesis = kinesisClient(servers.endpoints.kinesis);
      const target = { endpoints: servers.endpoints, kinesisFeatures: servers.kinesis.features };

      // When
      const { app: provisioned, emulatedConsumers } = await provision(app, target);
      const consumer = only(provisioned.consumers);
      const { ConsumerDescription } = await kinesis.send(
        new DescribeStreamConsumerCommand({
          StreamARN: consumer.streamArn,
          ConsumerName: 'fanout',
        }),
      );
      const { StreamDescriptionSummary } = await kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: only(app.streams).name }),
      );
      kinesis.destroy();

      // Then
      expect(emulatedConsumers).toStrictEqual([]);
      expect(consumer.arn).toBe(ConsumerDescription?.ConsumerARN);
      expect(byLogicalId(provisioned.mappings, 'HandlerKinesisConsumer').eventSourceArn).toBe(
        consumer.arn,
      );
      expect(StreamDescriptionSummary?.EncryptionType).toBe('KMS');
    });
  } else {
    it('records the consumer as emulated and encryption as a local no-op', async () => {
      // Given
      const target = { endpoints: servers.endpoints, kinesisFeatures: servers.kinesis.features };

      // When
      const { app: provisioned, notes, emulatedConsumers } = await provision(app, target);

      // Then
      expect(emulatedConsumers).toStrictEqual([only(app.consumers).arn]);
      expect(provisioned.consumers).toStrictEqual(app.consumers);
      expect(notes).toStrictEqual([
        expect.stringContaining('KMS encryption is a no-op'),
        expect.stringContaining('consumer fanout'),
      ]);
    });
  }
});
