import {
  ConfigurationError,
  type DeadLetter,
  type DeadLetterSink,
  json,
  memoryDeadLetters,
  microBatch,
  utf8,
} from 'driverless/runtime';
import { z } from 'zod';
import {
  kinesisEvent,
  lambdaContext,
  SHARD_ID,
  STREAM_ARN,
  sequenceNumber,
} from '../../fixtures/kinesis-events';

const View = z.object({ userId: z.string(), ts: z.number() });
const base64 = (text: string | Buffer) => Buffer.from(text).toString('base64');

describe('decode failures', () => {
  const poison: [string, string, string][] = [
    ['bad base64', 'e30!=', 'invalid base64'],
    [
      'bad UTF-8',
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]).toString('base64'),
      'invalid UTF-8',
    ],
    ['bad JSON', base64('{"userId": "u1",'), 'invalid JSON'],
    ['a schema violation', base64('{"userId": 7, "ts": 1}'), 'schema: userId:'],
  ];

  it.each(poison)(
    'routes %s to dead letters with its reason, payload and origin',
    async (_name, raw, reason) => {
      // Given
      const sink = memoryDeadLetters();
      const seen: unknown[] = [];
      const handler = microBatch({
        decode: json(View),
        deadLetters: sink,
        jobs: { collect: ({ records }) => void seen.push(...records.map((r) => r.data)) },
      });
      const event = kinesisEvent([
        { data: { userId: 'u1', ts: 1 } },
        { raw, partitionKey: 'poison-key' },
        { data: { userId: 'u2', ts: 2 } },
      ]);

      // When
      const response = await handler(event, lambdaContext({ functionName: 'views-fn' }));

      // Then: the batch succeeds, jobs see only the good records, the bad one is kept whole
      expect(response).toStrictEqual({ batchItemFailures: [] });
      expect(seen).toStrictEqual([
        { userId: 'u1', ts: 1 },
        { userId: 'u2', ts: 2 },
      ]);
      expect(sink.letters).toHaveLength(1);
      const [letter] = sink.letters;
      expect(letter).toMatchObject({
        id: `${SHARD_ID}:${sequenceNumber(10)}`,
        data: raw,
        partitionKey: 'poison-key',
        sequenceNumber: sequenceNumber(10),
        shardId: SHARD_ID,
        streamArn: STREAM_ARN,
        arrivedAt: '2023-11-14T22:13:20.123Z',
        approximateArrivalTimestamp: 1_700_000_000.123,
      });
      expect(letter?.reason).toContain(reason);
      expect(letter?.batchId).toMatch(/^[0-9a-f]{32}$/);
    },
  );

  it('accepts valid UTF-8 that contains the replacement character itself', async () => {
    // Given
    const sink = memoryDeadLetters();
    const seen: string[] = [];
    const handler = microBatch({
      decode: utf8(),
      deadLetters: sink,
      jobs: { collect: ({ records }) => void seen.push(...records.map((r) => r.data)) },
    });

    // When
    await handler(kinesisEvent([{ raw: base64('a \uFFFD b') }]), lambdaContext());

    // Then
    expect(seen).toStrictEqual(['a \uFFFD b']);
    expect(sink.letters).toHaveLength(0);
  });

  it('hands a custom decoder the raw bytes and dead-letters what it throws', async () => {
    // Given
    const sink = memoryDeadLetters();
    const handler = microBatch({
      decode: (bytes: Uint8Array) => {
        if (bytes[0] !== 0x01) throw new Error(`unknown version ${bytes[0]}`);
        return bytes.length;
      },
      deadLetters: sink,
      jobs: { a: async () => undefined },
    });

    // When
    await handler(
      kinesisEvent([{ raw: base64(Buffer.from([1, 2])) }, { raw: base64(Buffer.from([9])) }]),
      lambdaContext(),
    );

    // Then
    expect(sink.letters.map((letter) => letter.reason)).toStrictEqual(['unknown version 9']);
  });

  it('fails the batch at the undelivered dead letter when the sink cannot take it', async () => {
    // Given: a sink that delivers nothing
    const failingSink: DeadLetterSink = { send: async (letters: readonly DeadLetter[]) => letters };
    const handler = microBatch({
      decode: json(View),
      deadLetters: failingSink,
      jobs: { a: async () => undefined },
    });
    const event = kinesisEvent([
      { data: { userId: 'u1', ts: 1 } },
      { raw: base64('nope') },
      { raw: base64('{') },
    ]);

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
  });

  it('fails the batch when the sink throws', async () => {
    // Given
    const throwingSink: DeadLetterSink = {
      send: async () => {
        throw new Error('network down');
      },
    };
    const handler = microBatch({
      decode: json(View),
      deadLetters: throwingSink,
      jobs: { a: async () => undefined },
    });

    // When
    const response = await handler(kinesisEvent([{ raw: base64('{') }]), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }] });
  });

  it("sends all of a batch's dead letters in one call", async () => {
    // Given
    const calls: number[] = [];
    const handler = microBatch({
      decode: json(View),
      deadLetters: {
        send: async (letters) => {
          calls.push(letters.length);
          return [];
        },
      },
      jobs: { a: async () => undefined },
    });

    // When
    await handler(
      kinesisEvent([{ raw: base64('{') }, { raw: base64('[') }, { raw: base64('x') }]),
      lambdaContext(),
    );

    // Then
    expect(calls).toStrictEqual([3]);
  });

  it('fails at cold start if no dead-letter destination is configured', () => {
    // Given
    delete process.env.DRIVERLESS_DEAD_LETTER_QUEUE_URL;
    delete process.env.DRIVERLESS_DEAD_LETTER_BUCKET;

    // When / Then
    expect(() => microBatch({ decode: json(View), jobs: { a: async () => undefined } })).toThrow(
      ConfigurationError,
    );
    expect(() => microBatch({ decode: json(View), jobs: { a: async () => undefined } })).toThrow(
      /set DRIVERLESS_DEAD_LETTER_QUEUE_URL, DRIVERLESS_DEAD_LETTER_BUCKET or DRIVERLESS_DEAD_LETTER_FILE/,
    );
  });
});
