import type { EsmEvent } from '../../../emulator/esm';
import type { EventSourceMappingConfig } from '../../../emulator/model';

/** A record as Kinesis accepted it: where it landed. */
export interface RecordPosition {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

const keyOf = (shardId: string, sequenceNumber: string) => `${shardId}:${sequenceNumber}`;

/**
 * What each event source mapping of an embedded stack has done, from its observability events:
 * which records it checkpointed (processed, poison records included: the runtime dead-letters them
 * and reports success) or discarded, and in which order across mappings.
 */
export class MappingEventLog {
  private readonly checkpointed = new Map<string, Map<string, number>>();
  private readonly discarded = new Map<string, Set<string>>();
  private readonly errors: string[] = [];
  private sequence = 0;
  private readonly waiters = new Set<() => void>();

  /** The `onMappingEvent` listener of `startEmbeddedStack`. */
  readonly listener = (mapping: EventSourceMappingConfig, event: EsmEvent): void => {
    if (event.type === 'recordsCheckpointed') {
      const done = this.checkpointed.get(mapping.uuid) ?? new Map<string, number>();
      const at = ++this.sequence;
      for (const sequenceNumber of event.sequenceNumbers)
        done.set(keyOf(event.shardId, sequenceNumber), at);
      this.checkpointed.set(mapping.uuid, done);
    } else if (event.type === 'recordsDiscarded') {
      const gone = this.discarded.get(mapping.uuid) ?? new Set<string>();
      for (const sequenceNumber of event.sequenceNumbers)
        gone.add(keyOf(event.shardId, sequenceNumber));
      this.discarded.set(mapping.uuid, gone);
    } else if (event.type === 'batchResult' && event.outcome !== 'ok') {
      this.errors.push(`${mapping.functionName}: batch ${event.outcome} ${event.reason ?? ''}`);
    } else if (event.type === 'error') {
      this.errors.push(`${mapping.functionName}: ${event.stage} ${event.message}`);
    } else {
      return;
    }
    for (const wake of this.waiters) wake();
  };

  /** How many of `records` the mapping has checkpointed. */
  checkpointedCount(mappingUuid: string, records: readonly RecordPosition[]): number {
    const done = this.checkpointed.get(mappingUuid);
    return records.filter((r) => done?.has(keyOf(r.shardId, r.sequenceNumber))).length;
  }

  /** How many of `records` the mapping has given up on (sent to its on-failure destination). */
  discardedCount(mappingUuid: string, records: readonly RecordPosition[]): number {
    const gone = this.discarded.get(mappingUuid);
    return records.filter((r) => gone?.has(keyOf(r.shardId, r.sequenceNumber))).length;
  }

  /**
   * The position, in the order of all checkpoint events of all mappings, of the event that
   * checkpointed the last of `records` on this mapping; undefined while some are missing.
   */
  completedAt(mappingUuid: string, records: readonly RecordPosition[]): number | undefined {
    const done = this.checkpointed.get(mappingUuid);
    let last = 0;
    for (const record of records) {
      const at = done?.get(keyOf(record.shardId, record.sequenceNumber));
      if (at === undefined) return undefined;
      last = Math.max(last, at);
    }
    return last;
  }

  /** Failed batches and mapping errors seen so far (to explain a timeout). */
  problems(): readonly string[] {
    return this.errors;
  }

  /**
   * Resolves once `condition` holds, re-checking on every mapping event; rejects after
   * `timeoutMs` with `describe()` (say what is still missing).
   */
  async until(condition: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    if (condition()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const counts = new Map<string, number>();
        for (const error of this.errors) counts.set(error, (counts.get(error) ?? 0) + 1);
        const problems =
          counts.size > 0
            ? `; problems: ${[...counts].map(([error, n]) => `${error} (×${n})`).join(' | ')}`
            : '';
        reject(new Error(`timed out after ${timeoutMs} ms: ${describe()}${problems}`));
      }, timeoutMs);
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }
}
