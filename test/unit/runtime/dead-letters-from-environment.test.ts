import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DeadLetter, deadLettersFromEnvironment } from 'driverless/runtime';

/** A request the fake AWS endpoint received. */
interface Received {
  readonly path: string;
  /** The operation of an AWS JSON request (`AmazonSQS.SendMessageBatch`); absent for S3. */
  readonly target?: string;
  readonly body: string;
}

function letter(data = 'e30='): DeadLetter {
  return {
    id: 'shardId-000000000000:1',
    reason: 'invalid JSON',
    data,
    partitionKey: 'k',
    sequenceNumber: '1',
    shardId: 'shardId-000000000000',
    streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
    arrivedAt: '2026-11-23T19:00:00.000Z',
    approximateArrivalTimestamp: 1_795_460_400,
    functionName: 'fn',
    batchId: 'b',
    deadLetteredAt: '2026-11-23T19:00:01.000Z',
  };
}

// The sinks the environment names make their own SDK clients; these tests point the SDK at a
// local endpoint that answers SQS and S3 the way AWS does, and see where the letters go.
describe('deadLettersFromEnvironment', () => {
  let server: Server;
  let endpoint: string;
  const received: Received[] = [];
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const target = request.headers['x-amz-target'];
        received.push({
          path: request.url ?? '',
          ...(typeof target === 'string' ? { target } : {}),
          body: Buffer.concat(chunks).toString(),
        });
        if (typeof target === 'string') {
          response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
          response.end(JSON.stringify({ Successful: [], Failed: [] }));
        } else {
          response.writeHead(200);
          response.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // A host name, not an address: only with a name would the SDK put the bucket in the host.
    endpoint = `http://localhost:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    received.length = 0;
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL: endpoint,
    });
  });

  afterEach(() => {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('sends letters to the queue it names, on the endpoint even if the queue host does not resolve', async () => {
    // Given
    const sink = deadLettersFromEnvironment({
      DRIVERLESS_DEAD_LETTER_QUEUE_URL: 'https://sqs.nowhere.invalid/000000000000/letters',
      DRIVERLESS_DEAD_LETTER_BUCKET: 'letters-bucket',
    });

    // When
    const undelivered = await sink.send([letter()]);

    // Then
    expect(undelivered).toStrictEqual([]);
    expect(received.map((request) => request.target)).toStrictEqual(['AmazonSQS.SendMessageBatch']);
    expect(JSON.parse(received[0]?.body ?? '{}').QueueUrl).toBe(
      'https://sqs.nowhere.invalid/000000000000/letters',
    );
  });

  it("puts an oversized letter's payload in the bucket it names beside the queue, path-style on the endpoint", async () => {
    // Given
    const sink = deadLettersFromEnvironment({
      DRIVERLESS_DEAD_LETTER_QUEUE_URL: `${endpoint}/000000000000/letters`,
      DRIVERLESS_DEAD_LETTER_BUCKET: 'letters-bucket',
    });

    // When
    const undelivered = await sink.send([letter('A'.repeat(300 * 1024))]);

    // Then: the payload first, then the message naming it
    expect(undelivered).toStrictEqual([]);
    expect(received.map((request) => request.target ?? request.path.split('?')[0])).toStrictEqual([
      expect.stringMatching(/^\/letters-bucket\/dead-letters\/shardId-000000000000\/.*\.json$/),
      'AmazonSQS.SendMessageBatch',
    ]);
  });

  it('writes letters to the bucket it names when it names no queue', async () => {
    // Given
    const sink = deadLettersFromEnvironment({ DRIVERLESS_DEAD_LETTER_BUCKET: 'letters-bucket' });

    // When
    const undelivered = await sink.send([letter()]);

    // Then
    expect(undelivered).toStrictEqual([]);
    expect(received.map((request) => request.path.split('?')[0])).toStrictEqual([
      expect.stringMatching(/^\/letters-bucket\/dead-letters\/shardId-000000000000\/.*\.ndjson$/),
    ]);
  });
});
