import type {
  EsmEvent,
  EventSourceMappingConfig,
  FunctionLogLine,
  LocalApp,
} from '../../emulator/index';
import { LatencySample, RateCounter } from './live-view';
import type { TappedRecord } from './stream-tap';

/** What one mapping (a source's function, or an isolated job's) has done so far. */
export interface MappingActivity {
  readonly uuid: string;
  /** The source name (DRIVERLESS_SOURCE), with the jobs of an isolated job's function. */
  readonly label: string;
  readonly functionName: string;
  readonly stream: string;
  readonly tumblingWindowSeconds: number;
  readonly processed: RateCounter;
  readonly deadLettered: RateCounter;
  readonly filteredOut: RateCounter;
  /** Records given up on (retries or age exhausted), sent to the on-failure destination if any. */
  readonly discarded: RateCounter;
  batches: number;
  failedBatches: number;
  iteratorAgeMs: number | undefined;
  /** Put → checkpointed, ms, of each record. */
  readonly latency: LatencySample;
  /** The version the last batch ran on. */
  runningVersion: string | undefined;
  /** Windows whose final invocation ran (onClose). */
  windowsClosed: number;
  /** Records in windows not closed yet, per shard. */
  readonly openWindowRecords: Map<string, number>;
  /** Records this mapping is done with (`shardId:sequenceNumber`), kept only for accounting. */
  readonly done: Set<string> | undefined;
}

/** A job's totals across the batches its source ran. */
export interface JobActivity {
  readonly records: RateCounter;
  failed: number;
  readonly durations: LatencySample;
}

/** The runtime's per-batch log line (functions/runtime/telemetry.ts). */
interface BatchLog {
  source: string;
  deadLetters: number;
  jobs: Record<string, { records: number; failed: number; durationMs: number }>;
}

/**
 * Everything the live view and the exit summary show, fed by the stack's mapping events, the
 * functions' batch log lines and the stream tap. Holds no timers and no I/O: a test feeds it events.
 */
export class AppActivity {
  readonly startedAt: number;
  readonly mappings = new Map<string, MappingActivity>();
  readonly jobs = new Map<string, JobActivity>();
  /** Records put on each stream since the start, by anyone. */
  readonly incoming = new Map<string, RateCounter>();
  /** Records put, in order, kept only for accounting. */
  readonly put: TappedRecord[] = [];
  /** The version each function's `live` alias points at, when code was published. */
  readonly publishedVersions = new Map<string, string>();
  /** Lines worth keeping on screen: versions published, what needs a restart. */
  readonly notices: string[] = [];
  readonly #byFunction = new Map<string, MappingActivity>();
  readonly #accounting: boolean;

  /**
   * @param accounting keep every record's sequence number, to say at the end which were not
   * processed (`--records`); off in an open-ended session, whose memory must not grow
   */
  constructor(app: LocalApp, accounting: boolean, now = Date.now()) {
    this.startedAt = now;
    this.#accounting = accounting;
    this.addApp(app);
  }

  /** Rows for an app's streams and mappings: the app's own, or resources added while it runs. */
  addApp(app: LocalApp): void {
    const accounting = this.#accounting;
    for (const stream of app.streams) {
      if (!this.incoming.has(stream.name)) this.incoming.set(stream.name, new RateCounter());
    }
    for (const mapping of app.mappings) {
      if (this.mappings.has(mapping.uuid)) continue;
      const fn = app.functions.find((f) => f.name === mapping.functionName);
      const source = fn?.environment.DRIVERLESS_SOURCE ?? mapping.functionName;
      const jobs = fn?.environment.DRIVERLESS_JOBS;
      const activity: MappingActivity = {
        uuid: mapping.uuid,
        label: jobs && !jobs.startsWith('!') ? `${source} [${jobs}]` : source,
        functionName: mapping.functionName,
        stream: mapping.streamArn.slice(mapping.streamArn.lastIndexOf('/') + 1),
        tumblingWindowSeconds: mapping.tumblingWindowSeconds,
        processed: new RateCounter(),
        deadLettered: new RateCounter(),
        filteredOut: new RateCounter(),
        discarded: new RateCounter(),
        batches: 0,
        failedBatches: 0,
        iteratorAgeMs: undefined,
        latency: new LatencySample(),
        runningVersion: undefined,
        windowsClosed: 0,
        openWindowRecords: new Map(),
        done: accounting ? new Set() : undefined,
      };
      this.mappings.set(mapping.uuid, activity);
      this.#byFunction.set(mapping.functionName, activity);
    }
  }

