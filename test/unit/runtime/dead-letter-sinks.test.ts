import { type SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type DeadLetter,
  deadLettersFromEnvironment,
  fileDeadLetters,
  sqsDeadLetters,
} from 'driverless/runtime';

function letter(n: number, data = 'e30='): DeadLetter {
  return {
    id: `shardId-000000000000:${n}`,
    reason: 'invalid JSON',
    data,
    partitionKey: 'k',
    sequenceNumber: String(n),
    shardId: 'shardId-000000000000',
    streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/s',
    arrivedAt: '2026-11-23T19:00:00.000Z',
    approximateArrivalTimestamp: 1_795_460_400,
    batchId: 'b',
    deadLetteredAt: '2026-11-23T19:00:01.000Z',
  };
}

describe('sqsDeadLetters', () => {
  const client = new SQSClient({ region: 'us-east-1' });
  afterEach(() => jest.restoreAllMocks());

  it('sends letters in batches of at most ten messages, each the letter as JSON', async () => {
    // Given
    const send = jest
      .spyOn(client, 'send')
      .mockImplementation(async () => ({ Successful: [], Failed: [] }));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });

    // When
    const undelivered = await sink.send(Array.from({ length: 23 }, (_, n) => letter(n)));

    // Then
    expect(undelivered).toStrictEqual([]);
    const batches = send.mock.calls.map(
      ([command]) => (command as SendMessageBatchCommand).input.Entries ?? [],
    );
    expect(batches.map((entries) => entries.length)).toStrictEqual([10, 10, 3]);
    expect(JSON.parse(batches[0]?.[0]?.MessageBody ?? '')).toStrictEqual(letter(0));
  });

  it('retries entries SQS rejected once, and returns those still rejected', async () => {
    // Given: entry 1 fails both times, entry 0 only the first time
    const send = jest
      .spyOn(client, 'send')
      .mockImplementationOnce(async () => ({ Failed: [{ Id: '0' }, { Id: '1' }] }))
      .mockImplementationOnce(async () => ({ Failed: [{ Id: '1' }] }));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });

    // When
    const undelivered = await sink.send([letter(0), letter(1), letter(2)]);

    // Then
    expect(send).toHaveBeenCalledTimes(2);
    expect(undelivered.map((l) => l.id)).toStrictEqual(['shardId-000000000000:1']);
  });

  it('fails with the service error when SQS cannot be reached', async () => {
    // Given
    jest.spyOn(client, 'send').mockImplementation(async () => {
      throw new Error('connect ECONNREFUSED');
    });
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });

    // When / Then
    await expect(sink.send([letter(0)])).rejects.toThrow('ECONNREFUSED');
  });

  it('does not deliver a letter too large for SQS when there is no overflow bucket', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });
    const huge = letter(0, 'A'.repeat(300 * 1024));

    // When
    const undelivered = await sink.send([huge, letter(1)]);

    // Then
    expect(undelivered).toStrictEqual([huge]);
    expect(send).toHaveBeenCalledTimes(1);
  });
});

describe('fileDeadLetters', () => {
  it('appends each letter as one JSON line', async () => {
    // Given
    const { mkdtemp, readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const path = join(await mkdtemp(join(tmpdir(), 'dl-')), 'letters.ndjson');
    const sink = fileDeadLetters(path);

    // When
    await sink.send([letter(0)]);
    await sink.send([letter(1), letter(2)]);

    // Then
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as DeadLetter).sequenceNumber)).toStrictEqual([
      '0',
      '1',
      '2',
    ]);
  });

  it('is what the environment names with DRIVERLESS_DEAD_LETTER_FILE', () => {
    expect(
      deadLettersFromEnvironment({ DRIVERLESS_DEAD_LETTER_FILE: '/tmp/x.ndjson' }),
    ).toBeDefined();
  });
});
