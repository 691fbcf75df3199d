import { connect } from 'node:http2';
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../emulator/clients';
import { FunctionHost } from '../../emulator/functions';
import { startLambdaApi } from '../../emulator/lambda-api';
import { startDynamo } from '../../emulator/servers/dynamo-server';
import { type KinesisServer, startKinesis } from '../../emulator/servers/kinesis-server';
import { startSqsS3 } from '../../emulator/servers/sqs-s3-server';
import { localFunction } from '../fixtures/function-host/local-function';

// Servers start in child processes; on a loaded 2-core machine that takes seconds.
jest.setTimeout(60_000);

/**
 * What a user writes: endpoint, region and credentials, and nothing else (no requestHandler). The
 * Kinesis client then speaks HTTP/2 (cleartext, prior knowledge); the others HTTP/1.1.
 */
function plain(endpoint: string) {
  return { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
}

async function createStream(kinesis: KinesisClient, name: string): Promise<string> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  await waitUntilStreamExists({ client: kinesis, maxWaitTime: 30 }, { StreamName: name });
  const shards = await kinesis.send(new ListShardsCommand({ StreamName: name }));
  return shards.Shards?.[0]?.ShardId as string;
}

/** One HTTP/2 request with exactly the headers given; resolves with the status. */
function http2Status(endpoint: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const session = connect(endpoint);
    session.on('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': '/', ...headers });
    stream.on('response', (answer) => {
      resolve(Number(answer[':status']));
      stream.resume();
      stream.on('end', () => session.close());
    });
    stream.on('error', reject);
    stream.end('{}');
  });
}

describe.each(['kinesalite', 'kinesis-local'] as const)(
  'a default KinesisClient on %s',
  (engine) => {
    let server: KinesisServer;
    let kinesis: KinesisClient;
    beforeAll(async () => {
      server = await startKinesis({ engine });
      kinesis = new KinesisClient(plain(server.endpoint));
    });
    afterAll(async () => {
      kinesis?.destroy();
      await server?.stop();
    });

    it('puts and gets records with many requests in flight on one HTTP/2 session', async () => {
      // Given
      const shardId = await createStream(kinesis, 'plain');
      // When: 50 concurrent calls (kinesis-local's own HTTP/2 dies past about 5 streams per session)
      const puts = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          kinesis.send(
            new PutRecordsCommand({
              StreamName: 'plain',
              Records: [{ Data: Buffer.from(`r${i}`), PartitionKey: `k${i}` }],
            }),
          ),
        ),
      );
      const iterator = await kinesis.send(
        new GetShardIteratorCommand({
          StreamName: 'plain',
          ShardId: shardId,
          ShardIteratorType: 'TRIM_HORIZON',
        }),
      );
      const got = await kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator.ShardIterator as string }),
      );
      // Then
      expect(puts.filter((put) => put.status === 'rejected')).toStrictEqual([]);
      expect(got.Records).toHaveLength(50);
    });

    it('refuses an HTTP/2 request naming another host (DNS rebinding)', async () => {
      // Given
      const foreign = {
        ':authority': 'attacker.example',
        'x-amz-target': 'Kinesis_20131202.ListStreams',
      };
      // When
      const status = await http2Status(server.endpoint, foreign);
      // Then
      expect(status).toBe(403);
    });

    it('refuses an HTTP/2 request from a browser origin', async () => {
      // Given
      const fromPage = {
        origin: 'https://attacker.example',
        'x-amz-target': 'Kinesis_20131202.ListStreams',
      };
      // When
      const status = await http2Status(server.endpoint, fromPage);
      // Then
      expect(status).toBe(403);
    });
  },
);

describe('a default KinesisClient on kinesis-local', () => {
  let server: KinesisServer;
  let kinesis: KinesisClient;
  beforeAll(async () => {
    server = await startKinesis({ engine: 'kinesis-local' });
    kinesis = new KinesisClient(plain(server.endpoint));
  });
  afterAll(async () => {
    kinesis?.destroy();
    await server?.stop();
  });

  it('receives records through SubscribeToShard (enhanced fan-out over HTTP/2)', async () => {
    // Given
    const shardId = await createStream(kinesis, 'fanout');
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: 'fanout' }));
    const consumer = await kinesis.send(
      new RegisterStreamConsumerCommand({
        StreamARN: summary.StreamDescriptionSummary?.StreamARN as string,
        ConsumerName: 'plain-client',
      }),
    );
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'fanout',
        Records: ['a', 'b', 'c'].map((data) => ({ Data: Buffer.from(data), PartitionKey: data })),
      }),
    );
    // When
    const subscription = await kinesis.send(
      new SubscribeToShardCommand({
        ConsumerARN: consumer.Consumer?.ConsumerARN as string,
        ShardId: shardId,
        StartingPosition: { Type: 'TRIM_HORIZON' },
      }),
    );
    const received: string[] = [];
    for await (const event of subscription.EventStream ?? []) {
      for (const record of event.SubscribeToShardEvent?.Records ?? []) {
        received.push(Buffer.from(record.Data ?? []).toString('utf8'));
      }
      if (received.length >= 3) break;
    }
    // Then
    expect(received).toStrictEqual(['a', 'b', 'c']);
  });
});

describe('default clients of the other embedded services', () => {
  it('a default DynamoDBClient writes and reads an item', async () => {
    // Given
    const server = await startDynamo();
    const dynamo = new DynamoDBClient(plain(server.endpoint));
    try {
      await dynamo.send(
        new CreateTableCommand({
          TableName: 'plain',
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
      // When
      await dynamo.send(new PutItemCommand({ TableName: 'plain', Item: { id: { S: 'a' } } }));
      const got = await dynamo.send(
        new GetItemCommand({ TableName: 'plain', Key: { id: { S: 'a' } } }),
      );
      // Then
      expect(got.Item).toStrictEqual({ id: { S: 'a' } });
    } finally {
      dynamo.destroy();
      await server.stop();
    }
  });

  it('default SQSClient and S3Client (path style) send, receive, put and get', async () => {
    // Given
    const server = await startSqsS3();
    const sqs = new SQSClient(plain(server.endpoint));
    // `<bucket>.127.0.0.1` is not a host name: S3 needs path-style addressing, nothing else.
    const s3 = new S3Client({ ...plain(server.endpoint), forcePathStyle: true });
    try {
      const queue = await sqs.send(new CreateQueueCommand({ QueueName: 'plain' }));
      await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
      // When
      await sqs.send(new SendMessageCommand({ QueueUrl: queue.QueueUrl, MessageBody: 'hello' }));
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.QueueUrl }));
      await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'body' }));
      const object = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k' }));
      // Then
      expect(received.Messages?.map((message) => message.Body)).toStrictEqual(['hello']);
      expect(await object.Body?.transformToString()).toBe('body');
    } finally {
      sqs.destroy();
      s3.destroy();
      await server.stop();
    }
  });

  it('a default LambdaClient invokes a function through the Lambda API', async () => {
    // Given
    const host = new FunctionHost([localFunction('echo', 'index.echo')]);
    const api = await startLambdaApi({ host });
    const lambda = new LambdaClient(plain(api.endpoint));
    try {
      // When
      const output = await lambda.send(
        new InvokeCommand({ FunctionName: 'echo', Payload: JSON.stringify({ n: 1 }) }),
      );
      // Then
      expect(output.FunctionError).toBeUndefined();
      const payload = JSON.parse(Buffer.from(output.Payload ?? []).toString('utf8'));
      expect(payload.event).toStrictEqual({ n: 1 });
    } finally {
      lambda.destroy();
      await api.close();
      await host.stop();
    }
  });
});
