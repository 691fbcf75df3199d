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

  it('emits a match once when both sides write at once and each reads the other', async () => {
    // Given: a table that answers a key's Query only once both sides have written their records
    const inner = memoryStateTable();
    let written = 0;
    let release: () => void = () => undefined;
    const bothWritten = new Promise<void>((resolve) => {
      release = resolve;
    });
    const table: StateTable = {
      ...inner,
      put: async (item, expected) => {
        const stored = await inner.put(item, expected);
        if (item.sk.startsWith('r|') && ++written === 2) release();
        return stored;
      },
      query: async (pk, options) => {
        if (pk.startsWith('join|')) await bothWritten;
        return inner.query(pk, options);
      },
    };
    const { joined, view, order } = joinHandlers(table);

    // When
    await Promise.all([view(['u1', 1000]), order(['u1', 2000])]);

    // Then
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
    // Given: a right batch that found the view and, before settling it as matched, is overtaken
    // by the end of both inputs (the watermark jumps past the view's bound, its state is removed)
    const inner = memoryStateTable();
    let overtake: (() => Promise<void>) | undefined;
    const table: StateTable = {
      ...inner,
      put: async (item, expected) => {
        if (item.sk.startsWith('s|') && overtake) {
          const run = overtake;
          overtake = undefined;
          await run();
        }
        return inner.put(item, expected);
      },
    };
    const { joined, view, order, finish } = joinHandlers(table, { kind: 'leftOuter' });
    await view(['u1', 1000]);

    // When
    overtake = finish;
    await order(['u1', 2000]);

    // Then: the outer result won; the order came too late for the view
    expect(pairs(joined)).toStrictEqual([['u1', 1000, null]]);
  });

  it('hands over as late a right record whose only match was emitted alone while its batch was in flight', async () => {
    // Given: a right batch that found the view and, before settling it as matched, is overtaken
    // by the end of both inputs (the view is emitted alone)
    const inner = memoryStateTable();
    let overtake: (() => Promise<void>) | undefined;
    const table: StateTable = {
      ...inner,
      put: async (item, expected) => {
        if (item.sk.startsWith('s|') && overtake) {
          const run = overtake;
          overtake = undefined;
          await run();
        }
        return inner.put(item, expected);
      },
    };
    const { joined, deadLetters, view, order, finish } = joinHandlers(table, { kind: 'leftOuter' });
    await view(['u1', 1000]);

    // When
    overtake = finish;
    const response = await order(['u1', 2000]);

    // Then: the order is late for the join, neither matched nor lost
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(pairs(joined)).toStrictEqual([['u1', 1000, null]]);
    expect(deadLetters.letters.map((l) => [l.reason, l.shardId, l.sequenceNumber])).toStrictEqual([
      ['late', RIGHT_SHARD, sequenceNumber(200)],
    ]);
  });

  it('hands over as late again, and matches nothing, on the retry of a batch that handed a right record over', async () => {
    // Given: the right side is at minute 15 on another shard; a right batch finds the view of
    // 1000 ms, is overtaken by a view of minute 10 + 1200 ms (the view of 1000 ms is emitted
    // alone), hands its order over as late and is killed before its shard's progress is written;
    // its order of minute 20 keeps the batch's records stored
    const inner = memoryStateTable();
    let overtake: (() => Promise<unknown>) | undefined;
    let kill = false;
    const table: StateTable = {
      ...inner,
      put: async (item, expected) => {
        if (item.sk.startsWith('s|') && overtake) {
          const run = overtake;
          overtake = undefined;
          await run();
        }
        if (kill && item.pk === 'wm|join|viewsThenOrders|right') {
          kill = false;
          throw new Error('killed before the shard progress write');
        }
        return inner.put(item, expected);
      },
    };
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
    overtake = () => view(['u8', 10 * MINUTE + 1200]);
    kill = true;
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

  it('does not call late a right record that matched another left record, when one it matches was emitted alone', async () => {
    // Given: views of 1000 ms and 1500 ms; the right side at minute 15 on another shard; a right
    // batch is overtaken by a view of minute 10 + 1200 ms (the view of 1000 ms is emitted alone,
    // the view of 1500 ms is still on time)
    const inner = memoryStateTable();
    let overtake: (() => Promise<unknown>) | undefined;
    const table: StateTable = {
      ...inner,
      put: async (item, expected) => {
        if (item.sk.startsWith('s|') && overtake) {
          const run = overtake;
          overtake = undefined;
          await run();
        }
        return inner.put(item, expected);
      },
    };
    const { joined, deadLetters, view, order, orders } = joinHandlers(table, {
      kind: 'leftOuter',
    });
    await view(['u1', 1000], ['u1', 1500]);
    await orders(
      kinesisEvent([{ data: { user: 'u9', ts: 15 * MINUTE }, shardId: 'shardId-000000000009' }]),
      lambdaContext(),
    );
    overtake = () => view(['u8', 10 * MINUTE + 1200]);

    // When
    await order(['u1', 2000]);

    // Then
    expect(pairs(joined)).toContainEqual(['u1', 1500, 2000]);
    expect(pairs(joined)).not.toContainEqual(['u1', 1000, 2000]);
    expect(deadLetters.letters).toStrictEqual([]);
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

    // Then: the records and due entries are gone; the match marker and the view's status stay
    // until their TTL, for batches that may still be about to claim them
    const left = await table.query('join|viewsThenOrders|u1');
    expect(left.map((item) => [item.sk.slice(0, 2), item.expiresAt !== undefined])).toStrictEqual([
      ['m|', true],
      ['s|', true],
    ]);
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
