/**
 * Property test of keyed event-time state on a real DynamoDB API (dynalite): random streams over
 * several shards of two sources (out of order, duplicates, late records, idle shards), delivered
 * in random interleavings with redeliveries, bisected halves and attempts killed midway, must emit
 * what an independent in-memory computation emits: the same windows with the same values, each
 * value the same on every emission, and the same late records; and a left outer join of the two
 * sources must emit the same matches and outer results, each once, and the same late records.
 */
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import {
  aggregate,
  type ClosedWindow,
  dynamoStateTable,
  json,
  type KinesisEvent,
  memoryDeadLetters,
  microBatch,
  type StateTable,
  session,
  sliding,
  streamJoin,
  tumbling,
} from 'driverless/runtime';
import { dynamoClient, startDynamo } from '../../emulator/index';
import { kinesisRecord, lambdaContext, sequenceNumber } from '../fixtures/kinesis-events';
import { JoinModel } from '../fixtures/state/join-model';
import {
  between,
  type GeneratedRecord,
  generateShard,
  seeded,
} from '../fixtures/state/random-streams';
import { type ModelWindow, type Sums, WindowModel } from '../fixtures/state/window-model';

type Data = Omit<GeneratedRecord, 'availableAt'>;

const JOBS: Record<string, { model: ModelWindow; lateness: number; idleAfter: number }> = {
  perMinute: { model: { kind: 'tumbling', size: 60_000 }, lateness: 30_000, idleAfter: 60_000 },
  sliding: {
    model: { kind: 'sliding', size: 120_000, every: 60_000 },
    lateness: 10_000,
    idleAfter: 45_000,
  },
  sessions: { model: { kind: 'session', gap: 30_000 }, lateness: 0, idleAfter: 90_000 },
};
const SOURCES = ['views', 'orders'] as const;
// Views followed by an order of the same key within a minute, or views alone.
const JOIN = { within: 60_000, lateness: 20_000, idleAfter: 60_000 };
const SIDE = { views: 'left', orders: 'right' } as const;
const SHARDS = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002'];

/**
 * A state table whose calls start failing after a budget, like a process killed midway; the
 * test's `emit`s fail too once it is `dead`, as nothing runs in a killed process.
 */
class KillableTable implements StateTable {
  #budget = Number.POSITIVE_INFINITY;
  constructor(readonly inner: StateTable) {}
  get dead(): boolean {
    return this.#budget <= 0;
  }
  /** Between `killAfter` and `heal`: the attempt running now is the one that gets killed. */
  get killing(): boolean {
    return this.#budget !== Number.POSITIVE_INFINITY;
  }
  killAfter(calls: number) {
    this.#budget = calls;
  }
  heal() {
    this.#budget = Number.POSITIVE_INFINITY;
  }
  #spend() {
    if (this.#budget <= 0) throw new Error('killed');
    this.#budget--;
  }
  query: StateTable['query'] = async (...args) => {
    this.#spend();
    return this.inner.query(...args);
  };
  get: StateTable['get'] = async (...args) => {
    this.#spend();
    return this.inner.get(...args);
  };
  put: StateTable['put'] = async (...args) => {
    this.#spend();
    return this.inner.put(...args);
  };
  delete: StateTable['delete'] = async (...args) => {
    this.#spend();
    return this.inner.delete(...args);
  };
}

interface JoinOutcome {
  /** `<view id>|<order id>` of each match, `<view id>|` of each outer result: times emitted. */
  emitted: Map<string, number>;
  /** Of those, the times each was emitted by an attempt that was then killed. */
  emittedByKilled: Map<string, number>;
  late: Set<string>;
}

interface Outcome {
  emitted: Map<string, Sums & { key: string; start: number; end: number }>;
  repeats: number;
  differing: string[];
  late: Set<string>;
}

let server: Awaited<ReturnType<typeof startDynamo>>;
let now = 0;

beforeAll(async () => {
  server = await startDynamo();
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});

afterAll(async () => {
  jest.restoreAllMocks();
  await server.stop();
});

