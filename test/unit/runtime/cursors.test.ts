import {
  type BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  ResourceNotFoundException,
  type UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  ConfigurationError,
  dynamoCursors,
  json,
  memoryCursors,
  memoryDeadLetters,
  microBatch,
  type StreamRecord,
} from 'driverless/runtime';
import { isReplay } from '../../../functions/runtime/cursors';
import {
  kinesisEvent,
  lambdaContext,
  SHARD_ID,
  sequenceNumber,
} from '../../fixtures/kinesis-events';
import { kplAggregate } from '../../fixtures/kpl';

type Item = { n: number };
const items = (n: number) => Array.from({ length: n }, (_, i) => ({ data: { n: i } }));

describe('per-job cursors', () => {
  it('hand a retried batch only to the job that did not commit it', async () => {
    // Given: "flaky" fails the first time, "steady" succeeds
    const cursors = memoryCursors();
    const seen: Record<string, number[]> = { steady: [], flaky: [] };
    let flakyFailures = 1;
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors,
      jobs: {
        steady: async ({ records }) => void seen.steady?.push(...records.map((r) => r.data.n)),
        flaky: async ({ records }) => {
          if (flakyFailures-- > 0) throw new Error('sink down');
          seen.flaky?.push(...records.map((r) => r.data.n));
        },
      },
    });
    const event = kinesisEvent(items(3));

    // When: Lambda retries the failed batch
    const first = await handler(event, lambdaContext());
    const second = await handler(event, lambdaContext());

    // Then
    expect(first).toStrictEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(0) }] });
    expect(second).toStrictEqual({ batchItemFailures: [] });
    expect(seen).toStrictEqual({ steady: [0, 1, 2], flaky: [0, 1, 2] });
  });

  it("advance past the records before a job's first failure, and only those", async () => {
    // Given: the job fails record 2 of 0..3 the first time
    const cursors = memoryCursors();
    const seen: number[][] = [];
    let fail = true;
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors,
      jobs: {
        picky: async ({ records }) => {
          seen.push(records.map((r) => r.data.n));
          const failed = fail ? records.filter((r) => r.data.n === 2) : [];
          fail = false;
          return { failed };
        },
        other: async ({ records }) => ({
          failed: records.filter((r) => r.data.n === 1) as StreamRecord<Item>[],
        }),
      },
    });
    const event = kinesisEvent(items(4));

    // When: Lambda retries from the lowest failure (record 1, failed by "other")
    await handler(event, lambdaContext());
    await handler(kinesisEvent(items(4).slice(1), { start: 10 }), lambdaContext());

    // Then: "picky" committed 0..1, so the retry hands it 2..3 only
    expect(seen).toStrictEqual([
      [0, 1, 2, 3],
      [2, 3],
    ]);
    expect(cursors.cursors.get(`${SHARD_ID}|picky`)?.sequenceNumber).toBe(sequenceNumber(30));
  });

  it('skip a job whose cursor is past the whole batch', async () => {
    // Given
    const cursors = memoryCursors();
    await cursors.advance(SHARD_ID, 'done', undefined, { sequenceNumber: sequenceNumber(99) }, 'b');
    const job = jest.fn();
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors,
      jobs: { done: job },
    });

    // When
    const response = await handler(kinesisEvent(items(3)), lambdaContext());

    // Then
    expect(job).not.toHaveBeenCalled();
    expect(response).toStrictEqual({ batchItemFailures: [] });
  });

  it('compute a stage once per distinct starting point', async () => {
    // Given: job "ahead" committed the first record, jobs "a" and "b" nothing
    const cursors = memoryCursors();
    await cursors.advance(SHARD_ID, 'ahead', undefined, { sequenceNumber: sequenceNumber(0) }, 'b');
    const count = jest.fn((records: readonly StreamRecord<Item>[]) => records.length);
    const counts: Record<string, number> = {};
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors,
      stages: { count },
      jobs: {
        a: async ({ count }) => {
          counts.a = count;
        },
        b: async ({ count }) => {
          counts.b = count;
        },
        ahead: async ({ count }) => {
          counts.ahead = count;
        },
      },
    });

    // When
    await handler(kinesisEvent(items(3)), lambdaContext());

    // Then
    expect(count).toHaveBeenCalledTimes(2);
    expect(counts).toStrictEqual({ a: 3, b: 3, ahead: 2 });
  });

  it('never lets two invocations both advance a cursor', async () => {
    // Given
    const cursors = memoryCursors();

    // When: both read "no cursor", then both try to advance
    const first = await cursors.advance(SHARD_ID, 'j', undefined, { sequenceNumber: '5' }, 'x');
    const second = await cursors.advance(SHARD_ID, 'j', undefined, { sequenceNumber: '7' }, 'y');

    // Then
    expect([first, second]).toStrictEqual([true, false]);
    expect(cursors.cursors.get(`${SHARD_ID}|j`)).toStrictEqual({ sequenceNumber: '5' });
  });

  it('never lets a stale writer move a cursor another invocation moved', async () => {
    // Given: both invocations read the cursor at 5; the first moves it to 7
    const cursors = memoryCursors();
    await cursors.advance(SHARD_ID, 'j', undefined, { sequenceNumber: '5' }, 'x');
    await cursors.advance(SHARD_ID, 'j', { sequenceNumber: '5' }, { sequenceNumber: '7' }, 'y');

    // When: the second, still holding 5, tries to move it to 6
    const stale = await cursors.advance(
      SHARD_ID,
      'j',
      { sequenceNumber: '5' },
      { sequenceNumber: '6' },
      'z',
    );

    // Then
    expect(stale).toBe(false);
    expect(cursors.cursors.get(`${SHARD_ID}|j`)).toStrictEqual({ sequenceNumber: '7' });
  });

  it('never lets a writer that read a cursor move it once the cursor is gone', async () => {
    // Given: an empty store, and a writer holding the position 5 it read earlier
    const cursors = memoryCursors();

    // When
    const moved = await cursors.advance(
      SHARD_ID,
      'j',
      { sequenceNumber: '5' },
      { sequenceNumber: '7' },
      'x',
    );

    // Then: as DynamoDB's `#position = :from` fails on a missing item
    expect(moved).toBe(false);
    expect(cursors.cursors.size).toBe(0);
  });

  it('tell KPL sub-records apart: a job that failed a sub-record is handed it and those after it', async () => {
    // Given: the job fails the second sub-record of an aggregate once
    const cursors = memoryCursors();
    const seen: number[][] = [];
    let fail = true;
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors,
      jobs: {
        kpl: async ({ records }) => {
          seen.push(records.map((r) => r.data.n));
          const failed = fail ? records.filter((r) => r.data.n === 1) : [];
          fail = false;
          return { failed };
        },
      },
    });
    const aggregate = await kplAggregate([
      { partitionKey: 'a', data: { n: 0 } },
      { partitionKey: 'a', data: { n: 1 } },
      { partitionKey: 'a', data: { n: 2 } },
    ]);
    const event = kinesisEvent([{ raw: aggregate }]);

    // When: Lambda redelivers the aggregate whole
    await handler(event, lambdaContext());
    await handler(event, lambdaContext());

    // Then
    expect(seen).toStrictEqual([
      [0, 1, 2],
      [1, 2],
    ]);
    const cursor = cursors.cursors.get(`${SHARD_ID}|kpl`);
    expect([cursor?.sequenceNumber, cursor?.subSequenceNumber]).toStrictEqual([
      sequenceNumber(0),
      2,
    ]);
  });

  it('fails the invocation when the cursors cannot be read, losing nothing', async () => {
    // Given
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors: {
        load: async () => {
          throw new Error('checkpoint table "t" does not exist');
        },
        advance: async () => true,
      },
      jobs: { a: async () => undefined },
    });

    // When / Then: Lambda retries the whole batch
    await expect(handler(kinesisEvent(items(1)), lambdaContext())).rejects.toThrow(
      'does not exist',
    );
  });
});

