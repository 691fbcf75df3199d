import type { Context } from 'aws-lambda';
import type { StreamRecord } from './stream-record';

/** Context of a tumbling-window invocation. */
export interface WindowContext {
  /** The window, from the event (ESM-SEMANTICS §1.2). */
  readonly window: { readonly start: Date; readonly end: Date };
  readonly shardId: string;
  readonly streamArn: string;
  readonly batchId: string;
  /** True on the window's last invocation, the one that runs `onClose`. */
  readonly isFinal: boolean;
  /** True when Lambda closed the window early because its state passed 1 MB. */
  readonly terminatedEarly: boolean;
  readonly lambda: Context;
}

/**
 * Folds a tumbling window's records into typed state (mapping option `tumblingWindow`).
 * Lambda carries the state between invocations; it must stay JSON and under 1 MB per shard.
 */
export interface WindowOptions<T, State> {
  /** The state at the start of a window. */
  readonly init: () => State;
  /** Folds one batch's good records (before any failed one) into the state. */
  readonly reduce: (
    state: State,
    records: readonly StreamRecord<T>[],
    context: WindowContext,
  ) => State;
  /** Runs once with the final state when the window closes; a throw makes Lambda retry it. */
  readonly onClose?: (state: State, context: WindowContext) => Promise<void> | void;
}

/** Lambda sends `{}` as the state of a new window. */
export function isFreshState(state: unknown): boolean {
  return (
    state === undefined ||
    state === null ||
    (typeof state === 'object' && Object.keys(state as object).length === 0)
  );
}
