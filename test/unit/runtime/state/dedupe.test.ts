import {
  dedupe,
  json,
  memoryDeadLetters,
  memoryStateTable,
  microBatch,
  type StateTable,
} from 'driverless/runtime';
import { kinesisEvent, lambdaContext } from '../../../fixtures/kinesis-events';

type Order = { orderId: string; n: number };

function ordersHandler(
  table: StateTable,
  seen: number[],
  fail: { next: boolean } = { next: false },
) {
  return microBatch({
    decode: json<Order>(),
    deadLetters: memoryDeadLetters(),
    state: table,
    jobs: {
      firstOrder: dedupe({ key: (r) => r.data.orderId, within: '1h' }, (records) => {
        if (fail.next) {
          fail.next = false;
          throw new Error('sink down');
        }
        seen.push(...records.map((r) => r.data.n));
      }),
    },
  });
}

const orders = (...ids: string[]) => ids.map((orderId, n) => ({ data: { orderId, n } }));
const HOUR_S = 3600;

describe('dedupe', () => {
  it('hands the handler the first record of each key in a batch', async () => {
    // Given
    const seen: number[] = [];
    const handler = ordersHandler(memoryStateTable(), seen);

    // When
    await handler(kinesisEvent(orders('a', 'b', 'a')), lambdaContext());

    // Then
    expect(seen).toStrictEqual([0, 1]);
  });

  it('drops a key seen by an earlier batch on another shard', async () => {
    // Given
    const seen: number[] = [];
    const handler = ordersHandler(memoryStateTable(), seen);
    await handler(kinesisEvent(orders('a')), lambdaContext());

    // When
    await handler(
      kinesisEvent(
        orders('x', 'a').map((r) => ({ ...r, shardId: 'shardId-000000000009' })),
        { start: 100 },
      ),
      lambdaContext(),
    );

    // Then
    expect(seen).toStrictEqual([0, 0]);
  });

  it('passes the record that claimed a key again on its own retry', async () => {
    // Given: the handler fails once
    const seen: number[] = [];
    const fail = { next: true };
    const handler = ordersHandler(memoryStateTable(), seen, fail);
    const batch = kinesisEvent(orders('a', 'b'));

    // When
    const first = await handler(batch, lambdaContext());
    await handler(batch, lambdaContext());

    // Then
    expect(first.batchItemFailures).toHaveLength(1);
    expect(seen).toStrictEqual([0, 1]);
  });

  it('passes a key again once the period has passed since its claim', async () => {
    // Given
    const seen: number[] = [];
    const handler = ordersHandler(memoryStateTable(), seen);
    await handler(
      kinesisEvent([{ data: { orderId: 'a', n: 1 }, arrival: 1_700_000_000 }]),
      lambdaContext(),
    );

    // When: the same key 59 minutes, then 61 minutes later
    await handler(
      kinesisEvent([{ data: { orderId: 'a', n: 2 }, arrival: 1_700_000_000 + HOUR_S - 60 }], {
        start: 100,
      }),
      lambdaContext(),
    );
    await handler(
      kinesisEvent([{ data: { orderId: 'a', n: 3 }, arrival: 1_700_000_000 + HOUR_S + 60 }], {
        start: 200,
      }),
      lambdaContext(),
    );

    // Then
    expect(seen).toStrictEqual([1, 3]);
  });

  it('lets one of two concurrent claims of a key win', async () => {
    // Given: two shards' batches with the same key, run at once
    const seen: number[] = [];
    const handler = ordersHandler(memoryStateTable(), seen);

    // When
    await Promise.all(
      ['shardId-000000000001', 'shardId-000000000002'].map((shardId) =>
        handler(kinesisEvent(orders('a').map((r) => ({ ...r, shardId }))), lambdaContext()),
      ),
    );

    // Then
    expect(seen).toStrictEqual([0]);
  });
});
