import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
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
import { startDynamo } from '../../emulator/servers/dynamo-server';
import { type EmbeddedServers, startServers } from '../../emulator/servers/embedded-servers';
import { type KinesisEngine, startKinesis } from '../../emulator/servers/kinesis-server';
import { startSqsS3 } from '../../emulator/servers/sqs-s3-server';

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
    expect([server.engine, server.ports.length]).toStrictEqual([engine, 1]);
    expect(isAlive(server.pid)).toBe(false);
    expect(await openPorts(server.ports)).toStrictEqual([]);
  });
});

interface RawAnswer {
  status: number;
  allowOrigin: string | undefined;
}

/** One HTTP request to 127.0.0.1:<port> with exactly the headers given (as a browser would send). */
function rawRequest(
  port: number,
  method: string,
  headers: Record<string, string>,
  body = '',
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, method, path: '/', headers }, (answer) => {
      answer.resume();
      answer.on('end', () =>
        resolve({
          status: answer.statusCode ?? 0,
          allowOrigin: answer.headers['access-control-allow-origin'] as string | undefined,
        }),
      );
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

/** The machine's addresses on other interfaces than loopback, where no emulator may listen. */
function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((address) =>
      address && !address.internal && address.family === 'IPv4' ? [address.address] : [],
    );
}

/** A request each server answers with data when nothing stands in front of it. */
const PROBES = {
  kinesalite: { target: 'Kinesis_20131202.ListStreams' },
  'kinesis-local': { target: 'Kinesis_20131202.ListStreams' },
  dynalite: { target: 'DynamoDB_20120810.ListTables' },
  fauxqs: { target: 'AmazonSQS.ListQueues' },
} as const;

type ProbedServer = keyof typeof PROBES;

interface ProbedRunning {
  port: number;
  ports: readonly number[];
  stop(): Promise<void>;
}

const startProbed: Record<ProbedServer, () => Promise<ProbedRunning>> = {
  kinesalite: async () => withPort(await startKinesis({ engine: 'kinesalite' })),
  'kinesis-local': async () => withPort(await startKinesis({ engine: 'kinesis-local' })),
  dynalite: async () => withPort(await startDynamo()),
  fauxqs: async () => withPort(await startSqsS3()),
};

function withPort(server: { ports: readonly number[]; stop(): Promise<void> }): ProbedRunning {
  return { port: server.ports[0] as number, ports: server.ports, stop: () => server.stop() };
}

describe.each(Object.keys(PROBES) as ProbedServer[])('%s, asked by a web page', (kind) => {
  let server: ProbedRunning;
  const apiHeaders = () => ({
    'Content-Type': 'application/x-amz-json-1.1',
    'X-Amz-Target': PROBES[kind].target,
    Authorization:
      'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0',
    'X-Amz-Date': '20260101T000000Z',
  });

  beforeAll(async () => {
    server = await startProbed[kind]();
  });

  afterAll(() => server?.stop());

  it('answers a program on this machine', async () => {
    // When
    const answer = await rawRequest(
      server.port,
      'POST',
      { ...apiHeaders(), Host: `127.0.0.1:${server.port}` },
      '{}',
    );

    // Then
    expect(answer.status).not.toBe(403);
  });

  it('refuses a request naming another host (DNS rebinding)', async () => {
    // When
    const answer = await rawRequest(
      server.port,
      'POST',
      { ...apiHeaders(), Host: `attacker.example:${server.port}` },
      '{}',
    );

    // Then
    expect(answer).toStrictEqual({ status: 403, allowOrigin: undefined });
  });

  it('refuses a cross-origin text/plain POST', async () => {
    // When
    const answer = await rawRequest(
      server.port,
      'POST',
      {
        ...apiHeaders(),
        'Content-Type': 'text/plain',
        Host: `127.0.0.1:${server.port}`,
        Origin: 'https://attacker.example',
        'Sec-Fetch-Site': 'cross-site',
      },
      '{}',
    );

    // Then
    expect(answer).toStrictEqual({ status: 403, allowOrigin: undefined });
  });

  it('refuses a CORS preflight', async () => {
    // When
    const answer = await rawRequest(server.port, 'OPTIONS', {
      Host: `localhost:${server.port}`,
      Origin: 'https://attacker.example',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'x-amz-target,content-type',
    });

    // Then
    expect(answer).toStrictEqual({ status: 403, allowOrigin: undefined });
  });

  const external = externalAddresses();
  (external.length > 0 ? it : it.skip)('listens on no other interface', async () => {
    // When
    const open = await Promise.all(
      external.flatMap((address) => server.ports.map((port) => isPortOpen(port, address))),
    );

    // Then
    expect(open.filter(Boolean)).toStrictEqual([]);
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
