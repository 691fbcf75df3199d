import {
  aggregate,
  type ClosedWindow,
  json,
  memoryDeadLetters,
  memoryStateTable,
  microBatch,
  type StateTable,
  session,
  sliding,
  tumbling,
} from 'driverless/runtime';
import { kinesisEvent, lambdaContext, sequenceNumber } from '../../../fixtures/kinesis-events';

type View = { product: string; ts: number };

const MINUTE = 60_000;

/** A handler summing views per product in `window`, emitting into `closed`. */
function viewsHandler(
  table: StateTable,
  closed: ClosedWindow<{ views: number }>[],
  options: {
    window?: Parameters<typeof aggregate>[0]['window'];
    late?: 'drop' | 'dead-letter';
    lateness?: number;
  } = {},
) {
  const deadLetters = memoryDeadLetters();
  const handler = microBatch({
    decode: json<View>(),
    deadLetters,
    state: table,
    jobs: {
      views: aggregate({
        key: (r) => r.data.product,
        eventTime: (r) => r.data.ts,
        window: options.window ?? tumbling('1m'),
        watermark: { allowedLateness: options.lateness ?? 0, idleShardAfter: '10m' },
        init: () => ({ views: 0 }),
        add: (acc) => ({ views: acc.views + 1 }),
        merge: (a, b) => ({ views: a.views + b.views }),
        emit: (window) => void closed.push(window),
        late: options.late ?? 'dead-letter',
      }),
    },
  });
  return { handler, deadLetters };
}

/** A memory table on which `race` runs just before the next write of a window item. */
function racedTable() {
  const inner = memoryStateTable();
  let race: (() => Promise<unknown>) | undefined;
  const table: StateTable = {
    ...inner,
    put: async (item, expected) => {
      const run = item.pk.startsWith('agg|') ? race : undefined;
      if (run) {
        race = undefined;
        await run();
      }
      return inner.put(item, expected);
    },
  };
  return {
    table,
    raceNextWindowWrite: (run: () => Promise<unknown>) => {
      race = run;
    },
  };
}

/** The final tick of batch mode: the input is over, every open window is due. */
const finalTick = () => ({
  driverless: 'tick' as const,
  source: 'local',
  time: new Date().toISOString(),
  final: true,
});

const views = (...items: [string, number][]) =>
  items.map(([product, ts]) => ({ data: { product, ts } }));