describe('a redrive replay', () => {
  it('reaches every job, even one whose cursor is past the records, and moves no cursor', async () => {
    // Given: the job committed these records before they were dead-lettered elsewhere
    const cursors = memoryCursors();
    await cursors.advance(SHARD_ID, 'done', undefined, { sequenceNumber: sequenceNumber(99) }, 'b');
    const seen: number[] = [];
    const handler = microBatch({
      decode: json<Item>(),
      deadLetters: memoryDeadLetters(),
      cursors,
      jobs: { done: async ({ records }) => void seen.push(...records.map((r) => r.data.n)) },
    });
    const replay = { ...lambdaContext(), clientContext: { custom: { driverlessRedrive: '1' } } };

    // When
    await handler(kinesisEvent(items(2)), replay as never);

    // Then
    expect(seen).toStrictEqual([0, 1]);
    expect(cursors.cursors.get(`${SHARD_ID}|done`)?.sequenceNumber).toBe(sequenceNumber(99));
  });
});

function updateOf(send: jest.SpyInstance): UpdateItemCommand['input'] {
  const [command] = send.mock.calls[0] ?? [];
  return (command as UpdateItemCommand).input;
}

describe('dynamoCursors', () => {
  const client = new DynamoDBClient({ region: 'us-east-1' });
  afterEach(() => jest.restoreAllMocks());

  it('moves a cursor only if it still holds the position it was read at', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    const moved = await cursors.advance(
      SHARD_ID,
      'j',
      { sequenceNumber: '5', subSequenceNumber: 1 },
      { sequenceNumber: '7' },
      'b',
    );

    // Then
    expect(moved).toBe(true);
    const input = updateOf(send);
    expect(input).toMatchObject({
      TableName: 't',
      Key: { id: { S: `fn|${SHARD_ID}|j` } },
      ConditionExpression: '#position = :from',
      ExpressionAttributeNames: { '#position': 'position' },
      ExpressionAttributeValues: { ':from': { S: '5.1' }, ':to': { S: '7' } },
    });
  });

  it('writes the new position with the batch that moved it and when', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    await cursors.advance(
      SHARD_ID,
      'j',
      undefined,
      { sequenceNumber: '7', subSequenceNumber: 0 },
      'b1',
    );

    // Then
    const input = updateOf(send);
    expect(input.UpdateExpression).toBe('SET #position = :to, batchId = :batch, updatedAt = :now');
    expect(input.ExpressionAttributeValues).toStrictEqual({
      ':to': { S: '7.0' },
      ':batch': { S: 'b1' },
      ':now': { S: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/) },
    });
  });

  it('creates a cursor only if there is none yet', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    await cursors.advance(SHARD_ID, 'j', undefined, { sequenceNumber: '7' }, 'b');

    // Then
    const input = updateOf(send);
    expect(input.ConditionExpression).toBe('attribute_not_exists(id)');
  });

  it('answers false when another invocation moved the cursor first', async () => {
    // Given
    jest.spyOn(client, 'send').mockImplementation(async () => {
      throw new ConditionalCheckFailedException({ message: 'failed', $metadata: {} });
    });
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    const moved = await cursors.advance(
      SHARD_ID,
      'j',
      { sequenceNumber: '5' },
      { sequenceNumber: '6' },
      'b',
    );

    // Then
    expect(moved).toBe(false);
  });

  it('fails with the error of a request that timed out, which is not a lost race', async () => {
    // Given: what the SDK rejects with when a request times out
    const timeout = Object.assign(new Error('request timed out'), { name: 'TimeoutError' });
    jest.spyOn(client, 'send').mockImplementation(async () => {
      throw timeout;
    });
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    const moving = cursors.advance(SHARD_ID, 'j', undefined, { sequenceNumber: '6' }, 'b');

    // Then
    await expect(moving).rejects.toBe(timeout);
  });

  it('fails with a configuration error naming the table when it does not exist', async () => {
    // Given
    jest.spyOn(client, 'send').mockImplementation(async () => {
      throw new ResourceNotFoundException({ message: 'not found', $metadata: {} });
    });
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    const moving = cursors.advance(SHARD_ID, 'j', undefined, { sequenceNumber: '6' }, 'b');

    // Then
    await expect(moving).rejects.toThrow('checkpoint table "t" does not exist');
  });

  it('passes the signal it is given to its request', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });
    const { signal } = new AbortController();

    // When
    await cursors.advance(SHARD_ID, 'j', undefined, { sequenceNumber: '6' }, 'b', { signal });

    // Then
    expect(send).toHaveBeenCalledWith(expect.anything(), { abortSignal: signal });
  });
});

