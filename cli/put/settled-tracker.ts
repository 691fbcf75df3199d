import type { SettledPage } from '../../emulator/index';
import type { PutRecordResult } from './send-records';

/** A mapping of the stream `put` writes to, as the tracker counts it. */
export interface TrackedMapping {
  readonly uuid: string;
  /** What the summary calls it: the function, with its jobs when it runs only some. */
  readonly label: string;
}

/** What one mapping did with the records `put` sent. */
export interface MappingTally {
  readonly label: string;
  processed: number;
  filtered: number;
  discarded: number;
  /** Sent, not yet settled. */
  missing: number;
}

/** A settled record whose put had not been answered yet: kept this long for the answer. */
const EARLY_KEEP_MS = 60_000;

/**
 * Matches the records `put` sent against what each mapping of their stream settled (processed,
 * filtered out or discarded), as the embedded stack reports it page by page. A record counts as
 * accounted for once every mapping has settled it. A mapping may settle a record before its
 * PutRecords answer arrives, so settled records not yet known are kept for a while in case they
 * are ours; other producers' records are dropped after that.
 */
export class SettledTracker {
  readonly #pending = new Map<string, Set<string>>();
  readonly #early = new Map<string, Map<string, { outcome: Outcome; at: number }>>();
  readonly #tallies = new Map<string, MappingTally>();
  /** True once a page said batches were dropped before this tracker read them. */
  lostTrack = false;
  /** Where to read on from. */
  cursor: number;

  constructor(
    mappings: readonly TrackedMapping[],
    start: number,
    private readonly now: () => number = Date.now,
  ) {
    this.cursor = start;
    for (const mapping of mappings) {
      this.#pending.set(mapping.uuid, new Set());
      this.#early.set(mapping.uuid, new Map());
      this.#tallies.set(mapping.uuid, {
        label: mapping.label,
        processed: 0,
        filtered: 0,
        discarded: 0,
        missing: 0,
      });
    }
  }

  /** A record Kinesis accepted: every mapping now owes it. */
  sent(record: PutRecordResult): void {
    const key = `${record.shardId}:${record.sequenceNumber}`;
    for (const [uuid, pending] of this.#pending) {
      const early = this.#early.get(uuid)?.get(key);
      if (early) {
        this.#early.get(uuid)?.delete(key);
        this.#count(uuid, early.outcome);
      } else {
        pending.add(key);
      }
    }
  }

  /** Takes one page of the stack's settled records; returns whether there may be more. */
  take(page: SettledPage): boolean {
    if (page.oldest > this.cursor) this.lostTrack = true;
    const at = this.now();
    for (const batch of page.batches) {
      const pending = this.#pending.get(batch.mapping);
      if (!pending) continue;
      for (const sequenceNumber of batch.sequenceNumbers) {
        const key = `${batch.shardId}:${sequenceNumber}`;
        if (pending.delete(key)) this.#count(batch.mapping, batch.outcome);
        else this.#early.get(batch.mapping)?.set(key, { outcome: batch.outcome, at });
      }
    }
    for (const early of this.#early.values()) {
      for (const [key, entry] of early) {
        if (at - entry.at > EARLY_KEEP_MS) early.delete(key);
      }
    }
    const more = page.next > this.cursor && page.batches.length > 0;
    this.cursor = page.next;
    return more;
  }

  #count(uuid: string, outcome: Outcome): void {
    const tally = this.#tallies.get(uuid);
    if (tally) tally[outcome] += 1;
  }

  /** Records sent that some mapping has not settled yet, over all mappings. */
  get missing(): number {
    let missing = 0;
    for (const pending of this.#pending.values()) missing += pending.size;
    return missing;
  }

  /** One row per mapping. */
  tallies(): MappingTally[] {
    return [...this.#tallies].map(([uuid, tally]) => ({
      ...tally,
      missing: this.#pending.get(uuid)?.size ?? 0,
    }));
  }
}

type Outcome = 'processed' | 'filtered' | 'discarded';
