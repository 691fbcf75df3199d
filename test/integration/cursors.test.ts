import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import {
  ConfigurationError,
  dynamoCursors,
  json,
  memoryDeadLetters,
  microBatch,
} from 'driverless/runtime';
import { dynamoClient } from '../../emulator/clients';
import { type DynamoServer, startDynamo } from '../../emulator/servers/dynamo-server';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '../fixtures/dynamo-fault-proxy';
import { kinesisEvent, lambdaContext, sequenceNumber } from '../fixtures/kinesis-events';

describe('DynamoDB cursors', () => {
  let server: DynamoServer;
  const table = 'checkpoints';

  beforeAll(async () => {
    server = await startDynamo();
    await dynamoClient(server.endpoint).send(
      new CreateTableCommand({
        TableName: table,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });
  afterAll(() => server.stop());

  it('round-trips positions per job, with KPL sub-sequence numbers', async () => {
    // Given
    const cursors = dynamoCursors({
      table,
      functionName: 'fn',
      client: dynamoClient(server.endpoint),
    });
    const big = '49590338271490256608559692538361571095921575989136588898';

    // When
    await cursors.advance('shard-1', 'a', undefined, { sequenceNumber: big }, 'b1');
    await cursors.advance(
      'shard-1',
      'b',
      undefined,
      { sequenceNumber: big, subSequenceNumber: 3 },
      'b1',
    );

    // Then
    const loaded = await cursors.load('shard-1', ['a', 'b', 'c']);
    expect(Object.fromEntries(loaded)).toStrictEqual({
      a: { sequenceNumber: big, subSequenceNumber: undefined },
      b: { sequenceNumber: big, subSequenceNumber: 3 },
    });
  });

  it('advances only from the position that was read', async () => {
    // Given
    const cursors = dynamoCursors({
      table,
      functionName: 'fn2',
      client: dynamoClient(server.endpoint),
    });
    await cursors.advance('s', 'j', undefined, { sequenceNumber: '10' }, 'b1');

    // When: a stale invocation still thinks there is no cursor, a current one read "10"
    const stale = await cursors.advance('s', 'j', undefined, { sequenceNumber: '20' }, 'b2');
    const current = await cursors.advance(
      's',
      'j',
      { sequenceNumber: '10' },
      { sequenceNumber: '30' },
      'b3',
    );

    // Then
    expect([stale, current]).toStrictEqual([false, true]);
    expect((await cursors.load('s', ['j'])).get('j')?.sequenceNumber).toBe('30');
  });

  it('fails with what to do when the table does not exist', async () => {
    // Given
    const cursors = dynamoCursors({
      table: 'nope',
      functionName: 'fn',
      client: dynamoClient(server.endpoint),
    });

    // When / Then
    const load = cursors.load('s', ['j']);
    await expect(load).rejects.toThrow(ConfigurationError);
    await expect(cursors.load('s', ['j'])).rejects.toThrow(
      'checkpoint table "nope" does not exist: deploy the pipeline with checkpoints: true, or unset DRIVERLESS_CHECKPOINT_TABLE',
    );
  });

  describe('behind a DynamoDB that does not answer', () => {
    let proxy: DynamoFaultProxy;
    beforeAll(async () => {
      proxy = await startDynamoFaultProxy();
      proxy.setUpstream(server.endpoint);
    });
    afterEach(() => proxy.slowDown(table, 0));
    afterAll(() => proxy.close());

    it('aborts a load when its signal fires', async () => {
      // Given: every request to the table is held for 5 s
      proxy.slowDown(table, 5000);
      const cursors = dynamoCursors({
        table,
        functionName: 'fn',
        client: dynamoClient(proxy.endpoint),
      });
      const started = Date.now();

      // When
      const load = cursors.load('s', ['j'], { signal: AbortSignal.timeout(200) });

      // Then
      await expect(load).rejects.toMatchObject({ name: 'AbortError' });
      expect(Date.now() - started).toBeLessThan(2000);
    });

    it('lets the handler answer in time, failed at the first record, when the load hangs', async () => {
      // Given: 1.3 s left and a 1 s margin; the table holds every request for 5 s
      proxy.slowDown(table, 5000);
      const job = jest.fn();
      const handler = microBatch({
        decode: json<{ n: number }>(),
        deadLetters: memoryDeadLetters(),
        deadlineMarginMs: 1000,
        cursors: dynamoCursors({
          table,
          functionName: 'fn3',
          client: dynamoClient(proxy.endpoint),
        }),
        jobs: { a: job },
      });
      const started = Date.now();

      // When
      const response = await handler(
        kinesisEvent([{ data: { n: 0 } }, { data: { n: 1 } }]),
        lambdaContext({ remainingMs: 1300 }),
      );

      // Then
      expect(Date.now() - started).toBeLessThan(1300);
      expect(response).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }],
      });
      expect(job).not.toHaveBeenCalled();
    });

    it("fails the job's records when its commit hangs after the job ran", async () => {
      // Given: the load answers; the commit (the next request) is held for 5 s
      const ran: number[] = [];
      const handler = microBatch({
        decode: json<{ n: number }>(),
        deadLetters: memoryDeadLetters(),
        deadlineMarginMs: 1000,
        cursors: dynamoCursors({
          table,
          functionName: 'fn4',
          client: dynamoClient(proxy.endpoint),
        }),
        jobs: {
          a: async ({ records }) => {
            ran.push(...records.map((record) => record.data.n));
            proxy.delayNext(table, 5000);
          },
        },
      });
      const started = Date.now();

      // When
      const response = await handler(
        kinesisEvent([{ data: { n: 0 } }, { data: { n: 1 } }]),
        lambdaContext({ remainingMs: 1300 }),
      );

      // Then
      expect(Date.now() - started).toBeLessThan(1300);
      expect(ran).toStrictEqual([0, 1]);
      expect(response).toStrictEqual({
        batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }],
      });
    });
  });
});
