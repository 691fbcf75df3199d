import { compareSequenceNumbers, type KinesisEvent } from '../../kinesis/index';
import { ENVIRONMENT } from '../environment';
import { ConfigurationError } from '../errors';
import type { JobContext } from '../jobs';
import type { StreamRecord } from '../stream-record';
import type { WatermarkOptions } from './aggregate';
import { type Duration, toMillis } from './duration';
import { KeyLockHeldError, type LockOwner, withKeyLock } from './key-lock';
import { type LateHandling, type LateRecord, settleLate } from './late-records';
import { forEachLimit } from './limit';
import type { StateItem, StateKey, StateTable } from './state-table';
import {
  type StatefulJob,
  type StatefulScope,
  type StatefulServices,
  statefulJob,
} from './stateful-job';
import {
  advancedShard,
  END_OF_INPUT,
  NO_WATERMARK,
  readProgress,
  storeWatermark,
  type WatermarkPolicy,
  watermarkOf,
  writeShard,
} from './watermark';
import { CONCURRENCY, dueEntries, pad } from './window-items';

/** One side of a {@link streamJoin}: the source it reads and how its records are keyed and timed. */
export interface JoinSide<T> {
  /** The source whose function runs this side (`DRIVERLESS_SOURCE`); checked when the job is bound. */
  readonly source: string;
  /**
   * Records of both sides with equal keys are joined. A record with several keys (an order of
   * several products) joins under each, as one record per key would.
   */
  readonly key: (record: StreamRecord<T>) => string | readonly string[];
  /** The record's event time: epoch ms, a Date or an ISO-8601 string. */
  readonly eventTime: (record: StreamRecord<T>) => number | Date | string;
}

/** A record as the join stored it: its data (plain JSON), event time and position in its stream. */
export interface JoinedRecord<T> {
  readonly data: T;
  /** Epoch ms. */
  readonly eventTime: number;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber?: number;
}

/**
 * A result of a join: a left record with a right record of the same key, or (left outer joins) a
 * left record no right record matched within the bound, with `right` undefined.
 */
export interface Joined<L, R> {
  /** The same for every attempt at emitting this result, for idempotent writes. */
  readonly id: string;
  readonly key: string;
  readonly left: JoinedRecord<L>;
  readonly right: JoinedRecord<R> | undefined;
}

/** Context of {@link StreamJoinOptions.emit}. */
export interface JoinEmitContext {
  readonly join: string;
  /** The source whose function emits (either side's). */
  readonly source: string;
  /** The join's watermark when the result was found (epoch ms). */
  readonly watermark: number;
}

/** Options of {@link streamJoin}. */
export interface StreamJoinOptions<L, R> {
  /** Names the join's state: the same on both sides, unique in the pipeline. */
  readonly name: string;
  readonly left: JoinSide<L>;
  readonly right: JoinSide<R>;
  /**
   * A right record matches a left record of the same key when its event time is in
   * `[left, left + within]` (e.g. an order within 30 minutes after a view).
   */
  readonly within: Duration;
  /**
   * `'inner'`: only matches. `'leftOuter'`: also each left record that no right record matched,
   * once the watermark passes its bound, with `right` undefined.
   * @default 'inner'
   */
  readonly kind?: 'inner' | 'leftOuter';
  /** The join's watermark is the lower of the two sides'. @default - no allowed lateness, shards idle after one minute */
  readonly watermark?: WatermarkOptions;
  /**
   * Receives each match, and each outer result, once, whichever side's function finds it. If it
   * throws, the batch fails (a match) or the next tick retries (an outer result). Make its writes
   * idempotent on `joined.id`: a process killed after `emit` and before marking it emitted emits
   * it again.
   */
  readonly emit: (joined: Joined<L, R>, context: JoinEmitContext) => Promise<void> | void;
  /**
   * Records behind the join's watermark when they arrive (they can no longer be matched exactly
   * once): dead-lettered with reason `late`, dropped, or given to a function.
   * @default 'dead-letter'
   */
  readonly late?: LateHandling<L | R>;
}

/** The two jobs of a join: list `left` in the left source's `jobs`, `right` in the right's. */
export interface StreamJoin<L, R> {
  readonly left: StatefulJob<L>;
  readonly right: StatefulJob<R>;
}