async function run(seed: number, faults: { kills: boolean; bisectAfterKill?: boolean }) {
  const random = seeded(seed);
  const client = dynamoClient(server.endpoint);
  const tableName = `state-${seed}-${faults.kills}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const table = new KillableTable(dynamoStateTable({ table: tableName, client }));
  const start = Math.floor(1_800_000_000_000 / 60_000) * 60_000;
  now = start;

  const outcomes = new Map<string, Outcome>();
  const models = new Map<string, WindowModel>();
  const handlers = new Map<string, ReturnType<typeof microBatch<Data>>>();
  const letters = new Map<string, ReturnType<typeof memoryDeadLetters>>();
  const joinOutcome: JoinOutcome = {
    emitted: new Map(),
    emittedByKilled: new Map(),
    late: new Set(),
  };
  const joinModel = new JoinModel(JOIN.within, {
    lateness: JOIN.lateness,
    idleAfter: JOIN.idleAfter,
  });
  const join = streamJoin<Data, Data>({
    name: 'viewsThenOrders',
    left: { source: 'views', key: (r) => r.data.key, eventTime: (r) => r.data.time },
    right: { source: 'orders', key: (r) => r.data.key, eventTime: (r) => r.data.time },
    within: JOIN.within,
    kind: 'leftOuter',
    watermark: { allowedLateness: JOIN.lateness, idleShardAfter: JOIN.idleAfter },
    emit: (joined) => {
      if (table.dead) throw new Error('killed');
      const id = `${joined.left.data.id}|${joined.right?.data.id ?? ''}`;
      joinOutcome.emitted.set(id, (joinOutcome.emitted.get(id) ?? 0) + 1);
      if (table.killing) {
        joinOutcome.emittedByKilled.set(id, (joinOutcome.emittedByKilled.get(id) ?? 0) + 1);
      }
    },
    late: (records) => {
      for (const r of records) joinOutcome.late.add(r.data.id);
    },
  });
  for (const source of SOURCES) {
    process.env.DRIVERLESS_SOURCE = source;
    const jobs: Record<string, ReturnType<typeof aggregate<Data, Sums>>> = {};
    for (const [job, spec] of Object.entries(JOBS)) {
      const outcome: Outcome = { emitted: new Map(), repeats: 0, differing: [], late: new Set() };
      outcomes.set(`${source}/${job}`, outcome);
      models.set(
        `${source}/${job}`,
        new WindowModel(spec.model, { lateness: spec.lateness, idleAfter: spec.idleAfter }),
      );
      jobs[job] = aggregate<Data, Sums>({
        key: (r) => r.data.key,
        eventTime: (r) => r.data.time,
        window:
          spec.model.kind === 'tumbling'
            ? tumbling(spec.model.size)
            : spec.model.kind === 'sliding'
              ? sliding({ size: spec.model.size, every: spec.model.every })
              : session({ gap: spec.model.gap }),
        watermark: { allowedLateness: spec.lateness, idleShardAfter: spec.idleAfter },
        init: () => ({ count: 0, sum: 0 }),
        add: (acc, r) => ({ count: acc.count + 1, sum: acc.sum + r.data.value }),
        merge: (a, b) => ({ count: a.count + b.count, sum: a.sum + b.sum }),
        emit: (closed: ClosedWindow<Sums>) => {
          if (table.dead) throw new Error('killed');
          const value = { key: closed.key, start: closed.start, end: closed.end, ...closed.value };
          const before = outcome.emitted.get(closed.id);
          if (before) {
            outcome.repeats++;
            if (JSON.stringify(before) !== JSON.stringify(value)) outcome.differing.push(closed.id);
          }
          outcome.emitted.set(closed.id, value);
        },
        // The per-minute job dead-letters its late records; the others hand them to a function.
        late:
          job === 'perMinute'
            ? 'dead-letter'
            : (records) => {
                for (const r of records) outcome.late.add(r.data.id);
              },
      });
    }
    jobs.join = source === 'views' ? join.left : join.right;
    const deadLetters = memoryDeadLetters();
    letters.set(source, deadLetters);
    handlers.set(source, microBatch({ decode: json<Data>(), deadLetters, state: table, jobs }));
  }

  // The streams, and a cursor per shard.
  const shape = {
    records: 20,
    keys: ['k1', 'k2', 'k3'],
    duplicates: 0.05,
    late: 0.06,
    pauses: 0.03,
  };
  const streams = SOURCES.flatMap((source) =>
    SHARDS.map((shardId) => ({
      source,
      shardId,
      // Ids name the source: both sources have the same shard ids.
      records: generateShard(random, shardId, start, shape).map((r) => ({
        ...r,
        id: `${source}/${r.id}`,
      })),
      next: 0,
    })),
  );
  const event = (
    source: string,
    shardId: string,
    records: readonly GeneratedRecord[],
    offset: number,
  ): KinesisEvent => ({
    Records: records.map((r, i) =>
      kinesisRecord({
        data: { id: r.id, shardId: r.shardId, key: r.key, time: r.time, value: r.value },
        shardId,
        sequenceNumber: sequenceNumber((offset + i) * 10),
        streamArn: `arn:aws:kinesis:us-east-1:123456789012:stream/${source}`,
        arrival: r.availableAt / 1000,
      }),
    ),
  });
  const deliver = (source: string, e: KinesisEvent) =>
    handlers.get(source)!(e, lambdaContext({ remainingMs: 600_000 }));
  const tick = (source: string, final = false) =>
    handlers.get(source)!(
      {
        driverless: 'tick',
        source,
        time: new Date(now).toISOString(),
        ...(final ? { final } : {}),
      },
      lambdaContext(),
    );

  const counts = { batches: 0, redeliveries: 0, bisects: 0, kills: 0 };
  for (let step = 0; streams.some((s) => s.next < s.records.length); step++) {
    now += 1000;
    for (const stream of streams) {
      if (random() < 0.5) continue;
      const ready = stream.records
        .slice(stream.next)
        .filter((_, i, all) => all.slice(0, i + 1).every((x) => x.availableAt <= now));
      if (ready.length === 0) continue;
      const batch = ready.slice(0, between(random, 1, 8));
      const e = event(stream.source, stream.shardId, batch, stream.next);
      stream.next += batch.length;
      counts.batches++;
      const fault = random();
      if (faults.kills && fault < 0.25) {
        counts.kills++;
        table.killAfter(between(random, 0, 14));
        await deliver(stream.source, e);
        table.heal();
      }
      if (faults.bisectAfterKill && fault < 0.25 && e.Records.length > 1) {
        // Lambda bisects the killed batch: its halves see what the killed attempt wrote.
        const half = Math.ceil(e.Records.length / 2);
        for (const records of [e.Records.slice(0, half), e.Records.slice(half)]) {
          expect(await deliver(stream.source, { Records: records })).toStrictEqual({
            batchItemFailures: [],
          });
        }
        continue;
      }
      const response = await deliver(stream.source, e);
      expect(response).toStrictEqual({ batchItemFailures: [] });
      if (fault >= 0.25 && fault < 0.4) {
        counts.redeliveries++;
        await deliver(stream.source, e);
      } else if (fault >= 0.4 && fault < 0.55 && e.Records.length > 1) {
        // The function failed after its writes (another job, say): Lambda bisects the batch.
        counts.bisects++;
        const half = Math.ceil(e.Records.length / 2);
        await deliver(stream.source, { Records: e.Records.slice(0, half) });
        await deliver(stream.source, { Records: e.Records.slice(half) });
      }
      for (const job of Object.keys(JOBS)) {
        models.get(`${stream.source}/${job}`)!.batch(stream.shardId, batch, now);
      }
      joinModel.batch(SIDE[stream.source], stream.shardId, batch, now);
    }
    if (step % 20 === 19) {
      for (const source of SOURCES) {
        await tick(source);
        for (const job of Object.keys(JOBS)) models.get(`${source}/${job}`)!.tick(now);
        joinModel.tick(SIDE[source], now);
      }
    }
  }
  now += 1000;
  for (const source of SOURCES) {
    await tick(source, true);
    for (const job of Object.keys(JOBS)) models.get(`${source}/${job}`)!.tick(now, true);
    joinModel.tick(SIDE[source], now, true);
    for (const letter of letters.get(source)!.letters) {
      expect(letter.reason).toBe('late');
      outcomes
        .get(`${source}/perMinute`)!
        .late.add(JSON.parse(Buffer.from(letter.data, 'base64').toString()).id);
    }
  }
  await client.send(new DeleteTableCommand({ TableName: tableName }));
  return { outcomes, models, counts, streams, joinOutcome, joinModel };
}

// Both properties of a seed are checked on one run of it.
const runs = new Map<string, ReturnType<typeof run>>();
function runOnce(seed: number, faults: { kills: boolean; bisectAfterKill?: boolean }) {
  const id = `${seed}|${faults.kills}|${faults.bisectAfterKill ?? false}`;
  let result = runs.get(id);
  if (!result) {
    result = run(seed, faults);
    runs.set(id, result);
  }
  return result;
}

describe.each([
  [11, false],
  [21, true],
  [22, true],
])('keyed event-time state (seed %i, kills: %s)', (seed, kills) => {
  it('emits what the in-memory computation emits, each window once with one value, late records accounted for', async () => {
    // Given / When
    const { outcomes, models, counts } = await runOnce(seed, { kills });

    // Then
    expect(counts.batches).toBeGreaterThan(20);
    if (kills) expect(counts.kills).toBeGreaterThan(5);
    const lateTotal = [...outcomes.values()].reduce((n, o) => n + o.late.size, 0);
    const emittedTotal = [...outcomes.values()].reduce((n, o) => n + o.emitted.size, 0);
    expect(lateTotal).toBeGreaterThan(0);
    expect(emittedTotal).toBeGreaterThan(10);
    for (const [name, outcome] of outcomes) {
      const model = models.get(name)!;
      expect({ name, emitted: sorted(outcome.emitted) }).toStrictEqual({
        name,
        emitted: sorted(model.emitted),
      });
      expect({ name, late: [...outcome.late].sort() }).toStrictEqual({
        name,
        late: [...model.late].sort(),
      });
      expect(outcome.differing).toStrictEqual([]);
      // Only an attempt killed between emit and marking the window emitted emits it again.
      if (!kills) expect(outcome.repeats).toBe(0);
    }
  });

  it('joins the two sources as the in-memory computation does: each match and outer result once, late records accounted for', async () => {
    // Given / When
    const { joinOutcome, joinModel } = await runOnce(seed, { kills });

    // Then
    const matches = [...joinModel.emitted].filter((id) => !id.endsWith('|'));
    expect(matches.length).toBeGreaterThan(5);
    expect(joinModel.emitted.size).toBeGreaterThan(matches.length);
    expect([...joinOutcome.emitted.keys()].sort()).toStrictEqual([...joinModel.emitted].sort());
    expect([...joinOutcome.late].sort()).toStrictEqual([...joinModel.late].sort());
    // Only an attempt killed between emit and marking the result emitted emits it again.
    if (!kills) expect([...joinOutcome.emitted.values()].every((n) => n === 1)).toBe(true);
  });
});

describe('keyed event-time state when killed batches are bisected (seed 31)', () => {
  it('folds every record exactly once or accounts for it as late, and emits each window with one value', async () => {
    // Given / When: each killed attempt is followed by its two halves, not by itself
    const { outcomes, streams } = await runOnce(31, { kills: true, bisectAfterKill: true });

    // Then: a window may close between the halves, so which records are late depends on what the
    // killed attempt wrote; but every record of a source is in exactly one tumbling window and
    // one session, or late for that job
    for (const source of SOURCES) {
      const records = streams.filter((s) => s.source === source).flatMap((s) => s.records);
      for (const job of ['perMinute', 'sessions']) {
        const outcome = outcomes.get(`${source}/${job}`)!;
        const kept = records.filter((r) => !outcome.late.has(r.id));
        const windows = [...outcome.emitted.values()];
        expect({ source, job, count: windows.reduce((n, w) => n + w.count, 0) }).toStrictEqual({
          source,
          job,
          count: kept.length,
        });
        expect(windows.reduce((n, w) => n + w.sum, 0)).toBe(kept.reduce((n, r) => n + r.value, 0));
        expect(outcome.differing).toStrictEqual([]);
      }
    }
  });

  it('joins the records it did not call late as the in-memory computation joins them: each match or outer result of a view, never both', async () => {
    // Given / When: the same run
    const { joinOutcome, streams, counts } = await runOnce(31, {
      kills: true,
      bisectAfterKill: true,
    });

    // Then: which records are late depends on what the killed attempts wrote (as above), so the
    // computation is given the records the runtime did not call late, as one clean input
    const kept = (source: string) =>
      streams
        .filter((s) => s.source === source)
        .flatMap((s) => s.records)
        .filter((r) => !joinOutcome.late.has(r.id));
    const expected = new JoinModel(JOIN.within, { lateness: 0, idleAfter: JOIN.idleAfter });
    expected.batch('left', 'all', kept('views'), 0);
    expected.batch('right', 'all', kept('orders'), 0);
    expected.tick('left', 0, true);
    expected.tick('right', 0, true);
    const emitted = [...joinOutcome.emitted.keys()];
    expect(emitted.filter((id) => !id.endsWith('|')).length).toBeGreaterThan(5);
    expect(joinOutcome.late.size).toBeGreaterThan(0);
    expect(emitted.sort()).toStrictEqual([...expected.emitted].sort());
    const outer = new Set(emitted.filter((id) => id.endsWith('|')).map((id) => id.slice(0, -1)));
    expect(emitted.filter((id) => !id.endsWith('|') && outer.has(id.split('|')[0]!))).toStrictEqual(
      [],
    );
    // Only an attempt killed between emit and marking the result emitted emits it again: each
    // repeat follows an emission by a killed attempt (one attempt can have several in flight,
    // one per key, when it dies).
    const unexplained = [...joinOutcome.emitted].filter(
      ([id, times]) => times - 1 > (joinOutcome.emittedByKilled.get(id) ?? 0),
    );
    expect(counts.kills).toBeGreaterThan(0);
    expect(unexplained).toStrictEqual([]);
  });
});

function sorted<V>(map: Map<string, V>): [string, V][] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
