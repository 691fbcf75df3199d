import { type PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  type DeadLetter,
  deadLettersFromEnvironment,
  fileDeadLetters,
  s3DeadLetters,
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

/** The body of the first message a mocked SQS client was asked to send. */
function firstBody(send: jest.SpyInstance): string {
  const [command] = send.mock.calls[0] ?? [];
  return (command as SendMessageBatchCommand | undefined)?.input.Entries?.[0]?.MessageBody ?? '';
}

/**
 * A client's `send` that never answers: it rejects only when the request's `abortSignal` fires,
 * with the SDK's `AbortError`. Sent without a signal, nothing could ever end it: it rejects at once
 * so the test fails saying so.
 */
async function neverAnswers(
  _command: unknown,
  options?: { abortSignal?: AbortSignal },
): Promise<never> {
  const signal = options?.abortSignal;
  if (signal === undefined) throw new Error('sent without an abort signal');
  const aborted = () => Object.assign(new Error('Request aborted'), { name: 'AbortError' });
  if (signal.aborted) throw aborted();
  return new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(aborted()), { once: true });
  });
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

  it('delivers a batch whose first request failed and whose retry succeeded', async () => {
    // Given
    const send = jest
      .spyOn(client, 'send')
      .mockImplementationOnce(async () => {
        throw new Error('connect ECONNRESET');
      })
      .mockImplementationOnce(async () => ({ Failed: [] }));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });

    // When
    const undelivered = await sink.send([letter(0), letter(1)]);

    // Then
    expect(undelivered).toStrictEqual([]);
    expect(send).toHaveBeenCalledTimes(2);
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

  it('sends a letter of exactly the message cap in a message, with no overflow bucket needed', async () => {
    // Given: a letter whose body is 250 KiB to the byte
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({ Failed: [] }));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });
    const bare = Buffer.byteLength(JSON.stringify(letter(0, '')));
    const atCap = letter(0, 'A'.repeat(250 * 1024 - bare));

    // When
    const undelivered = await sink.send([atCap]);

    // Then
    expect(Buffer.byteLength(firstBody(send))).toBe(250 * 1024);
    expect(undelivered).toStrictEqual([]);
  });

  it('does not deliver a letter too large for SQS when there is no overflow bucket', async () => {
    // Given: an S3 client, but no bucket to write to
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const s3Client = new S3Client({ region: 'us-east-1' });
    const put = jest.spyOn(s3Client, 'send').mockImplementation(async () => ({}));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client, s3Client });
    const huge = letter(0, 'A'.repeat(300 * 1024));

    // When
    const undelivered = await sink.send([huge, letter(1)]);

    // Then
    expect(undelivered).toStrictEqual([huge]);
    expect(send).toHaveBeenCalledTimes(1);
    expect(put).not.toHaveBeenCalled();
  });

  it('sends nothing, and has nothing undelivered, for no letters', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({ Failed: [] }));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });

    // When
    const undelivered = await sink.send([]);

    // Then
    expect(undelivered).toStrictEqual([]);
    expect(send).not.toHaveBeenCalled();
  });

  it('sends letters whose bodies add up to exactly the cap in one request', async () => {
    // Given: two letters of 125 KiB each, to the byte
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({ Failed: [] }));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });
    const bare = Buffer.byteLength(JSON.stringify(letter(0, '')));
    const halves = [0, 1].map((n) => letter(n, 'A'.repeat(125 * 1024 - bare)));

    // When
    const undelivered = await sink.send(halves);

    // Then
    expect(undelivered).toStrictEqual([]);
    expect(send).toHaveBeenCalledTimes(1);
    const [command] = send.mock.calls[0] ?? [];
    const bodies = (command as SendMessageBatchCommand).input.Entries ?? [];
    expect(bodies.map((entry) => Buffer.byteLength(entry.MessageBody ?? ''))).toStrictEqual([
      125 * 1024,
      125 * 1024,
    ]);
  });

  it('keeps each SendMessageBatch under 256 KiB in total, not only ten entries', async () => {
    // Given: ten letters of ~60 KiB each, each alone well under the message cap
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({ Failed: [] }));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });
    const letters = Array.from({ length: 10 }, (_, n) => letter(n, 'A'.repeat(60 * 1024)));

    // When
    const undelivered = await sink.send(letters);

    // Then: every letter sent once, no request above 256 KiB
    expect(undelivered).toStrictEqual([]);
    const requests = send.mock.calls.map(
      ([command]) => (command as SendMessageBatchCommand).input.Entries ?? [],
    );
    const sizes = requests.map((entries) =>
      entries.reduce((total, entry) => total + Buffer.byteLength(entry.MessageBody ?? ''), 0),
    );
    expect(Math.max(...sizes)).toBeLessThanOrEqual(256 * 1024);
    expect(requests.flat().map((entry) => JSON.parse(entry.MessageBody ?? '').id)).toStrictEqual(
      letters.map((l) => l.id),
    );
  });

  it('escapes the characters SQS refuses, so the letter reads back unchanged', async () => {
    // Given: a reason quoting U+FFFE (as V8's JSON.parse errors do) and a key with U+FFFF
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({ Failed: [] }));
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });
    const odd = {
      ...letter(0),
      reason: 'invalid JSON: Unexpected token \uFFFE in JSON, lone \uD800 and \u0001',
      partitionKey: 'key-\uFFFF',
    };

    // When
    await sink.send([odd]);

    // Then: only characters SQS accepts, and JSON gives back the letter
    const body = firstBody(send);
    expect(body).toMatch(/^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]*$/);
    expect(JSON.parse(body)).toStrictEqual(odd);
  });

  it('escapes those characters in a letter whose payload overflows to S3 too', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({ Failed: [] }));
    const s3Client = new S3Client({ region: 'us-east-1' });
    jest.spyOn(s3Client, 'send').mockImplementation(async () => ({}));
    const sink = sqsDeadLetters({
      queueUrl: 'https://sqs/q',
      client,
      overflowBucket: 'payloads',
      s3Client,
    });

    // When
    await sink.send([{ ...letter(0, 'A'.repeat(300 * 1024)), reason: 'bad \uFFFE' }]);

    // Then
    const body = firstBody(send);
    expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(JSON.parse(body).reason).toBe('bad \uFFFE');
  });

  it("writes an oversized letter's payload to the bucket and sends where it is instead of its data", async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({ Failed: [] }));
    const s3Client = new S3Client({ region: 'us-east-1' });
    const put = jest.spyOn(s3Client, 'send').mockImplementation(async () => ({}));
    const sink = sqsDeadLetters({
      queueUrl: 'https://sqs/q',
      client,
      overflowBucket: 'payloads',
      s3Client,
    });
    const huge = { ...letter(0, 'A'.repeat(300 * 1024)), functionName: 'fn' };
    const { data: _data, ...rest } = huge;

    // When
    const undelivered = await sink.send([huge]);

    // Then: the payload object holds the whole letter, the message names it
    expect(undelivered).toStrictEqual([]);
    const [command] = put.mock.calls[0] ?? [];
    const { Bucket, Key, Body, ContentType } = (command as PutObjectCommand).input;
    expect(Bucket).toBe('payloads');
    expect(ContentType).toBe('application/json');
    expect(Key).toMatch(
      /^dead-letters\/shardId-000000000000\/2026\/11\/23\/fn\/shardId-000000000000:0-[0-9a-f-]{36}\.json$/,
    );
    expect(JSON.parse(String(Body))).toStrictEqual(huge);
    expect(JSON.parse(firstBody(send))).toStrictEqual({
      ...rest,
      dataLocation: `s3://payloads/${Key}`,
    });
  });

  it('does not deliver an oversized letter whose payload could not be written to S3', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({ Failed: [] }));
    const s3Client = new S3Client({ region: 'us-east-1' });
    jest.spyOn(s3Client, 'send').mockImplementation(async () => {
      throw new Error('AccessDenied');
    });
    const sink = sqsDeadLetters({
      queueUrl: 'https://sqs/q',
      client,
      overflowBucket: 'payloads',
      s3Client,
    });
    const huge = letter(0, 'A'.repeat(300 * 1024));

    // When
    const undelivered = await sink.send([huge, letter(1)]);

    // Then
    expect(undelivered).toStrictEqual([huge]);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it('ends its request when the signal is aborted and SQS never answers', async () => {
    // Given
    jest.spyOn(client, 'send').mockImplementation(neverAnswers as never);
    const sink = sqsDeadLetters({ queueUrl: 'https://sqs/q', client });
    const controller = new AbortController();

    // When
    const sending = sink.send([letter(0)], { signal: controller.signal });
    controller.abort();

    // Then
    await expect(sending).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('ends the payload write of an oversized letter with the signal, the letter undelivered', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({ Failed: [] }));
    const s3Client = new S3Client({ region: 'us-east-1' });
    const put = jest.spyOn(s3Client, 'send').mockImplementation(neverAnswers as never);
    const sink = sqsDeadLetters({
      queueUrl: 'https://sqs/q',
      client,
      overflowBucket: 'payloads',
      s3Client,
    });
    const huge = letter(0, 'A'.repeat(300 * 1024));
    const controller = new AbortController();

    // When
    const sending = sink.send([huge], { signal: controller.signal });
    controller.abort();

    // Then
    await expect(sending).resolves.toStrictEqual([huge]);
    expect(put).toHaveBeenCalledWith(expect.anything(), { abortSignal: controller.signal });
    expect(send).not.toHaveBeenCalled();
  });
});

