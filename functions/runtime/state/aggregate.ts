import { compareSequenceNumbers, type KinesisEvent } from '../../kinesis/index';
import { ConfigurationError } from '../errors';
import type { StreamRecord } from '../stream-record';
import { type Duration, toMillis } from './duration';
import { type LateHandling, type LateRecord, settleLate } from './late-records';
import { forEachLimit } from './limit';
import { keyOf, type StateItem, type StateTable } from './state-table';
import { type StatefulJob, statefulJob } from './stateful-job';
import {
  advancedShard,
  END_OF_INPUT,
  NO_WATERMARK,
  progressPartition,
  readProgress,
  type SourceProgress,
  storeWatermark,
  type WatermarkPolicy,
  watermarkOf,
  writeShard,
} from './watermark';
import { type WindowAssigner, windowStarts } from './window-assigners';
import { windowEmitter } from './window-emission';
import {
  ATTEMPTS,
  CONCURRENCY,
  duePartition,
  dueSort,
  pad,
  type StoredWindow,
  type WindowItemBody,
  windowPartition,
} from './window-items';

/** A window whose value is final: emitted once per (key, window). */
export interface ClosedWindow<A> {
  /** `<key>|<start>|<end>`: the same for every attempt at emitting this window, for idempotent writes. */
  readonly id: string;
  readonly key: string;
  /** Event-time bounds, epoch ms: `[start, end)`. */
  readonly start: number;
  readonly end: number;
  readonly value: A;
}

/** Context of {@link AggregateOptions.emit}. */
export interface EmitContext {
  readonly job: string;
  readonly source: string;
  /** The watermark that closed the window (epoch ms; `Number.MAX_SAFE_INTEGER` at end of input). */
  readonly watermark: number;
}

/** Event-time progress options of {@link aggregate}. */
export interface WatermarkOptions {
  /**
   * How far behind the source's event-time clock a record may be and still count: a window is
   * emitted once every active shard has shown records past its end plus this.
   * @default 0
   */
  readonly allowedLateness?: Duration;
  /**
   * A shard without new records for this long stops holding the watermark back; when every shard
   * is quiet, event time is taken to advance with processing time (ticks close windows).
   * @default '1m'
   */
  readonly idleShardAfter?: Duration;
}

/** Options of {@link aggregate}. */
export interface AggregateOptions<T, A> {
  /** The key records are grouped by, across every shard and invocation of the source. */
  readonly key: (record: StreamRecord<T>) => string;
  /** The record's event time: epoch ms, a Date or an ISO-8601 string (not its arrival time). */
  readonly eventTime: (record: StreamRecord<T>) => number | Date | string;
  /** `tumbling('1m')`, `sliding({ size: '10m', every: '1m' })` or `session({ gap: '30m' })`. */
  readonly window: WindowAssigner;
  /** @default - no allowed lateness, shards idle after one minute */
  readonly watermark?: WatermarkOptions;
  /** A fresh accumulator. Accumulators are stored as JSON: keep them plain data. */
  readonly init: () => A;
  /** Folds one record into an accumulator. */
  readonly add: (acc: A, record: StreamRecord<T>) => A;
  /** Combines two accumulators (a batch's partial with the stored one; merged sessions). */
  readonly merge: (a: A, b: A) => A;
  /**
   * Receives each closed window once its watermark passes; if it throws, the same value is
   * emitted again by the next batch or tick. Make its writes idempotent on `closed.id`: a process
   * killed after `emit` and before the window is marked emitted emits it again, with the same value.
   */
  readonly emit: (closed: ClosedWindow<A>, context: EmitContext) => Promise<void> | void;
  /**
   * Records whose every window has closed: dead-lettered with reason `late`, dropped (counted in
   * the job's log line), or given to a function.
   * @default 'dead-letter'
   */
  readonly late?: LateHandling<T>;
}

const toMillisOf = (time: number | Date | string): number =>
  typeof time === 'number' ? time : time instanceof Date ? time.getTime() : Date.parse(time);

/** One (key, window item) touched by a batch, with the records to fold into it. */
interface Group<T> {
  readonly pk: string;
  readonly sk: string;
  readonly key: string;
  readonly start: number;
  readonly entries: {
    readonly record: StreamRecord<T>;
    readonly time: number;
    readonly index: number;
  }[];
}

