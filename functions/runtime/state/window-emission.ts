import type { Logger } from '@aws-lambda-powertools/logger';
import type { ClosedWindow, EmitContext } from './aggregate';
import { leaseEnd } from './key-lock';
import { forEachLimit } from './limit';
import { keyOf, type StateItem, type StateTable } from './state-table';
import type { StatefulScope } from './stateful-job';
import { NO_WATERMARK } from './watermark';
import {
  ATTEMPTS,
  CONCURRENCY,
  dueEntries,
  type StoredWindow,
  type WindowItemBody,
} from './window-items';

// How long windows are kept after emission, to tell a retried record from a late one.
const RETAIN_EMITTED_MS = 7 * 86_400_000;

export interface WindowEmitterOptions<A> {
  readonly emit: (closed: ClosedWindow<A>, context: EmitContext) => Promise<void> | void;
  readonly job: string;
  readonly source: string;
  readonly logger: Logger;
  /** The job's due partition. */
  readonly duePk: string;
  /** The partition of a key's window items. */
  readonly itemPk: (key: string) => string;
}

/**
 * Emits a job's due windows: finds them by a Query of due entries (never a scan), claims each with
 * a conditional write that also closes it (its value is final from then on), calls `emit`, marks it
 * emitted and deletes its due entries. An `emit` that throws releases the claim: the window, still
 * closed, is emitted again with the same value by the next batch or tick. A claim lasts until the
 * claiming invocation's deadline: a killed claimant's windows are taken over once it has passed.
 */
