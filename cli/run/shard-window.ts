import type { KinesisEvent, KinesisEventRecord } from 'driverless/runtime';
import {
  type OpenWindow,
  openWindow,
  windowBounds,
  windowFields,
} from '../../functions/kinesis/index';

/** A tumbling window open on one shard of a run, with the state the handler last returned. */
export interface ShardWindow extends OpenWindow {
  readonly shardId: string;
  readonly streamArn: string;
}

/**
 * The window of `tumblingMs` starting at `startMs` on a shard, with the empty state Lambda starts
 * a window with (docs/event-source-mapping.md#tumbling-windows).
 */
export function openShardWindow(
  shard: { readonly shardId: string; readonly streamArn: string },
  startMs: number,
  tumblingMs: number,
): ShardWindow {
  const { shardId, streamArn } = shard;
  return { shardId, streamArn, ...openWindow(startMs, tumblingMs) };
}

/**
 * The event of one invocation of a window, with the keys the mapping adds
 * (docs/event-source-mapping.md#tumbling-windows)
 * built by the mapping's own helpers: a batch carries its records and the current state; the final
 * invocation carries no records and the final state, as the embedded mapping sends it.
 */
export function windowEventOf(
  records: readonly KinesisEventRecord[],
  window: ShardWindow,
  flags: { readonly final: boolean; readonly terminatedEarly: boolean },
): KinesisEvent {
  return {
    Records: records,
    ...windowFields(window.shardId, window.streamArn, {
      ...windowBounds(window),
      state: window.state,
      isFinalInvokeForWindow: flags.final,
      isWindowTerminatedEarly: flags.terminatedEarly,
    }),
  };
}
