import { windowStateBytes } from '../../functions/kinesis/index';
import type { BatchRunner } from './batch-runner';
import { openShardWindow, type ShardWindow } from './shard-window';
import type { WindowBatch } from './window-batches';

/** Options of {@link runWindows}. */
export interface RunWindowsOptions {
  /** `TumblingWindowInSeconds` in milliseconds. */
  readonly tumblingMs: number;
  /**
   * State above this many bytes ends a window early: 1 MB on AWS
   * (docs/event-source-mapping.md#tumbling-windows).
   */
  readonly maxStateBytes: number;
  /** Called after each batch, for progress. */
  readonly onBatch?: () => void;
}

/**
 * Runs window batches as the embedded mapping's ShardReader does
 * (docs/event-source-mapping.md#tumbling-windows), each shard with its own window:
 * - the first batch of a window opens it with empty state, and each batch's invocations carry the
 *   state the previous one returned (a retry too, with the state its partial response returned);
 * - a window gets its final invocation when the shard's next window starts, when its state passes
 *   `maxStateBytes` (`isWindowTerminatedEarly`; the next records start fresh), or when the input
 *   ends: no more records can arrive in it, as when a shard ends on AWS.
 */
export async function runWindows(
  batches: AsyncIterable<WindowBatch>,
  runner: BatchRunner,
  options: RunWindowsOptions,
): Promise<void> {
  const open = new Map<string, ShardWindow>();
  for await (const batch of batches) {
    let window = open.get(batch.shardId);
    if (window && window.startMs !== batch.windowStartMs) {
      await runner.closeWindow(window, { terminatedEarly: false });
      window = undefined;
    }
    window ??= openShardWindow(batch, batch.windowStartMs, options.tumblingMs);
    open.set(batch.shardId, window);
    await runner.run({ Records: batch.records }, window);
    if (windowStateBytes(window) > options.maxStateBytes) {
      await runner.closeWindow(window, { terminatedEarly: true });
      open.delete(batch.shardId);
    }
    options.onBatch?.();
  }
  for (const window of open.values()) await runner.closeWindow(window, { terminatedEarly: false });
}