describe('s3DeadLetters', () => {
  const client = new S3Client({ region: 'us-east-1' });
  afterEach(() => jest.restoreAllMocks());

  function puts(send: jest.SpyInstance): { Key: string; Body: string; ContentType: string }[] {
    return send.mock.calls.map(([command]) => (command as PutObjectCommand).input as never);
  }

  it("writes a batch's letters as one NDJSON object under the shard and day", async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const sink = s3DeadLetters({ bucket: 'letters', client });
    const letters = [
      { ...letter(1), functionName: 'main-fn' },
      { ...letter(2), functionName: 'main-fn' },
    ];

    // When
    const undelivered = await sink.send(letters);

    // Then
    expect(undelivered).toStrictEqual([]);
    const [put] = puts(send);
    expect(put?.Key).toMatch(
      /^dead-letters\/shardId-000000000000\/2026\/11\/23\/main-fn\/b-1-[0-9a-f-]{36}\.ndjson$/,
    );
    expect(put?.Body).toBe(`${letters.map((l) => JSON.stringify(l)).join('\n')}\n`);
    expect(put?.ContentType).toBe('application/x-ndjson');
  });

  it('writes nothing when there are no letters', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const sink = s3DeadLetters({ bucket: 'letters', client });

    // When
    const undelivered = await sink.send([]);

    // Then
    expect(undelivered).toStrictEqual([]);
    expect(send).not.toHaveBeenCalled();
  });

  it('writes under the prefix it is given', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const sink = s3DeadLetters({ bucket: 'letters', prefix: 'elsewhere/', client });

    // When
    await sink.send([{ ...letter(1), functionName: 'main-fn' }]);

    // Then
    const [put] = puts(send);
    expect(put?.Key).toMatch(/^elsewhere\/shardId-000000000000\/2026\/11\/23\/main-fn\//);
  });

  it('never writes two functions’ letters of one batch under one key', async () => {
    // Given: the main function and an isolated job's function reject the same record
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const sink = s3DeadLetters({ bucket: 'letters', client });

    // When
    await sink.send([{ ...letter(1), functionName: 'main-fn' }]);
    await sink.send([{ ...letter(1), functionName: 'isolated-fn' }]);

    // Then
    const [main, isolated] = puts(send).map((put) => put.Key);
    expect(main).toContain('/main-fn/');
    expect(isolated).toContain('/isolated-fn/');
  });

  it('names the folder after the source when a letter has no function name, else "local"', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const sink = s3DeadLetters({ bucket: 'letters', client });

    // When
    await sink.send([{ ...letter(1), source: 'orders' }]);
    await sink.send([letter(1)]);

    // Then
    const [bySource, local] = puts(send).map((put) => put.Key.split('/')[5]);
    expect([bySource, local]).toStrictEqual(['orders', 'local']);
  });

  it('never overwrites the object of an earlier attempt of the same batch', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const sink = s3DeadLetters({ bucket: 'letters', client });

    // When: the batch is dead-lettered twice (a retry, a replay)
    await sink.send([{ ...letter(1), functionName: 'main-fn' }]);
    await sink.send([{ ...letter(1), functionName: 'main-fn' }]);

    // Then
    const [first, second] = puts(send).map((put) => put.Key);
    expect(second).not.toBe(first);
  });

  it('reports every letter undelivered when PutObject fails', async () => {
    // Given
    jest.spyOn(client, 'send').mockImplementation(async () => {
      throw new Error('SlowDown');
    });
    const sink = s3DeadLetters({ bucket: 'letters', client });
    const letters = [letter(1), letter(2)];

    // When
    const undelivered = await sink.send(letters);

    // Then
    expect(undelivered).toStrictEqual(letters);
  });

  it('ends a PutObject that never answers with the signal, every letter undelivered', async () => {
    // Given
    const put = jest.spyOn(client, 'send').mockImplementation(neverAnswers as never);
    const sink = s3DeadLetters({ bucket: 'letters', client });
    const letters = [letter(1), letter(2)];
    const controller = new AbortController();

    // When
    const sending = sink.send(letters, { signal: controller.signal });
    controller.abort();

    // Then
    await expect(sending).resolves.toStrictEqual(letters);
    expect(put).toHaveBeenCalledWith(expect.anything(), { abortSignal: controller.signal });
  });
});