describe('aggregate', () => {
  it('emits one value per key and window once the watermark passes its end', async () => {
    // Given
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed);

    // When: two views of "a" in the first minute, then a record of the next minute
    await handler(kinesisEvent(views(['a', 1000], ['a', 2000], ['b', 3000])), lambdaContext());
    const before = closed.length;
    await handler(kinesisEvent(views(['a', MINUTE + 1]), { start: 100 }), lambdaContext());

    // Then
    expect(before).toBe(0);
    expect(closed.map(({ key, start, end, value }) => ({ key, start, end, value }))).toStrictEqual([
      { key: 'a', start: 0, end: MINUTE, value: { views: 2 } },
      { key: 'b', start: 0, end: MINUTE, value: { views: 1 } },
    ]);
  });

  it('folds a retried batch once', async () => {
    // Given
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed);
    const batch = kinesisEvent(views(['a', 1000], ['a', 2000]));

    // When: Lambda delivers the same batch twice, then time moves on
    await handler(batch, lambdaContext());
    await handler(batch, lambdaContext());
    await handler(kinesisEvent(views(['a', MINUTE]), { start: 100 }), lambdaContext());

    // Then
    expect(closed.map((w) => w.value)).toStrictEqual([{ views: 2 }]);
  });

  it('keys windows across shards: records of one key on two shards fold into one value', async () => {
    // Given
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed);

    // When: each shard shows "a" once, then both move past the minute
    for (const shardId of ['shardId-000000000000', 'shardId-000000000001']) {
      await handler(
        kinesisEvent(views(['a', 5000]).map((r) => ({ ...r, shardId }))),
        lambdaContext(),
      );
    }
    for (const shardId of ['shardId-000000000000', 'shardId-000000000001']) {
      await handler(
        kinesisEvent(
          views(['z', MINUTE + 5]).map((r) => ({ ...r, shardId })),
          { start: 100 },
        ),
        lambdaContext(),
      );
    }

    // Then
    expect(closed.map(({ key, value }) => ({ key, value }))).toStrictEqual([
      { key: 'a', value: { views: 2 } },
    ]);
  });

  it('holds the watermark at the slowest active shard', async () => {
    // Given: shard 0 is at minute 0, shard 1 at minute 5
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed);
    const on = (shardId: string, start: number, ...items: [string, number][]) =>
      kinesisEvent(
        views(...items).map((r) => ({ ...r, shardId })),
        { start },
      );

    // When
    await handler(on('shardId-000000000000', 0, ['a', 1000]), lambdaContext());
    await handler(on('shardId-000000000001', 0, ['b', 5 * MINUTE]), lambdaContext());

    // Then: nothing closes while shard 0 has not passed minute 1
    expect(closed).toStrictEqual([]);
  });

  it('dead-letters a record whose window has closed, with reason late, and never folds it', async () => {
    // Given: the minute-0 window of "a" is emitted
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler, deadLetters } = viewsHandler(memoryStateTable(), closed);
    await handler(kinesisEvent(views(['a', 1000])), lambdaContext());
    await handler(kinesisEvent(views(['a', 2 * MINUTE]), { start: 100 }), lambdaContext());

    // When: a view of minute 0 arrives
    const response = await handler(
      kinesisEvent(views(['a', 3000]), { start: 200 }),
      lambdaContext(),
    );

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(deadLetters.letters.map((l) => [l.reason, l.sequenceNumber])).toStrictEqual([
      ['late', sequenceNumber(200)],
    ]);
    expect(closed.map((w) => w.value)).toStrictEqual([{ views: 1 }]);
  });

  it('drops late records when told to', async () => {
    // Given
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler, deadLetters } = viewsHandler(memoryStateTable(), closed, { late: 'drop' });
    await handler(kinesisEvent(views(['a', 2 * MINUTE])), lambdaContext());

    // When
    await handler(kinesisEvent(views(['a', 1000]), { start: 100 }), lambdaContext());

    // Then
    expect(deadLetters.letters).toStrictEqual([]);
  });

  it('keeps a record within the allowed lateness', async () => {
    // Given: 2 minutes of allowed lateness, the source at minute 2
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed, { lateness: 2 * MINUTE });
    await handler(kinesisEvent(views(['a', 1000], ['a', 2 * MINUTE])), lambdaContext());

    // When: a view of minute 0 arrives, then the source passes minute 3
    await handler(kinesisEvent(views(['a', 2000]), { start: 100 }), lambdaContext());
    await handler(kinesisEvent(views(['a', 3 * MINUTE]), { start: 200 }), lambdaContext());

    // Then
    expect(closed.map(({ start, value }) => ({ start, value }))).toStrictEqual([
      { start: 0, value: { views: 2 } },
    ]);
  });

  it('counts a record in every sliding window that holds it', async () => {
    // Given
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed, {
      window: sliding({ size: '2m', every: '1m' }),
    });

    // When
    await handler(kinesisEvent(views(['a', MINUTE + 1])), lambdaContext());
    await handler(kinesisEvent(views(['a', 10 * MINUTE]), { start: 100 }), lambdaContext());

    // Then
    expect(closed.map(({ start, end, value }) => ({ start, end, value }))).toStrictEqual([
      { start: 0, end: 2 * MINUTE, value: { views: 1 } },
      { start: MINUTE, end: 3 * MINUTE, value: { views: 1 } },
    ]);
  });

  it('merges sessions of a key and closes a session gap after its last record', async () => {
    // Given
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed, {
      window: session({ gap: '1m' }),
    });

    // When: views at 0s and 50s, then 100s, form one session; 300s starts another
    await handler(kinesisEvent(views(['a', 0], ['a', 50_000])), lambdaContext());
    await handler(kinesisEvent(views(['a', 100_000]), { start: 100 }), lambdaContext());
    await handler(kinesisEvent(views(['a', 300_000]), { start: 200 }), lambdaContext());

    // Then
    expect(closed.map(({ start, end, value }) => ({ start, end, value }))).toStrictEqual([
      { start: 0, end: 160_000, value: { views: 3 } },
    ]);
  });

  it('emits windows of a quiet stream on a tick, once', async () => {
    // Given: shards idle after 10 minutes; one record at minute 0
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed);
    await handler(kinesisEvent(views(['a', 1000])), lambdaContext());
    const tick = (ms: number) => ({
      driverless: 'tick' as const,
      source: 'local',
      time: new Date(Date.now() + ms).toISOString(),
    });

    // When
    const early = await handler(tick(0), lambdaContext());
    const afterIdle = await handler(tick(12 * MINUTE), lambdaContext());
    await handler(tick(13 * MINUTE), lambdaContext());

    // Then
    expect(early).toStrictEqual({ batchItemFailures: [] });
    expect(afterIdle).toStrictEqual({ batchItemFailures: [] });
    expect(closed.map((w) => w.value)).toStrictEqual([{ views: 1 }]);
  });

  it('emits every open window on the final tick of batch mode', async () => {
    // Given
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed);
    await handler(kinesisEvent(views(['a', 1000], ['b', 5 * MINUTE])), lambdaContext());

    // When
    await handler(finalTick(), lambdaContext());

    // Then
    expect(closed.map(({ key, start }) => ({ key, start }))).toStrictEqual([
      { key: 'a', start: 0 },
      { key: 'b', start: 5 * MINUTE },
    ]);
  });

  it('emits again, with the same value, a window whose emit threw', async () => {
    // Given: emit fails once
    const table = memoryStateTable();
    const seen: number[] = [];
    let failures = 1;
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      state: table,
      jobs: {
        views: aggregate({
          key: (r) => r.data.product,
          eventTime: (r) => r.data.ts,
          window: tumbling('1m'),
          init: () => 0,
          add: (acc) => acc + 1,
          merge: (a, b) => a + b,
          emit: (w) => {
            if (failures-- > 0) throw new Error('sink down');
            seen.push(w.value);
          },
        }),
      },
    });
    await handler(kinesisEvent(views(['a', 1000], ['a', 2000])), lambdaContext());

    // When: the emission fails, then the next batch comes
    await handler(kinesisEvent(views(['a', MINUTE]), { start: 100 }), lambdaContext());
    await handler(kinesisEvent(views(['a', MINUTE + 1]), { start: 200 }), lambdaContext());

    // Then
    expect(seen).toStrictEqual([2]);
  });

  it('fails the invocation naming state: true when no state table is configured', async () => {
    // Given
    delete process.env.DRIVERLESS_STATE_TABLE;
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      jobs: {
        views: aggregate({
          key: (r) => r.data.product,
          eventTime: (r) => r.data.ts,
          window: tumbling('1m'),
          init: () => 0,
          add: (acc) => acc + 1,
          merge: (a, b) => a + b,
          emit: () => undefined,
        }),
      },
    });

    // When / Then
    await expect(handler(kinesisEvent(views(['a', 1])), lambdaContext())).rejects.toThrow(
      /state: true/,
    );
  });

  it('fails at cold start naming every wrong option', () => {
    // When / Then
    expect(() =>
      aggregate({
        key: 'product' as never,
        eventTime: (r: { data: View }) => r.data.ts,
        window: tumbling('1m'),
        watermark: { allowedLateness: '2 minutes' as never },
        init: () => 0,
        add: (acc: number) => acc + 1,
        merge: (a: number, b: number) => a + b,
        emit: () => undefined,
      } as never),
    ).toThrow(/allowedLateness.*given "2 minutes"/);
  });
});

