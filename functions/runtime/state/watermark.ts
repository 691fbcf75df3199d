import { compareSequenceNumbers } from '../../kinesis/index';
import type { StateItem, StateTable } from './state-table';

/** How far event time may run behind, and when a quiet shard stops holding the watermark back. */
export interface WatermarkPolicy {
  readonly allowedLatenessMs: number;
  readonly idleShardAfterMs: number;
}

/** What a shard has shown a job: its highest event time and when it last brought new records. */
export interface ShardProgress {
  /** Highest event time (epoch ms) among the shard's records folded so far. */
  readonly maxEventTime: number;
  /** Processing time (epoch ms) of the last batch that brought new records. */
  readonly seenAt: number;
  /** The last record of the shard whose effects are all written (folds, late records). */
  readonly sequenceNumber: string;
}

/** A job's progress on every shard of its source, as read in one Query. */
export interface SourceProgress {
  readonly shards: ReadonlyMap<string, ShardProgress & { readonly version: number }>;
  /** The highest watermark any function computed and stored (it never goes back). */
  readonly stored: number;
  readonly storedVersion: number | undefined;
}

/** The watermark of a source that has shown no record yet, and of a finished input (batch mode). */
export const NO_WATERMARK = Number.MIN_SAFE_INTEGER;
export const END_OF_INPUT = Number.MAX_SAFE_INTEGER;

const SHARD_PREFIX = 'shard|';
const WATERMARK_SK = 'watermark';

/** The partition holding a job's per-shard progress and its stored watermark. */
export const progressPartition = (source: string, job: string): string => `wm|${source}|${job}`;

export async function readProgress(table: StateTable, pk: string): Promise<SourceProgress> {
  const items = await table.query(pk);
  const shards = new Map<string, ShardProgress & { version: number }>();
  let stored = NO_WATERMARK;
  let storedVersion: number | undefined;
  for (const item of items) {
    if (item.sk === WATERMARK_SK) {
      stored = (item.body as { watermark: number }).watermark;
      storedVersion = item.version;
    } else if (item.sk.startsWith(SHARD_PREFIX)) {
      shards.set(item.sk.slice(SHARD_PREFIX.length), {
        ...(item.body as ShardProgress),
        version: item.version,
      });
    }
  }
  return { shards, stored, storedVersion };
}

/**
 * The watermark at processing time `now`: the lowest (highest event time − allowed lateness) over
 * the shards that brought records within `idleShardAfter`. When every shard is idle, the stream is
 * quiet and event time is taken to advance with processing time from the moment the last shard
 * went idle, so windows still close. Never below what was stored before.
 */
export function watermarkOf(
  shards: Iterable<ShardProgress>,
  stored: number,
  policy: WatermarkPolicy,
  now: number,
): number {
  let active = Number.POSITIVE_INFINITY;
  let quiet = Number.NEGATIVE_INFINITY;
  for (const shard of shards) {
    const idleFor = now - shard.seenAt;
    if (idleFor < policy.idleShardAfterMs) active = Math.min(active, shard.maxEventTime);
    else quiet = Math.max(quiet, shard.maxEventTime + idleFor - policy.idleShardAfterMs);
  }
  const clock = Number.isFinite(active) ? active : quiet;
  if (!Number.isFinite(clock)) return stored;
  return Math.max(stored, clock - policy.allowedLatenessMs);
}

/** The shard's progress after a batch whose new records end at `last` (`undefined`: none new). */
export function advancedShard(
  before: ShardProgress | undefined,
  last: string | undefined,
  maxEventTime: number,
  now: number,
): ShardProgress | undefined {
  if (last === undefined) return undefined;
  if (before && compareSequenceNumbers(last, before.sequenceNumber) <= 0) return undefined;
  return {
    maxEventTime: Math.max(before?.maxEventTime ?? NO_WATERMARK, maxEventTime),
    seenAt: now,
    sequenceNumber: last,
  };
}

/**
 * Writes a shard's progress. Only the shard's own batches write it, one at a time (Lambda keeps one
 * batch in flight per shard), so a lost race means a retry of the same batch already wrote it.
 */
export async function writeShard(
  table: StateTable,
  pk: string,
  shardId: string,
  progress: ShardProgress,
  version: number | undefined,
): Promise<void> {
  await table.put({ pk, sk: `${SHARD_PREFIX}${shardId}`, body: progress }, version);
}

/** Stores `watermark` if it is above the stored one; a concurrent higher write wins. */
export async function storeWatermark(
  table: StateTable,
  pk: string,
  watermark: number,
  progress: SourceProgress,
): Promise<void> {
  let stored = progress.stored;
  let version = progress.storedVersion;
  for (let attempt = 0; attempt < 5 && watermark > stored; attempt++) {
    if (await table.put({ pk, sk: WATERMARK_SK, body: { watermark } }, version)) return;
    const [item] = (await table.get([{ pk, sk: WATERMARK_SK }])).values() as Iterable<
      StateItem | undefined
    >;
    stored = (item?.body as { watermark: number } | undefined)?.watermark ?? NO_WATERMARK;
    version = item?.version;
  }
}
