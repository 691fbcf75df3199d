import type { StateItem, StateTable } from './state-table';
import { END_OF_INPUT } from './watermark';

/** One window of one key as stored: its bounds, accumulator and emission state. */
export interface StoredWindow<A> {
  readonly start: number;
  readonly end: number;
  readonly acc: A;
  /** Set by the claim that freezes the value: no record is folded into a closed window. */
  readonly closed?: true;
  readonly emitted?: true;
  /** The invocation emitting it, and until when (epoch ms) others leave it to that invocation. */
  readonly claimedBy?: string;
  readonly claimUntil?: number;
}

/**
 * The body of a window item: the windows of a key under one sort key (one window for tumbling and
 * sliding windows, every live session for session windows) and, per shard, the last record
 * folded, so a retried batch folds only the records after it.
 */
export interface WindowItemBody<A> {
  readonly key: string;
  readonly windows: StoredWindow<A>[];
  readonly seqs: Record<string, string>;
  /**
   * Per shard, the records up to its mark in `seqs` that this item refused as late
   * (`<sequenceNumber>:<subSequenceNumber>`), until the shard's progress passes them: a retry
   * hands them over as late again instead of taking them for folded.
   */
  readonly refused?: Record<string, string[]>;
  /**
   * No window ending at or before this watermark may be created or folded into here: an emitter
   * passed it. A fold that took an older watermark refuses such records (they are late) instead
   * of writing a window whose due entry the emitter has already settled.
   */
  readonly closedThrough?: number;
}

// Conditional writes in flight per batch.
export const CONCURRENCY = 16;
// Attempts at a conditional write that lose to concurrent writers before the batch fails.
export const ATTEMPTS = 8;

export const windowPartition = (source: string, job: string, key: string): string =>
  `agg|${source}|${job}|${key}`;
export const duePartition = (source: string, job: string): string => `due|${source}|${job}`;

// Sort keys hold times with a fixed width so that string order is time order (also below 0).
const OFFSET = 4_000_000_000_000_000;
export const pad = (time: number): string => String(time + OFFSET).padStart(17, '0');

/** The sort key of a due entry: due entries are found by a Query on end time, never a scan. */
export const dueSort = (end: number, itemSk: string, key: string): string =>
  `${pad(end)}|${itemSk}|${key}`;

export interface DueEntry {
  readonly key: string;
  readonly sk: string;
  readonly end: number;
}

/** The due entries of windows that end at or before `watermark`. */
export async function dueEntries(
  table: StateTable,
  pk: string,
  watermark: number,
): Promise<{ entry: DueEntry; item: StateItem }[]> {
  const items = await table.query(
    pk,
    watermark >= END_OF_INPUT ? undefined : { below: pad(watermark + 1) },
  );
  return items.map((item) => ({ entry: item.body as DueEntry, item }));
}
