import type { Logger } from '@aws-lambda-powertools/logger';
import type { KinesisEvent } from '../../kinesis/index';
import type { DeadLetterSink } from '../dead-letter';
import { ConfigurationError } from '../errors';
import type { JobContext, JobResult } from '../jobs';
import type { StreamRecord } from '../stream-record';
import type { StateTable } from './state-table';

/** What the runtime gives a stateful job besides its records. */
export interface StatefulServices {
  /** The source this function reads (`DRIVERLESS_SOURCE`). */
  readonly source: string;
  readonly functionName: string | undefined;
  readonly deadLetters: DeadLetterSink;
  readonly logger: Logger;
  /** The state table; throws a ConfigurationError when none is configured. */
  readonly table: () => StateTable;
}

/** Where a tick or a batch runs, for claims and logs. */
export interface StatefulScope {
  readonly job: string;
  /** Owner of the emissions this invocation claims: a retry of the same batch owns them again. */
  readonly batchId: string;
  readonly deadline: number;
}

/** A stateful job bound to a handler: runs batches, and ticks on quiet streams. */
export interface StatefulRunner<T> {
  run(
    records: readonly StreamRecord<T>[],
    context: JobContext,
    event: KinesisEvent,
  ): Promise<JobResult<T> | undefined>;
  tick(time: number, final: boolean, scope: StatefulScope): Promise<void>;
}

export const STATEFUL: unique symbol = Symbol.for('driverless.stateful');

/**
 * A job kind that keeps keyed state across shards and invocations (`aggregate`, `dedupe`). It is a
 * job, so it sits in `microBatch({ jobs })`; `microBatch` binds it to the state table and the
 * dead-letter path, and sends it ticks.
 */
export interface StatefulJob<T> {
  (
    input: { readonly records: readonly StreamRecord<T>[] },
    context: JobContext,
  ): Promise<JobResult<T> | undefined>;
  readonly [STATEFUL]: (services: StatefulServices, job: string) => StatefulRunner<T>;
}

/** Makes a stateful job out of the factory of its runner. */
export function statefulJob<T>(
  kind: string,
  bind: (services: StatefulServices, job: string) => StatefulRunner<T>,
): StatefulJob<T> {
  const unbound = async (): Promise<never> => {
    throw new ConfigurationError(`${kind} jobs run inside microBatch({ jobs: { ... } })`);
  };
  return Object.assign(unbound, { [STATEFUL]: bind }) as StatefulJob<T>;
}

export function isStatefulJob(job: unknown): job is StatefulJob<unknown> {
  return typeof job === 'function' && STATEFUL in job;
}
