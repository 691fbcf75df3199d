import {
  type Joined,
  json,
  memoryDeadLetters,
  memoryStateTable,
  microBatch,
  type StateTable,
  type StreamJoinOptions,
  streamJoin,
} from 'driverless/runtime';
import { kinesisEvent, lambdaContext, sequenceNumber } from '../../../fixtures/kinesis-events';

type View = { user: string; ts: number };
type Order = { user: string; ts: number };

const MINUTE = 60_000;
const LEFT_SHARD = 'shardId-000000000000';
const RIGHT_SHARD = 'shardId-000000000001';

/** The views and orders handlers of one join on a shared table, and what they emit. */
function joinHandlers(table: StateTable, options: Partial<StreamJoinOptions<View, Order>> = {}) {
  const joined: Joined<View, Order>[] = [];
  const join = streamJoin<View, Order>({
    name: 'viewsThenOrders',
    left: { source: 'views', key: (r) => r.data.user, eventTime: (r) => r.data.ts },
    right: { source: 'orders', key: (r) => r.data.user, eventTime: (r) => r.data.ts },
    within: '10m',
    watermark: { idleShardAfter: '1h' },
    emit: (result) => void joined.push(result),
    ...options,
  });
  const deadLetters = memoryDeadLetters();
  const handlerOf = (source: string, job: typeof join.left | typeof join.right) => {
    process.env.DRIVERLESS_SOURCE = source;
    try {
      return microBatch({
        decode: json<View>(),
        deadLetters,
        state: table,
        jobs: { join: job as typeof join.left },
      });
    } finally {
      delete process.env.DRIVERLESS_SOURCE;
    }
  };
  const views = handlerOf('views', join.left);
  const orders = handlerOf('orders', join.right);
  let start = 0;
  const send =
    (handler: typeof views, shardId: string) =>
    async (...items: [string, number][]) => {
      start += 100;
      return handler(
        kinesisEvent(
          items.map(([user, ts]) => ({ data: { user, ts }, shardId })),
          { start },
        ),
        lambdaContext(),
      );
    };
  const tick = (handler: typeof views, source: string, final = false) =>
    handler(
      {
        driverless: 'tick',
        source,
        time: new Date().toISOString(),
        ...(final ? { final } : {}),
      },
      lambdaContext(),
    );
  return {
    joined,
    deadLetters,
    view: send(views, LEFT_SHARD),
    order: send(orders, RIGHT_SHARD),
    views,
    orders,
    finish: async () => {
      await tick(views, 'views', true);
      await tick(orders, 'orders', true);
    },
  };
}

/**
 * A table on which `overtake` runs just before the next invocation asks for a key's lock: that
 * invocation took its watermark before, and finds what the overtaking one did once it holds the key.
 */
function overtakenAtLock(options: { killProgressOf?: 'right' } = {}) {
  const inner = memoryStateTable();
  const control: { overtake?: () => Promise<unknown>; kill: boolean } = { kill: false };
  const table: StateTable = {
    ...inner,
    get: async (keys) => {
      const run = control.overtake;
      if (run && keys.some((key) => key.sk === 'lock')) {
        control.overtake = undefined;
        await run();
      }
      return inner.get(keys);
    },
    put: async (item, expected) => {
      if (control.kill && item.pk === `wm|join|viewsThenOrders|${options.killProgressOf}`) {
        control.kill = false;
        throw new Error('killed before the shard progress write');
      }
      return inner.put(item, expected);
    },
  };
  return { table, control };
}

const pairs = (joined: readonly Joined<View, Order>[]) =>
  joined.map((j) => [j.key, j.left.data.ts, j.right?.data.ts ?? null]);

