import {
  type BackfillEvent,
  type BackfillResult,
  type BatchResponse,
  json,
  memoryDeadLetters,
  memoryStateTable,
  microBatch,
  streamJoin,
  type TickEvent,
  utf8,
} from 'driverless/runtime';
import { z } from 'zod';
import { kinesisEvent, lambdaContext } from '../../fixtures/kinesis-events';

const ProductView = z.object({ userId: z.string(), productId: z.string(), ts: z.number() });

describe('types', () => {
  it('infer the decoded type into stages and the stage results into jobs', async () => {
    // Given: this file only compiles (npm run typecheck) if inference works
    let total = 0;
    const handler = microBatch({
      decode: json(ProductView),
      deadLetters: memoryDeadLetters(),
      stages: {
        byUser: (records) => Map.groupBy(records, (r) => r.data.userId),
        count: (records) => records.length,
      },
      jobs: {
        typed: async (input) => {
          const { byUser, count, records } = input;
          const userIds: string[] = [...byUser.keys()];
          const n: number = count;
          const ts: number | undefined = records[0]?.data.ts;
          // @ts-expect-error a job cannot read a stage that does not exist
          void input.nope;
          // @ts-expect-error decoded fields keep the schema's types
          const wrong: string | undefined = records[0]?.data.ts;
          void wrong;
          total = userIds.length + n + (ts === undefined ? 0 : 1);
        },
      },
    });

    // When
    await handler(
      kinesisEvent([{ data: { userId: 'u', productId: 'p', ts: 1 } }]),
      lambdaContext(),
    );

    // Then
    expect(total).toBe(3);
  });

  it('type utf8() records as strings', async () => {
    let seen = '';
    const handler = microBatch({
      decode: utf8(),
      deadLetters: memoryDeadLetters(),
      jobs: {
        a: async ({ records }) => {
          seen = records.map((r) => r.data.toUpperCase()).join();
        },
      },
    });
    await handler(kinesisEvent([{ raw: Buffer.from('hi').toString('base64') }]), lambdaContext());
    expect(seen).toBe('HI');
  });

  it('type a job declared outside microBatch beside plain jobs, without stages', async () => {
    // Given: a join side made elsewhere (shared by two sources); this file only compiles if the
    // plain job beside it still sees its records typed
    type View = z.infer<typeof ProductView>;
    const join = streamJoin<View, View>({
      name: 'j',
      left: { source: 'views', key: (r) => r.data.userId, eventTime: (r) => r.data.ts },
      right: { source: 'clicks', key: (r) => r.data.userId, eventTime: (r) => r.data.ts },
      within: '1m',
      emit: () => undefined,
    });
    let users = '';
    const handler = microBatch({
      decode: json(ProductView),
      deadLetters: memoryDeadLetters(),
      state: memoryStateTable(),
      jobs: {
        plain: async ({ records }) => {
          users = records.map((r) => r.data.userId).join();
        },
        join: join.left,
      },
    });

    // When
    await handler(
      kinesisEvent([{ data: { userId: 'u', productId: 'p', ts: 1 } }]),
      lambdaContext(),
    );

    // Then
    expect(users).toBe('u');
  });

  it('type each event the handler answers, and its answer, without a cast', async () => {
    // Given: this file only compiles (npm run typecheck) if the handler takes a stream batch, a
    // tick and a backfill slice, and answers each with its own type
    const handler = microBatch({
      decode: json(ProductView),
      deadLetters: memoryDeadLetters(),
      state: memoryStateTable(),
      jobs: { a: async () => undefined },
    });
    const tick: TickEvent = { driverless: 'tick', source: 'local', time: '2026-01-01T00:00:00Z' };
    const backfill: BackfillEvent = {
      driverless: 'backfill',
      backfillId: 'b1',
      slice: { kind: 'archive', id: 'archive-00001', bucket: 'archive', keys: [] },
    };
    // Typed, not called: a backfill reads its slice from a bucket.
    const backfilled = (): Promise<BackfillResult> => handler(backfill, lambdaContext());
    // @ts-expect-error a backfill slice answers a BackfillResult, not a batch response
    const wrong = (): Promise<BatchResponse<never>> => handler(backfill, lambdaContext());
    // @ts-expect-error an event of no kind the handler answers is refused
    const unknown = () => handler({ driverless: 'nope' }, lambdaContext());
    void [backfilled, wrong, unknown];

    // When
    const batch: BatchResponse<never> = await handler(
      kinesisEvent([{ data: { userId: 'u', productId: 'p', ts: 1 } }]),
      lambdaContext(),
    );
    const ticked: BatchResponse<never> = await handler(tick, lambdaContext());

    // Then
    expect({ batch, ticked }).toStrictEqual({
      batch: { batchItemFailures: [] },
      ticked: { batchItemFailures: [] },
    });
  });
});
