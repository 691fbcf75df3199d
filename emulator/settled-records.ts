import type { EsmEvent } from './esm/index';

/**
 * What became of some records of one shard at one mapping: `processed` (the function succeeded on
 * them, dead-lettering included: the runtime checkpoints a record it dead-letters), `filtered` (the
 * mapping's filter criteria dropped them) or `discarded` (retries or record age exhausted).
 */
export interface SettledBatch {
  /** The mapping's UUID, as in the state file's `mappings`. */
  readonly mapping: string;
  readonly shardId: string;
  readonly outcome: 'processed' | 'filtered' | 'discarded';
  readonly sequenceNumbers: readonly string[];
}

/** One page of {@link SettledRecords.since}. */
export interface SettledPage {
  /** Pass it as `after` to read on from here. */
  readonly next: number;
  /**
   * The oldest position still kept. A reader whose `after` is below it missed the batches in
   * between (the log dropped them to stay bounded) and must say so rather than wait for them.
   */
  readonly oldest: number;
  readonly batches: readonly SettledBatch[];
}

/** Where the embedded Lambda API serves {@link SettledRecords.since}: `GET <path>?after=<n>`. */
export const SETTLED_RECORDS_PATH = '/driverless/settled-records';

/** Sequence numbers kept, over all batches, before the oldest batches are dropped. */
const DEFAULT_CAPACITY = 500_000;

/** Batches returned by one page at most, so a response stays a few MB. */
const PAGE_BATCHES = 2_000;

/**
 * The records every mapping of a running stack has settled, in the order it settled them, so a
 * tool in another process (`driverless put --records`) can wait until each record it sent was
 * processed, filtered or discarded by every mapping of its stream. Kinesis and Lambda expose no
 * such thing: on AWS a producer cannot tell when a mapping is done with its record.
 *
 * Bounded: past `capacity` sequence numbers the oldest batches are dropped, and a reader that
 * falls that far behind learns it from {@link SettledPage.oldest}.
 */
export class SettledRecords {
  readonly #batches: SettledBatch[] = [];
  /** Position of `#batches[0]`: batches ever added minus those dropped. */
  #first = 0;
  #kept = 0;

  constructor(private readonly capacity: number = DEFAULT_CAPACITY) {}

  /** Takes a mapping's event; only the events that settle records are kept. */
  observe(mapping: string, event: EsmEvent): void {
    const outcome =
      event.type === 'recordsCheckpointed'
        ? 'processed'
        : event.type === 'recordsFilteredOut'
          ? 'filtered'
          : event.type === 'recordsDiscarded'
            ? 'discarded'
            : undefined;
    if (outcome === undefined || !('sequenceNumbers' in event)) return;
    if (event.sequenceNumbers.length === 0) return;
    this.#batches.push({
      mapping,
      shardId: event.shardId,
      outcome,
      sequenceNumbers: event.sequenceNumbers,
    });
    this.#kept += event.sequenceNumbers.length;
    while (this.#kept > this.capacity && this.#batches.length > 1) {
      const dropped = this.#batches.shift();
      this.#kept -= dropped?.sequenceNumbers.length ?? 0;
      this.#first += 1;
    }
  }

  /**
   * The batches settled at or after position `after` (0: from the oldest kept). A reader starting
   * now passes `Number.MAX_SAFE_INTEGER` and gets no batches and the position to read on from.
   */
  since(after: number): SettledPage {
    const from = Math.min(Math.max(after, this.#first), this.end) - this.#first;
    const batches = this.#batches.slice(from, from + PAGE_BATCHES);
    return { next: this.#first + from + batches.length, oldest: this.#first, batches };
  }

  /** The position the next batch will get: a reader starting now passes it as `after`. */
  get end(): number {
    return this.#first + this.#batches.length;
  }
}
