import { createHash } from 'node:crypto';
import { bytes, json, memoryDeadLetters, microBatch, type StreamRecord } from 'driverless/runtime';
import { kinesisEvent, lambdaContext, sequenceNumber } from '../../fixtures/kinesis-events';
import { kplAggregate } from '../../fixtures/kpl';

type Item = { n: number };

describe('KPL aggregated records', () => {
  it('are de-aggregated into user records with their own keys and sub-sequence numbers', async () => {
    // Given
    const aggregate = await kplAggregate([
      { partitionKey: 'a', data: { n: 1 } },
      { partitionKey: 'b', data: { n: 2 } },
      { partitionKey: 'a', data: { n: 3 } },
    ]);
    const seen: StreamRecord<Item>[] = [];
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      jobs: { collect: ({ records }) => void seen.push(...records) },
    });

    // When
    await handler(kinesisEvent([{ data: { n: 0 } }, { raw: aggregate }]), lambdaContext());

    // Then
    expect(
      seen.map((r) => [r.data.n, r.partitionKey, r.sequenceNumber, r.subSequenceNumber]),
    ).toStrictEqual([
      [0, 'key-1', sequenceNumber(0), undefined],
      [1, 'a', sequenceNumber(10), 0],
      [2, 'b', sequenceNumber(10), 1],
      [3, 'a', sequenceNumber(10), 2],
    ]);
  });

  it("report a failed sub-record as its aggregate's sequence number", async () => {
    // Given
    const aggregate = await kplAggregate([
      { partitionKey: 'a', data: { n: 1 } },
      { partitionKey: 'b', data: { n: 2 } },
    ]);
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      jobs: { a: async ({ records }) => ({ failed: records.filter((r) => r.data.n === 2) }) },
    });

    // When
    const response = await handler(
      kinesisEvent([{ data: { n: 0 } }, { raw: aggregate }, { data: { n: 9 } }]),
      lambdaContext(),
    );

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
  });

  it('dead-letter a bad sub-record with its sub-sequence number while its siblings go on', async () => {
    // Given
    const aggregate = await kplAggregate([
      { partitionKey: 'a', data: { n: 1 } },
      { partitionKey: 'b', data: '{not json' },
    ]);
    const sink = memoryDeadLetters();
    const seen: number[] = [];
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: sink,
      jobs: { collect: ({ records }) => void seen.push(...records.map((r) => r.data.n)) },
    });

    // When
    await handler(kinesisEvent([{ raw: aggregate }]), lambdaContext());

    // Then
    expect(seen).toStrictEqual([1]);
    expect(sink.letters).toMatchObject([
      {
        partitionKey: 'b',
        subSequenceNumber: 1,
        sequenceNumber: sequenceNumber(0),
        data: Buffer.from('{not json').toString('base64'),
      },
    ]);
  });

  it('dead-letter a corrupt aggregate whole', async () => {
    // Given: the checksum no longer matches the body
    const bytes = Buffer.from(
      await kplAggregate([{ partitionKey: 'a', data: { n: 1 } }]),
      'base64',
    );
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
    const sink = memoryDeadLetters();
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: sink,
      jobs: { a: async () => undefined },
    });

    // When
    await handler(kinesisEvent([{ raw: bytes.toString('base64') }]), lambdaContext());

    // Then
    expect(sink.letters).toHaveLength(1);
    expect(sink.letters[0]?.reason).toMatch(/^invalid KPL aggregate: /);
    expect(sink.letters[0]?.data).toBe(bytes.toString('base64'));
  });

  it('leave a record of the magic and a checksum alone, with no room for a user record, as its bytes', async () => {
    // Given: the four magic bytes and the checksum of an empty aggregate, 20 bytes in all
    const raw = Buffer.concat([
      Buffer.from([0xf3, 0x89, 0x9a, 0xc2]),
      createHash('md5').update(Buffer.alloc(0)).digest(),
    ]);
    const sink = memoryDeadLetters();
    const seen: Buffer[] = [];
    const handler = microBatch({
      decode: bytes(),
      deadLetters: sink,
      jobs: {
        collect: ({ records }) => void seen.push(...records.map((r) => Buffer.from(r.data))),
      },
    });

    // When
    await handler(kinesisEvent([{ raw: raw.toString('base64') }]), lambdaContext());

    // Then
    expect(sink.letters).toStrictEqual([]);
    expect(seen).toStrictEqual([raw]);
  });

  it("leave a bad sub-record's letter to the retry when a job fails a sibling, so it is written once", async () => {
    // Given: the aggregate's first user record fails in a job, its second does not decode
    const aggregate = await kplAggregate([
      { partitionKey: 'a', data: { n: 1 } },
      { partitionKey: 'b', data: '{not json' },
    ]);
    const event = kinesisEvent([{ data: { n: 0 } }, { raw: aggregate }]);
    const sink = memoryDeadLetters();
    let failing = true;
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: sink,
      jobs: {
        a: async ({ records }) => ({
          failed: failing ? records.filter((r) => r.data.n === 1) : [],
        }),
      },
    });

    // When: the batch fails at the aggregate, and Lambda retries it from there
    const first = await handler(event, lambdaContext());
    const lettersAfterFirst = sink.letters.length;
    failing = false;
    const retry = await handler({ Records: event.Records.slice(1) }, lambdaContext());

    // Then
    expect(first).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
    expect(lettersAfterFirst).toBe(0);
    expect(retry).toStrictEqual({ batchItemFailures: [] });
    expect(
      sink.letters.map((letter) => [letter.sequenceNumber, letter.subSequenceNumber]),
    ).toStrictEqual([[sequenceNumber(10), 1]]);
  });
});
