import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  ConfigurationError,
  type DeadLetter,
  type DeadLetterSink,
  json,
  memoryDeadLetters,
  microBatch,
  sqsDeadLetters,
  utf8,
} from 'driverless/runtime';
import { z } from 'zod';
import { letterIdOf } from '../../../functions/runtime/dead-letter';
import {
  kinesisEvent,
  lambdaContext,
  SHARD_ID,
  STREAM_ARN,
  sequenceNumber,
} from '../../fixtures/kinesis-events';
import { withLogs } from '../../fixtures/runtime-logs';

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
      // Only a KPL sub-record's letter has one.
      expect(letter).not.toHaveProperty('subSequenceNumber');
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
      'no dead-letter destination: set DRIVERLESS_DEAD_LETTER_QUEUE_URL, DRIVERLESS_DEAD_LETTER_BUCKET or DRIVERLESS_DEAD_LETTER_FILE (MicroBatchPipeline sets them), or pass `deadLetters` to microBatch()',
    );
  });
});

describe('dead-letter delivery', () => {
  const event = () =>
    kinesisEvent([
      { data: { userId: 'u1', ts: 1 } },
      { raw: base64('{') },
      { data: { userId: 'u2', ts: 2 } },
    ]);
  const twoBad = () =>
    kinesisEvent([
      { data: { userId: 'u1', ts: 1 } },
      { raw: base64('{') },
      { data: { userId: 'u2', ts: 2 } },
      { raw: base64('[') },
    ]);

  it('fails the batch at the letter, after running the jobs, when send throws synchronously', async () => {
    // Given
    const seen: string[] = [];
    const sink: DeadLetterSink = {
      send: () => {
        throw new Error('sink misconfigured');
      },
    };

    // When
    const { result, logs } = await withLogs(
      () =>
        microBatch({
          decode: json(View),
          deadLetters: sink,
          jobs: { a: async ({ records }) => void seen.push(...records.map((r) => r.data.userId)) },
        }),
      event(),
      lambdaContext(),
    );

    // Then
    expect(result).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
    expect(seen).toStrictEqual(['u1', 'u2']);
    expect(logs.find((line) => line.level === 'ERROR')).toMatchObject({
      message: 'dead letters could not be delivered; the batch is reported failed',
      batchId: expect.stringMatching(/^[0-9a-f]{32}$/),
      deadLetters: 1,
      fromSequenceNumber: sequenceNumber(10),
      error: 'Error: sink misconfigured',
    });
  });

  it('answers in time, failed at the letter, when the sink never answers', async () => {
    // Given: 1.3 s left and a 1 s margin leave ~300 ms before the deadline
    const sink: DeadLetterSink = { send: () => new Promise(() => undefined) };
    const started = Date.now();

    // When
    const { result, logs } = await withLogs(
      () =>
        microBatch({
          decode: json(View),
          deadLetters: sink,
          deadlineMarginMs: 1000,
          jobs: { a: async () => undefined },
        }),
      event(),
      lambdaContext({ remainingMs: 1300 }),
    );

    // Then
    expect(Date.now() - started).toBeLessThan(1300);
    expect(result).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
    expect(logs.find((line) => line.level === 'ERROR')).toMatchObject({
      error: 'CallTimeoutError: delivering the dead letters did not finish by the deadline',
    });
  });

  it("aborts the sink's signal at the deadline", async () => {
    // Given: ~300 ms before the deadline, and a sink that never answers
    const signals: (AbortSignal | undefined)[] = [];
    const sink: DeadLetterSink = {
      send: (_letters, options) => {
        signals.push(options?.signal);
        return new Promise(() => undefined);
      },
    };
    const handler = microBatch({
      decode: json(View),
      deadLetters: sink,
      deadlineMarginMs: 1000,
      jobs: { a: async () => undefined },
    });

    // When
    await handler(event(), lambdaContext({ remainingMs: 1300 }));

    // Then
    expect(signals.map((signal) => signal?.aborted)).toStrictEqual([true]);
  });

  describe('to an SQS queue that never answers', () => {
    let server: Server;
    let endpoint: string;
    const requests: IncomingMessage[] = [];

    beforeEach(async () => {
      requests.length = 0;
      server = createServer((request) => void requests.push(request));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });

    afterEach(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('answers in time, failed at the letter, and ends the request', async () => {
      // Given: ~300 ms before the deadline
      const client = new SQSClient({
        region: 'us-east-1',
        endpoint,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const handler = microBatch({
        decode: json(View),
        deadLetters: sqsDeadLetters({ queueUrl: `${endpoint}/000000000000/letters`, client }),
        deadlineMarginMs: 1000,
        jobs: { a: async () => undefined },
      });
      const started = Date.now();

      // When
      const response = await handler(event(), lambdaContext({ remainingMs: 1300 }));

      // Then: the request reached the queue and was ended, not left open
      expect(Date.now() - started).toBeLessThan(1300);
      expect(response).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }],
      });
      expect(requests).toHaveLength(1);
      await new Promise((resolve) => requests[0]?.socket.once('close', resolve));
    });
  });

  it('fails the batch at every letter when the sink answers with letters it was not given', async () => {
    // Given: a sink that answers with a made-up letter for a record outside the batch
    const sink: DeadLetterSink = {
      send: async (letters) => [{ ...(letters[0] as DeadLetter), sequenceNumber: '1' }],
    };
    const handler = microBatch({
      decode: json(View),
      deadLetters: sink,
      jobs: { a: async () => undefined },
    });

    // When
    const response = await handler(event(), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
  });

  it('fails the batch at the first letter the sink did not deliver, not before it', async () => {
    // Given: two bad records; the sink delivers the first letter only
    const sink: DeadLetterSink = { send: async (letters) => letters.slice(1) };
    const handler = microBatch({
      decode: json(View),
      deadLetters: sink,
      jobs: { a: async () => undefined },
    });

    // When
    const response = await handler(twoBad(), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(30) }] });
  });

  it('fails the batch at every letter when the sink adds a letter it was not given to one it was', async () => {
    // Given: the second letter undelivered, and a made-up one outside the batch
    const sink: DeadLetterSink = {
      send: async (letters) => [
        letters[1] as DeadLetter,
        { ...(letters[1] as DeadLetter), sequenceNumber: '1' },
      ],
    };
    const handler = microBatch({
      decode: json(View),
      deadLetters: sink,
      jobs: { a: async () => undefined },
    });

    // When
    const response = await handler(twoBad(), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
  });

  it('logs why when the sink answers with something other than a list of its letters', async () => {
    // Given
    const sink = { send: async () => ({ delivered: true }) } as unknown as DeadLetterSink;

    // When
    const { logs } = await withLogs(
      () =>
        microBatch({ decode: json(View), deadLetters: sink, jobs: { a: async () => undefined } }),
      event(),
      lambdaContext(),
    );

    // Then
    expect(logs.find((line) => line.level === 'ERROR')?.error).toBe(
      'DeadLetterSinkError: the sink answered with something other than a list of the letters it was given',
    );
  });

  it('fails the batch at every letter when the sink answers with something other than a list', async () => {
    // Given
    const sink = { send: async () => 'ok' } as unknown as DeadLetterSink;
    const handler = microBatch({
      decode: json(View),
      deadLetters: sink,
      jobs: { a: async () => undefined },
    });

    // When
    const response = await handler(event(), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
  });
});

