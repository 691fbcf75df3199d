import {
  InvalidEventError,
  type KinesisEvent,
  memoryDeadLetters,
  microBatch,
} from 'driverless/runtime';
import { kinesisEvent, kinesisRecord, lambdaContext } from '../../fixtures/kinesis-events';

const items = (count: number) => Array.from({ length: count }, (_, n) => ({ data: { n } }));

describe('decoding a batch', () => {
  it('dead-letters a record whose decoder throws something other than an Error, with that value as reason', async () => {
    // Given: a decoder of its own that throws a string for one record
    const sink = memoryDeadLetters();
    const handler = microBatch({
      decode: (bytes: Uint8Array) => {
        const value = JSON.parse(Buffer.from(bytes).toString('utf8')) as { n: number };
        if (value.n === 1) throw 'odd record';
        return value;
      },
      deadLetters: sink,
      jobs: { a: () => undefined },
    });

    // When
    await handler(kinesisEvent(items(3)), lambdaContext());

    // Then
    expect(sink.letters.map((letter) => letter.reason)).toStrictEqual(['odd record']);
  });

  it('fails an event whose last record has a sequence number that is not decimal', async () => {
    // Given
    const good = kinesisEvent(items(3));
    const last = good.Records[2]!;
    const event: KinesisEvent = {
      Records: [
        ...good.Records.slice(0, 2),
        { ...last, kinesis: { ...last.kinesis, sequenceNumber: '0x1f' } },
      ],
    };
    const handler = microBatch({
      decode: (bytes: Uint8Array) => bytes,
      deadLetters: memoryDeadLetters(),
      jobs: { a: () => undefined },
    });

    // When
    const invocation = handler(event, lambdaContext());

    // Then
    await expect(invocation).rejects.toThrow(
      new InvalidEventError(
        'not a Kinesis event: Records[2].kinesis.sequenceNumber is not a decimal string',
      ),
    );
  });

  it('fails an event naming the first malformed record when several are', async () => {
    // Given: record 1 lacks its partition key, record 2 its data
    const record = kinesisRecord();
    const event = {
      Records: [
        record,
        { ...record, kinesis: { ...record.kinesis, partitionKey: undefined } },
        { ...record, kinesis: { ...record.kinesis, data: null } },
      ],
    } as unknown as KinesisEvent;
    const handler = microBatch({
      decode: (bytes: Uint8Array) => bytes,
      deadLetters: memoryDeadLetters(),
      jobs: { a: () => undefined },
    });

    // When
    const invocation = handler(event, lambdaContext());

    // Then
    await expect(invocation).rejects.toThrow(
      'not a Kinesis event: Records[1].kinesis.partitionKey is undefined, not a string',
    );
  });

  const bytesHandler = () =>
    microBatch({
      decode: (bytes: Uint8Array) => bytes,
      deadLetters: memoryDeadLetters(),
      jobs: { a: () => undefined },
    });

  it.each([
    [null, 'got null'],
    ['{"Records":[]}', 'got string'],
    [[kinesisRecord()], 'got array'],
    [{ Records: 'none', shardId: 's' }, 'got object with keys [Records, shardId]'],
  ])('fails an event that is not an object with a Records array (%j): %s', async (event, got) => {
    // When
    const invocation = bytesHandler()(event as unknown as KinesisEvent, lambdaContext());

    // Then
    await expect(invocation).rejects.toThrow(
      new InvalidEventError(
        `not a Kinesis event: expected an object with a "Records" array, ${got}`,
      ),
    );
  });

  it.each([
    ['a string', 'record', 'is string, not an object'],
    ['null', null, 'is null, not an object'],
    ['a record whose kinesis is null', { kinesis: null }, 'has no "kinesis" object'],
    ['a record whose kinesis is a string', { kinesis: 'data' }, 'has no "kinesis" object'],
  ])('fails an event with %s among its records, saying what it is', async (_name, bad, problem) => {
    // Given
    const event = { Records: [kinesisRecord(), bad] } as unknown as KinesisEvent;

    // When
    const invocation = bytesHandler()(event, lambdaContext());

    // Then
    await expect(invocation).rejects.toThrow(`not a Kinesis event: Records[1] ${problem}`);
    await expect(invocation).rejects.toBeInstanceOf(InvalidEventError);
  });

  it('fails an event whose record has no arrival time, saying so', async () => {
    // Given
    const record = kinesisRecord();
    const event = {
      Records: [{ ...record, kinesis: { ...record.kinesis, approximateArrivalTimestamp: '1' } }],
    } as unknown as KinesisEvent;

    // When
    const invocation = bytesHandler()(event, lambdaContext());

    // Then
    await expect(invocation).rejects.toThrow(
      new InvalidEventError(
        'not a Kinesis event: Records[0].kinesis.approximateArrivalTimestamp is string, not epoch seconds',
      ),
    );
  });
});