async function tempFile(): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  return join(await mkdtemp(join(tmpdir(), 'dl-')), 'letters.ndjson');
}

async function readLetters(path: string): Promise<DeadLetter[]> {
  const { readFile } = await import('node:fs/promises');
  return (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as DeadLetter);
}

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

  it('is what the environment names with DRIVERLESS_DEAD_LETTER_FILE', async () => {
    // Given
    const path = await tempFile();
    const sink = deadLettersFromEnvironment({
      DRIVERLESS_DEAD_LETTER_FILE: path,
      DRIVERLESS_DEAD_LETTER_QUEUE_URL: 'https://sqs/q',
    });

    // When
    const undelivered = await sink.send([letter(0)]);

    // Then
    expect(undelivered).toStrictEqual([]);
    expect(await readLetters(path)).toStrictEqual([letter(0)]);
  });

  it('answers that it delivered letters it had all written before', async () => {
    // Given
    const path = await tempFile();
    const sink = fileDeadLetters(path);
    const first = { ...letter(0), letterId: 'a'.repeat(32) };
    await sink.send([first]);

    // When: a retry dead-letters the same record again
    const undelivered = await sink.send([first]);

    // Then
    expect(undelivered).toStrictEqual([]);
  });

  it('keeps one letter per letter id, however often a record is dead-lettered', async () => {
    // Given
    const path = await tempFile();
    const sink = fileDeadLetters(path);
    const first = { ...letter(0), letterId: 'a'.repeat(32) };
    const second = { ...letter(1), letterId: 'b'.repeat(32) };

    // When: the record of `first` is dead-lettered again by a retry
    await sink.send([first]);
    await sink.send([{ ...first, deadLetteredAt: '2026-11-23T19:00:09.000Z' }, second]);

    // Then
    expect(await readLetters(path)).toStrictEqual([first, second]);
  });
});
