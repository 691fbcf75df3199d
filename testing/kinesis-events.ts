import { createHash } from 'node:crypto';
import {
  type KinesisEvent,
  type KinesisEventRecord,
  kinesisEventRecord,
  windowBounds,
  windowFields,
  windowStartOf,
} from '../functions/kinesis/index';

/**
 * One record to put in a test event. `data` is the record's bytes: a `Uint8Array` as is, a string
 * as UTF-8 text, anything else as its JSON (the record format of `driverless run` and `put`).
 */
export interface TestRecord {
  readonly data: unknown;
  /** @default - the record's index in the stream, as a string */
  readonly partitionKey?: string;
  /**
   * The shard's index (0-based), overriding the shard the partition key hashes to.
   * @default - the shard whose hash key range holds the MD5 of the partition key, as Kinesis routes
   */
  readonly shard?: number;
  /**
   * When the record arrived in the stream.
   * @default - one millisecond after the stream's previous record
   */
  readonly arrivedAt?: Date | string | number;
}

/** Options of {@link testStream}. */
export interface TestStreamOptions {
  /** @default 'test-stream' */
  readonly streamName?: string;
  /** Range 1 or more. @default 1 */
  readonly shardCount?: number;
  /** @default 'us-east-1' */
  readonly region?: string;
  /** @default '123456789012' */
  readonly accountId?: string;
  /**
   * The arrival time of the first record; later records arrive a millisecond apart.
   * @default 2026-01-15T10:00:00.000Z
   */
  readonly firstArrival?: Date | string | number;
  /**
   * The function's execution role, as a mapping puts it in every record.
   * @default 'arn:aws:iam::<accountId>:role/<streamName>-function'
   */
  readonly invokeIdentityArn?: string;
}

/**
 * The tumbling-window fields of an event. Give the window by its start (`start` with
 * `tumblingSeconds`, or the arrival of the event's first record aligned as Lambda aligns it).
 */
export interface TestWindow<State = Record<string, unknown>> {
  /** Window length; range 1-900. @default 60 */
  readonly tumblingSeconds?: number;
  /** @default - the window the event's first record arrived in */
  readonly start?: Date | string | number;
  /** The state the function returned last in this window. @default {} (a new window) */
  readonly state?: State;
  /** @default false */
  readonly isFinalInvokeForWindow?: boolean;
  /** @default false */
  readonly isWindowTerminatedEarly?: boolean;
}

/** Options of {@link TestStream.event}. */
export interface TestEventOptions<State = Record<string, unknown>> {
  /**
   * The shard the event comes from: Lambda sends one shard's records per event.
   * @default 0, or the shard of the first record when it names one
   */
  readonly shard?: number;
  /** Makes the event a tumbling-window invocation. @default - no window fields */
  readonly window?: TestWindow<State>;
}

/** The event of a tumbling-window mapping. */
export type TestWindowEvent<State> = KinesisEvent & {
  readonly state: State | Record<string, never>;
  readonly window: { readonly start: string; readonly end: string };
};

/** Kinesis sequence numbers are ~56 decimal digits, far beyond 2^53, and grow along a shard. */
const SEQUENCE_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;
/** Room between two shards' numbers, so each shard's numbers stay distinct and 56 digits long. */
const SHARD_STRIDE = 10n ** 40n;
/** Kinesis leaves gaps between consecutive sequence numbers; tests must not rely on +1. */
const SEQUENCE_STEP = 10n;
const DEFAULT_FIRST_ARRIVAL = Date.UTC(2026, 0, 15, 10, 0, 0);
/** Hash keys are 128-bit: a stream's shards split the range evenly. */
const HASH_KEY_SPACE = 2n ** 128n;

/**
 * The `n`-th sequence number (0-based) of a shard, as {@link testStream} numbers records:
 * 56 digits, increasing with `n`, different on every shard.
 */
export function sequenceNumber(n: number | bigint, shard = 0): string {
  return (SEQUENCE_BASE + BigInt(shard) * SHARD_STRIDE + BigInt(n) * SEQUENCE_STEP).toString();
}

/** `shardId-000000000003`, as Kinesis names shard 3. */
export function shardIdOf(shard: number): string {
  return `shardId-${String(shard).padStart(12, '0')}`;
}

function bytesOf(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  return Buffer.from(typeof data === 'string' ? data : JSON.stringify(data), 'utf8');
}

function millisOf(time: Date | string | number, what: string): number {
  const ms =
    time instanceof Date ? time.getTime() : typeof time === 'string' ? Date.parse(time) : time;
  if (!Number.isFinite(ms)) throw new Error(`${what} must be a date (given ${String(time)})`);
  return ms;
}

/**
 * A stream that numbers the records of the events it builds: every shard's sequence numbers go up
 * from one event to the next, so consecutive events read like consecutive batches of a shard.
 */
