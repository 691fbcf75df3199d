import type { EsmEvent, EventSourceMappingConfig } from '../emulator/index';
import { DrainTimeoutError } from './drain-timeout-error';
import type { MappingDrain, PutResult } from './local-pipeline';

const keyOf = (shardId: string, sequenceNumber: string) => `${shardId}:${sequenceNumber}`;

interface MappingState {
  readonly config: EventSourceMappingConfig;
  /** Records put and not yet done, by key. */
  readonly pending: Set<string>;
  /** Records done before their put was registered (a mapping can beat `put` to the answer). */
  readonly doneEarly: Set<string>;
  processed: number;
  filteredOut: number;
  discarded: number;
  /** The last failed batch or mapping error, to explain a timeout. */
  lastProblem: string | undefined;
}

/**
 * Follows each mapping's observability events to tell when every record put through the test API
 * is done: checkpointed (processed), filtered out, or discarded after retries.
 */
export class DrainTracker {
  private readonly mappings: MappingState[];
  private readonly waiters = new Set<() => void>();

  constructor(mappings: readonly EventSourceMappingConfig[]) {
    this.mappings = mappings
      .filter((config) => config.enabled)
      .map((config) => ({
        config,
        pending: new Set(),
        doneEarly: new Set(),
        processed: 0,
        filteredOut: 0,
        discarded: 0,
        lastProblem: undefined,
      }));
  }

  /** The `onMappingEvent` listener of the embedded stack. */
  readonly listener = (config: EventSourceMappingConfig, event: EsmEvent): void => {
    const state = this.mappings.find((candidate) => candidate.config.uuid === config.uuid);
    if (state === undefined) return;
    switch (event.type) {
      case 'recordsCheckpointed':
        state.processed += this.settle(state, event.shardId, event.sequenceNumbers);
        break;
      case 'recordsFilteredOut':
        state.filteredOut += this.settle(state, event.shardId, event.sequenceNumbers);
        break;
      case 'recordsDiscarded':
        state.discarded += this.settle(state, event.shardId, event.sequenceNumbers);
        state.lastProblem = `gave up on ${event.count} records (${event.condition})`;
        break;
      case 'batchResult':
        if (event.outcome !== 'ok') {
          state.lastProblem = `batch on ${event.shardId} ${event.outcome === 'error' ? 'failed' : 'partly failed'}: ${event.reason ?? event.functionError ?? 'function error'}`;
        }
        return;
      case 'error':
        state.lastProblem = `${event.stage} failed: ${event.message}`;
        return;
      default:
        return;
    }
    for (const wake of this.waiters) wake();
  };

  /** Registers records put into the stream `streamArn`: each mapping that reads it owes them. */
  put(streamArn: string, records: readonly PutResult[]): void {
    for (const state of this.mappings) {
      if (state.config.streamArn !== streamArn) continue;
      for (const record of records) {
        const key = keyOf(record.shardId, record.sequenceNumber);
        if (!state.doneEarly.delete(key)) state.pending.add(key);
      }
    }
  }

  /** Resolves with what each mapping did once nothing is pending; rejects after `timeoutMs`. */
  async drained(timeoutMs: number): Promise<MappingDrain[]> {
    if (!(timeoutMs > 0)) throw new Error(`timeoutMs must be more than 0 (given ${timeoutMs})`);
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (this.mappings.every((state) => state.pending.size === 0)) finish(resolve);
      };
      const timer = setTimeout(
        () => finish(() => reject(this.timeoutError(Date.now() - started))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
    return this.mappings.map((state) => ({
      mapping: state.config.logicalId,
      stream: streamName(state.config.streamArn),
      function: qualified(state.config),
      processed: state.processed,
      filteredOut: state.filteredOut,
      discarded: state.discarded,
    }));
  }

  /** Marks records done for a mapping; returns how many of them were pending. */
  private settle(state: MappingState, shardId: string, sequenceNumbers: readonly string[]): number {
    let settled = 0;
    for (const sequenceNumber of sequenceNumbers) {
      const key = keyOf(shardId, sequenceNumber);
      if (state.pending.delete(key)) settled += 1;
      else state.doneEarly.add(key);
    }
    return settled;
  }

  private timeoutError(waitedMs: number): DrainTimeoutError {
    const behind = this.mappings.filter((state) => state.pending.size > 0);
    const lines = behind.map((state) => {
      const byShard = new Map<string, number>();
      for (const key of state.pending) {
        const shardId = key.slice(0, key.indexOf(':'));
        byShard.set(shardId, (byShard.get(shardId) ?? 0) + 1);
      }
      const shards = [...byShard].map(([shardId, count]) => `${shardId}: ${count}`).join(', ');
      const problem = state.lastProblem ? `; last problem: ${state.lastProblem}` : '';
      return (
        `mapping ${state.config.logicalId} (${streamName(state.config.streamArn)} → ${qualified(state.config)}) ` +
        `is ${state.pending.size} records behind (${shards})${problem}`
      );
    });
    return new DrainTimeoutError(
      `not drained after ${waitedMs} ms:\n  ${lines.join('\n  ')}`,
      behind.map((state) => ({ mapping: state.config.logicalId, pending: state.pending.size })),
    );
  }
}

function streamName(streamArn: string): string {
  return streamArn.slice(streamArn.indexOf(':stream/') + ':stream/'.length);
}

function qualified(config: EventSourceMappingConfig): string {
  return config.functionQualifier && !config.functionName.includes(':')
    ? `${config.functionName}:${config.functionQualifier}`
    : config.functionName;
}
