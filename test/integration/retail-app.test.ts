/**
 * The example retail app end to end: records put with the AWS SDK flow through the real mappings
 * and functions into DynamoDB and the dead-letter queues. Runs on the embedded stack (default,
 * what CI proves) or on LocalStack (`DRIVERLESS_TARGET=localstack`, after `npm run deploy:local`);
 * see support/target.ts.
 */
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { seededRandom as seeded } from '../../cli/seeded-random';
import type { DeadLetter } from '../../functions/runtime/dead-letter';
import { kplAggregate } from '../fixtures/kpl';
import type { RecordPosition } from './support/mapping-events';
import {
  type DiscoveredFunction,
  type EmbeddedTarget,
  startTarget,
  type Target,
  targetKind,
} from './support/target';

// Synthesis (~10 s), the stack, cold starts and processing: generous bounds, each wait is bounded too.
jest.setTimeout(120_000);

const kind = targetKind();

// Tests that need the embedded stack's instrumentation (mapping events, the slow-table proxy)
// do not run on LocalStack; the reason is printed with the suite name.
const onEmbeddedStack =
  // (Biome's noSkippedTests flags skip calls, not this value; nothing is skipped on the embedded stack.)
  kind === 'embedded' ? describe : describe.skip;
const EMBEDDED_ONLY =
  kind === 'embedded' ? '' : ' [skipped on LocalStack: needs mapping events and a DynamoDB proxy]';

// Ids carry a run prefix so a LocalStack deployment reused across runs still compares only this
// run's items; on the embedded stack every run starts empty and the prefix is fixed.
const RUN = kind === 'embedded' ? 'e2e' : `e2e${Date.now().toString(36)}`;
const BASE_TS = Date.UTC(2026, 0, 15, 9, 58, 20);

// ---------------------------------------------------------------------------------------------
// Inputs (deterministic)

interface View {
  readonly userId: string;
  readonly productId: string;
  readonly ts: number;
}
interface Order {
  readonly orderId: string;
  readonly userId: string;
  readonly items: readonly { readonly productId: string; readonly quantity: number }[];
  readonly ts: number;
}
interface Poison {
  readonly label: string;
  readonly partitionKey: string;
  readonly bytes: Uint8Array;
  readonly reason: RegExp;
}
/**
 * One record to put: a valid event, a poison record, or several events aggregated by the KPL
 * (the function's bundle leaves KPL de-aggregation to a module shipped beside it).
 */
type Input<T> =
  | { readonly event: T }
  | { readonly poison: Poison }
  | { readonly aggregate: readonly T[] };

const pad = (n: number) => String(n).padStart(3, '0');
const user = (n: number) => `${RUN}-user-${pad(n)}`;
const product = (n: number) => `${RUN}-product-${pad(n)}`;

/** Skewed choice: low indexes are picked far more often, like popular users and products. */
const skewed = (random: () => number, size: number) => Math.floor(size * random() ** 2);

function retailInputs(): { views: Input<View>[]; orders: Input<Order>[] } {
  const random = seeded(20260115);
  const views: Input<View>[] = Array.from({ length: 300 }, () => ({
    event: {
      userId: user(skewed(random, 40)),
      productId: product(skewed(random, 25)),
      // Not in put order: the latest view is the greatest ts, whatever order records arrive in.
      ts: BASE_TS + Math.floor(random() * 300_000),
    },
  }));
  // Each (user, product) is bought at most once, so `orderId` does not depend on write order.
  const bought = new Set<string>();
  const orders: Input<Order>[] = Array.from({ length: 30 }, (_, n) => {
    const userId = user(skewed(random, 40));
    const items: { productId: string; quantity: number }[] = [];
    for (let tries = 0; items.length < 1 + (n % 3) && tries < 50; tries++) {
      const productId = product(skewed(random, 25));
      if (bought.has(`${userId}/${productId}`)) continue;
      bought.add(`${userId}/${productId}`);
      items.push({ productId, quantity: 1 + (n % 2) });
    }
    return {
      event: { orderId: `${RUN}-order-${pad(n)}`, userId, items, ts: BASE_TS + n * 10_000 },
    };
  });
  views.splice(250, 0, {
    aggregate: Array.from({ length: 5 }, (_, n) => ({
      userId: user(skewed(random, 40)),
      productId: product(n),
      ts: BASE_TS + Math.floor(random() * 300_000),
    })),
  });
  views.splice(100, 0, {
    poison: {
      label: 'bad JSON',
      partitionKey: user(3),
      bytes: Buffer.from(`{"userId":"${user(3)}","productId":`),
      reason: /^invalid JSON: /,
    },
  });
  views.splice(150, 0, {
    poison: {
      // Its letter is larger than an SQS message: the payload goes to the source's bucket.
      label: 'oversized bad JSON',
      partitionKey: user(5),
      bytes: Buffer.from(`{"userId":"${user(5)}","note":"${'x'.repeat(300_000)}`),
      reason: /^invalid JSON: /,
    },
  });
  views.splice(200, 0, {
    poison: {
      label: 'non-UTF-8 bytes',
      partitionKey: user(7),
      bytes: Uint8Array.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]),
      reason: /^invalid UTF-8$/,
    },
  });
  orders.splice(15, 0, {
    poison: {
      label: 'schema-invalid order',
      partitionKey: user(1),
      bytes: Buffer.from(
        JSON.stringify({ orderId: `${RUN}-order-bad`, userId: user(1), items: [], ts: BASE_TS }),
      ),
      reason: /^schema: items: /,
    },
  });
  return { views, orders };
}

