import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { EventSourceMappingConfig, Invoke } from '../model';
import type { EsmEvent } from './EsmEvent';
import type { EsmTuning } from './EsmTuning';
import type { RecordSource } from './kinesisEvent';
import type { OnFailureDelivery } from './onFailureDestination';
import type { RecordFilter } from './recordFilter';

/**
 * Counters of a running mapping, named after the ESM `EventCount` metrics where one exists
 * (docs/event-source-mapping.md#polling-and-limits).
 */
export interface EsmStats {
  /** Records read from the stream (`PolledEventCount`). */
  polledRecords: number;
  /** Records dropped by filter criteria (`FilteredOutEventCount`). */
  filteredOutRecords: number;
  /** Records sent to the function, once per invocation they were part of (`InvokedEventCount`). */
  invokedRecords: number;
  /** Records in invocations that failed as a whole or partly (`FailedInvokeEventCount`). */
  failedInvokeRecords: number;
  /** Records the function processed successfully. */
  checkpointedRecords: number;
  /** Records given up on: retries exhausted or too old (`DroppedEventCount`). */
  discardedRecords: number;
  /** Discarded records whose on-failure record was written (`OnFailureDestinationDeliveredEventCount`). */
  destinationDeliveredRecords: number;
  invocations: number;
  inFlightInvocations: number;
  /**
   * Highest number of concurrent invocations seen; at most shards × ParallelizationFactor
   * (docs/event-source-mapping.md#polling-and-limits).
   */
  peakInFlightInvocations: number;
  /** Each known shard's state. */
  shards: Record<string, 'waiting-for-parents' | 'reading' | 'finished'>;
}

export function emptyStats(): EsmStats {
  return {
    polledRecords: 0,
    filteredOutRecords: 0,
    invokedRecords: 0,
    failedInvokeRecords: 0,
    checkpointedRecords: 0,
    discardedRecords: 0,
    destinationDeliveredRecords: 0,
    invocations: 0,
    inFlightInvocations: 0,
    peakInFlightInvocations: 0,
    shards: {},
  };
}

/** Everything the shard readers and the batch processor share. Internal. */
export interface MappingContext {
  readonly config: EventSourceMappingConfig;
  readonly kinesis: KinesisClient;
  readonly invoke: Invoke;
  readonly tuning: EsmTuning;
  readonly source: RecordSource;
  readonly streamName: string;
  readonly functionName: string;
  readonly qualifier: string | undefined;
  /**
   * With qualifier, as the on-failure record shows it
   * (docs/event-source-mapping.md#on-failure-record).
   */
  readonly functionArn: string;
  readonly filter: RecordFilter | undefined;
  readonly destination: OnFailureDelivery | undefined;
  readonly stats: EsmStats;
  emit(event: EsmEvent): void;
  isStopped(): boolean;
  /** Sleeps, returning early when the mapping stops. */
  sleep(ms: number): Promise<void>;
}