describe('aggregate under concurrency', () => {
  it('never folds into a window that closed while the batch was folding: the record is late', async () => {
    // Given: a window of "a" holds one view; a batch's write will race the final tick
    const { table, raceNextWindowWrite } = racedTable();
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler, deadLetters } = viewsHandler(table, closed);
    await handler(kinesisEvent(views(['a', 1000])), lambdaContext());
    raceNextWindowWrite(() => handler(finalTick(), lambdaContext()));

    // When: a second view of "a" is folded while the tick closes and emits the window
    const response = await handler(
      kinesisEvent(views(['a', 2000]), { start: 100 }),
      lambdaContext(),
    );

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(closed.map((w) => w.value)).toStrictEqual([{ views: 1 }]);
    expect(deadLetters.letters.map((l) => [l.reason, l.sequenceNumber])).toStrictEqual([
      ['late', sequenceNumber(100)],
    ]);
  });

  it('never writes a window whose due entry an emitter settled between the fold writing the entry and the window: the record is late', async () => {
    // Given: a batch that opens a window of "b" is overtaken, between its due entry and its
    // window, by the final tick (the watermark passes the window, whose item is not there yet)
    const { table, raceNextWindowWrite } = racedTable();
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler, deadLetters } = viewsHandler(table, closed);
    await handler(kinesisEvent(views(['a', 1000])), lambdaContext());
    raceNextWindowWrite(() => handler(finalTick(), lambdaContext()));

    // When
    const response = await handler(
      kinesisEvent(views(['b', 2000]), { start: 100 }),
      lambdaContext(),
    );

    // Then: the view of "b" is late, not folded into a window nobody emits
    expect(response).toStrictEqual({ batchItemFailures: [] });
    expect(closed.map((w) => [w.key, w.value])).toStrictEqual([['a', { views: 1 }]]);
    expect(deadLetters.letters.map((l) => [l.reason, l.sequenceNumber])).toStrictEqual([
      ['late', sequenceNumber(100)],
    ]);
  });

  it('shares one memory table among the handlers of a process with DRIVERLESS_STATE_TABLE=memory:', async () => {
    // Given: two handlers (two sources' functions in one `driverless run`)
    process.env.DRIVERLESS_STATE_TABLE = 'memory:shared-test';
    const seen: number[] = [];
    const make = () =>
      microBatch({
        decode: json<View>(),
        deadLetters: memoryDeadLetters(),
        jobs: {
          views: aggregate({
            key: (r) => r.data.product,
            eventTime: (r) => r.data.ts,
            window: tumbling('1m'),
            init: () => 0,
            add: (acc) => acc + 1,
            merge: (a, b) => a + b,
            emit: (w) => void seen.push(w.value),
          }),
        },
      });
    const first = make();
    const second = make();

    // When: one handler folds, the other ends the input
    await first(kinesisEvent(views(['a', 1000], ['a', 2000])), lambdaContext());
    await second(finalTick(), lambdaContext());
    delete process.env.DRIVERLESS_STATE_TABLE;

    // Then
    expect(seen).toStrictEqual([2]);
  });
});

