/** Observability events a running mapping emits (`deps.onEvent`). Every event names its shard. */

import type { OnFailureCondition } from '../../functions/kinesis/index';

export interface ShardStartedEvent {
  type: 'shardStarted';
  shardId: string;
  parentShardIds: string[];
  /** The iterator type the shard was opened with. */
  iteratorType: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';
}

export interface ShardFinishedEvent {
  type: 'shardFinished';
  shardId: string;
}

export interface BatchInvokedEvent {
  type: 'batchInvoked';
  shardId: string;
  /** Number of records in the invocation. */
  records: number;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  /**
   * Arrival of the batch's last record to the moment the event is sent (`IteratorAge`,
   * docs/event-source-mapping.md#polling-and-limits).
   */
  iteratorAgeMs: number;
  /** Invocations these records have seen, this one included (`approximateInvokeCount`). */
  invokeCount: number;
}

export interface BatchResultEvent {
  type: 'batchResult';
  shardId: string;
  /** `ok`: whole batch succeeded; `partial`: a tail is retried; `error`: whole batch failed. */
  outcome: 'ok' | 'partial' | 'error';
  durationMs: number;
  records: number;
  executedVersion: string;
  functionError?: 'Unhandled';
  /**
   * Why the batch counts as failed when the function itself did not throw
   * (docs/event-source-mapping.md#partial-batch-response, #window-response).
   */
  reason?: string;
}

export interface WindowFinalInvokedEvent {
  type: 'windowFinalInvoked';
  shardId: string;
  window: { start: string; end: string };
  terminatedEarly: boolean;
  ok: boolean;
  durationMs: number;
}

export interface RecordsCheckpointedEvent {
  type: 'recordsCheckpointed';
  shardId: string;
  count: number;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  /** Every checkpointed record, in order. */
  sequenceNumbers: string[];
  /** Kinesis arrival time of each record (epoch ms), same order: end-to-end latency = now - arrival. */
  arrivalTimestampsMs: number[];
}

export interface RecordsFilteredOutEvent {
  type: 'recordsFilteredOut';
  shardId: string;
  count: number;
  sequenceNumbers: string[];
}

export interface RecordsDiscardedEvent {
  type: 'recordsDiscarded';
  shardId: string;
  condition: OnFailureCondition;
  count: number;
  firstSequenceNumber: string;
  lastSequenceNumber: string;
  sequenceNumbers: string[];
  approximateInvokeCount: number;
  /** The on-failure destination kind, when one is configured. */
  destination?: 'sqs' | 's3' | 'sns';
  /** Whether the on-failure record was written (false without destination or when the write failed). */
  delivered: boolean;
}

export interface MappingErrorEvent {
  type: 'error';
  /**
   * Where it failed: Kinesis reads (docs/event-source-mapping.md#retries, retried, not counted),
   * invoke transport, destination writes.
   */
  stage: 'listShards' | 'getShardIterator' | 'getRecords' | 'invoke' | 'destination';
  shardId?: string;
  message: string;
}

export type EsmEvent =
  | ShardStartedEvent
  | ShardFinishedEvent
  | BatchInvokedEvent
  | BatchResultEvent
  | WindowFinalInvokedEvent
  | RecordsCheckpointedEvent
  | RecordsFilteredOutEvent
  | RecordsDiscardedEvent
  | MappingErrorEvent;

export type EsmEventListener = (event: EsmEvent) => void;