export interface TestStream {
  readonly streamName: string;
  readonly streamArn: string;
  /** `shardId-000000000000`, … */
  readonly shardIds: readonly string[];
  /** The records as a mapping delivers them, each numbered on its shard. */
  records(records: readonly TestRecord[]): KinesisEventRecord[];
  /** One event of `records`, all from one shard (Lambda never mixes shards in an event). */
  event(records: readonly TestRecord[], options?: TestEventOptions): KinesisEvent;
  event<State>(
    records: readonly TestRecord[],
    options: TestEventOptions<State> & { readonly window: TestWindow<State> },
  ): TestWindowEvent<State>;
  /**
   * The events a mapping would send for `records`: routed to shards by partition key, one event
   * per shard that got any, in shard order.
   */
  events(records: readonly TestRecord[]): KinesisEvent[];
}

/**
 * A simulated Kinesis stream that builds the events Lambda sends, from plain objects:
 * ```ts
 * const orders = testStream({ streamName: 'orders', shardCount: 2 });
 * const event = orders.event([{ data: { orderId: 'o1' } }, { data: 'not json' }]);
 * ```
 */
export function testStream(options: TestStreamOptions = {}): TestStream {
  const streamName = options.streamName ?? 'test-stream';
  const shardCount = options.shardCount ?? 1;
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new Error(`shardCount must be an integer of 1 or more (given ${shardCount})`);
  }
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '123456789012';
  const streamArn = `arn:aws:kinesis:${region}:${accountId}:stream/${streamName}`;
  const invokeIdentityArn =
    options.invokeIdentityArn ?? `arn:aws:iam::${accountId}:role/${streamName}-function`;
  const shardIds = Array.from({ length: shardCount }, (_, shard) => shardIdOf(shard));
  const next = new Array<number>(shardCount).fill(0);
  let arrival =
    options.firstArrival === undefined
      ? DEFAULT_FIRST_ARRIVAL
      : millisOf(options.firstArrival, 'firstArrival');
  let count = 0;

  /** The shard whose even slice of the 128-bit hash key range holds the key's MD5. */
  const shardOfKey = (partitionKey: string): number => {
    const hashKey = BigInt(`0x${createHash('md5').update(partitionKey).digest('hex')}`);
    return Number((hashKey * BigInt(shardCount)) / HASH_KEY_SPACE);
  };

  const checkShard = (shard: number): number => {
    if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount) {
      throw new Error(
        `shard must be an integer from 0 to ${shardCount - 1} for ${streamName} (given ${shard})`,
      );
    }
    return shard;
  };

  function place(record: TestRecord, forcedShard?: number): KinesisEventRecord {
    const partitionKey = record.partitionKey ?? String(count);
    count += 1;
    const shard = checkShard(forcedShard ?? record.shard ?? shardOfKey(partitionKey));
    const arrivedAt =
      record.arrivedAt === undefined ? arrival : millisOf(record.arrivedAt, 'arrivedAt');
    arrival = Math.max(arrival, arrivedAt + 1);
    const sequence = sequenceNumber(next[shard] ?? 0, shard);
    next[shard] = (next[shard] ?? 0) + 1;
    return kinesisEventRecord({
      shardId: shardIdOf(shard),
      sequenceNumber: sequence,
      partitionKey,
      data: Buffer.from(bytesOf(record.data)).toString('base64'),
      approximateArrivalTimestamp: arrivedAt / 1000,
      invokeIdentityArn,
      awsRegion: region,
      eventSourceARN: streamArn,
    });
  }

  function event(records: readonly TestRecord[], eventOptions: TestEventOptions<unknown> = {}) {
    const shard = checkShard(eventOptions.shard ?? records[0]?.shard ?? 0);
    const built = records.map((record) => place(record, shard));
    const window = eventOptions.window;
    if (window === undefined) return { Records: built };
    const tumblingMs = (window.tumblingSeconds ?? 60) * 1000;
    const firstArrivalMs =
      built[0] === undefined ? arrival : built[0].kinesis.approximateArrivalTimestamp * 1000;
    const startMs =
      window.start === undefined
        ? windowStartOf(firstArrivalMs, tumblingMs)
        : millisOf(window.start, 'window.start');
    const bounds = windowBounds({ startMs, endMs: startMs + tumblingMs, state: {} });
    return {
      Records: built,
      ...windowFields(shardIdOf(shard), streamArn, {
        ...bounds,
        state: (window.state ?? {}) as Record<string, unknown>,
        isFinalInvokeForWindow: window.isFinalInvokeForWindow ?? false,
        isWindowTerminatedEarly: window.isWindowTerminatedEarly ?? false,
      }),
    };
  }

  return {
    streamName,
    streamArn,
    shardIds,
    records: (records) => records.map((record) => place(record)),
    event: event as TestStream['event'],
    events(records) {
      const byShard = new Map<number, KinesisEventRecord[]>();
      for (const record of records) {
        const placed = place(record);
        const shard = Number(placed.eventID.slice('shardId-'.length, placed.eventID.indexOf(':')));
        byShard.set(shard, [...(byShard.get(shard) ?? []), placed]);
      }
      return [...byShard.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, shardRecords]) => ({ Records: shardRecords }));
    },
  };
}

/**
 * One event of `records` from a fresh single-shard {@link testStream}: the quickest way to a
 * handler's input.
 */
export function kinesisEvent(
  records: readonly TestRecord[],
  options: TestStreamOptions & TestEventOptions = {},
): KinesisEvent {
  return testStream(options).event(records, options);
}
