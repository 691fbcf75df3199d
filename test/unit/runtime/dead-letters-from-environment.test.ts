import { type DeadLetter, deadLettersFromEnvironment } from 'driverless/runtime';
import {
  type FakeAwsEndpoint,
  fakeAwsEndpoint,
  useEndpoint,
} from '../../fixtures/fake-aws-endpoint';

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
  let endpoint: FakeAwsEndpoint;
  let restore: () => void;

  beforeAll(async () => {
    endpoint = await fakeAwsEndpoint({
      'AmazonSQS.SendMessageBatch': { Successful: [], Failed: [] },
    });
  });
  afterAll(() => endpoint.close());
  beforeEach(() => {
    endpoint.received.length = 0;
    restore = useEndpoint(endpoint.url);
  });
  afterEach(() => restore());

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
    expect(endpoint.received.map((request) => request.target)).toStrictEqual([
      'AmazonSQS.SendMessageBatch',
    ]);
    expect(JSON.parse(endpoint.received[0]?.body ?? '{}').QueueUrl).toBe(
      'https://sqs.nowhere.invalid/000000000000/letters',
    );
  });

  it("puts an oversized letter's payload in the bucket it names beside the queue, path-style on the endpoint", async () => {
    // Given
    const sink = deadLettersFromEnvironment({
      DRIVERLESS_DEAD_LETTER_QUEUE_URL: `${endpoint.url}/000000000000/letters`,
      DRIVERLESS_DEAD_LETTER_BUCKET: 'letters-bucket',
    });

    // When
    const undelivered = await sink.send([letter('A'.repeat(300 * 1024))]);

    // Then: the payload first, then the message naming it
    expect(undelivered).toStrictEqual([]);
    expect(
      endpoint.received.map((request) => request.target ?? request.path.split('?')[0]),
    ).toStrictEqual([
      expect.stringMatching(/^\/letters-bucket\/dead-letters\/shardId-000000000000\/.*\.json$/),
      'AmazonSQS.SendMessageBatch',
    ]);
  });

  it('keeps requests on an endpoint named for SQS and S3 alone', async () => {
    // Given: AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_S3, no AWS_ENDPOINT_URL
    restore();
    restore = useEndpoint(endpoint.url, ['AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_S3']);
    const sink = deadLettersFromEnvironment({
      DRIVERLESS_DEAD_LETTER_QUEUE_URL: 'https://sqs.nowhere.invalid/000000000000/letters',
      DRIVERLESS_DEAD_LETTER_BUCKET: 'letters-bucket',
    });

    // When
    const undelivered = await sink.send([letter('A'.repeat(300 * 1024))]);

    // Then
    expect(undelivered).toStrictEqual([]);
    expect(
      endpoint.received.map((request) => request.target ?? request.path.split('?')[0]),
    ).toStrictEqual([expect.stringMatching(/^\/letters-bucket\//), 'AmazonSQS.SendMessageBatch']);
  });

  it('writes letters to the bucket it names when it names no queue', async () => {
    // Given
    const sink = deadLettersFromEnvironment({ DRIVERLESS_DEAD_LETTER_BUCKET: 'letters-bucket' });

    // When
    const undelivered = await sink.send([letter()]);

    // Then
    expect(undelivered).toStrictEqual([]);
    expect(endpoint.received.map((request) => request.path.split('?')[0])).toStrictEqual([
      expect.stringMatching(/^\/letters-bucket\/dead-letters\/shardId-000000000000\/.*\.ndjson$/),
    ]);
  });
});
