import type { StreamRecord } from './stream-record';

/** A stage: a function of the batch's records, computed at most once per batch. */
export type Stage<T> = (records: readonly StreamRecord<T>[]) => unknown;

/** Named stages. */
export type Stages<T> = { readonly [name: string]: Stage<T> };

/** What a job receives: the batch's records and every stage's result, computed when first read. */
export type JobInput<T, S> = {
  readonly [K in keyof S]: S[K] extends (...args: never[]) => infer Result ? Result : never;
} & { readonly records: readonly StreamRecord<T>[] };

/**
 * Builds the object jobs destructure. Each stage is a getter: the first job that reads it computes
 * it, later readers share the result (or the error). A stage nobody reads is never computed.
 */
export function stageView<T, S extends Stages<T>>(
  stages: S,
  records: readonly StreamRecord<T>[],
): JobInput<T, S> {
  const view: Record<string, unknown> = { records };
  for (const name of Object.keys(stages)) {
    let state: { value: unknown } | { error: unknown } | undefined;
    Object.defineProperty(view, name, {
      enumerable: true,
      get() {
        if (state === undefined) {
          try {
            state = { value: (stages[name] as Stage<T>)(records) };
          } catch (error) {
            state = { error };
          }
        }
        if ('error' in state) throw state.error;
        return state.value;
      },
    });
  }
  return Object.freeze(view) as JobInput<T, S>;
}
