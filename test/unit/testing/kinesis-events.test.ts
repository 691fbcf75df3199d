import { createHash } from 'node:crypto';
import { compareSequenceNumbers } from 'driverless/runtime';
import { kinesisEvent, sequenceNumber, testStream } from 'driverless/testing';

const text = (base64: string) => Buffer.from(base64, 'base64').toString('utf8');

describe('testStream', () => {
  it('numbers records with 56-digit sequence numbers that grow along a shard, across events', () => {
    // Given
    const stream = testStream({ streamName: 'orders' });

    // When
    const first = stream.event([{ data: 1 }, { data: 2 }]);
    const second = stream.event([{ data: 3 }]);

    // Then
    const numbers = [...first.Records, ...second.Records].map((r) => r.kinesis.sequenceNumber);
    expect(numbers.map((n) => n.length)).toStrictEqual([56, 56, 56]);
    expect(compareSequenceNumbers(numbers[0]!, numbers[1]!)).toBe(-1);
    expect(compareSequenceNumbers(numbers[1]!, numbers[2]!)).toBe(-1);
    expect(second.Records[0]?.eventID).toBe(`shardId-000000000000:${numbers[2]}`);
  });

  it('builds records with every key Lambda sends, the data as JSON, strings as text', () => {
    // Given
    const stream = testStream({ streamName: 'orders', firstArrival: '2026-01-15T10:00:00.000Z' });

    // When
    const [object, string] = stream.records([
      { data: { id: 'o1' }, partitionKey: 'c1' },
      { data: 'not json' },
    ]);

    // Then
    expect(object).toStrictEqual({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: 'c1',
        sequenceNumber: sequenceNumber(0),
        data: Buffer.from('{"id":"o1"}').toString('base64'),
        approximateArrivalTimestamp: Date.UTC(2026, 0, 15, 10) / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `shardId-000000000000:${sequenceNumber(0)}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::123456789012:role/orders-function',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/orders',
    });
    expect(text(string?.kinesis.data ?? '')).toBe('not json');
  });

  it('routes records to the shard whose hash key range holds the MD5 of their partition key', () => {
    // Given: four shards split the 128-bit range evenly
    const stream = testStream({ shardCount: 4 });
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const expected = keys.map((key) =>
      Number((BigInt(`0x${createHash('md5').update(key).digest('hex')}`) * 4n) >> 128n),
    );

    // When
    const events = stream.events(keys.map((partitionKey) => ({ data: {}, partitionKey })));

    // Then
    const shardOf = new Map(
      events.flatMap((event) =>
        event.Records.map((r) => [r.kinesis.partitionKey, Number(r.eventID.slice(8, 20))]),
      ),
    );
    expect(keys.map((key) => shardOf.get(key))).toStrictEqual(expected);
    for (const event of events) {
      expect(new Set(event.Records.map((r) => r.eventID.split(':')[0])).size).toBe(1);
    }
  });

  it('numbers each shard on its own', () => {
    // Given
    const stream = testStream({ shardCount: 2 });

    // When
    const onZero = stream.event([{ data: 1 }], { shard: 0 });
    const onOne = stream.event([{ data: 2 }], { shard: 1 });

    // Then
    expect(onZero.Records[0]?.kinesis.sequenceNumber).toBe(sequenceNumber(0, 0));
    expect(onOne.Records[0]?.kinesis.sequenceNumber).toBe(sequenceNumber(0, 1));
    expect(onOne.Records[0]?.eventID).toBe(`shardId-000000000001:${sequenceNumber(0, 1)}`);
  });

  it('fails if a shard is outside the stream, naming the range', () => {
    // When / Then
    expect(() => testStream({ shardCount: 2 }).event([{ data: 1 }], { shard: 2 })).toThrow(
      'shard must be an integer from 0 to 1 for test-stream (given 2)',
    );
  });

  it('adds the tumbling-window fields, the window aligned on the first arrival', () => {
    // When
    const event = kinesisEvent([{ data: 1, arrivedAt: '2026-01-15T10:01:30.250Z' }], {
      streamName: 'sales',
      window: { tumblingSeconds: 60, state: { count: 2 }, isFinalInvokeForWindow: true },
    });

    // Then
    const { Records: _records, ...fields } = event;
    expect(fields).toStrictEqual({
      window: { start: '2026-01-15T10:01:00Z', end: '2026-01-15T10:02:00Z' },
      state: { count: 2 },
      shardId: 'shardId-000000000000',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/sales',
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: false,
    });
  });
});
