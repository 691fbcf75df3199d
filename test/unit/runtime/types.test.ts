import {
  json,
  memoryDeadLetters,
  memoryStateTable,
  microBatch,
  streamJoin,
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
});
