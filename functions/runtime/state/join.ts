import { compareSequenceNumbers, type KinesisEvent } from '../../kinesis/index';
import { ENVIRONMENT } from '../environment';
import { ConfigurationError } from '../errors';
import type { JobContext } from '../jobs';
import type { StreamRecord } from '../stream-record';
import type { WatermarkOptions } from './aggregate';
import { type Duration, toMillis } from './duration';
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

/** An emission marker: claimed by one invocation at a time, emitted once. */
interface Marker {
  /** Status of a left record (left outer joins): matched, or emitted alone. */
  readonly outcome?: 'matched' | 'outer';
  readonly claimedBy?: string;
  readonly claimUntil?: number;
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

// How long a claim keeps other invocations from emitting a result; `emit` must finish within it.
const CLAIM_MS = 30_000;
// Markers, statuses and what a killed process left expire this long after they are no longer
// needed: far longer than any batch that read them can still be running (15 minutes at most).
const RETAIN_MS = 7 * 86_400_000;
const ATTEMPTS = 8;
// How long a batch waits for a result claimed by a live invocation before failing for a retry.
const HELD_WAITS = 8;
const HELD_WAIT_MS = 250;

const toMillisOf = (time: number | Date | string): number =>
  typeof time === 'number' ? time : time instanceof Date ? time.getTime() : Date.parse(time);
const append = <V>(map: Map<string, V[]>, key: string, value: V): void => {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
   * Claims `key`'s marker, calls `fire` and marks it emitted. `refused`: the marker is a left
   * record's status already settled the other way (`base.outcome`). `held`: a live invocation of
   * another shard, or a tick, holds it.
   */
  async function emitOnce(
    table: StateTable,
    key: StateKey,
    found: StateItem | undefined,
    owner: { batchId: string; shard?: string },
    base: Marker,
    expiresAt: number,
    fire: () => Promise<void> | void,
  ): Promise<'emitted' | 'done' | 'refused' | 'held' | 'failed'> {
    let item = found;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const body = (item?.body ?? {}) as Marker;
      if (
        base.outcome !== undefined &&
        body.outcome !== undefined &&
        body.outcome !== base.outcome
      ) {
        return 'refused';
      }
      if (body.emitted) return 'done';
      const now = Date.now();
      // A claim of an earlier attempt of this shard's side is dead: Lambda keeps one batch in
      // flight per shard, so only other shards (and ticks) hold live claims.
      const mine =
        body.claimedBy === undefined ||
        body.claimedBy === `${owner.batchId}@${owner.shard ?? 'tick'}` ||
        (owner.shard !== undefined && body.claimedBy.endsWith(`@${owner.shard}`)) ||
        (body.claimUntil ?? 0) <= now;
      if (!mine) return 'held';
      const claim: Marker = {
        ...base,
        claimedBy: `${owner.batchId}@${owner.shard ?? 'tick'}`,
        claimUntil: now + CLAIM_MS,
      };
      if (!(await table.put({ ...key, body: claim, expiresAt }, item?.version))) {
        item = (await table.get([key])).values().next().value;
        continue;
      }
      try {
        await fire();
      } catch (error) {
        await table.put({ ...key, body: base, expiresAt }, (item?.version ?? 0) + 1);
        throw error;
      }
      await table.put({ ...key, body: { ...base, emitted: true }, expiresAt }, 'any');
      return 'emitted';
    }
    throw new Error(`join "${name}": marker ${key.pk} ${key.sk} kept changing`);
  }

  /** Writes the status `matched` of a left record unless it was emitted alone. */
  async function markMatched(
    table: StateTable,
    pk: string,
    leftId: string,
    found: StateItem | undefined,
    bound: number,
  ): Promise<boolean> {
    let item = found;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const body = item?.body as Marker | undefined;
      if (body?.outcome === 'outer') return false;
      if (body?.outcome === 'matched') return true;
      const key = { pk, sk: statusSk(leftId) };
      if (
        await table.put(
          { ...key, body: { outcome: 'matched', emitted: true }, expiresAt: expiry(bound) },
          item?.version,
        )
      ) {
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
    table: StateTable,
    pk: string,
    rightId: string,
    found: StateItem | undefined,
    bound: number,
    outcome: RightStatus['outcome'],
  ): Promise<RightStatus['outcome']> {
    let item = found;
    const key = { pk, sk: rightStatusSk(rightId) };
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const body = item?.body as RightStatus | undefined;
      if (body?.outcome !== undefined) return body.outcome;
      if (await table.put({ ...key, body: { outcome }, expiresAt: expiry(bound) }, undefined)) {
        return outcome;
      }
      item = (await table.get([key])).values().next().value;
    }
    throw new Error(`join "${name}": status of ${rightId} kept changing`);
  }

