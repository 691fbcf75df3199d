import { json, memoryDeadLetters, microBatch, type StreamRecord } from 'driverless/runtime';
import {
  kinesisEvent,
  lambdaContext,
  SHARD_ID,
  sequenceNumber,
} from '../../fixtures/kinesis-events';

async function recordsOf(event = kinesisEvent([{ data: { n: 1 }, arrival: 1_545_084_650.987 }])) {
  const seen: StreamRecord<{ n: number }>[] = [];
  const handler = microBatch({
    decode: json<{ n: number }>(),
    deadLetters: memoryDeadLetters(),
    jobs: { collect: ({ records }) => void seen.push(...records) },
  });
  await handler(event, lambdaContext());
  return seen;
}

describe('a record handed to jobs', () => {
  it('gives the same Date each time arrivedAt is read', async () => {
    // Given
    const [record] = await recordsOf();

    // When
    const first = record?.arrivedAt;
    const second = record?.arrivedAt;

    // Then
    expect(first).toBe(second);
    expect(first?.toISOString()).toBe('2018-12-17T22:10:50.987Z');
  });

  it('keeps arrivedAt off its own properties, so records that are never asked make no Date', async () => {
    // Given
    const [record] = await recordsOf();

    // When
    const descriptor = Object.getOwnPropertyDescriptor(record as object, 'arrivedAt');

    // Then
    expect(descriptor).toBeUndefined();
  });

  it('serialises to its data, key, sequence number, shard and arrival in epoch seconds', async () => {
    // Given
    const [record] = await recordsOf();
    void record?.arrivedAt;

    // When
    const text = JSON.stringify(record);

    // Then
    expect(JSON.parse(text)).toStrictEqual({
      data: { n: 1 },
      partitionKey: 'key-1',
      sequenceNumber: sequenceNumber(0),
      shardId: SHARD_ID,
      arrivalSeconds: 1_545_084_650.987,
    });
  });

  it('has the same own properties, in the same order, whatever its arrival or payload', async () => {
    // Given: records whose arrival is a whole number of seconds or not, and payloads of any kind
    const records = await recordsOf(
      kinesisEvent([
        { data: { n: 1 }, arrival: 1_700_000_000 },
        { data: 'text' as never, arrival: 1_700_000_000.5 },
      ]),
    );

    // When
    const keys = records.map((record) => Object.keys(record));

    // Then
    expect(keys).toStrictEqual([
      ['data', 'partitionKey', 'sequenceNumber', 'subSequenceNumber', 'shardId', 'arrivalSeconds'],
      ['data', 'partitionKey', 'sequenceNumber', 'subSequenceNumber', 'shardId', 'arrivalSeconds'],
    ]);
  });
});
