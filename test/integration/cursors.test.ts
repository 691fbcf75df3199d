import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { ConfigurationError, dynamoCursors } from 'driverless/runtime';
import { dynamoClient } from '../../emulator/clients';
import { type DynamoServer, startDynamo } from '../../emulator/servers/dynamo-server';

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
});
