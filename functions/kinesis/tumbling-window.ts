import type { KinesisWindowFields } from './kinesis-event';

/**
 * Tumbling-window arithmetic as Lambda applies it (docs/event-source-mapping.md#tumbling-windows):
 * the emulator's mapping and `driverless run` cut windows with it, and the runtime reads the state
 * it carries.
 */

/** Lambda ends a window early once its state passes 1 MB per shard. */
export const MAX_WINDOW_STATE_BYTES = 1024 * 1024;

/** A tumbling window open on a shard. `state` is what the function last returned. */
export interface OpenWindow {
  startMs: number;
  endMs: number;
  state: Record<string, unknown>;
}

/** The start of the window a record falls in: windows are aligned on multiples of their length. */
export function windowStartOf(arrivalMs: number, tumblingMs: number): number {
  return Math.floor(arrivalMs / tumblingMs) * tumblingMs;
}

/** The window of `tumblingMs` starting at `startMs`, with the empty state Lambda starts it with. */
export function openWindow(startMs: number, tumblingMs: number): OpenWindow {
  return { startMs, endMs: startMs + tumblingMs, state: {} };
}

/** Bytes of a window's state as JSON, for {@link MAX_WINDOW_STATE_BYTES}. */
export function windowStateBytes(window: OpenWindow): number {
  return Buffer.byteLength(JSON.stringify(window.state));
}

/** ISO-8601 UTC without milliseconds, as in AWS's example `2020-12-09T07:04:00Z`. */
export function windowBounds(window: OpenWindow): { start: string; end: string } {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { start: iso(window.startMs), end: iso(window.endMs) };
}

/** Lambda sends `{}` as the state of a new window. */
export function isFreshState(state: unknown): boolean {
  return (
    state === undefined ||
    state === null ||
    (typeof state === 'object' && Object.keys(state as object).length === 0)
  );
}

/** One invocation of a window: its bounds, the state it carries and whether it is the last. */
export interface WindowInvocation {
  start: string;
  end: string;
  state: Record<string, unknown>;
  isFinalInvokeForWindow: boolean;
  isWindowTerminatedEarly: boolean;
}

/**
 * The keys a tumbling window adds to an event, in the order AWS sends them after `Records`
 * (docs/event-source-mapping.md#window-event).
 */
export function windowFields(
  shardId: string,
  streamArn: string,
  window: WindowInvocation,
): KinesisWindowFields<Record<string, unknown>> {
  return {
    window: { start: window.start, end: window.end },
    state: window.state,
    shardId,
    eventSourceARN: streamArn,
    isFinalInvokeForWindow: window.isFinalInvokeForWindow,
    isWindowTerminatedEarly: window.isWindowTerminatedEarly,
  };
}