export function windowEmitter<A>(options: WindowEmitterOptions<A>) {
  const { job, duePk, itemPk } = options;
  const services = { source: options.source, logger: options.logger };
  const emitWindow = options.emit;

  /**
   * Emits every window due at `watermark` that no live claim holds. `held`: due windows another
   * invocation's claim holds (emitted by it, or by a later batch or tick once the claim ends).
   */
  async function emitDue(table: StateTable, watermark: number, scope: StatefulScope) {
    if (watermark === NO_WATERMARK) return { emitted: 0, failed: 0, held: 0 };
    const due = await dueEntries(table, duePk, watermark);
    if (due.length === 0) return { emitted: 0, failed: 0, held: 0 };
    const groups = new Map<
      string,
      { pk: string; sk: string; key: string; ends: number[]; entries: typeof due }
    >();
    for (const entry of due) {
      const pk = itemPk(entry.entry.key);
      const id = keyOf({ pk, sk: entry.entry.sk });
      const group = groups.get(id) ?? {
        pk,
        sk: entry.entry.sk,
        key: entry.entry.key,
        ends: [],
        entries: [],
      };
      group.entries.push(entry);
      group.ends.push(entry.entry.end);
      groups.set(id, group);
    }
    const items = await table.get([...groups.values()]);
    let emitted = 0;
    let failed = 0;
    let held = 0;
    await forEachLimit([...groups.values()], CONCURRENCY, async (group) => {
      const result = await emitItem(table, group, items.get(keyOf(group)), watermark, scope);
      emitted += result.emitted;
      failed += result.failed;
      held += result.held;
      if (result.settled) {
        for (const { item } of group.entries) await table.delete(item);
      }
    });
    return { emitted, failed, held };
  }

  /**
   * Claims, emits and marks the due windows of one item. `settled`: none is left to emit; `held`:
   * due windows a live claim of another invocation holds.
   */
  async function emitItem(
    table: StateTable,
    group: { pk: string; sk: string; key: string; ends: readonly number[] },
    found: StateItem | undefined,
    watermark: number,
    scope: StatefulScope,
  ): Promise<{ emitted: number; failed: number; held: number; settled: boolean }> {
    let item = found;
    const closing = (body: WindowItemBody<A> | undefined): WindowItemBody<A> => ({
      key: group.key,
      windows: [],
      seqs: {},
      ...body,
      closedThrough: Math.max(watermark, body?.closedThrough ?? NO_WATERMARK),
    });
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const body = item?.body as WindowItemBody<A> | undefined;
      const now = Date.now();
      // A due window not in its item (not written yet: a fold that took an older watermark is
      // between its due entry and its window; or a session merged into another): the item is
      // closed through this watermark, so no fold writes such a window after its entry is gone.
      if (
        !body?.windows.some((w) => w.end <= watermark && !w.emitted) &&
        group.ends.some((end) => end <= watermark && !body?.windows.some((w) => w.end === end))
      ) {
        if ((body?.closedThrough ?? NO_WATERMARK) >= watermark) {
          return { emitted: 0, failed: 0, held: 0, settled: true };
        }
        const write = {
          pk: group.pk,
          sk: group.sk,
          body: closing(body),
          // A placeholder expires as an emitted window does; a live item keeps its own TTL.
          ...(item ? {} : { expiresAt: (now + RETAIN_EMITTED_MS) / 1000 }),
        };
        if (await table.put(write, item?.version)) {
          return { emitted: 0, failed: 0, held: 0, settled: true };
        }
        item = (await table.get([group])).get(keyOf(group));
        continue;
      }
      if (!item || !body) return { emitted: 0, failed: 0, held: 0, settled: true };
      const claimable = (w: StoredWindow<A>) =>
        w.end <= watermark &&
        !w.emitted &&
        (w.claimedBy === undefined || w.claimedBy === scope.batchId || (w.claimUntil ?? 0) <= now);
      const mine = body.windows.filter(claimable);
      const held = body.windows.filter(
        (w) => w.end <= watermark && !w.emitted && !claimable(w),
      ).length;
      if (mine.length === 0) return { emitted: 0, failed: 0, held, settled: held === 0 };
      // The claim closes the windows: from this write on their value is final.
      const claimed = body.windows.map((w) =>
        mine.includes(w)
          ? {
              ...w,
              closed: true as const,
              claimedBy: scope.batchId,
              claimUntil: leaseEnd(scope.deadline, now),
            }
          : w,
      );
      // The claim also closes the item through this watermark (see `closing`).
      if (
        !(await table.put(
          { pk: group.pk, sk: group.sk, body: { ...closing(body), windows: claimed } },
          item.version,
        ))
      ) {
        item = (await table.get([group])).get(keyOf(group));
        continue;
      }
      let version = item.version + 1;
      const outcome = new Map<number, boolean>();
      for (const w of claimed.filter(
        (c) => c.claimedBy === scope.batchId && c.closed && !c.emitted && c.end <= watermark,
      )) {
        try {
          await emitWindow(
            {
              id: `${group.key}|${w.start}|${w.end}`,
              key: group.key,
              start: w.start,
              end: w.end,
              value: w.acc,
            },
            { job, source: services.source, watermark },
          );
          outcome.set(w.start, true);
        } catch (error) {
          outcome.set(w.start, false);
          services.logger.error(
            'emit failed; the window is emitted again, with the same value, by the next batch or tick',
            {
              job,
              key: group.key,
              start: w.start,
              end: w.end,
              error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            },
          );
        }
      }
      // Marks what was emitted and releases what was not; folds may have changed other windows.
      let current: StateItem | undefined = {
        ...item,
        version,
        body: { ...closing(body), windows: claimed },
      };
      for (let mark = 0; mark < ATTEMPTS && current; mark++) {
        const currentBody = current.body as WindowItemBody<A>;
        const windows = currentBody.windows.map((w): StoredWindow<A> => {
          const done = w.claimedBy === scope.batchId ? outcome.get(w.start) : undefined;
          if (done === undefined) return w;
          const { claimedBy: _by, claimUntil: _until, ...rest } = w;
          return done ? { ...rest, emitted: true } : rest;
        });
        const allEmitted = windows.every((w) => w.emitted);
        const write = {
          pk: group.pk,
          sk: group.sk,
          body: { ...currentBody, windows },
          ...(allEmitted ? { expiresAt: (Date.now() + RETAIN_EMITTED_MS) / 1000 } : {}),
        };
        if (await table.put(write, current.version)) {
          version = current.version + 1;
          const failed = [...outcome.values()].filter((ok) => !ok).length;
          return {
            emitted: outcome.size - failed,
            failed,
            held,
            settled: failed === 0 && !windows.some((w) => w.end <= watermark && !w.emitted),
          };
        }
        current = (await table.get([group])).get(keyOf(group));
      }
      throw new Error(`window item ${group.pk} ${group.sk} kept changing while marking emission`);
    }
    throw new Error(`window item ${group.pk} ${group.sk} kept changing while claiming emission`);
  }

  return emitDue;
}
