/**
 * The chaos handler's DynamoDB retries: a dropped connection is retried as the SDK's default
 * strategy would, and a server's error (what the fault proxy injects) is not.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { networkRetries } from '../fixtures/chaos/network-retries';

type Answer = 'drop' | 200 | 500 | 502;

let server: Server;
let requests: number;
let answers: Answer[];

beforeEach(async () => {
  requests = 0;
  server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const answer = answers[requests] ?? 200;
      requests += 1;
      if (answer === 'drop') {
        request.socket.destroy();
        return;
      }
      response.writeHead(answer, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(
        answer === 200
          ? '{}'
          : '{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected"}',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function getItem(): Promise<'ok' | string> {
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retryStrategy: networkRetries(),
  });
  try {
    await client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'k' } } }));
    return 'ok';
  } catch (error) {
    return (error as Error).name;
  } finally {
    client.destroy();
  }
}

describe('networkRetries', () => {
  it('retries a request whose connection was dropped', async () => {
    // Given
    answers = ['drop', 200];

    // When
    const outcome = await getItem();

    // Then
    expect({ outcome, requests }).toStrictEqual({ outcome: 'ok', requests: 2 });
  });

  it("retries a gateway's 502", async () => {
    // Given
    answers = [502, 200];

    // When
    const outcome = await getItem();

    // Then
    expect({ outcome, requests }).toStrictEqual({ outcome: 'ok', requests: 2 });
  });

  it('gives up after three attempts, as the SDK does by default', async () => {
    // Given
    answers = ['drop', 'drop', 'drop', 200];

    // When
    const outcome = await getItem();

    // Then
    expect({ failed: outcome !== 'ok', requests }).toStrictEqual({ failed: true, requests: 3 });
  });

  it("fails at once on a server's 500, as the fault proxy injects it", async () => {
    // Given
    answers = [500, 200];

    // When
    const outcome = await getItem();

    // Then
    expect({ outcome, requests }).toStrictEqual({ outcome: 'InternalServerError', requests: 1 });
  });
});