type Side = 'left' | 'right';

/** One key's partition under its lock: the items read, kept current with this invocation's writes. */
interface KeyScope {
  readonly table: StateTable;
  readonly pk: string;
  readonly key: string;
  /** The partition's items by sort key. */
  readonly items: Map<string, StateItem>;
  /** Throws once the lock's lease is over (see withKeyLock). */
  readonly held: () => void;
  /** For the emit context: the emitting source and the watermark the results were found at. */
  readonly source: string;
  readonly watermark: number;
}

/** A record as stored in a record item. */
interface StoredRecord {
  readonly id: string;
  readonly data: unknown;
  readonly t: number;
  readonly shardId: string;
  readonly seq: string;
  readonly sub?: number;
}

interface RecordItemBody {
  readonly side: Side;
  readonly records: StoredRecord[];
}

/** An emission marker (a match), or a left record's status (left outer joins). */
interface Marker {
  /**
   * Status of a left record: matched, emitted alone (written before the outer result), or
   * handed over as late.
   */
  readonly outcome?: 'matched' | 'outer' | 'late';
  readonly emitted?: true;
}

/**
 * The status of a right record in a left outer join, under one key: handed over as late (every
 * left record it matches was emitted alone first), or taken by a left record's batch for a match.
 * Whichever is written first wins, so a right record is never both late and matched.
 */
interface RightStatus {
  readonly outcome: 'late' | 'matched';
}

/** A due entry: a record item to settle (outer results, cleanup) once the watermark passes `bound`. */
interface JoinDue {
  readonly key: string;
  readonly sk: string;
  readonly bound: number;
}

// Markers, statuses and what a killed process left expire this long after they are no longer
// needed: far longer than any batch that read them can still be running (15 minutes at most).
const RETAIN_MS = 7 * 86_400_000;
const ATTEMPTS = 8;
// The item of a key's partition that keeps how far the watermark has settled it.
const SWEPT_SK = 'swept';

const toMillisOf = (time: number | Date | string): number =>
  typeof time === 'number' ? time : time instanceof Date ? time.getTime() : Date.parse(time);
const append = <V>(map: Map<string, V[]>, key: string, value: V): void => {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
};

// What `emit` threw, told apart from the state table's errors, which end a key's settling.
const emitFailures = new WeakSet<object>();
const emitFailure = (error: unknown): object => {
  const failure = typeof error === 'object' && error !== null ? error : new Error(String(error));
  emitFailures.add(failure);
  return failure;
};

/** Records a write of this invocation in the partition it read. */
const remember = (
  items: Map<string, StateItem>,
  key: StateKey,
  body: unknown,
  previous: number | undefined,
): void => {
  items.set(key.sk, { ...key, body, version: (previous ?? 0) + 1 });
};
const outcomeOf = (items: ReadonlyMap<string, StateItem>, sk: string) =>
  (items.get(sk)?.body as { outcome?: 'matched' | 'outer' | 'late' } | undefined)?.outcome;

const recordId = (r: { shardId: string; sequenceNumber: string; subSequenceNumber?: number }) =>
  `${r.shardId}:${r.sequenceNumber}${r.subSequenceNumber === undefined ? '' : `:${r.subSequenceNumber}`}`;

const toJoined = <T>(r: StoredRecord): JoinedRecord<T> => ({
  data: r.data as T,
  eventTime: r.t,
  shardId: r.shardId,
  sequenceNumber: r.seq,
  ...(r.sub === undefined ? {} : { subSequenceNumber: r.sub }),
});

/**
 * A stream-stream join across two sources with watermarks, as Spark Structured Streaming has it:
 * each side's function writes its records into the key's partition of the state table, reads the
 * partition back (strongly consistent), and emits each match once whichever side arrives first;
 * left outer results are emitted once the watermark passes their bound; state is removed behind
 * the watermark. See docs/state.md for the semantics.
 */