describe('dynamoCursors loading', () => {
  const client = new DynamoDBClient({ region: 'us-east-1' });
  afterEach(() => jest.restoreAllMocks());

  const item = (job: string, position: string) => ({
    id: { S: `fn|${SHARD_ID}|${job}` },
    position: { S: position },
  });
  const keysOf = (send: jest.SpyInstance, call: number) =>
    (send.mock.calls[call]?.[0] as BatchGetItemCommand | undefined)?.input.RequestItems?.t;

  it("reads every job's cursor in one consistent BatchGetItem", async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    await cursors.load(SHARD_ID, ['a', 'b']);

    // Then
    expect(send).toHaveBeenCalledTimes(1);
    expect(keysOf(send, 0)).toStrictEqual({
      Keys: [{ id: { S: `fn|${SHARD_ID}|a` } }, { id: { S: `fn|${SHARD_ID}|b` } }],
      ConsistentRead: true,
    });
  });

  it('gives each job the position stored for it, sub-sequence number included', async () => {
    // Given
    jest.spyOn(client, 'send').mockImplementation(async () => ({
      Responses: { t: [item('orders', '7.2'), item('billing', '9')] },
    }));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    const loaded = await cursors.load(SHARD_ID, ['orders', 'billing', 'audit']);

    // Then: audit has no cursor
    expect(loaded).toStrictEqual(
      new Map([
        ['orders', { sequenceNumber: '7', subSequenceNumber: 2 }],
        ['billing', { sequenceNumber: '9', subSequenceNumber: undefined }],
      ]),
    );
  });

  it('reads an item without a position or without a string id as no cursor, not as a crash', async () => {
    // Given: items as a hand edit of the table could leave them, beside a whole one
    jest.spyOn(client, 'send').mockImplementation(async () => ({
      Responses: {
        t: [
          { id: { S: `fn|${SHARD_ID}|orders` } },
          { id: { N: '1' }, position: { S: '5' } },
          { position: { S: '6' } },
          item('billing', '9'),
        ],
      },
    }));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    const loaded = await cursors.load(SHARD_ID, ['orders', 'billing']);

    // Then
    expect(loaded).toStrictEqual(
      new Map([['billing', { sequenceNumber: '9', subSequenceNumber: undefined }]]),
    );
  });

  it('asks again for the keys DynamoDB left unprocessed, and only those', async () => {
    // Given
    const send = jest
      .spyOn(client, 'send')
      .mockImplementationOnce(async () => ({
        Responses: { t: [item('a', '7')] },
        UnprocessedKeys: { t: { Keys: [{ id: { S: `fn|${SHARD_ID}|b` } }] } },
      }))
      .mockImplementationOnce(async () => ({ Responses: { t: [item('b', '9')] } }));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    const loaded = await cursors.load(SHARD_ID, ['a', 'b']);

    // Then
    expect(keysOf(send, 1)?.Keys).toStrictEqual([{ id: { S: `fn|${SHARD_ID}|b` } }]);
    expect([...loaded.keys()]).toStrictEqual(['a', 'b']);
  });

  it('fails if three answers in a row leave keys unprocessed', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({
      UnprocessedKeys: { t: { Keys: [{ id: { S: `fn|${SHARD_ID}|a` } }] } },
    }));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    const loading = cursors.load(SHARD_ID, ['a']);

    // Then
    await expect(loading).rejects.toThrow('checkpoint table "t" left keys unprocessed three times');
    expect(send).toHaveBeenCalledTimes(3);
  });

  it('fails with a configuration error naming the table when it does not exist', async () => {
    // Given
    jest.spyOn(client, 'send').mockImplementation(async () => {
      throw new ResourceNotFoundException({ message: 'not found', $metadata: {} });
    });
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });

    // When
    const loading = cursors.load(SHARD_ID, ['a']);

    // Then
    await expect(loading).rejects.toThrow(ConfigurationError);
    await expect(loading).rejects.toThrow(
      'checkpoint table "t" does not exist: deploy the pipeline with checkpoints: true, or unset DRIVERLESS_CHECKPOINT_TABLE',
    );
  });

  it('passes the signal it is given to its request', async () => {
    // Given
    const send = jest.spyOn(client, 'send').mockImplementation(async () => ({}));
    const cursors = dynamoCursors({ table: 't', functionName: 'fn', client });
    const { signal } = new AbortController();

    // When
    await cursors.load(SHARD_ID, ['a'], { signal });

    // Then
    expect(send).toHaveBeenCalledWith(expect.anything(), { abortSignal: signal });
  });
});

describe('isReplay', () => {
  it('is true for the client context of a redrive replay', () => {
    // When / Then
    expect(isReplay({ clientContext: { custom: { driverlessRedrive: '1' } } })).toBe(true);
  });

  it.each([
    ['no context', undefined],
    ['no client context', {}],
    ['a client context without custom fields', { clientContext: {} }],
    ['other custom fields', { clientContext: { custom: { app: 'x' } } }],
    ['another value', { clientContext: { custom: { driverlessRedrive: 'yes' } } }],
  ])('is false for %s', (_case, context) => {
    // When / Then
    expect(isReplay(context)).toBe(false);
  });
});
