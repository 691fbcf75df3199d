import { MAX_WINDOW_STATE_BYTES } from '../../functions/kinesis/index';

/**
 * Timing knobs of the emulator. AWS does not document most of them; the defaults are chosen to
 * match what AWS documents or was observed doing, and tests scale them down.
 */
export interface EsmTuning {
  /**
   * Pause between GetRecords calls once a shard is caught up. AWS polls each shard once per second
   * when idle and keeps reading while records are waiting
   * (docs/event-source-mapping.md#polling-and-limits).
   * @default 1000
   */
  readonly idlePollIntervalMs: number;
  /**
   * The same pause for enhanced fan-out (consumer ARN) mappings. EFO pushes records with ~70 ms
   * average propagation (docs/event-source-mapping.md#enhanced-fan-out); the emulator polls with
   * its own iterators this often instead.
   * @default 100
   */
  readonly consumerPollIntervalMs: number;
  /**
   * How often ListShards runs to find new shards. A shard reaching its end also triggers a scan.
   * @default 10000
   */
  readonly shardDiscoveryIntervalMs: number;
  /**
   * Delay before retry n (1-based) = min(maxMs, initialMs * multiplier^(n-1)). AWS's schedule is
   * unconfirmed (docs/event-source-mapping.md#retries); 1 s doubling capped at 10 s gives ~8
   * invocations in 60 s, as recorded.
   * @default { initialMs: 1000, multiplier: 2, maxMs: 10000 }
   */
  readonly retryBackoff: {
    readonly initialMs: number;
    readonly multiplier: number;
    readonly maxMs: number;
  };
  /**
   * Synchronous invocation payload limit (docs/event-source-mapping.md#batching): a batch is cut
   * before its event would exceed it.
   * @default 6291456 (6 MB)
   */
  readonly maxPayloadBytes: number;
  /**
   * Tumbling-window state limit per shard (docs/event-source-mapping.md#tumbling-windows); above it
   * the window ends early.
   * @default 1048576 (1 MB)
   */
  readonly maxWindowStateBytes: number;
  /**
   * Records per GetRecords call (AWS maximum 10,000,
   * docs/event-source-mapping.md#polling-and-limits).
   * @default 10000
   */
  readonly getRecordsLimit: number;
  /**
   * Whether an S3 on-failure record carries `payload` as an escaped JSON string (AWS docs) or as an
   * object (what LocalStack writes); unconfirmed
   * (docs/event-source-mapping.md#on-failure-delivery).
   * @default 'string'
   */
  readonly s3PayloadFormat: 'string' | 'object';
  /**
   * How long after a tumbling window's end a caught-up read must have been sent before the window
   * closes with no record of a later window in sight. A Kinesis server may stamp a record's
   * arrival time a little before the record becomes readable (kinesalite does), so a read sent
   * right at the end can miss a record that belongs to the window
   * (docs/event-source-mapping.md#emulator-choices).
   * @default 200
   */
  readonly windowCloseGraceMs: number;
  /** The clock used for record age, iterator age and window closing. @default Date.now */
  readonly now: () => number;
}

export const defaultEsmTuning: EsmTuning = {
  idlePollIntervalMs: 1000,
  consumerPollIntervalMs: 100,
  shardDiscoveryIntervalMs: 10_000,
  retryBackoff: { initialMs: 1000, multiplier: 2, maxMs: 10_000 },
  maxPayloadBytes: 6 * 1024 * 1024,
  maxWindowStateBytes: MAX_WINDOW_STATE_BYTES,
  getRecordsLimit: 10_000,
  s3PayloadFormat: 'string',
  windowCloseGraceMs: 200,
  now: Date.now,
};

/** Delay before the n-th consecutive retry (1-based). */
export function retryDelayMs(tuning: EsmTuning, retry: number): number {
  const { initialMs, multiplier, maxMs } = tuning.retryBackoff;
  return Math.min(maxMs, initialMs * multiplier ** Math.max(0, retry - 1));
}
