import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type {
  BackfillCounts,
  BackfillEvent,
  BackfillResult,
} from '../../functions/runtime/backfill/backfill-event';
import type { BackfillFunction } from './find-source';
import type { Unit } from './progress-store';

/** What the orchestrator reports as it goes. */
export interface OrchestratorEvents {
  /** After every invocation, with the unit as it now is. */
  readonly onUnit: (unit: Unit, added: BackfillCounts) => void;
}

export interface OrchestrateOptions {
  readonly lambda: LambdaClient;
  readonly functions: readonly BackfillFunction[];
  readonly qualifier: string;
  readonly backfillId: string;
  readonly batchSize: number;
  readonly ignoreCursors: boolean;
  /** Invocations in flight at most. */
  readonly concurrency: number;
  /** Failed invocations of one unit in a row before it is failed. */
  readonly retries: number;
  /** Saves a unit's progress; awaited before the unit is invoked again. */
  readonly save: (unit: Unit) => Promise<void>;
  /** True once the user asked to stop: nothing new starts, invocations in flight finish. */
  readonly stopping: () => boolean;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly events?: OrchestratorEvents;
}

// A lease outlives the function's timeout by this much, for the clocks of two machines.
const LEASE_SLACK_MS = 5000;
const RETRY_BASE_MS = 1000;

export function addCounts(into: BackfillCounts, added: BackfillCounts): void {
  into.batches += added.batches;
  into.invocations += added.invocations;
  into.records += added.records;
  into.deadLettered += added.deadLettered;
  into.failed += added.failed;
  for (const [job, tally] of Object.entries(added.jobs)) {
    const t = into.jobs[job];
    if (t === undefined) into.jobs[job] = { ...tally };
    else for (const key of Object.keys(t) as (keyof typeof t)[]) t[key] += tally[key];
  }
  if (added.lastError !== undefined) into.lastError = added.lastError;
}

function isResult(payload: unknown): payload is BackfillResult {
  const p = payload as Partial<BackfillResult> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    p.driverless === 'backfill' &&
    typeof p.done === 'boolean' &&
    typeof p.counts === 'object'
  );
}

/** One invocation of a unit; its result, or why it failed. */
async function invoke(
  options: OrchestrateOptions,
  unit: Unit,
): Promise<{ result: BackfillResult } | { error: string }> {
  const event: BackfillEvent = {
    driverless: 'backfill',
    backfillId: options.backfillId,
    slice: unit.slice,
    ...(unit.continuation === undefined ? {} : { continuation: unit.continuation }),
    batchSize: options.batchSize,
    ...(options.ignoreCursors ? { ignoreCursors: true } : {}),
  };
  const fn = options.functions[unit.functionIndex] as BackfillFunction;
  try {
    const response = await options.lambda.send(
      new InvokeCommand({
        FunctionName: fn.name,
        Qualifier: options.qualifier,
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
    const text = Buffer.from(response.Payload ?? new Uint8Array()).toString('utf8');
    const payload: unknown = text === '' ? undefined : JSON.parse(text);
    if (response.FunctionError) {
      const error = payload as { errorType?: string; errorMessage?: string } | undefined;
      return {
        error: `${error?.errorType ?? response.FunctionError}: ${error?.errorMessage ?? ''}`,
      };
    }
    if (!isResult(payload)) {
      return {
        error: `${fn.name}:${options.qualifier} answered no backfill result: deploy a version whose runtime knows backfills`,
      };
    }
    return { result: payload };
  } catch (error) {
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/**
 * Runs every unit to done or failed: at most `concurrency` invocations at once, a unit only after
 * the units of its parent shards (same function) ended, each unit invoked again from its
 * continuation until its slice is done. A unit whose invocation fails is retried from its last
 * saved continuation (cursors skip what the failed one committed) after a growing pause, and
 * failed after `retries` failures in a row. A unit left running by an earlier orchestrator (its
 * lease not yet over) waits for the lease: that invocation may still be running, and two at once
 * could both apply a batch before either moved its cursors.
 */
export async function orchestrate(units: Unit[], options: OrchestrateOptions): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const terminal = (unit: Unit) => unit.state === 'done' || unit.state === 'failed';
  const bySlice = new Map<string, Unit[]>();
  for (const unit of units) {
    const key = `${unit.functionIndex}|${unit.slice.id}`;
    bySlice.set(key, [...(bySlice.get(key) ?? []), unit]);
  }
  const ready = (unit: Unit) =>
    !terminal(unit) &&
    unit.after.every((id) => (bySlice.get(`${unit.functionIndex}|${id}`) ?? []).every(terminal));

  async function run(unit: Unit): Promise<void> {
    const wait = unit.leaseUntil - now();
    if (wait > 0) await sleep(wait);
    while (!terminal(unit) && !options.stopping()) {
      const fn = options.functions[unit.functionIndex] as BackfillFunction;
      unit.state = 'running';
      unit.leaseUntil = now() + fn.timeoutMs + LEASE_SLACK_MS;
      await options.save(unit);
      const outcome = await invoke(options, unit);
      const added = 'result' in outcome ? outcome.result.counts : undefined;
      if ('result' in outcome && !outcome.result.done && outcome.result.counts.batches === 0) {
        // No batch fitted in the invocation's time: invoking again would never end.
        unit.attempts += 1;
        unit.lastError = `${fn.name} processed no batch before its deadline: raise its timeout or lower --batch-size`;
        if (unit.attempts > options.retries) unit.state = 'failed';
      } else if ('result' in outcome) {
        addCounts(unit.counts, outcome.result.counts);
        if (outcome.result.continuation !== undefined)
          unit.continuation = outcome.result.continuation;
        unit.attempts = 0;
        if (outcome.result.done) unit.state = 'done';
      } else {
        unit.attempts += 1;
        unit.lastError = outcome.error;
        if (unit.attempts > options.retries) unit.state = 'failed';
      }
      // The invocation has returned: nothing of it runs any more.
      unit.leaseUntil = 0;
      if (!terminal(unit) && options.stopping()) unit.state = 'pending';
      await options.save(unit);
      options.events?.onUnit(
        unit,
        added ?? { batches: 0, invocations: 0, records: 0, deadLettered: 0, failed: 0, jobs: {} },
      );
      if (unit.attempts > 0 && !terminal(unit)) {
        await sleep(RETRY_BASE_MS * 2 ** (unit.attempts - 1));
      }
    }
    if (!terminal(unit)) unit.state = 'pending';
  }

  const running = new Map<Unit, Promise<void>>();
  for (;;) {
    if (!options.stopping()) {
      for (const unit of units) {
        if (running.size >= options.concurrency) break;
        if (!running.has(unit) && ready(unit)) {
          running.set(
            unit,
            run(unit).finally(() => running.delete(unit)),
          );
        }
      }
    }
    if (running.size === 0) return;
    await Promise.race(running.values());
  }
}