export function streamJoin<L, R>(options: StreamJoinOptions<L, R>): StreamJoin<L, R> {
  const withinMs = toMillis(options.within, 'streamJoin({ within })', false);
  const policy: WatermarkPolicy = {
    allowedLatenessMs: toMillis(
      options.watermark?.allowedLateness ?? 0,
      'streamJoin({ watermark: { allowedLateness } })',
      false,
    ),
    idleShardAfterMs: toMillis(
      options.watermark?.idleShardAfter ?? '1m',
      'streamJoin({ watermark: { idleShardAfter } })',
    ),
  };
  const problems: string[] = [];
  if (typeof options.name !== 'string' || !/^[\w.-]+$/.test(options.name)) {
    problems.push(
      `name must be letters, digits, '_', '.' or '-' (given ${JSON.stringify(options.name)})`,
    );
  }
  for (const side of ['left', 'right'] as const) {
    const spec = options[side];
    if (typeof spec?.source !== 'string' || spec.source === '') {
      problems.push(`${side}.source must be the name of a source`);
    }
    if (typeof spec?.key !== 'function') problems.push(`${side}.key must be a function`);
    if (typeof spec?.eventTime !== 'function')
      problems.push(`${side}.eventTime must be a function`);
  }
  const kind = options.kind ?? 'inner';
  if (kind !== 'inner' && kind !== 'leftOuter') {
    problems.push(`kind must be 'inner' or 'leftOuter' (given ${JSON.stringify(kind)})`);
  }
  if (typeof options.emit !== 'function') problems.push('emit must be a function');
  const late = options.late ?? 'dead-letter';
  if (late !== 'dead-letter' && late !== 'drop' && typeof late !== 'function') {
    problems.push(`late must be 'dead-letter', 'drop' or a function (given ${String(late)})`);
  }
  if (problems.length > 0) throw new ConfigurationError(`streamJoin: ${problems.join('; ')}`);

  const name = options.name;
  const progressPk = (side: Side) => `wm|join|${name}|${side}`;
  const jointPk = `wm|join|${name}`;
  const duePk = `due|join|${name}`;
  const keyPk = (key: string) => `join|${name}|${key}`;
  const matchSk = (leftId: string, rightId: string) => `m|${leftId}|${rightId}`;
  const statusSk = (leftId: string) => `s|${leftId}`;
  const rightStatusSk = (rightId: string) => `rs|${rightId}`;
  const expiry = (bound: number) => (Math.max(bound, Date.now()) + RETAIN_MS) / 1000;
  /** The bound after which a stored record can no longer be matched by an on-time record. */
  const boundOf = (side: Side, time: number) => (side === 'left' ? time + withinMs : time);
  const matches = (left: StoredRecord, right: StoredRecord) =>
    right.t >= left.t && right.t <= left.t + withinMs;

  /**
   * The join's watermark: the lower of the two sides' (a side that has shown no record holds it
   * at the start), never below the stored one. A side whose input is over counts as +∞.
   */
  async function jointWatermark(table: StateTable, now: number) {
    const [left, right, joint] = await Promise.all([
      readProgress(table, progressPk('left')),
      readProgress(table, progressPk('right')),
      readProgress(table, jointPk),
    ]);
    const sideMark = (progress: typeof left) =>
      progress.stored >= END_OF_INPUT
        ? END_OF_INPUT
        : watermarkOf(progress.shards.values(), NO_WATERMARK, policy, now);
    const watermark = Math.max(joint.stored, Math.min(sideMark(left), sideMark(right)));
    return { watermark, left, right, joint };
  }

  /**
   * Emits the result of marker `key` once, under the key's lock: `refused` when the marker is a
   * left record's status already settled the other way (`base.outcome`), `done` when an earlier
   * attempt emitted it. A status is written before `fire`, so that once an outer result may have
   * been emitted no batch takes its left record for a match; a process killed between `fire` and
   * the mark emits the result again (hence `emit`'s idempotence on `joined.id`).
   */
  async function emitOnce(
    scope: KeyScope,
    key: StateKey,
    base: Marker,
    expiresAt: number,
    fire: () => Promise<void> | void,
  ): Promise<'emitted' | 'done' | 'refused'> {
    const { table, items } = scope;
    const found = items.get(key.sk);
    const body = (found?.body ?? {}) as Marker;
    if (base.outcome !== undefined && body.outcome !== undefined && body.outcome !== base.outcome) {
      return 'refused';
    }
    if (body.emitted) return 'done';
    scope.held();
    let version = found?.version;
    if (base.outcome !== undefined && body.outcome === undefined) {
      if (!(await table.put({ ...key, body: base, expiresAt }, version))) {
        throw new Error(`join "${name}": ${key.pk} ${key.sk} changed under the key's lock`);
      }
      version = (version ?? 0) + 1;
      remember(items, key, base, version - 1);
    }
    try {
      await fire();
    } catch (error) {
      throw emitFailure(error);
    }
    await table.put({ ...key, body: { ...base, emitted: true }, expiresAt }, 'any');
    remember(items, key, { ...base, emitted: true }, version);
    return 'emitted';
  }

  /** Writes the status `matched` of a left record unless it was emitted alone. */
  async function markMatched(scope: KeyScope, leftId: string, bound: number): Promise<boolean> {
    const { table, pk, items } = scope;
    const key = { pk, sk: statusSk(leftId) };
    let item = items.get(key.sk);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const body = item?.body as Marker | undefined;
      if (body?.outcome === 'outer' || body?.outcome === 'late') return false;
      if (body?.outcome === 'matched') return true;
      const matched: Marker = { outcome: 'matched', emitted: true };
      if (await table.put({ ...key, body: matched, expiresAt: expiry(bound) }, item?.version)) {
        remember(items, key, matched, item?.version);
        return true;
      }
      item = (await table.get([key])).values().next().value;
    }
    throw new Error(`join "${name}": status of ${leftId} kept changing`);
  }

  /**
   * Writes the status `outcome` of a right record unless it has one; returns the status it has
   * then (the one written, or the one another batch wrote first).
   */
  async function settleRight(
    scope: KeyScope,
    rightId: string,
    bound: number,
    outcome: RightStatus['outcome'],
  ): Promise<RightStatus['outcome']> {
    const { table, pk, items } = scope;
    const key = { pk, sk: rightStatusSk(rightId) };
    let item = items.get(key.sk);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const body = item?.body as RightStatus | undefined;
      if (body?.outcome !== undefined) return body.outcome;
      if (await table.put({ ...key, body: { outcome }, expiresAt: expiry(bound) }, undefined)) {
        remember(items, key, { outcome }, undefined);
        return outcome;
      }
      item = (await table.get([key])).values().next().value;
    }
    throw new Error(`join "${name}": status of ${rightId} kept changing`);
  }

  /** Writes the status `late` of a record that has none (under the key's lock). */
  async function markLate(scope: KeyScope, sk: string, time: number): Promise<void> {
    const key = { pk: scope.pk, sk };
    scope.held();
    if (
      !(await scope.table.put(
        { ...key, body: { outcome: 'late' }, expiresAt: expiry(time) },
        undefined,
      ))
    ) {
      throw new Error(`join "${name}": ${scope.pk} ${sk} changed under the key's lock`);
    }
    remember(scope.items, key, { outcome: 'late' }, undefined);
  }

  /**
   * Emits the match of `left` and `right` once, under the key's lock. In a left outer join it is
   * refused when the left record was emitted alone or the right one handed over as late;
   * otherwise both are settled as matched first, so that neither is taken the other way after.
   */
  async function matchPair(
    scope: KeyScope,
    left: StoredRecord,
    right: StoredRecord,
  ): Promise<'emitted' | 'done' | 'refused'> {
    const rightOutcome = outcomeOf(scope.items, rightStatusSk(right.id));
    const leftOutcome = outcomeOf(scope.items, statusSk(left.id));
    if (rightOutcome === 'late' || leftOutcome === 'late') return 'refused';
    if (kind === 'leftOuter') {
      if (leftOutcome === 'outer') return 'refused';
      if (
        rightOutcome !== 'matched' &&
        (await settleRight(scope, right.id, boundOf('right', right.t), 'matched')) === 'late'
      ) {
        return 'refused';
      }
      if (!(await markMatched(scope, left.id, boundOf('left', left.t)))) return 'refused';
    }
    return emitOnce(
      scope,
      { pk: scope.pk, sk: matchSk(left.id, right.id) },
      {},
      expiry(boundOf('left', left.t)),
      () =>
        options.emit(
          {
            id: `${left.id}|${right.id}`,
            key: scope.key,
            left: toJoined<L>(left),
            right: toJoined<R>(right),
          },
          { join: name, source: scope.source, watermark: scope.watermark },
        ),
    );
  }

  /**
   * Ids of the records of `side` that an earlier attempt stored under a partition: in a record
   * item, or named by a match marker or a status (these outlive the items the watermark removes).
   */
  const storedIds = (items: Iterable<StateItem>, side: Side): Set<string> => {
    const stored = new Set<string>();
    for (const item of items) {
      if (item.sk.startsWith(`r|${side}|`)) {
        for (const r of (item.body as RecordItemBody).records) stored.add(r.id);
      } else if (item.sk.startsWith('m|')) {
        const [, leftId, rightId] = item.sk.split('|');
        stored.add((side === 'left' ? leftId : rightId) as string);
      } else if (side === 'left' && item.sk.startsWith('s|')) {
        stored.add(item.sk.slice('s|'.length));
      } else if (side === 'right' && item.sk.startsWith('rs|')) {
        stored.add(item.sk.slice('rs|'.length));
      }
    }
    return stored;
  };
  /** The watermark up to which a partition's records may have been settled and removed. */
  const sweptThrough = (items: ReadonlyMap<string, StateItem>) =>
    (items.get(SWEPT_SK)?.body as { through?: number } | undefined)?.through ?? NO_WATERMARK;

  /** The records of `side` stored in a partition. */
  const storedOf = (items: Iterable<StateItem>, side: Side): StoredRecord[] => {
    const records: StoredRecord[] = [];
    for (const item of items) {
      const body = item.body as RecordItemBody;
      if (item.sk.startsWith('r|') && body.side === side) records.push(...body.records);
    }
    return records;
  };

  /**
   * Settles one due record item of a key whose lock `scope` holds: makes the matches its batch did
   * not get to (a killed attempt stored the records and died before matching), emits the outer
   * results of its left records, and removes it once nothing on time can match its records.
   */
  async function settleEntry(
    scope: KeyScope,
    entry: JoinDue,
    dueItem: StateItem,
    counts: { outer: number; removed: number; failed: number },
    services: { readonly logger: StatefulServices['logger'] },
  ): Promise<void> {
    const { table, pk, key, items, watermark } = scope;
    const { sk } = entry;
    const recordItem = items.get(sk);
    if (!recordItem) {
      await table.delete(dueItem);
      return;
    }
    const body = recordItem.body as RecordItemBody;
    const others = storedOf(items.values(), body.side === 'left' ? 'right' : 'left');
    // Marked before anything is emitted alone or removed: a record that comes later and is
    // behind this watermark cannot see what it would have matched, so it is late.
    if (
      body.records.some((r) => boundOf(body.side, r.t) < watermark) &&
      sweptThrough(items) < watermark
    ) {
      const swept = { pk, sk: SWEPT_SK };
      scope.held();
      const version = items.get(SWEPT_SK)?.version;
      if (
        !(await table.put(
          { ...swept, body: { through: watermark }, expiresAt: expiry(0) },
          version,
        ))
      ) {
        throw new Error(`join "${name}": ${pk} ${SWEPT_SK} changed under the key's lock`);
      }
      remember(items, swept, { through: watermark }, version);
    }
    let pending = false;
    let next = Number.POSITIVE_INFINITY;
    for (const record of body.records) {
      const bound = boundOf(body.side, record.t);
      if (bound >= watermark) {
        pending = true;
        next = Math.min(next, bound);
        continue;
      }
      try {
        for (const other of others) {
          const [left, right] = body.side === 'left' ? [record, other] : [other, record];
          if (matches(left, right)) await matchPair(scope, left, right);
        }
        if (body.side === 'left' && kind === 'leftOuter') {
          const outcome = await emitOnce(
            scope,
            { pk, sk: statusSk(record.id) },
            { outcome: 'outer' },
            expiry(bound),
            () =>
              options.emit(
                { id: `${record.id}|`, key, left: toJoined<L>(record), right: undefined },
                { join: name, source: scope.source, watermark },
              ),
          );
          if (outcome === 'emitted') counts.outer++;
        }
      } catch (error) {
        // Only `emit`'s failures are left for later: a state table error ends the settling, as
        // a kill would, before anything else is emitted without its mark.
        if (!emitFailures.has(error as object)) throw error;
        services.logger.error('emit failed; the next batch or tick emits it again', {
          join: name,
          key,
          record: record.id,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
        counts.failed++;
        pending = true;
        next = Math.min(next, bound);
      }
    }
    if (pending) {
      // The next due entry goes in before this one goes: killed between, both point at the item.
      if (next !== entry.bound) {
        await table.put(
          { pk: duePk, sk: `${pad(next)}|${key}|${sk}`, body: { key, sk, bound: next } },
          'any',
        );
        await table.delete(dueItem);
      }
      return;
    }
    // Nothing on time can match these records any more: the item goes, then its due entry.
    // Markers and statuses stay until their TTL: they tell a retried batch that its records
    // were stored and settled.
    await table.delete(recordItem);
    items.delete(sk);
    counts.removed += body.records.length;
    await table.delete(dueItem);
  }

  /** Settles the due record items (see settleEntry), each key under its lock. */
  async function settleDue(
    table: StateTable,
    watermark: number,
    scope: StatefulScope & { readonly source: string; readonly shard?: string },
    services: { readonly logger: StatefulServices['logger'] },
  ): Promise<{ outer: number; removed: number; held: number; failed: number }> {
    const counts = { outer: 0, removed: 0, held: 0, failed: 0 };
    if (watermark === NO_WATERMARK) return counts;
    // Due when the bound is strictly below the watermark: a record at the watermark is on time.
    const due = await dueEntries(
      table,
      duePk,
      watermark >= END_OF_INPUT ? END_OF_INPUT : watermark - 1,
    );
    const owner: LockOwner = {
      batchId: scope.batchId,
      ...(scope.shard === undefined ? {} : { shard: scope.shard }),
    };
    // One lock per key, its entries settled in turn: an invocation never works on a key twice at once.
    const dueByKey = Map.groupBy(due, (d) => (d.entry as unknown as JoinDue).key);
    await forEachLimit([...dueByKey], CONCURRENCY, async ([key, entries]) => {
      const pk = keyPk(key);
      await withKeyLock(table, pk, owner, scope.deadline, async (held) => {
        const keyScope: KeyScope = {
          table,
          pk,
          key,
          items: new Map((await table.query(pk)).map((i) => [i.sk, i])),
          held,
          source: scope.source,
          watermark,
        };
        for (const { entry, item } of entries) {
          await settleEntry(keyScope, entry as unknown as JoinDue, item, counts, services);
        }
      }).catch((error: unknown) => {
        // A batch of this key holds it: the entries stay due for the next batch or tick.
        if (!(error instanceof KeyLockHeldError)) throw error;
        counts.held += entries.length;
      });
    });
    return counts;
  }

  function sideJob<T>(side: Side): StatefulJob<T> {
    const spec = options[side] as unknown as JoinSide<T>;
    const other: Side = side === 'left' ? 'right' : 'left';
    return statefulJob<T>('streamJoin', (services, job) => {
      // Checked where the function knows its source (deployed, `driverless run`, `dev`).
      if (process.env[ENVIRONMENT.source] !== undefined && services.source !== spec.source) {
        throw new ConfigurationError(
          `streamJoin "${name}": job "${job}" is its ${side} side, for source "${spec.source}", but runs in source "${services.source}"`,
        );
      }
      /**
       * Stores one key's records of the batch and, under the key's lock, reads the key back and
       * emits the new matches. Returns, of this side's records, those that matched (now or in an
       * earlier attempt) and, on the right side of a left outer join, those that are late for
       * the join under this key: a left record they match was emitted alone first.
       */
      async function joinKey(
        table: StateTable,
        key: string,
        records: readonly StoredRecord[],
        context: JobContext,
        watermark: number,
      ): Promise<{ emitted: number; matched: Set<string>; late: Set<string> }> {
        const pk = keyPk(key);
        const first = records[0] as StoredRecord;
        const last = records[records.length - 1] as StoredRecord;
        // Named by its first and last record: a retry rewrites the same item, a bisected half
        // writes its own (readers take each record id once).
        const sk = `r|${side}|${first.shardId}|${first.seq}|${last.seq}`;
        const maxBound = Math.max(...records.map((r) => boundOf(side, r.t)));
        const minBound = Math.min(...records.map((r) => boundOf(side, r.t)));
        const owner = { batchId: context.batchId, shard: `${side}:${context.shardId}` };
        return withKeyLock(table, pk, owner, context.deadline, async (held) => {
          const partition = await table.query(pk);
          const scope: KeyScope = {
            table,
            pk,
            key,
            items: new Map(partition.map((i) => [i.sk, i])),
            held,
            source: services.source,
            watermark,
          };
          // A record behind the batch's watermark, or behind what the watermark has swept under
          // this key since (records it would have matched may be gone, or emitted alone), is late;
          // one an earlier attempt stored is settled with the rest and joined as it was then. A
          // late record gets a status `late`: a retry hands it over again, and should a write of
          // an attempt that timed out land after this and store it, no batch matches it.
          const lateBefore = Math.max(watermark, sweptThrough(scope.items));
          // Collected only when some record is behind: most batches have none.
          const stored = records.some((r) => r.t < lateBefore)
            ? storedIds(partition, side)
            : new Set<string>();
          const statusKey = (r: StoredRecord) =>
            side === 'left' ? statusSk(r.id) : rightStatusSk(r.id);
          const late = new Set<string>();
          const kept: StoredRecord[] = [];
          for (const r of records) {
            const status = outcomeOf(scope.items, statusKey(r));
            if (
              status === 'late' ||
              (status === undefined && r.t < lateBefore && !stored.has(r.id))
            ) {
              if (status === undefined) await markLate(scope, statusKey(r), r.t);
              late.add(r.id);
            } else {
              kept.push(r);
            }
          }
          if (kept.length > 0) {
            // The due entry goes in before the records: killed between, it points at nothing yet.
            await table.put(
              {
                pk: duePk,
                sk: `${pad(minBound)}|${key}|${sk}`,
                body: { key, sk, bound: minBound },
              },
              'any',
            );
            await table.put(
              { pk, sk, body: { side, records: [...kept] }, expiresAt: expiry(maxBound) },
              'any',
            );
          }
          const others = storedOf(partition, other);
          let emitted = 0;
          const matched = new Set<string>();
          for (const mine of kept) {
            const theirs = others.filter((o) =>
              side === 'left' ? matches(mine, o) : matches(o, mine),
            );
            if (side === 'right' && kind === 'leftOuter') {
              let status = outcomeOf(scope.items, rightStatusSk(mine.id));
              // A left record it matches was emitted alone (the watermark passed its bound after
              // this batch took its watermark): the record is late for the join, and matches no
              // other left record either, unless a left batch took it for a match first.
              if (
                status === undefined &&
                theirs.some((l) => outcomeOf(scope.items, statusSk(l.id)) === 'outer')
              ) {
                status = await settleRight(scope, mine.id, mine.t, 'late');
              }
              if (status === 'late') {
                late.add(mine.id);
                continue;
              }
            }
            for (const o of theirs) {
              const outcome = await matchPair(
                scope,
                side === 'left' ? mine : o,
                side === 'left' ? o : mine,
              );
              if (outcome === 'emitted') emitted++;
              if (outcome !== 'refused') matched.add(mine.id);
            }
          }
          return { emitted, matched, late };
        });
      }

      return {
        async run(records, context, event: KinesisEvent) {
          const table = services.table();
          const now = Date.now();
          const shardId = context.shardId;
          const progressKey = progressPk(side);
          const before = await jointWatermark(table, now);
          const mine = side === 'left' ? before.left : before.right;
          const shard = mine.shards.get(shardId);
          // Records up to the shard's progress had every effect written by an earlier attempt.
          const fresh = shard
            ? records.filter(
                (r) => compareSequenceNumbers(r.sequenceNumber, shard.sequenceNumber) > 0,
              )
            : records;
          if (fresh.length === 0) {
            // An attempt killed after writing the shard's progress may have left due records
            // unsettled and their keys locked: its retry takes the locks over and settles them.
            await settleDue(
              table,
              before.watermark,
              {
                job,
                batchId: context.batchId,
                deadline: context.deadline,
                source: services.source,
                shard: `${side}:${shardId}`,
              },
              services,
            );
            return undefined;
          }
          const watermark = before.watermark;

          const byKey = new Map<string, StoredRecord[]>();
          const lateRecords: LateRecord<L | R>[] = [];
          let maxTime = NO_WATERMARK;
          for (const record of fresh) {
            const time = toMillisOf(spec.eventTime(record));
            if (!Number.isFinite(time)) {
              lateRecords.push({
                record: record as unknown as StreamRecord<L | R>,
                reason: 'invalid event time',
              });
              continue;
            }
            maxTime = Math.max(maxTime, time);
            const keys = spec.key(record);
            const stored: StoredRecord = {
              id: recordId(record),
              data: record.data,
              t: time,
              shardId: record.shardId,
              seq: record.sequenceNumber,
              ...(record.subSequenceNumber === undefined ? {} : { sub: record.subSequenceNumber }),
            };
            for (const key of new Set(typeof keys === 'string' ? [keys] : keys)) {
              append(byKey, key, stored);
            }
          }
          let matched = 0;
          const matchedIds = new Set<string>();
          const lateForJoin = new Set<string>();
          await forEachLimit([...byKey.keys()], CONCURRENCY, async (key) => {
            const list = (byKey.get(key) as StoredRecord[]).sort((a, b) =>
              compareSequenceNumbers(a.seq, b.seq),
            );
            const result = await joinKey(table, key, list, context, watermark);
            matched += result.emitted;
            for (const id of result.matched) matchedIds.add(id);
            for (const id of result.late) lateForJoin.add(id);
          });
          // A right record late under one of its keys and matched under none is handed over as
          // late; its status `late` makes a retry hand it over again.
          const freshById = new Map(fresh.map((r) => [recordId(r), r]));
          for (const id of lateForJoin) {
            if (matchedIds.has(id)) continue;
            lateRecords.push({
              record: freshById.get(id) as unknown as StreamRecord<L | R>,
              reason: 'late',
            });
          }
          lateRecords.sort((a, b) =>
            compareSequenceNumbers(a.record.sequenceNumber, b.record.sequenceNumber),
          );
          await settleLate(late, lateRecords, services, context, event);

          const last = fresh[fresh.length - 1] as StreamRecord<T>;
          const advanced = advancedShard(shard, last.sequenceNumber, maxTime, now);
          if (advanced) await writeShard(table, progressKey, shardId, advanced, shard?.version);
          const after = await jointWatermark(table, now);
          await storeWatermark(table, jointPk, after.watermark, after.joint);
          const settled = await settleDue(
            table,
            after.watermark,
            {
              job,
              batchId: context.batchId,
              deadline: context.deadline,
              source: services.source,
              shard: `${side}:${shardId}`,
            },
            services,
          );
          services.logger.info('streamJoin', {
            job,
            join: name,
            side,
            shardId,
            batchId: context.batchId,
            records: fresh.length,
            keys: byKey.size,
            matched,
            late: lateRecords.length,
            watermark: after.watermark,
            ...settled,
          });
          return undefined;
        },

        async tick(time, final, scope) {
          const table = services.table();
          if (final) {
            // This side's input is over; the join's watermark reaches +∞ once both sides' are.
            const progress = await readProgress(table, progressPk(side));
            await storeWatermark(table, progressPk(side), END_OF_INPUT, progress);
          }
          const current = await jointWatermark(table, time);
          await storeWatermark(table, jointPk, current.watermark, current.joint);
          const settled = await settleDue(
            table,
            current.watermark,
            { ...scope, source: services.source },
            services,
          );
          services.logger.info('streamJoin tick', {
            job,
            join: name,
            side,
            watermark: current.watermark,
            final,
            ...settled,
          });
          if (settled.failed > 0) {
            throw new Error(
              `streamJoin "${name}": ${settled.failed} result(s) could not be emitted`,
            );
          }
          // Both inputs are over: the caller of a final tick retries it until every key is settled.
          if (final && current.watermark >= END_OF_INPUT && settled.held > 0) {
            throw new Error(
              `streamJoin "${name}": ${settled.held} due record(s) are locked by another invocation until its deadline; tick again`,
            );
          }
        },
      };
    });
  }

  return { left: sideJob<L>('left'), right: sideJob<R>('right') };
}
