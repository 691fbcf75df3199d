import { json, memoryDeadLetters, microBatch, type StreamRecord } from 'driverless/runtime';
import { z } from 'zod';
import {
  kinesisEvent,
  lambdaContext,
  SHARD_ID,
  sequenceNumber,
} from '../../fixtures/kinesis-events';

const View = z.object({ userId: z.string(), productId: z.string() });
type View = z.infer<typeof View>;

describe('records handed to jobs', () => {
  it('carry the decoded data, key, sequence number, shard and arrival time', async () => {
    // Given
    const seen: StreamRecord<View>[] = [];
    const handler = microBatch({
      decode: json(View),
      deadLetters: memoryDeadLetters(),
      jobs: {
        collect: ({ records }) => {
          seen.push(...records);
        },
      },
    });
    const event = kinesisEvent([
      { data: { userId: 'u1', productId: 'p1' }, partitionKey: 'u1', arrival: 1_545_084_650.987 },
    ]);

    // When
    await handler(event, lambdaContext());

    // Then
    const [record] = seen;
    expect({
      data: record?.data,
      partitionKey: record?.partitionKey,
      sequenceNumber: record?.sequenceNumber,
      subSequenceNumber: record?.subSequenceNumber,
      shardId: record?.shardId,
      arrivedAt: record?.arrivedAt.toISOString(),
    }).toStrictEqual({
      data: { userId: 'u1', productId: 'p1' },
      partitionKey: 'u1',
      sequenceNumber: sequenceNumber(0),
      subSequenceNumber: undefined,
      shardId: SHARD_ID,
      arrivedAt: '2018-12-17T22:10:50.987Z',
    });
  });

  it('keeps shard order', async () => {
    // Given
    const order: string[] = [];
    const handler = microBatch({
      decode: json<{ n: number }>(),
      deadLetters: memoryDeadLetters(),
      jobs: { collect: ({ records }) => void order.push(...records.map((r) => String(r.data.n))) },
    });

    // When
    await handler(
      kinesisEvent([{ data: { n: 1 } }, { data: { n: 2 } }, { data: { n: 3 } }]),
      lambdaContext(),
    );

    // Then
    expect(order).toStrictEqual(['1', '2', '3']);
  });
});