// ---------------------------------------------------------------------------------------------
// The pure prediction: what the tables must hold, from the inputs alone

interface RecommendationItem {
  userId: string;
  productId: string;
  viewedAt?: number;
  purchased?: true;
  orderId?: string;
}
interface PopularityItem {
  productId: string;
  minute: string;
  views: number;
}

const eventsOf = <T>(inputs: readonly Input<T>[]): T[] =>
  inputs.flatMap((input) =>
    'event' in input ? [input.event] : 'aggregate' in input ? input.aggregate : [],
  );

function predictRecommendations(views: readonly View[], orders: readonly Order[]) {
  const items = new Map<string, RecommendationItem>();
  const item = (userId: string, productId: string) => {
    const key = `${userId}/${productId}`;
    const existing = items.get(key) ?? { userId, productId };
    items.set(key, existing);
    return existing;
  };
  for (const view of views) {
    const it = item(view.userId, view.productId);
    it.viewedAt = Math.max(it.viewedAt ?? 0, view.ts);
  }
  for (const order of orders) {
    for (const { productId } of order.items) {
      const it = item(order.userId, productId);
      it.purchased = true;
      it.orderId = order.orderId;
    }
  }
  return sortedBy([...items.values()], 'userId', 'productId');
}

function predictPopularity(views: readonly View[]): PopularityItem[] {
  const items = new Map<string, PopularityItem>();
  for (const view of views) {
    const minute = new Date(view.ts).toISOString().slice(0, 16);
    const key = `${view.productId}/${minute}`;
    const it = items.get(key) ?? { productId: view.productId, minute, views: 0 };
    it.views++;
    items.set(key, it);
  }
  return sortedBy([...items.values()], 'productId', 'minute');
}

function sortedBy<T>(items: T[], first: keyof T, second: keyof T): T[] {
  const key = (item: T) => `${String(item[first])}\u0000${String(item[second])}`;
  return items.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

// ---------------------------------------------------------------------------------------------
// Harness

interface Put<T> extends RecordPosition {
  readonly input: Input<T>;
  readonly partitionKey: string;
  readonly bytes: Uint8Array;
}

async function bytesOf<T extends View | Order>(input: Input<T>): Promise<Uint8Array> {
  if ('event' in input) return Buffer.from(JSON.stringify(input.event));
  if ('poison' in input) return input.poison.bytes;
  const aggregated = input.aggregate.map((event) => ({ partitionKey: event.userId, data: event }));
  return Buffer.from(await kplAggregate(aggregated), 'base64');
}
const partitionKeyOf = <T extends View | Order>(input: Input<T>) =>
  'event' in input
    ? input.event.userId
    : 'poison' in input
      ? input.poison.partitionKey
      : (input.aggregate[0] as T).userId;

/** Puts records in order, in PutRecords calls of `chunk`, and returns where each landed. */
async function putAll<T extends View | Order>(
  stream: string,
  inputs: readonly Input<T>[],
  chunk = 100,
): Promise<Put<T>[]> {
  const puts: Put<T>[] = [];
  for (let start = 0; start < inputs.length; start += chunk) {
    const slice = inputs.slice(start, start + chunk);
    const records = await Promise.all(
      slice.map(async (input) => ({
        input,
        partitionKey: partitionKeyOf(input),
        bytes: await bytesOf(input),
      })),
    );
    const result = await target.clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: records.map((r) => ({ PartitionKey: r.partitionKey, Data: r.bytes })),
      }),
    );
    if (result.FailedRecordCount) throw new Error(`${result.FailedRecordCount} puts failed`);
    records.forEach((record, index) => {
      const entry = result.Records?.[index];
      if (!entry?.ShardId || !entry.SequenceNumber) throw new Error(`put ${index} has no position`);
      puts.push({ ...record, shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber });
    });
  }
  return puts;
}