describe('letters of a retried batch', () => {
  it('are not written for records at or after the first failure: the retry decodes them again', async () => {
    // Given: the job fails its first record once; the poison record comes after it
    const sink = memoryDeadLetters();
    let failures = 1;
    const handler = microBatch({
      decode: json(View),
      deadLetters: sink,
      jobs: {
        a: async ({ records }) => ({ failed: failures-- > 0 ? records.slice(0, 1) : [] }),
      },
    });
    const event = kinesisEvent([
      { data: { userId: 'u1', ts: 1 } },
      { raw: base64('{') },
      { data: { userId: 'u2', ts: 2 } },
    ]);

    // When: Lambda retries from the failed record
    const first = await handler(event, lambdaContext());
    const afterFirst = sink.letters.length;
    const second = await handler(event, lambdaContext());

    // Then: one letter, written by the attempt that acknowledges the record
    expect(first).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }] });
    expect(afterFirst).toBe(0);
    expect(second).toStrictEqual({ batchItemFailures: [] });
    expect(sink.letters.map((letter) => letter.sequenceNumber)).toStrictEqual([sequenceNumber(10)]);
  });

  it('are written for records before the first failure, which Lambda does not redeliver', async () => {
    // Given: the poison record comes before the record the job fails
    const sink = memoryDeadLetters();
    const handler = microBatch({
      decode: json(View),
      deadLetters: sink,
      jobs: { a: async ({ records }) => ({ failed: records.slice(1) }) },
    });

    // When
    const response = await handler(
      kinesisEvent([
        { data: { userId: 'u1', ts: 1 } },
        { raw: base64('{') },
        { data: { userId: 'u2', ts: 2 } },
      ]),
      lambdaContext(),
    );

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(20) }] });
    expect(sink.letters.map((letter) => letter.sequenceNumber)).toStrictEqual([sequenceNumber(10)]);
  });

  it("carry their function's name, and a letter id that is the same for the same record and function and differs otherwise", async () => {
    // Given
    const sink = memoryDeadLetters();
    // Deployed, a source's main function and its isolated jobs' function share DRIVERLESS_SOURCE.
    const handlerOf = (functionName: string) => {
      process.env.AWS_LAMBDA_FUNCTION_NAME = functionName;
      process.env.DRIVERLESS_SOURCE = 'views';
      try {
        return microBatch({
          decode: json(View),
          deadLetters: sink,
          jobs: { a: async () => undefined },
        });
      } finally {
        delete process.env.AWS_LAMBDA_FUNCTION_NAME;
        delete process.env.DRIVERLESS_SOURCE;
      }
    };
    const main = handlerOf('main-fn');
    const isolated = handlerOf('isolated-fn');
    const poison = (start: number) => kinesisEvent([{ raw: base64('{') }], { start });

    // When
    await main(poison(0), lambdaContext());
    await main(poison(0), lambdaContext());
    await isolated(poison(0), lambdaContext());
    await main(poison(1), lambdaContext());

    // Then
    const ids = sink.letters.map((letter) => letter.letterId);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(ids[1]).toBe(ids[0]);
    expect(new Set([ids[0], ids[2], ids[3]]).size).toBe(3);
    // Redrive recomputes the id from the letter's function, not its source.
    for (const letter of sink.letters) {
      expect(letter.letterId).toBe(letterIdOf(letter.functionName!, letter));
    }
    expect(sink.letters.map((letter) => letter.functionName)).toStrictEqual([
      'main-fn',
      'main-fn',
      'isolated-fn',
      'main-fn',
    ]);
  });

  it('off Lambda name no function and take their id from the source', async () => {
    // Given: no AWS_LAMBDA_FUNCTION_NAME, as under `driverless run` or in a unit test
    const sink = memoryDeadLetters();
    process.env.DRIVERLESS_SOURCE = 'views';
    let handler: ReturnType<typeof microBatch>;
    try {
      handler = microBatch({
        decode: json(View),
        deadLetters: sink,
        jobs: { a: async () => undefined },
      });
    } finally {
      delete process.env.DRIVERLESS_SOURCE;
    }

    // When
    await handler(kinesisEvent([{ raw: base64('{') }]), lambdaContext());

    // Then
    const [letter] = sink.letters;
    expect(letter).toMatchObject({ source: 'views' });
    expect(letter).not.toHaveProperty('functionName');
    expect(letter?.letterId).toBe(letterIdOf('views', letter!));
  });
});
