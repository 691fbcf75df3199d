import type { Context } from 'aws-lambda';
import {
  compareSequenceNumbers,
  isFreshState,
  type KinesisEvent,
  type RecordPosition,
} from '../kinesis/index';
import type { DecodedBatch } from './decode-event';
import type { StreamRecord } from './stream-record';
import { withinDeadline } from './within-deadline';

/** Context of a tumbling-window invocation. */
export interface WindowContext {
  /** The window, from the event (docs/event-source-mapping.md#tumbling-windows). */
  readonly window: { readonly start: Date; readonly end: Date };
  readonly shardId: string;
  readonly streamArn: string;
  /**
   * The invocation's batch id (see `JobContext.batchId`): the same on a retry, different for any
   * other invocation, including another window's final invocation without records.
   */
  readonly batchId: string;
  /** True on the window's last invocation, the one that runs `onClose`. */
  readonly isFinal: boolean;
  /** True when Lambda closed the window early because its state passed 1 MB. */
  readonly terminatedEarly: boolean;
  readonly lambda: Context;
}

/** Context of a window's `onClose`. */
export interface WindowCloseContext extends WindowContext {
  /** Aborted at the invocation's deadline; pass it to SDK calls (`abortSignal`). */
  readonly signal: AbortSignal;
}

/**
 * Folds a tumbling window's records into typed state (mapping option `tumblingWindow`).
 * Lambda carries the state between invocations; it must stay JSON and under 1 MB per shard.
 */
export interface WindowOptions<T, State> {
  /** The state at the start of a window. */
  readonly init: () => State;
  /**
   * Folds one batch's good records into the state: those before the first failed one, and of a KPL
   * aggregate with a failed sub-record none (Lambda redelivers the aggregate whole).
   */
  readonly reduce: (
    state: State,
    records: readonly StreamRecord<T>[],
    context: WindowContext,
  ) => State;
  /**
   * Runs once with the final state when the window closes. A throw, or not finishing by the
   * invocation's deadline, fails the invocation: Lambda retries it with the same state.
   */
  readonly onClose?: (state: State, context: WindowCloseContext) => Promise<void> | void;
}

/**
 * Marks a handler made with a `window` option. A registered symbol, so a tool holding a handler
 * bundled with its own copy of the runtime (`driverless run`) still recognises it: a window
 * handler invoked without window fields runs none of its window code, and the tool says so.
 */
export const WINDOW_HANDLER = Symbol.for('driverless.windowHandler');

/** Whether `handler` was made by `microBatch` with a `window` option (see {@link WINDOW_HANDLER}). */
export function isWindowHandler(handler: unknown): boolean {
  return (
    typeof handler === 'function' &&
    (handler as { [WINDOW_HANDLER]?: unknown })[WINDOW_HANDLER] === true
  );
}

/**
 * Folds the good records before the first failure into the window state (Lambda retries from that
 * failure with the state returned here) and closes the window on its final invocation, by
 * `deadline` (epoch ms) at the latest. Without a window option the incoming state is passed
 * through: Lambda fails a windowed response without one.
 */
export async function foldWindow<T, State>(
  window: WindowOptions<T, State> | undefined,
  event: KinesisEvent,
  batch: DecodedBatch<T>,
  lowest: RecordPosition | undefined,
  batchId: string,
  lambda: Context,
  deadline: number,
): Promise<State> {
  const incoming = event.state as State;
  if (!window) return (incoming ?? {}) as State;
  const context: WindowContext = {
    window: { start: new Date(event.window!.start), end: new Date(event.window!.end) },
    shardId: batch.shardId,
    streamArn: batch.streamArn,
    batchId,
    isFinal: event.isFinalInvokeForWindow === true,
    terminatedEarly: event.isWindowTerminatedEarly === true,
    lambda,
  };
  // Lambda retries from the failure's sequence number, so a KPL aggregate with a failed sub-record
  // comes back whole: none of its sub-records may be in the state the retry starts from.
  const before = lowest
    ? batch.records.filter(
        (record) => compareSequenceNumbers(record.sequenceNumber, lowest.sequenceNumber) < 0,
      )
    : batch.records;
  const state = window.reduce(isFreshState(incoming) ? window.init() : incoming, before, context);
  const onClose = window.onClose;
  if (context.isFinal && !lowest && onClose) {
    // Lambda retries a failed final invocation with the state the window had before it, and moves
    // the shard's checkpoint only once one succeeds (docs/event-source-mapping.md#tumbling-windows);
    // a successful answer closes the window for good. So an onClose cut off at the deadline
    // fails the invocation (this rejects), in time rather than at Lambda's timeout, and the retry
    // closes the window again from the same state: nothing of it is lost. A partial response
    // would not do: it must carry a state, and a final invocation may have no record to name.
    await withinDeadline(deadline, 'closing the window', (signal) =>
      onClose(state, { ...context, signal }),
    );
  }
  return state;
}
