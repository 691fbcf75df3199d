import { hash } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { BatchResponse, KinesisEvent } from '../../kinesis/index';
import { InvalidEventError } from '../errors';
import type { Job } from '../jobs';
import type { StateTable } from './state-table';
import {
  isStatefulJob,
  STATEFUL,
  type StatefulRunner,
  type StatefulServices,
} from './stateful-job';

/**
 * The event the pipeline's schedule (and `driverless run` at the end of its input) sends each
 * source's function so quiet streams still close windows: no `Records`, processing time `time`.
 */
export interface TickEvent {
  readonly driverless: 'tick';
  readonly source: string;
  /** ISO-8601 processing time. */
  readonly time: string;
  /** The input is over (batch mode): the watermark goes to +∞ and every open window is emitted. */
  readonly final?: boolean;
}

export function isTick(event: unknown): event is TickEvent {
  return (
    typeof event === 'object' &&
    event !== null &&
    (event as { driverless?: unknown }).driverless === 'tick'
  );
}

/** The stateful jobs of a handler, bound to its state table and dead-letter path. */
export interface BoundStateful<T, S> {
  /** The jobs of one batch: stateful ones see the raw event (for their late records' letters). */
  jobsFor(event: KinesisEvent): { readonly [name: string]: Job<T, S> };
  tick(event: TickEvent, context: Context | undefined): Promise<BatchResponse<never>>;
}

export function bindStateful<T, S>(
  jobs: { readonly [name: string]: Job<T, S> },
  selected: readonly string[],
  services: Omit<StatefulServices, 'table'> & { readonly table: () => StateTable },
): BoundStateful<T, S> {
  const runners = new Map<string, StatefulRunner<T>>();
  let table: StateTable | undefined;
  const bound: StatefulServices = {
    ...services,
    table: () => {
      table ??= services.table();
      return table;
    },
  };
  for (const name of selected) {
    const job = jobs[name];
    if (isStatefulJob(job)) runners.set(name, job[STATEFUL](bound, name) as StatefulRunner<T>);
  }

  return {
    jobsFor(event) {
      if (runners.size === 0) return jobs;
      // Fails the invocation itself, naming the prop to set, rather than every record as data.
      bound.table();
      const batchJobs: { [name: string]: Job<T, S> } = { ...jobs };
      for (const [name, runner] of runners) {
        batchJobs[name] = (input, context) => runner.run(input.records, context, event);
      }
      return batchJobs;
    },

    async tick(event, context) {
      const time = Date.parse(event.time);
      if (!Number.isFinite(time)) {
        throw new InvalidEventError(
          `tick event: time is not an ISO-8601 time (given ${JSON.stringify(event.time)})`,
        );
      }
      const final = event.final === true;
      const batchId = hash('sha256', `tick|${event.source}|${event.time}|${final}`, 'hex').slice(
        0,
        32,
      );
      const remaining = context?.getRemainingTimeInMillis?.();
      const deadline = remaining === undefined ? Number.POSITIVE_INFINITY : Date.now() + remaining;
      const failures: string[] = [];
      for (const [job, runner] of runners) {
        try {
          await runner.tick(time, final, { job, batchId, deadline });
        } catch (error) {
          failures.push(`${job}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      // A failed tick fails the invocation, so the schedule's retry (and alarms) see it.
      if (failures.length > 0) throw new Error(`tick failed for ${failures.join('; ')}`);
      return { batchItemFailures: [] };
    },
  };
}
