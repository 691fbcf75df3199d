import {
  InvalidEventError,
  json,
  type KinesisEvent,
  memoryDeadLetters,
  microBatch,
} from 'driverless/runtime';
import {
  kinesisEvent,
  kinesisRecord,
  lambdaContext,
  sequenceNumber,
} from '../../fixtures/kinesis-events';

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ data: { i } }));

function handlerWith(jobs: Parameters<typeof microBatch<{ i: number }>>[0]['jobs']) {
  return microBatch({ decode: json<{ i: number }>(), deadLetters: memoryDeadLetters(), jobs });
}

describe('the partial batch response', () => {
  it('is an empty failure list when every job succeeds', async () => {
    // Given
    const handler = handlerWith({ a: async () => undefined, b: async () => ({ failed: [] }) });

    // When
    const response = await handler(kinesisEvent(items(3)), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
  });

  it('names the first record when a job throws, failing every record it was given', async () => {
    // Given
    const handler = handlerWith({
      ok: async () => undefined,
      broken: async () => {
        throw new Error('sink unavailable');
      },
    });

    // When
    const response = await handler(kinesisEvent(items(3)), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }] });
  });

  it('names the lowest failed record across jobs', async () => {
    // Given
    const handler = handlerWith({
      a: async ({ records }) => ({ failed: [records[3]!, records[2]!] }),
      b: async ({ records }) => ({ failed: [records[1]!, records[4]!] }),
    });

    // When
    const response = await handler(kinesisEvent(items(5)), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(10) }] });
  });

  it('compares sequence numbers as big integers, beyond 2^53', async () => {
    // Given: two sequence numbers that are equal as JS numbers but differ by 1
    const low = '49590338271490256608559692538361571095921575989136588899';
    const high = '49590338271490256608559692538361571095921575989136588900';
    expect(Number(low)).toBe(Number(high));
    const event: KinesisEvent = {
      Records: [
        kinesisRecord({ sequenceNumber: low, data: { i: 0 } }),
        kinesisRecord({ sequenceNumber: high, data: { i: 1 } }),
      ],
    };
    const handler = handlerWith({
      a: async ({ records }) => ({ failed: [records[1]!, records[0]!] }),
    });

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: low }] });
  });

  it('orders a shorter sequence number before a longer one', async () => {
    // Given: lexicographic order would put "9" after "10"
    const event: KinesisEvent = {
      Records: [
        kinesisRecord({ sequenceNumber: '9', data: { i: 0 } }),
        kinesisRecord({ sequenceNumber: '10', data: { i: 1 } }),
      ],
    };
    const handler = handlerWith({
      a: async ({ records }) => ({ failed: [records[1]!, records[0]!] }),
    });

    // When
    const response = await handler(event, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: '9' }] });
  });

  it('always names a sequence number from the batch, never an empty identifier', async () => {
    // Given: AWS treats "", null or an unknown identifier as a full-batch failure
    // (docs/event-source-mapping.md#partial-batch-response)
    const event = kinesisEvent(items(4), { start: 100 });
    const handler = handlerWith({ a: async ({ records }) => ({ failed: [records[2]!] }) });

    // When
    const response = await handler(event, lambdaContext());

    // Then
    const identifiers = event.Records.map((record) => record.kinesis.sequenceNumber);
    expect(identifiers).toContain(response.batchItemFailures[0]?.itemIdentifier);
  });

  it('succeeds on an empty batch without running jobs', async () => {
    // Given
    const job = jest.fn();
    const handler = handlerWith({ a: job });

    // When
    const response = await handler({ Records: [] }, lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(job).not.toHaveBeenCalled();
  });

  it('fails the whole batch when a job returns { failed } that is not a list', async () => {
    // Given
    const handler = handlerWith({ a: async () => ({ failed: 'all' }) as never });

    // When
    const response = await handler(kinesisEvent(items(2)), lambdaContext());

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }] });
  });
});

describe('an event of the wrong shape', () => {
  const handler = handlerWith({ a: async () => undefined });
  const cases: [string, unknown, RegExp][] = [
    [
      'fails if there is no Records array',
      { records: [] },
      /expected an object with a "Records" array.*keys \[records\]/,
    ],
    ['fails if the event is not an object', 'hello', /got string/],
    [
      'fails if a record has no kinesis object',
      { Records: [{ body: 'x' }] },
      /Records\[0\] has no "kinesis" object/,
    ],
    [
      'fails if data is not a string',
      { Records: [{ ...kinesisRecord(), kinesis: { ...kinesisRecord().kinesis, data: 5 } }] },
      /Records\[0\]\.kinesis\.data is number, not a base64 string/,
    ],
    [
      'fails if a sequence number is not decimal',
      {
        Records: [
          { ...kinesisRecord(), kinesis: { ...kinesisRecord().kinesis, sequenceNumber: 12 } },
        ],
      },
      /sequenceNumber is not a decimal string/,
    ],
    [
      'fails if the arrival timestamp is not a number',
      {
        Records: [
          {
            ...kinesisRecord(),
            kinesis: { ...kinesisRecord().kinesis, approximateArrivalTimestamp: '2020' },
          },
        ],
      },
      /approximateArrivalTimestamp is string, not epoch seconds/,
    ],
    ['fails if a record is null', { Records: [kinesisRecord(), null] }, /Records\[1\] is null/],
    [
      'fails if the first eventID has nothing before its colon',
      { Records: [{ ...kinesisRecord(), eventID: `:${sequenceNumber(0)}` }] },
      /Records\[0\]\.eventID is not "<shardId>:<sequenceNumber>"/,
    ],
    [
      'fails if the first eventID has no colon',
      { Records: [{ ...kinesisRecord(), eventID: 'shardId-000000000003' }] },
      /Records\[0\]\.eventID is not "<shardId>:<sequenceNumber>"/,
    ],
    [
      'fails if the first record has no eventID',
      { Records: [{ ...kinesisRecord(), eventID: undefined }] },
      /Records\[0\]\.eventID is not "<shardId>:<sequenceNumber>"/,
    ],
  ];

  it.each(cases)('%s', async (_name, event, message) => {
    // When / Then
    const invocation = handler(event as KinesisEvent, lambdaContext());
    await expect(invocation).rejects.toThrow(InvalidEventError);
    await expect(handler(event as KinesisEvent, lambdaContext())).rejects.toThrow(message);
  });
});