  /** Settles the due record items: outer results of left records, then deletes what is behind. */
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
    const owner = {
      batchId: scope.batchId,
      ...(scope.shard === undefined ? {} : { shard: scope.shard }),
    };
    await forEachLimit(due, CONCURRENCY, async ({ entry: raw, item: dueItem }) => {
      const entry = raw as unknown as JoinDue;
      const { key, sk } = entry;
      const pk = keyPk(key);
      const partition = await table.query(pk);
      const recordItem = partition.find((i) => i.sk === sk);
      if (!recordItem) {
        await table.delete(dueItem);
        return;
      }
      const body = recordItem.body as RecordItemBody;
      const byKey = new Map(partition.map((i) => [i.sk, i]));
      let pending = false;
      let next = Number.POSITIVE_INFINITY;
      for (const record of body.records) {
        const bound = boundOf(body.side, record.t);
        if (bound >= watermark) {
          pending = true;
          next = Math.min(next, bound);
          continue;
        }
        if (body.side !== 'left' || kind !== 'leftOuter') continue;
        const statusKey = { pk, sk: statusSk(record.id) };
        const outcome = await emitOnce(
          table,
          statusKey,
          byKey.get(statusKey.sk),
          owner,
          { outcome: 'outer' },
          expiry(bound),
          () =>
            options.emit(
              { id: `${record.id}|`, key, left: toJoined<L>(record), right: undefined },
              { join: name, source: scope.source, watermark },
            ),
        ).catch((error: unknown) => {
          services.logger.error(
            'emit failed; the outer result is emitted again by the next batch or tick',
            {
              join: name,
              key,
              left: record.id,
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            },
          );
          return 'failed' as const;
        });
        if (outcome === 'emitted') counts.outer++;
        if (outcome === 'failed') counts.failed++;
        if (outcome === 'held' || outcome === 'failed') {
          if (outcome === 'held') counts.held++;
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
      // Markers and statuses stay until their TTL: a batch that read the records before this
      // delete may still be about to claim one, and must find it settled, not new.
      await table.delete(recordItem);
      counts.removed += body.records.length;
      await table.delete(dueItem);
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
      const emitFor = (left: StoredRecord, right: StoredRecord, key: string, watermark: number) =>
        options.emit(
          {
            id: `${left.id}|${right.id}`,
            key,
            left: toJoined<L>(left),
            right: toJoined<R>(right),
          },
          { join: name, source: services.source, watermark },
        );

      /**
       * Stores one key's records of the batch, reads the key back and emits the new matches.
       * Returns, of this side's records, those that matched (now or in an earlier attempt) and
       * those a left outer result refused (right side only: the left record was emitted alone).
       */
      async function joinKey(
        table: StateTable,
        key: string,
        records: readonly StoredRecord[],
        context: JobContext,
        watermark: number,
      ): Promise<{ emitted: number; matched: Set<string>; refused: Set<string> }> {
        const pk = keyPk(key);
        const first = records[0] as StoredRecord;
        const last = records[records.length - 1] as StoredRecord;
        // Named by its first and last record: a retry rewrites the same item, a bisected half
        // writes its own (readers take each record id once).
        const sk = `r|${side}|${first.shardId}|${first.seq}|${last.seq}`;
        const maxBound = Math.max(...records.map((r) => boundOf(side, r.t)));
        const minBound = Math.min(...records.map((r) => boundOf(side, r.t)));
        // The due entry goes in before the records: killed between, it points at nothing yet.
        await table.put(
          { pk: duePk, sk: `${pad(minBound)}|${key}|${sk}`, body: { key, sk, bound: minBound } },
          'any',
        );
        await table.put(
          { pk, sk, body: { side, records: [...records] }, expiresAt: expiry(maxBound) },
          'any',
        );
        // Strongly consistent: of two sides writing at once, at least the later one sees the other.
        let partition = await table.query(pk);
        const others = new Map<string, StoredRecord>();
        for (const item of partition) {
          const body = item.body as RecordItemBody;
          if (item.sk.startsWith('r|') && body.side === other) {
            for (const r of body.records) others.set(r.id, r);
          }
        }
        let emitted = 0;
        const matched = new Set<string>();
        const refused = new Set<string>();
        const owner = { batchId: context.batchId, shard: `${side}:${context.shardId}` };
        const byKey = new Map(partition.map((i) => [i.sk, i]));
        const rightOutcome = (rightId: string) =>
          (byKey.get(rightStatusSk(rightId))?.body as RightStatus | undefined)?.outcome;
        for (const mine of records) {
          // Handed over as late by an earlier attempt of this batch: late again, never matched.
          if (side === 'right' && kind === 'leftOuter' && rightOutcome(mine.id) === 'late') {
            refused.add(mine.id);
            continue;
          }
          for (const theirs of others.values()) {
            const [left, right] = side === 'left' ? [mine, theirs] : [theirs, mine];
            if (!matches(left, right)) continue;
            if (kind === 'leftOuter') {
              const status = (byKey.get(statusSk(left.id))?.body as Marker | undefined)?.outcome;
              // A left batch takes the right record for the match before matching it, so that
              // the right record's batch can no longer hand it over as late (and the other way
              // round: a right record handed over as late matches no left record).
              if (
                side === 'left' &&
                status !== 'outer' &&
                rightOutcome(right.id) !== 'matched' &&
                (await settleRight(
                  table,
                  pk,
                  right.id,
                  byKey.get(rightStatusSk(right.id)),
                  boundOf('right', right.t),
                  'matched',
                )) === 'late'
              ) {
                continue;
              }
              if (
                !(await markMatched(
                  table,
                  pk,
                  left.id,
                  byKey.get(statusSk(left.id)),
                  boundOf('left', left.t),
                ))
              ) {
                // The left record was emitted alone first: the right one came too late for it.
                refused.add(right.id);
                continue;
              }
            }
            const markerKey = { pk, sk: matchSk(left.id, right.id) };
            for (let wait = 0; ; wait++) {
              const outcome = await emitOnce(
                table,
                markerKey,
                byKey.get(markerKey.sk),
                owner,
                {},
                expiry(boundOf('left', left.t)),
                () => emitFor(left, right, key, watermark),
              );
              if (outcome === 'emitted') emitted++;
              if (outcome === 'emitted' || outcome === 'done') matched.add(mine.id);
              if (outcome !== 'held') break;
              if (wait === HELD_WAITS) {
                throw new Error(
                  `join "${name}": match ${markerKey.sk} is being emitted by another invocation; retrying the batch`,
                );
              }
              await sleep(HELD_WAIT_MS);
              partition = await table.query(pk);
              byKey.clear();
              for (const i of partition) byKey.set(i.sk, i);
            }
          }
        }
        return { emitted, matched, refused: side === 'right' ? refused : new Set() };
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
            // An attempt killed after writing the shard's progress may hold claims of outer
            // results: its retry takes them over rather than leave them to the claim's expiry.
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
          const behind = new Map<string, { record: StreamRecord<L | R>; stored: StoredRecord }[]>();
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
              if (time < watermark) {
                append(behind, key, { record: record as unknown as StreamRecord<L | R>, stored });
              } else {
                append(byKey, key, stored);
              }
            }
          }
          const lateUnder = new Set<StreamRecord<L | R>>();
          // A record behind the watermark that an earlier attempt of this batch stored is not
          // late: the watermark moved since, and the record is joined as it was then.
          await forEachLimit([...behind.keys()], CONCURRENCY, async (key) => {
            const partition = await table.query(keyPk(key));
            const stored = new Set<string>();
            for (const item of partition) {
              if (item.sk.startsWith(`r|${side}|`)) {
                for (const r of (item.body as RecordItemBody).records) stored.add(r.id);
              } else if (item.sk.startsWith('m|')) {
                // A match marker, or a status, outlives the record item the watermark removes:
                // it shows the earlier attempt stored the record (and found its results) then.
                const [, leftId, rightId] = item.sk.split('|');
                stored.add((side === 'left' ? leftId : rightId) as string);
              } else if (side === 'left' && item.sk.startsWith('s|')) {
                stored.add(item.sk.slice('s|'.length));
              } else if (side === 'right' && item.sk.startsWith('rs|')) {
                stored.add(item.sk.slice('rs|'.length));
              }
            }
            for (const entry of behind.get(key) ?? []) {
              if (stored.has(entry.stored.id)) append(byKey, key, entry.stored);
              else lateUnder.add(entry.record);
            }
          });
          for (const record of lateUnder) lateRecords.push({ record, reason: 'late' });
          let matched = 0;
          const matchedIds = new Set<string>();
          const refusedUnder = new Map<string, string[]>();
          await forEachLimit([...byKey.keys()], CONCURRENCY, async (key) => {
            const list = (byKey.get(key) as StoredRecord[]).sort((a, b) =>
              compareSequenceNumbers(a.seq, b.seq),
            );
            const result = await joinKey(table, key, list, context, watermark);
            matched += result.emitted;
            for (const id of result.matched) matchedIds.add(id);
            for (const id of result.refused) append(refusedUnder, id, key);
          });
          // A right record is late for the join when every left record it matches was emitted
          // alone before it could match (the watermark passed the left record's bound after this
          // batch took its watermark) and it matched none. Its status `late`, written under each
          // key, makes a retry hand it over again and keeps left batches from matching it.
          const freshById = new Map(fresh.map((r) => [recordId(r), r]));
          for (const [id, keys] of refusedUnder) {
            if (matchedIds.has(id)) continue;
            const record = freshById.get(id) as StreamRecord<T>;
            const time = toMillisOf(spec.eventTime(record));
            let outcome: RightStatus['outcome'] = 'late';
            for (const key of keys) {
              // Create-only: a status already there (matched, or late from an earlier attempt)
              // is read back by the failed write, so no read goes first.
              if (
                (await settleRight(table, keyPk(key), id, undefined, time, 'late')) === 'matched'
              ) {
                outcome = 'matched';
              }
            }
            if (outcome === 'late') {
              lateRecords.push({
                record: record as unknown as StreamRecord<L | R>,
                reason: 'late',
              });
            }
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
              `streamJoin "${name}": ${settled.failed} outer result(s) could not be emitted`,
            );
          }
        },
      };
    });
  }

  return { left: sideJob<L>('left'), right: sideJob<R>('right') };
}