  onMappingEvent(mapping: EventSourceMappingConfig, event: EsmEvent, now = Date.now()): void {
    const row = this.mappings.get(mapping.uuid);
    if (!row) return;
    switch (event.type) {
      case 'batchInvoked':
        row.iteratorAgeMs = event.iteratorAgeMs;
        break;
      case 'batchResult':
        row.batches++;
        row.runningVersion = event.executedVersion;
        if (event.outcome !== 'ok') row.failedBatches++;
        if (row.tumblingWindowSeconds > 0 && event.outcome === 'ok') {
          row.openWindowRecords.set(
            event.shardId,
            (row.openWindowRecords.get(event.shardId) ?? 0) + event.records,
          );
        }
        break;
      case 'windowFinalInvoked':
        if (event.ok) {
          row.windowsClosed++;
          row.openWindowRecords.set(event.shardId, 0);
        }
        break;
      case 'recordsCheckpointed':
        row.processed.add(event.count, now);
        row.latency.add(event.arrivalTimestampsMs.map((arrival) => now - arrival));
        this.#markDone(row, event.shardId, event.sequenceNumbers);
        break;
      case 'recordsFilteredOut':
        row.filteredOut.add(event.count, now);
        this.#markDone(row, event.shardId, event.sequenceNumbers);
        break;
      case 'recordsDiscarded':
        row.discarded.add(event.count, now);
        this.#markDone(row, event.shardId, event.sequenceNumbers);
        break;
      default:
        break;
    }
  }

  onLog(functionName: string, line: FunctionLogLine, now = Date.now()): void {
    const batch =
      line.json?.message === 'batch' ? (line.json.batch as BatchLog | undefined) : undefined;
    if (!batch) return;
    const row = this.#byFunction.get(functionName);
    if (batch.deadLetters > 0) row?.deadLettered.add(batch.deadLetters, now);
    for (const [job, outcome] of Object.entries(batch.jobs ?? {})) {
      const key = `${batch.source}.${job}`;
      const stats = this.jobs.get(key) ?? {
        records: new RateCounter(),
        failed: 0,
        durations: new LatencySample(),
      };
      stats.records.add(outcome.records, now);
      stats.failed += outcome.failed;
      stats.durations.add([outcome.durationMs]);
      this.jobs.set(key, stats);
    }
  }

  onPut(records: readonly TappedRecord[], now = Date.now()): void {
    for (const record of records) {
      const counter = this.incoming.get(record.stream) ?? new RateCounter();
      counter.add(1, now);
      this.incoming.set(record.stream, counter);
    }
    if (this.#accounting) this.put.push(...records);
  }

  notice(text: string, now = Date.now()): void {
    const at = new Date(now).toISOString().slice(11, 19);
    this.notices.push(`${at}  ${text}`);
    if (this.notices.length > 50) this.notices.splice(0, this.notices.length - 50);
  }

  /** What the view calls a function: its source (and jobs), else its name. */
  labelOf(functionName: string): string {
    return this.#byFunction.get(functionName)?.label ?? functionName;
  }

  /** Records put on every stream so far. */
  totalPut(): number {
    return [...this.incoming.values()].reduce((sum, counter) => sum + counter.total, 0);
  }

  /**
   * Per mapping, the records put on its stream that it has not processed, dead-lettered, filtered
   * out or given up on yet (accounting only).
   */
  outstanding(): { row: MappingActivity; put: number; missing: number }[] {
    return [...this.mappings.values()].map((row) => {
      const mine = this.put.filter((record) => record.stream === row.stream);
      const missing = mine.filter(
        (record) => !row.done?.has(`${record.shardId}:${record.sequenceNumber}`),
      ).length;
      return { row, put: mine.length, missing };
    });
  }

  #markDone(row: MappingActivity, shardId: string, sequenceNumbers: readonly string[]): void {
    if (!row.done) return;
    for (const sequenceNumber of sequenceNumbers) row.done.add(`${shardId}:${sequenceNumber}`);
  }
}
