import type { BatchTimings } from './batch-timings';
import { NO_SPAN, type TraceSpan } from './batch-trace';
import type { StreamRecord } from './stream-record';

/** A stage: a function of the batch's records, computed at most once per batch. */
export type Stage<T> = (records: readonly StreamRecord<T>[]) => unknown;

/** Named stages. */
export type Stages<T> = { readonly [name: string]: Stage<T> };

/** What a job receives: the batch's records and every stage's result, computed when first read. */
export type JobInput<T, S> = {
  readonly [K in keyof S]: S[K] extends (...args: never[]) => infer Result ? Result : never;
} & { readonly records: readonly StreamRecord<T>[] };

type StageState = { value: unknown } | { error: unknown };

/**
 * The stages of one range of records, each computed when a job first reads it and shared with
 * every later reader (the result, or the error). A stage nobody reads is never computed. Each job
 * gets its own view, so the time a stage takes is known to be the stage's and not the job's that
 * happened to read it first.
 */
export class StageResults<T, S extends Stages<T>> {
  readonly #stages: S;
  readonly #records: readonly StreamRecord<T>[];
  readonly #timings: BatchTimings | undefined;
  readonly #results = new Map<string, StageState>();

  constructor(stages: S, records: readonly StreamRecord<T>[], timings?: BatchTimings) {
    this.#stages = stages;
    this.#records = records;
    this.#timings = timings;
  }

  /** The object a job destructures: its records, and each stage as a getter. */
  viewFor(job?: string, span: TraceSpan = NO_SPAN): JobInput<T, S> {
    const view: Record<string, unknown> = { records: this.#records };
    for (const name of Object.keys(this.#stages)) {
      Object.defineProperty(view, name, {
        enumerable: true,
        get: () => {
          const state = this.#results.get(name) ?? this.#compute(name, job, span);
          if ('error' in state) throw state.error;
          return state.value;
        },
      });
    }
    return Object.freeze(view) as JobInput<T, S>;
  }

  #compute(name: string, job: string | undefined, parent: TraceSpan): StageState {
    const span = parent.child(`stage ${name}`);
    const started = performance.now();
    const done = (error?: unknown) => {
      if (error !== undefined) span.fail(error);
      span.end();
      this.#timings?.stageComputed(name, job, performance.now() - started);
    };
    let state: StageState;
    try {
      state = { value: (this.#stages[name] as Stage<T>)(this.#records) };
    } catch (error) {
      state = { error };
    }
    this.#results.set(name, state);
    const value = 'value' in state ? state.value : undefined;
    if (isThenable(value)) {
      // An async stage takes the time until it settles; its readers await it.
      value.then(
        () => done(),
        (error: unknown) => done(error ?? 'rejected'),
      );
    } else {
      done('error' in state ? (state.error ?? 'thrown') : undefined);
    }
    return state;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/** The view of one reader over `records`: stages computed when first read. */
export function stageView<T, S extends Stages<T>>(
  stages: S,
  records: readonly StreamRecord<T>[],
): JobInput<T, S> {
  return new StageResults(stages, records).viewFor();
}