/** A table whose next write of a shard's progress, once `kill` is called, kills the attempt. */
function killableBeforeProgress(inner: StateTable): { table: StateTable; kill: () => void } {
  let armed = false;
  return {
    kill: () => {
      armed = true;
    },
    table: {
      ...inner,
      put: async (item, expected) => {
        if (armed && item.pk.startsWith('wm|') && item.sk.startsWith('shard|')) {
          armed = false;
          throw new Error('killed before the shard progress write');
        }
        return inner.put(item, expected);
      },
    },
  };
}

describe('aggregate retries', () => {
  const SHARD_0 = 'shardId-000000000000';
  const SHARD_1 = 'shardId-000000000001';
  const on = (shardId: string, start: number, ...items: [string, number][]) =>
    kinesisEvent(
      views(...items).map((r) => ({ ...r, shardId })),
      { start },
    );

  it.each([
    ['tumbling', tumbling('1m'), 2 * MINUTE, [{ start: 0, end: MINUTE, value: { views: 1 } }]],
    [
      'sliding',
      sliding({ size: '2m', every: '1m' }),
      3 * MINUTE,
      [
        { start: -MINUTE, end: MINUTE, value: { views: 1 } },
        { start: 0, end: 2 * MINUTE, value: { views: 1 } },
      ],
    ],
    [
      'session',
      session({ gap: '1m' }),
      2 * MINUTE,
      [{ start: 1000, end: 61_000, value: { views: 1 } }],
    ],
  ])(
    'does not call late a record a killed attempt folded when the watermark passed its %s windows before the retry',
    async (_, window, later, expected) => {
      // Given: an attempt folds a view of minute 0 and is killed before its shard's progress is
      // written; another shard then moves the watermark past every window of the view
      const closed: ClosedWindow<{ views: number }>[] = [];
      const { table, kill } = killableBeforeProgress(memoryStateTable());
      const { handler, deadLetters } = viewsHandler(table, closed, { window });
      const batch = on(SHARD_0, 0, ['a', 1000]);
      kill();
      await handler(batch, lambdaContext()).catch(() => undefined);
      await handler(on(SHARD_1, 0, ['z', later]), lambdaContext());

      // When: the killed batch is retried
      const response = await handler(batch, lambdaContext());

      // Then: the view is counted once and is not late
      expect(response).toStrictEqual({ batchItemFailures: [] });
      expect(deadLetters.letters).toStrictEqual([]);
      expect(
        closed.filter((w) => w.key === 'a').map(({ start, end, value }) => ({ start, end, value })),
      ).toStrictEqual(expected);
    },
  );

  it('hands over again as late a record a killed attempt refused from a session it wrote', async () => {
    // Given: the watermark at minute 2; a batch holds a view of minute 3 (folded into a session)
    // and one of minute 0 (its session is due: late), and is killed after writing the session
    // item, before its shard's progress
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { table, kill } = killableBeforeProgress(memoryStateTable());
    const { handler, deadLetters } = viewsHandler(table, closed, {
      window: session({ gap: '1m' }),
    });
    await handler(on(SHARD_1, 0, ['z', 2 * MINUTE]), lambdaContext());
    const batch = on(SHARD_0, 100, ['a', 1000], ['a', 3 * MINUTE]);
    kill();
    await handler(batch, lambdaContext()).catch(() => undefined);

    // When
    await handler(batch, lambdaContext());

    // Then: each attempt dead-letters the minute-0 view (the same letter, written again)
    expect(deadLetters.letters.map((l) => [l.reason, l.sequenceNumber])).toStrictEqual([
      ['late', sequenceNumber(100)],
      ['late', sequenceNumber(100)],
    ]);
    expect(new Set(deadLetters.letters.map((l) => l.letterId)).size).toBe(1);
  });
});

describe('ticks', () => {
  it('answer a tick with an empty response in a handler without stateful jobs', async () => {
    // Given
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      jobs: { plain: () => undefined },
    });

    // When
    const response = await handler(
      { driverless: 'tick', source: 'local', time: new Date().toISOString() },
      lambdaContext(),
    );

    // Then
    expect(response).toStrictEqual({ batchItemFailures: [] });
  });

  it('fail a tick whose time is not a time, naming it', async () => {
    // Given
    const closed: ClosedWindow<{ views: number }>[] = [];
    const { handler } = viewsHandler(memoryStateTable(), closed);

    // When / Then
    await expect(
      handler({ driverless: 'tick', source: 'local', time: 'soon' }, lambdaContext()),
    ).rejects.toThrow(/time is not an ISO-8601 time \(given "soon"\)/);
  });
});