async function scanAll<T>(table: string): Promise<T[]> {
  const items: T[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await target.clients.documents.send(
      new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    items.push(...((page.Items ?? []) as T[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

const ofThisRun = (id: string) => id.startsWith(`${RUN}-`);

async function recommendations(): Promise<RecommendationItem[]> {
  const items = await scanAll<RecommendationItem>(tables.recommendations);
  return sortedBy(
    items.filter((item) => ofThisRun(item.userId)),
    'userId',
    'productId',
  );
}

/** Popularity items projected on their counts (the per-shard `seq_*` marks are bookkeeping). */
async function popularity(): Promise<PopularityItem[]> {
  const items = await scanAll<PopularityItem>(tables.popularity);
  return sortedBy(
    items
      .filter((item) => ofThisRun(item.productId))
      .map(({ productId, minute, views }) => ({ productId, minute, views })),
    'productId',
    'minute',
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads a queue's letters until `complete` says enough arrived, or 15 s pass (ReceiveMessage hides
 * what it returns, so each queue is read once). A queue reused across LocalStack runs may also
 * hold older letters; callers pick theirs by sequence number.
 */
async function drainDeadLetters(
  queueUrl: string,
  complete: (letters: readonly DeadLetter[]) => boolean,
): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  const deadline = Date.now() + 15_000;
  while (!complete(letters) && Date.now() < deadline) {
    const page = await target.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        VisibilityTimeout: 300,
      }),
    );
    for (const message of page.Messages ?? [])
      letters.push(JSON.parse(message.Body ?? '{}') as DeadLetter);
  }
  return letters;
}

/** A letter's payload (base64): in the letter, or in the object it names when it overflowed to S3. */
async function payloadOf(letter: DeadLetter & { dataLocation?: string }): Promise<string> {
  if (letter.dataLocation === undefined) return letter.data;
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(letter.dataLocation) ?? [];
  const object = await target.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (JSON.parse((await object.Body?.transformToString()) ?? '{}') as DeadLetter).data;
}

function only<T>(items: readonly T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what} (found ${items.length})`);
  return items[0] as T;
}

// ---------------------------------------------------------------------------------------------

const PIPELINE = 'Retail';
let target: Target;
let functions: readonly DiscoveredFunction[];
let streams: { views: string; orders: string };
let tables: { recommendations: string; popularity: string };
const inputs = retailInputs();
let viewPuts: Put<View>[];
let orderPuts: Put<Order>[];

const functionsOf = (source: string) => functions.filter((fn) => fn.source === source);
const mappingsOf = (source: string) => functionsOf(source).flatMap((fn) => fn.mappings);
const deadLetterQueueOf = (source: string) => {
  const urls = new Set(
    functionsOf(source).flatMap((fn) => fn.environment.DRIVERLESS_DEAD_LETTER_QUEUE_URL ?? []),
  );
  return only([...urls], `dead-letter queue of ${source}`);
};

/** Waits until every mapping has checkpointed every record put on its stream. */
async function everyRecordProcessed(): Promise<void> {
  const expected: [string, RecordPosition[]][] = [
    ...mappingsOf('productViews').map((m): [string, RecordPosition[]] => [m.uuid, viewPuts]),
    ...mappingsOf('orders').map((m): [string, RecordPosition[]] => [m.uuid, orderPuts]),
  ];
  if (target.kind === 'embedded') {
    const events = target.mappingEvents;
    await events.until(
      () => expected.every(([uuid, puts]) => events.completedAt(uuid, puts) !== undefined),
      60_000,
      () =>
        expected
          .map(([uuid, puts]) => `${uuid}: ${events.checkpointedCount(uuid, puts)}/${puts.length}`)
          .join(', '),
    );
    return;
  }
  // LocalStack offers no checkpoint events: poll the tables until they hold the prediction.
  const want = JSON.stringify([
    predictRecommendations(eventsOf(inputs.views), eventsOf(inputs.orders)),
    predictPopularity(eventsOf(inputs.views)),
  ]);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (JSON.stringify([await recommendations(), await popularity()]) === want) return;
    await sleep(1000);
  }
}

beforeAll(async () => {
  target = await startTarget(kind, {
    pipeline: PIPELINE,
    tuning: {
      idlePollIntervalMs: 100,
      consumerPollIntervalMs: 50,
      retryBackoff: { initialMs: 100, multiplier: 2, maxMs: 500 },
    },
  });
  functions = target.functions;
  const streamOf = (source: string) =>
    only([...new Set(mappingsOf(source).map((m) => m.streamName))], `stream of ${source}`);
  streams = { views: streamOf('productViews'), orders: streamOf('orders') };
  const tableOf = (variable: string) =>
    only(
      [...new Set(functions.map((fn) => fn.environment[variable]))].filter((t) => t !== undefined),
      variable,
    );
  tables = {
    recommendations: tableOf('RECOMMENDATIONS_TABLE'),
    popularity: tableOf('POPULARITY_TABLE'),
  };

  [viewPuts, orderPuts] = await Promise.all([
    putAll(streams.views, inputs.views),
    putAll(streams.orders, inputs.orders),
  ]);
  await everyRecordProcessed();
});

afterAll(async () => {
  await target?.stop();
});

describe('the retail example app', () => {
  onEmbeddedStack(`mappings${EMBEDDED_ONLY}`, () => {
    test('every mapping checkpoints every record of its stream and discards none', () => {
      // given: beforeAll waited for the checkpoints
      const embedded = target as EmbeddedTarget;
      // when
      const counts = [
        ...mappingsOf('productViews').map((m) => [m.uuid, viewPuts] as const),
        ...mappingsOf('orders').map((m) => [m.uuid, orderPuts] as const),
      ].map(([uuid, puts]) => ({
        checkpointed: embedded.mappingEvents.checkpointedCount(uuid, puts),
        discarded: embedded.mappingEvents.discardedCount(uuid, puts),
        total: puts.length,
      }));
      // then: the main function and the isolated popularity function of product views, and orders
      expect(counts).toHaveLength(3);
      for (const count of counts)
        expect(count).toStrictEqual({
          checkpointed: count.total,
          discarded: 0,
          total: count.total,
        });
    });
  });

  test('Recommendations holds the latest view and the purchase of each user and product', async () => {
    // given
    const predicted = predictRecommendations(eventsOf(inputs.views), eventsOf(inputs.orders));
    // when
    const actual = await recommendations();
    // then
    expect(actual.length).toBeGreaterThan(100);
    expect(actual).toStrictEqual(predicted);
  });

  test('Popularity counts every view once per product and minute', async () => {
    // given
    const predicted = predictPopularity(eventsOf(inputs.views));
    // when
    const actual = await popularity();
    // then
    expect(predicted.reduce((sum, item) => sum + item.views, 0)).toBe(305);
    expect(actual).toStrictEqual(predicted);
  });

  describe('poison records', () => {
    const letters = new Map<string, Promise<DeadLetter[]>>();
    /** The source's dead letters, read once for all tests of this block. */
    const deadLettersOf = (source: string) => {
      let read = letters.get(source);
      if (!read) {
        // One letter per poison record from each function that decodes the source.
        const poisoned = new Set(
          (source === 'orders' ? orderPuts : viewPuts)
            .filter((p) => 'poison' in p.input)
            .map((p) => p.sequenceNumber),
        );
        const expected = poisoned.size * functionsOf(source).length;
        read = drainDeadLetters(
          deadLetterQueueOf(source),
          (received) => received.filter((l) => poisoned.has(l.sequenceNumber)).length >= expected,
        );
        letters.set(source, read);
      }
      return read;
    };
    const poisonOf = (source: 'productViews' | 'orders', label: string) =>
      only(
        (source === 'orders' ? orderPuts : viewPuts).filter(
          (p) => 'poison' in p.input && p.input.poison.label === label,
        ),
        label,
      );

    test.each([
      ['productViews', 'bad JSON'],
      ['productViews', 'oversized bad JSON'],
      ['productViews', 'non-UTF-8 bytes'],
      ['orders', 'schema-invalid order'],
    ] as const)(
      '%s: the %s record is dead-lettered with its payload, reason and sequence number',
      async (source, label) => {
        // given
        const poison = poisonOf(source, label);
        const reason = 'poison' in poison.input ? poison.input.poison.reason : /never/;
        // when
        const mine = (await deadLettersOf(source)).filter(
          (letter) => letter.sequenceNumber === poison.sequenceNumber,
        );
        // then: each function reading the source gave up on it exactly once
        expect(mine.map((letter) => letter.functionName).sort()).toStrictEqual(
          functionsOf(source)
            .map((fn) => fn.name)
            .sort(),
        );
        for (const letter of mine) {
          expect(await payloadOf(letter)).toBe(Buffer.from(poison.bytes).toString('base64'));
          expect(letter).toMatchObject({
            reason: expect.stringMatching(reason),
            sequenceNumber: poison.sequenceNumber,
            shardId: poison.shardId,
            partitionKey: poison.partitionKey,
            source,
          });
        }
      },
    );

    test.each([
      ['productViews', 'bad JSON'],
      ['productViews', 'oversized bad JSON'],
      ['productViews', 'non-UTF-8 bytes'],
      ['orders', 'schema-invalid order'],
    ] as const)(
      '%s: the records after the %s record on its shard are processed',
      async (source, label) => {
        // given
        const poison = poisonOf(source, label);
        const puts: Put<View | Order>[] = source === 'orders' ? orderPuts : viewPuts;
        const later = puts.filter(
          (p) =>
            p.shardId === poison.shardId &&
            BigInt(p.sequenceNumber) > BigInt(poison.sequenceNumber) &&
            'event' in p.input,
        );
        // when
        const items = new Map(
          (await recommendations()).map((item) => [`${item.userId}/${item.productId}`, item]),
        );
        // then
        expect(later.length).toBeGreaterThan(5);
        const missing = later.filter((p) => {
          if (!('event' in p.input)) return false;
          const event = p.input.event;
          if ('items' in event)
            return event.items.some(
              (i) => items.get(`${event.userId}/${i.productId}`)?.purchased !== true,
            );
          return (items.get(`${event.userId}/${event.productId}`)?.viewedAt ?? 0) < event.ts;
        });
        expect(missing).toStrictEqual([]);
      },
    );
  });

  onEmbeddedStack(`job isolation${EMBEDDED_ONLY}`, () => {
    afterAll(() => {
      if (target.kind === 'embedded') target.dynamoProxy.slowDown(tables.recommendations, 0);
    });

    test('popularity, isolated, checkpoints all its views long before recommendations of the same source, made slow, does', async () => {
      // given: every write to Recommendations takes 500 ms more (proxy in front of DynamoDB)
      const embedded = target as EmbeddedTarget;
      const events = embedded.mappingEvents;
      const [popularityMapping] = functionsOf('productViews')
        .filter((fn) => fn.jobs === 'popularity')
        .flatMap((fn) => fn.mappings);
      const [recommendationsMapping] = functionsOf('productViews')
        .filter((fn) => fn.jobs === '!popularity')
        .flatMap((fn) => fn.mappings);
      if (!popularityMapping || !recommendationsMapping) throw new Error('mappings not found');
      embedded.dynamoProxy.slowDown(tables.recommendations, 500);
      const random = seeded(7);
      const views: Input<View>[] = Array.from({ length: 200 }, (_, n) => ({
        event: {
          userId: `${RUN}-slow-user-${pad(n)}`,
          productId: product(skewed(random, 25)),
          ts: BASE_TS + n,
        },
      }));

      // when
      const puts = await putAll(streams.views, views, 200);
      await events.until(
        () => events.completedAt(popularityMapping.uuid, puts) !== undefined,
        30_000,
        () => `popularity checkpointed ${events.checkpointedCount(popularityMapping.uuid, puts)}`,
      );
      const recommendationsWhenPopularityDone = events.checkpointedCount(
        recommendationsMapping.uuid,
        puts,
      );
      await events.until(
        () => events.completedAt(recommendationsMapping.uuid, puts) !== undefined,
        60_000,
        () =>
          `recommendations checkpointed ${events.checkpointedCount(recommendationsMapping.uuid, puts)}`,
      );

      // then
      expect(recommendationsWhenPopularityDone).toBeLessThan(puts.length / 2);
      expect(events.completedAt(popularityMapping.uuid, puts)).toBeLessThan(
        events.completedAt(recommendationsMapping.uuid, puts) ?? 0,
      );
      // the fault was injected where intended: one delayed write per distinct (user, product)
      expect(embedded.dynamoProxy.delayed(tables.recommendations)).toBeGreaterThanOrEqual(200);
    });
  });
});