/**
 * A keyed event-time aggregation across every shard of the source: one value per (key, window),
 * emitted once when the watermark passes the window. See docs/state.md for the semantics.
 */
export function aggregate<T, A>(options: AggregateOptions<T, A>): StatefulJob<T> {
  const policy: WatermarkPolicy = {
    allowedLatenessMs: toMillis(
      options.watermark?.allowedLateness ?? 0,
      'aggregate({ watermark: { allowedLateness } })',
      false,
    ),
    idleShardAfterMs: toMillis(
      options.watermark?.idleShardAfter ?? '1m',
      'aggregate({ watermark: { idleShardAfter } })',
    ),
  };
  const problems: string[] = [];
  for (const name of ['key', 'eventTime', 'init', 'add', 'merge', 'emit'] as const) {
    if (typeof options[name] !== 'function') problems.push(`${name} must be a function`);
  }
  const assigner = options.window;
  if (!['tumbling', 'sliding', 'session'].includes(assigner?.kind)) {
    problems.push('window must be tumbling(size), sliding({ size, every }) or session({ gap })');
  }
  const late = options.late ?? 'dead-letter';
  if (late !== 'dead-letter' && late !== 'drop' && typeof late !== 'function') {
    problems.push(`late must be 'dead-letter', 'drop' or a function (given ${String(late)})`);
  }
  if (problems.length > 0) throw new ConfigurationError(`aggregate: ${problems.join('; ')}`);

  return statefulJob<T>('aggregate', (services, job) => {
    const progressPk = progressPartition(services.source, job);
    const duePk = duePartition(services.source, job);
    const itemPk = (key: string) => windowPartition(services.source, job, key);
    const emitDue = windowEmitter<A>({
      emit: options.emit,
      job,
      source: services.source,
      logger: services.logger,
      duePk,
      itemPk,
    });

    /**
     * Folds `group`'s records into its item; marks the records it folded or had folded before.
     * `settled`: the shard's progress, up to which every record was settled by an earlier batch.
     */
    async function foldGroup(
      table: StateTable,
      group: Group<T>,
      found: StateItem | undefined,
      shardId: string,
      settled: string | undefined,
      watermark: number,
      taken: Uint8Array,
    ): Promise<void> {
      let item = found;
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const body = item?.body as WindowItemBody<A> | undefined;
        const done = body?.seqs[shardId];
        const fresh = group.entries.filter(
          (entry) =>
            done === undefined || compareSequenceNumbers(entry.record.sequenceNumber, done) > 0,
        );
        // Up to `done` an earlier attempt judged the records against this item: folded, unless
        // it refused them (a session's record is judged one by one, and the mark covers them all).
        const refusedBefore = (body?.refused?.[shardId] ?? []).filter(
          (id) =>
            settled === undefined ||
            compareSequenceNumbers(id.split(':')[0] as string, settled) > 0,
        );
        const isFresh = new Set(fresh);
        const wasRefused = new Set(refusedBefore);
        for (const entry of group.entries) {
          if (!isFresh.has(entry) && !wasRefused.has(entryId(entry))) taken[entry.index] = 1;
        }
        const windows = body?.windows ?? [];
        const closedThrough = Math.max(watermark, body?.closedThrough ?? NO_WATERMARK);
        const folded =
          assigner.kind === 'session'
            ? foldSessions(windows, fresh, closedThrough)
            : foldFixed(windows, group, fresh, closedThrough);
        if (folded.accepted.length === 0) return;
        const last = fresh[fresh.length - 1]?.record.sequenceNumber as string;
        // A due entry goes in before the window it points at: killed in between, the entry
        // points at nothing yet (the emitter skips it), never the other way round.
        for (const end of folded.newEnds) {
          await table.put(
            {
              pk: duePk,
              sk: dueSort(end, group.sk, group.key),
              body: { key: group.key, sk: group.sk, end },
            },
            'any',
          );
        }
        const accepted = new Set(folded.accepted);
        const refused = [
          ...refusedBefore,
          ...fresh.filter((entry) => !accepted.has(entry)).map(entryId),
        ];
        const { [shardId]: _, ...othersRefused } = body?.refused ?? {};
        const allRefused =
          refused.length > 0 ? { ...othersRefused, [shardId]: refused } : othersRefused;
        const next: WindowItemBody<A> = {
          key: group.key,
          windows: folded.windows,
          seqs: { ...body?.seqs, [shardId]: last },
          ...(Object.keys(allRefused).length > 0 ? { refused: allRefused } : {}),
          ...(body?.closedThrough === undefined ? {} : { closedThrough: body.closedThrough }),
        };
        if (await table.put({ pk: group.pk, sk: group.sk, body: next }, item?.version)) {
          for (const entry of folded.accepted) taken[entry.index] = 1;
          return;
        }
        item = (await table.get([group])).get(keyOf(group));
      }
      throw new Error(
        `window item ${group.pk} ${group.sk} kept changing under ${ATTEMPTS} attempts`,
      );
    }

    type Entry = Group<T>['entries'][number];
    const entryId = (entry: Entry): string =>
      `${entry.record.sequenceNumber}:${entry.record.subSequenceNumber ?? ''}`;

    function foldFixed(
      windows: readonly StoredWindow<A>[],
      group: Group<T>,
      fresh: readonly Entry[],
      watermark: number,
    ) {
      const stored = windows[0];
      const end = group.start + (assigner as { sizeMs: number }).sizeMs;
      if (stored?.closed || end <= watermark || fresh.length === 0) {
        return { accepted: [], windows: [...windows], newEnds: [] };
      }
      let partial = options.init();
      for (const entry of fresh) partial = options.add(partial, entry.record);
      const acc = stored ? options.merge(stored.acc, partial) : partial;
      return {
        accepted: fresh,
        windows: [{ start: group.start, end, acc }],
        newEnds: stored ? [] : [end],
      };
    }

    function foldSessions(
      windows: readonly StoredWindow<A>[],
      fresh: readonly Entry[],
      watermark: number,
    ) {
      const gap = (assigner as { gapMs: number }).gapMs;
      let sessions = windows.filter((w) => !(w.emitted && w.end + gap <= watermark));
      const accepted: Entry[] = [];
      const before = new Set(sessions.map((w) => w.end));
      for (const entry of [...fresh].sort((a, b) => a.time - b.time)) {
        const start = entry.time;
        const end = entry.time + gap;
        const overlapping = sessions.filter((w) => w.start < end && start < w.end);
        // A record whose own session is due, or that would reopen a session already due or
        // closed, is late: the value of a due session is final.
        if (end <= watermark || overlapping.some((w) => w.closed || w.end <= watermark)) continue;
        let merged: StoredWindow<A> = {
          start,
          end,
          acc: options.add(options.init(), entry.record),
        };
        for (const w of overlapping) {
          merged = {
            start: Math.min(merged.start, w.start),
            end: Math.max(merged.end, w.end),
            acc: options.merge(w.acc, merged.acc),
          };
        }
        sessions = [...sessions.filter((w) => !overlapping.includes(w)), merged].sort(
          (a, b) => a.start - b.start,
        );
        accepted.push(entry);
      }
      const newEnds = [...new Set(sessions.filter((w) => !w.closed).map((w) => w.end))].filter(
        (end) => !before.has(end),
      );
      return { accepted, windows: sessions, newEnds };
    }

    return {
      async run(records, context, event: KinesisEvent) {
        const table = services.table();
        const now = Date.now();
        const shardId = context.shardId;
        const progress = await readProgress(table, progressPk);
        const before = progress.shards.get(shardId);
        // Records up to the shard's progress had every effect written by an earlier attempt.
        const fresh = before
          ? records.filter(
              (r) => compareSequenceNumbers(r.sequenceNumber, before.sequenceNumber) > 0,
            )
          : records;
        if (fresh.length === 0) return undefined;
        const watermark = watermarkOf(progress.shards.values(), progress.stored, policy, now);

        const groups = new Map<string, Group<T>>();
        const lateRecords: LateRecord<T>[] = [];
        let maxTime = NO_WATERMARK;
        fresh.forEach((record, index) => {
          const time = toMillisOf(options.eventTime(record));
          if (!Number.isFinite(time)) {
            lateRecords.push({ record, reason: 'invalid event time' });
            return;
          }
          maxTime = Math.max(maxTime, time);
          const key = options.key(record);
          // A record is judged against every window it belongs to, due ones included: an
          // earlier attempt of this batch may have folded it before the watermark passed them
          // (another shard, or a bisected half, moved it since), and only the window item's
          // per-shard mark tells. Due windows are only read, never written (the folds refuse
          // them), and only for a record with no open window, so reads stay per (key, window)
          // but for records that may be late. Sessions of a key share one item.
          const starts = assigner.kind === 'session' ? [] : windowStarts(assigner, time);
          const open = starts.filter(
            (start) => start + (assigner as { sizeMs: number }).sizeMs > watermark,
          );
          const slots =
            assigner.kind === 'session'
              ? [{ sk: 'session', start: time }]
              : (open.length > 0 ? open : starts).map((start) => ({ sk: pad(start), start }));
          for (const slot of slots) {
            const pk = itemPk(key);
            const id = keyOf({ pk, sk: slot.sk });
            let group = groups.get(id);
            if (!group) {
              group = { pk, sk: slot.sk, key, start: slot.start, entries: [] };
              groups.set(id, group);
            }
            group.entries.push({ record, time, index });
          }
        });

        const all = [...groups.values()];
        const items = all.length === 0 ? new Map<string, StateItem>() : await table.get(all);
        const taken = new Uint8Array(fresh.length);
        await forEachLimit(all, CONCURRENCY, (group) =>
          foldGroup(
            table,
            group,
            items.get(keyOf(group)),
            shardId,
            before?.sequenceNumber,
            watermark,
            taken,
          ),
        );
        const invalid = new Set(lateRecords.map((entry) => entry.record));
        fresh.forEach((record, index) => {
          // Folded into no window now nor by an earlier attempt: every window it belongs to closed.
          if (taken[index] === 0 && !invalid.has(record))
            lateRecords.push({ record, reason: 'late' });
        });
        lateRecords.sort((a, b) =>
          compareSequenceNumbers(a.record.sequenceNumber, b.record.sequenceNumber),
        );
        await settleLate(late, lateRecords, services, context, event);

        const last = fresh[fresh.length - 1] as StreamRecord<T>;
        const advanced = advancedShard(before, last.sequenceNumber, maxTime, now);
        const shards = new Map(progress.shards);
        if (advanced) {
          await writeShard(table, progressPk, shardId, advanced, before?.version);
          shards.set(shardId, { ...advanced, version: (before?.version ?? 0) + 1 });
        }
        const after = watermarkOf(shards.values(), progress.stored, policy, now);
        await storeWatermark(table, progressPk, after, progress);
        const emission = await emitDue(table, after, {
          job,
          batchId: context.batchId,
          deadline: context.deadline,
        });
        services.logger.info('aggregate', {
          job,
          shardId,
          batchId: context.batchId,
          records: fresh.length,
          windows: all.length,
          late: lateRecords.length,
          watermark: after,
          emitted: emission.emitted,
          emitFailed: emission.failed,
          emitHeld: emission.held,
        });
        return undefined;
      },

      async tick(time, final, scope) {
        const table = services.table();
        const progress: SourceProgress = await readProgress(table, progressPk);
        const watermark = final
          ? END_OF_INPUT
          : watermarkOf(progress.shards.values(), progress.stored, policy, time);
        await storeWatermark(table, progressPk, watermark, progress);
        const emission = await emitDue(table, watermark, scope);
        services.logger.info('aggregate tick', { job, watermark, final, ...emission });
        if (emission.failed > 0) {
          throw new Error(`aggregate "${job}": ${emission.failed} window(s) could not be emitted`);
        }
        // The input is over: the caller of a final tick retries it until every window is out.
        if (final && emission.held > 0) {
          throw new Error(
            `aggregate "${job}": ${emission.held} due window(s) are claimed by another invocation until its deadline; tick again`,
          );
        }
      },
    };
  });
}