describe('streamJoin', () => {
  it('emits a match once when the right record arrives after the left one', async () => {
    // Given
    const { joined, view, order } = joinHandlers(memoryStateTable());

    // When
    await view(['u1', 1000]);
    await order(['u1', 5 * MINUTE]);

    // Then
    expect(pairs(joined)).toStrictEqual([['u1', 1000, 5 * MINUTE]]);
  });

  it('emits a match once when the right record arrives before the left one', async () => {
    // Given
    const { joined, view, order } = joinHandlers(memoryStateTable());

    // When
    await order(['u1', 5 * MINUTE]);
    await view(['u1', 1000]);

    // Then
    expect(pairs(joined)).toStrictEqual([['u1', 1000, 5 * MINUTE]]);
  });

  it('joins only equal keys whose right event time is within [left, left + within]', async () => {
    // Given
    const { joined, view, order } = joinHandlers(memoryStateTable());

    // When: an order before the view, one too late after it, one of another user, one in bound
    await view(['u1', 20 * MINUTE]);
    await order(['u1', 19 * MINUTE], ['u1', 31 * MINUTE], ['u2', 25 * MINUTE], ['u1', 30 * MINUTE]);

    // Then
    expect(pairs(joined)).toStrictEqual([['u1', 20 * MINUTE, 30 * MINUTE]]);
  });

  it('joins a record with several keys under each of them', async () => {
    // Given: orders keyed by every user they name
    const { joined, view, order } = joinHandlers(memoryStateTable(), {
      right: {
        source: 'orders',
        key: (r) => r.data.user.split(','),
        eventTime: (r) => r.data.ts,
      },
    });

    // When
    await view(['u1', 1000], ['u2', 1000], ['u3', 1000]);
    await order(['u1,u3', 2000]);

    // Then
    expect(joined.map((j) => [j.key, j.right?.data.user])).toStrictEqual([
      ['u1', 'u1,u3'],
      ['u3', 'u1,u3'],
    ]);
  });

  it('emits a match once when both sides run a batch of the key at once', async () => {
    // Given: a table whose first Query of the key is slow, so the other side waits for the key
    const inner = memoryStateTable();
    let slowed = false;
    const table: StateTable = {
      ...inner,
      query: async (pk, options) => {
        if (pk.startsWith('join|') && !slowed) {
          slowed = true;
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        return inner.query(pk, options);
      },
    };
    const { joined, view, order } = joinHandlers(table);

    // When
    const responses = await Promise.all([view(['u1', 1000]), order(['u1', 2000])]);

    // Then
    expect(responses).toStrictEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(pairs(joined)).toStrictEqual([['u1', 1000, 2000]]);
  });

  it('does not emit a match again when a batch is redelivered', async () => {
    // Given
    const { joined, view, orders } = joinHandlers(memoryStateTable());
    await view(['u1', 1000]);
    const batch = kinesisEvent([
      { data: { user: 'u1', ts: 2000 }, shardId: RIGHT_SHARD },
      { data: { user: 'u1', ts: 3000 }, shardId: RIGHT_SHARD },
    ]);

    // When
    await orders(batch, lambdaContext());
    await orders(batch, lambdaContext());

    // Then
    expect(pairs(joined)).toStrictEqual([
      ['u1', 1000, 2000],
      ['u1', 1000, 3000],
    ]);
  });

  it('emits a left outer result once the watermark passes the left record bound, and not a match with it', async () => {
    // Given
    const { joined, view, order } = joinHandlers(memoryStateTable(), { kind: 'leftOuter' });

    // When: u1 is followed by an order, u2 is not; both sides then move past u2's bound
    await view(['u1', 1000], ['u2', 2000]);
    await order(['u1', 3000]);
    await view(['u3', 20 * MINUTE]);
    const before = pairs(joined);
    await order(['u3', 20 * MINUTE]);

    // Then
    expect(before).toStrictEqual([['u1', 1000, 3000]]);
    expect(pairs(joined)).toStrictEqual([
      ['u1', 1000, 3000],
      ['u3', 20 * MINUTE, 20 * MINUTE],
      ['u2', 2000, null],
    ]);
  });

  it('never emits both a match and an outer result for a left record, when the watermark passes it while a matching right batch is in flight', async () => {
    // Given: a right batch that took its watermark and, before it holds the view's key, is
    // overtaken by the end of both inputs (the watermark jumps past the view's bound)
    const { table, control } = overtakenAtLock();
    const { joined, view, order, finish } = joinHandlers(table, { kind: 'leftOuter' });
    await view(['u1', 1000]);

    // When
    control.overtake = finish;
    await order(['u1', 2000]);

    // Then: the outer result won; the order came too late for the view
    expect(pairs(joined)).toStrictEqual([['u1', 1000, null]]);
  });

  it('hands over as late a right record whose only match was emitted alone while its batch was in flight', async () => {
    // Given: as above
    const { table, control } = overtakenAtLock();
    const { joined, deadLetters, view, order, finish } = joinHandlers(table, { kind: 'leftOuter' });
    await view(['u1', 1000]);

    // When
    control.overtake = finish;
    const response = await order(['u1', 2000]);

    // Then: the order is late for the join, neither matched nor lost
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(pairs(joined)).toStrictEqual([['u1', 1000, null]]);
    expect(deadLetters.letters.map((l) => [l.reason, l.shardId, l.sequenceNumber])).toStrictEqual([
      ['late', RIGHT_SHARD, sequenceNumber(200)],
    ]);
  });

  it('hands over as late again, and matches nothing, on the retry of a batch that handed a right record over', async () => {
    // Given: the right side is at minute 15 on another shard; a right batch is overtaken by a
    // view of minute 10 + 1200 ms (the view of 1000 ms is emitted alone), hands its order over as
    // late and is killed before its shard's progress is written; its order of minute 20 keeps
    // the batch's records stored
    const { table, control } = overtakenAtLock({ killProgressOf: 'right' });
    const { joined, deadLetters, view, orders } = joinHandlers(table, { kind: 'leftOuter' });
    await view(['u1', 1000]);
    await orders(
      kinesisEvent([{ data: { user: 'u9', ts: 15 * MINUTE }, shardId: 'shardId-000000000009' }]),
      lambdaContext(),
    );
    const batch = kinesisEvent(
      [
        { data: { user: 'u1', ts: 2000 }, shardId: RIGHT_SHARD },
        { data: { user: 'u1', ts: 20 * MINUTE }, shardId: RIGHT_SHARD },
      ],
      { start: 1000 },
    );
    control.overtake = () => view(['u8', 10 * MINUTE + 1200]);
    control.kill = true;
    await orders(batch, lambdaContext());
    const lettersBefore = deadLetters.letters.length;

    // When
    const response = await orders(batch, lambdaContext());

    // Then: the same letter again, no match
    expect(lettersBefore).toBe(1);
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(pairs(joined)).toStrictEqual([['u1', 1000, null]]);
    expect(deadLetters.letters.map((l) => [l.reason, l.letterId])).toStrictEqual([
      ['late', deadLetters.letters[0]?.letterId],
      ['late', deadLetters.letters[0]?.letterId],
    ]);
    expect(deadLetters.letters[0]?.sequenceNumber).toBe(sequenceNumber(1000));
  });

  it('calls late, and matches with no other left record, a right record one of whose matches was emitted alone first', async () => {
    // Given: views of 1000 ms and 1500 ms; the right side at minute 15 on another shard; a right
    // batch is overtaken by a view of minute 10 + 1200 ms (the view of 1000 ms is emitted alone,
    // the view of 1500 ms is still on time)
    const { table, control } = overtakenAtLock();
    const { joined, deadLetters, view, order, orders, finish } = joinHandlers(table, {
      kind: 'leftOuter',
    });
    await view(['u1', 1000], ['u1', 1500]);
    await orders(
      kinesisEvent([{ data: { user: 'u9', ts: 15 * MINUTE }, shardId: 'shardId-000000000009' }]),
      lambdaContext(),
    );
    control.overtake = () => view(['u8', 10 * MINUTE + 1200]);

    // When
    await order(['u1', 2000]);
    await finish();

    // Then: the order is late, as it would have been for the view it missed; the in-memory
    // join without it has both views alone
    expect(pairs(joined).filter(([key]) => key === 'u1')).toStrictEqual([
      ['u1', 1000, null],
      ['u1', 1500, null],
    ]);
    expect(deadLetters.letters.map((l) => l.reason)).toStrictEqual(['late']);
  });

  it('makes the match of a killed left batch that stored its record and died, before the watermark removes the right record', async () => {
    // Given: the order is stored; a view batch stores its view and is killed before matching
    const inner = memoryStateTable();
    let kill = false;
    const table: StateTable = {
      ...inner,
      put: async (item, expected) => {
        if (kill && item.sk.startsWith('rs|')) {
          kill = false;
          throw new Error('killed before matching');
        }
        return inner.put(item, expected);
      },
    };
    const { joined, order, view, finish } = joinHandlers(table, { kind: 'leftOuter' });
    await order(['u1', 2000]);
    kill = true;
    await view(['u1', 1000]);

    // When: both inputs end before the view's batch is retried
    await finish();

    // Then: matched, not emitted alone
    expect(pairs(joined)).toStrictEqual([['u1', 1000, 2000]]);
  });

  it('never matches a right record handed over as late whose item a timed-out attempt writes afterwards', async () => {
    // Given: views of 1000 ms and 1500 ms; the right side at minute 15 on another shard; a right
    // batch's attempt times out with the write of its order's item in flight; a view of minute
    // 10 + 1200 ms moves the watermark past the order; the retry hands the order over as late
    const inner = memoryStateTable();
    let inFlight: Parameters<StateTable['put']>[0] | undefined;
    let delay = false;
    const table: StateTable = {
      ...inner,
      put: async (item, expected) => {
        if (delay && item.sk.startsWith('r|right|')) {
          delay = false;
          inFlight = item;
          throw new Error('timed out with the write in flight');
        }
        return inner.put(item, expected);
      },
    };
    const { joined, deadLetters, view, orders, finish } = joinHandlers(table, {
      kind: 'leftOuter',
    });
    await view(['u1', 1000], ['u1', 1500]);
    await orders(
      kinesisEvent([{ data: { user: 'u9', ts: 15 * MINUTE }, shardId: 'shardId-000000000009' }]),
      lambdaContext(),
    );
    const batch = kinesisEvent([{ data: { user: 'u1', ts: 2000 }, shardId: RIGHT_SHARD }], {
      start: 1000,
    });
    delay = true;
    await orders(batch, lambdaContext());
    await view(['u8', 10 * MINUTE + 1200]);
    await orders(batch, lambdaContext());

    // When: the write lands, and both inputs end
    await inner.put(inFlight as Parameters<StateTable['put']>[0], 'any');
    await finish();

    // Then: the order is late and matched nothing; both views are alone
    expect(pairs(joined).filter(([key]) => key === 'u1')).toStrictEqual([
      ['u1', 1000, null],
      ['u1', 1500, null],
    ]);
    expect(deadLetters.letters.map((l) => [l.reason, l.sequenceNumber])).toStrictEqual([
      ['late', sequenceNumber(1000)],
    ]);
  });

  it('does not call late on its retry a right record a killed attempt matched, once the watermark removed its record', async () => {
    // Given: a right batch matches the view and is killed before its shard's progress is
    // written; both inputs then end (the watermark passes everything, records are removed)
    const inner = memoryStateTable();
    let kill = false;
    const table: StateTable = {
      ...inner,
      put: async (item, expected) => {
        if (kill && item.pk === 'wm|join|viewsThenOrders|right') {
          kill = false;
          throw new Error('killed before the shard progress write');
        }
        return inner.put(item, expected);
      },
    };
    const { joined, deadLetters, view, orders, finish } = joinHandlers(table);
    await view(['u1', 1000]);
    const batch = kinesisEvent([{ data: { user: 'u1', ts: 2000 }, shardId: RIGHT_SHARD }], {
      start: 1000,
    });
    kill = true;
    await orders(batch, lambdaContext());
    await finish();

    // When
    const response = await orders(batch, lambdaContext());

    // Then: matched once, not late
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(pairs(joined)).toStrictEqual([['u1', 1000, 2000]]);
    expect(deadLetters.letters).toStrictEqual([]);
  });

  it('emits no outer result in an inner join', async () => {
    // Given
    const { joined, view, finish } = joinHandlers(memoryStateTable());

    // When
    await view(['u1', 1000]);
    await finish();

    // Then
    expect(joined).toStrictEqual([]);
  });

  it('emits the open outer results at the end of both inputs', async () => {
    // Given
    const { joined, view, order, finish } = joinHandlers(memoryStateTable(), {
      kind: 'leftOuter',
    });
    await view(['u1', 1000]);
    await order(['u9', 1000]);

    // When
    await finish();

    // Then
    expect(pairs(joined)).toStrictEqual([['u1', 1000, null]]);
  });

  it('dead-letters a record behind the join watermark with reason late', async () => {
    // Given: both sides at minute 30
    const { joined, deadLetters, view, order } = joinHandlers(memoryStateTable());
    await view(['u1', 30 * MINUTE]);
    await order(['u2', 30 * MINUTE]);

    // When: a view of minute 1 arrives, and an order that would match it
    await view(['u1', MINUTE]);
    await order(['u1', 2 * MINUTE]);

    // Then
    expect(joined).toStrictEqual([]);
    expect(deadLetters.letters.map((l) => l.reason)).toStrictEqual(['late', 'late']);
  });

  it('removes the records the watermark has passed, leaving markers to their TTL', async () => {
    // Given
    const table = memoryStateTable();
    const { view, order, finish } = joinHandlers(table, { kind: 'leftOuter' });
    await view(['u1', 1000]);
    await order(['u1', 2000]);

    // When
    await finish();

    // Then: the records and due entries are gone; the key's lock, the match marker, both
    // records' statuses and how far the watermark swept stay until their TTL, for retried
    // batches of those records and records that come after
    const left = await table.query('join|viewsThenOrders|u1');
    expect(left.map((item) => [item.sk.split('|')[0], item.expiresAt !== undefined])).toStrictEqual(
      [
        ['lock', true],
        ['m', true],
        ['rs', true],
        ['swept', true],
        ['s', true],
      ],
    );
    expect(await table.query('due|join|viewsThenOrders')).toStrictEqual([]);
  });

  it('fails the batch when emit throws, and emits the match once on the retry', async () => {
    // Given
    let fail = true;
    const joined: string[] = [];
    const { view, orders } = joinHandlers(memoryStateTable(), {
      emit: (result) => {
        if (fail) throw new Error('sink down');
        joined.push(result.id);
      },
    });
    await view(['u1', 1000]);
    const batch = kinesisEvent([{ data: { user: 'u1', ts: 2000 }, shardId: RIGHT_SHARD }], {
      start: 1000,
    });

    // When
    const failed = await orders(batch, lambdaContext());
    fail = false;
    const retried = await orders(batch, lambdaContext());

    // Then
    expect(failed).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: sequenceNumber(1000) }],
    });
    expect(retried).toStrictEqual({ batchItemFailures: [] });
    expect(joined).toStrictEqual([
      `${LEFT_SHARD}:${sequenceNumber(100)}|${RIGHT_SHARD}:${sequenceNumber(1000)}`,
    ]);
  });

  it('fails if the options are wrong, naming every problem', () => {
    // Given / When / Then
    expect(() =>
      streamJoin({
        name: 'a b',
        left: { source: 'views', key: 'user' as never, eventTime: (r) => r.data as number },
        right: { source: '', key: (r) => String(r.data), eventTime: (r) => r.data as number },
        within: '-1m' as never,
        emit: () => undefined,
      }),
    ).toThrow(/within/);
    expect(() =>
      streamJoin({
        name: 'a b',
        left: { source: 'views', key: 'user' as never, eventTime: (r) => r.data as number },
        right: { source: '', key: (r) => String(r.data), eventTime: (r) => r.data as number },
        within: '10m',
        emit: () => undefined,
      }),
    ).toThrow(
      "streamJoin: name must be letters, digits, '_', '.' or '-' (given \"a b\"); left.key must be a function; right.source must be the name of a source",
    );
  });

  it('fails if a side is listed in the jobs of another source', () => {
    // Given
    const join = streamJoin<View, Order>({
      name: 'j',
      left: { source: 'views', key: (r) => r.data.user, eventTime: (r) => r.data.ts },
      right: { source: 'orders', key: (r) => r.data.user, eventTime: (r) => r.data.ts },
      within: '10m',
      emit: () => undefined,
    });
    process.env.DRIVERLESS_SOURCE = 'orders';

    // When / Then
    try {
      expect(() =>
        microBatch({
          decode: json<View>(),
          deadLetters: memoryDeadLetters(),
          state: memoryStateTable(),
          jobs: { j: join.left },
        }),
      ).toThrow(
        'streamJoin "j": job "j" is its left side, for source "views", but runs in source "orders"',
      );
    } finally {
      delete process.env.DRIVERLESS_SOURCE;
    }
  });
});
