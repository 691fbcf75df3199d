import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordCommand,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
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
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  dynamoClient,
  kinesisClient,
  localAwsEnvironment,
  s3Client,
  sqsClient,
} from '../../emulator/clients';
import { isPortOpen } from '../../emulator/ports';
import { type EmbeddedServers, startServers } from '../../emulator/servers/embedded-servers';
import { type KinesisEngine, startKinesis } from '../../emulator/servers/kinesis-server';

// The integration project's testTimeout is not applied to hooks when jest runs with projects;
// servers and the CDK synth take seconds on a loaded 2-core machine.
jest.setTimeout(60_000);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

async function openPorts(ports: readonly number[]): Promise<number[]> {
  const open = await Promise.all(ports.map((port) => isPortOpen(port)));
  return ports.filter((_port, i) => open[i]);
}

describe.each<KinesisEngine>(['kinesalite', 'kinesis-local'])('startKinesis with %s', (engine) => {
  it('serves a put and a get, and stopping ends the process and frees its ports', async () => {
    // Given
    const started = Date.now();
    const server = await startKinesis({ engine });
    const startupMs = Date.now() - started;
    console.log(`${engine} ready in ${startupMs} ms`);
    const kinesis = kinesisClient(server.endpoint);

    // When
    await kinesis.send(new CreateStreamCommand({ StreamName: 'probe', ShardCount: 1 }));
    await waitUntilStreamExists(
      { client: kinesis, maxWaitTime: 10, minDelay: 1 },
      { StreamName: 'probe' },
    );
    await kinesis.send(
      new PutRecordCommand({ StreamName: 'probe', PartitionKey: 'k', Data: Buffer.from('hello') }),
    );
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: 'probe' }));
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: 'probe',
        ShardId: Shards?.[0]?.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const { Records } = await kinesis.send(new GetRecordsCommand({ ShardIterator }));
    kinesis.destroy();
    await server.stop();

    // Then
    expect(Records?.map((r) => Buffer.from(r.Data ?? []).toString())).toStrictEqual(['hello']);
    expect([server.engine, server.ports.length]).toStrictEqual([
      engine,
      engine === 'kinesis-local' ? 2 : 1,
    ]);
    expect(isAlive(server.pid)).toBe(false);
    expect(await openPorts(server.ports)).toStrictEqual([]);
  });
});

describe('startServers', () => {
  let servers: EmbeddedServers;

  beforeAll(async () => {
    const started = Date.now();
    servers = await startServers();
    console.log(`kinesalite + dynalite + fauxqs ready in ${Date.now() - started} ms (in parallel)`);
  });

  afterAll(() => servers?.stop());

  it('serves DynamoDB on its endpoint', async () => {
    // Given
    const dynamo = dynamoClient(servers.endpoints.dynamodb);

    // When
    await dynamo.send(
      new CreateTableCommand({
        TableName: 'probe',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );
    const { TableNames } = await dynamo.send(new ListTablesCommand({}));
    dynamo.destroy();

    // Then
    expect(TableNames).toStrictEqual(['probe']);
  });

  it('returns queue URLs on the SQS endpoint', async () => {
    // Given
    const sqs = sqsClient(servers.endpoints.sqs);

    // When
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'url-probe' }));
    sqs.destroy();

    // Then
    expect(QueueUrl).toBe(`${servers.endpoints.sqs}/000000000000/url-probe`);
  });

  it('lets default SDK clients configured only by localAwsEnvironment use SQS and S3', async () => {
    // Given: clients as a function process builds them, from AWS_ENDPOINT_URL_* alone
    const { QueueUrl } = await sqsClient(servers.endpoints.sqs).send(
      new CreateQueueCommand({ QueueName: 'env-probe' }),
    );
    await s3Client(servers.endpoints.s3).send(new CreateBucketCommand({ Bucket: 'env-probe' }));
    const saved = { ...process.env };
    Object.assign(process.env, localAwsEnvironment(servers.endpoints));
    const sqs = new SQSClient({ requestHandler: new NodeHttpHandler() });
    const s3 = new S3Client({ requestHandler: new NodeHttpHandler() });

    // When (the SDK reads the environment when it sends, so it stays set until then)
    let received: (string | undefined)[] | undefined;
    let body: string | undefined;
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'dead letter' }));
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }),
      );
      received = Messages?.map((m) => m.Body);
      await s3.send(new PutObjectCommand({ Bucket: 'env-probe', Key: 'k', Body: 'payload' }));
      const object = await s3.send(new GetObjectCommand({ Bucket: 'env-probe', Key: 'k' }));
      body = await object.Body?.transformToString();
    } finally {
      process.env = saved;
      sqs.destroy();
      s3.destroy();
    }

    // Then
    expect([received, body]).toStrictEqual([['dead letter'], 'payload']);
  });
});

describe('process lifetime', () => {
  it('stop() ends every server process and frees every port', async () => {
    // Given
    const servers = await startServers({ kinesisEngine: 'kinesis-local' });
    const portsWhileRunning = await openPorts(servers.ports);

    // When
    await servers.stop();

    // Then
    expect(portsWhileRunning).toStrictEqual([...servers.ports]);
    expect(servers.pids.filter(isAlive)).toStrictEqual([]);
    expect(await openPorts(servers.ports)).toStrictEqual([]);
  });

  it('leaves no server behind when its parent is SIGKILLed', async () => {
    // Given: a parent process (no tsx CLI wrapper, so its pid is the parent's) running all servers
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, '../fixtures/assembly/servers-parent.ts')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: parent.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    const { pids, ports } = JSON.parse(line) as { pids: number[]; ports: number[] };
    const aliveBefore = pids.filter(isAlive);

    // When
    parent.kill('SIGKILL');
    await once(parent, 'exit');
    const allGone = await waitFor(() => pids.every((pid) => !isAlive(pid)), 10_000);

    // Then
    expect(aliveBefore).toStrictEqual(pids);
    expect([allGone, pids.filter(isAlive)]).toStrictEqual([true, []]);
    expect(await openPorts(ports)).toStrictEqual([]);
  });
});
