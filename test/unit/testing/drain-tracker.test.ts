import type { EventSourceMappingConfig } from '../../../emulator/index';
import { DrainTimeoutError } from '../../../testing/drain-timeout-error';
import { DrainTracker } from '../../../testing/drain-tracker';

const STREAM = 'arn:aws:kinesis:us-east-1:000000000000:stream/orders';
const SHARD = 'shardId-000000000000';

function mapping(overrides: Partial<EventSourceMappingConfig> = {}): EventSourceMappingConfig {
  return {
    logicalId: 'OrdersMapping',
    uuid: 'uuid-orders',
    functionName: 'orders-fn',
    functionQualifier: 'live',
    eventSourceArn: STREAM,
    streamArn: STREAM,
    batchSize: 100,
    maximumBatchingWindowSeconds: 0,
    parallelizationFactor: 1,
    startingPosition: 'TRIM_HORIZON',
    maximumRetryAttempts: -1,
    maximumRecordAgeSeconds: -1,
    bisectBatchOnFunctionError: false,
    reportBatchItemFailures: true,
    tumblingWindowSeconds: 0,
    filters: [],
    enabled: true,
    metricsEventCount: false,
    ...overrides,
  };
}

const records = (...numbers: string[]) =>
  numbers.map((sequenceNumber) => ({ shardId: SHARD, sequenceNumber }));

describe('DrainTracker', () => {
  it('resolves once every record put is processed, filtered out or discarded, with the counts', async () => {
    // Given
    const orders = mapping();
    const tracker = new DrainTracker([orders]);
    tracker.put(STREAM, records('1', '2', '3'));

    // When
    const drained = tracker.drained(5_000);
    tracker.listener(orders, {
      type: 'recordsCheckpointed',
      shardId: SHARD,
      count: 1,
      firstSequenceNumber: '1',
      lastSequenceNumber: '1',
      sequenceNumbers: ['1'],
      arrivalTimestampsMs: [0],
    });
    tracker.listener(orders, {
      type: 'recordsFilteredOut',
      shardId: SHARD,
      count: 1,
      sequenceNumbers: ['2'],
    });
    tracker.listener(orders, {
      type: 'recordsDiscarded',
      shardId: SHARD,
      condition: 'RetryAttemptsExhausted',
      count: 1,
      firstSequenceNumber: '3',
      lastSequenceNumber: '3',
      sequenceNumbers: ['3'],
      approximateInvokeCount: 3,
      delivered: true,
    });

    // Then
    await expect(drained).resolves.toStrictEqual([
      {
        mapping: 'OrdersMapping',
        stream: 'orders',
        function: 'orders-fn:live',
        processed: 1,
        filteredOut: 1,
        discarded: 1,
      },
    ]);
  });

  it('counts a record the mapping finished before its put was registered', async () => {
    // Given: the mapping answers before PutRecords' response reaches the test
    const orders = mapping();
    const tracker = new DrainTracker([orders]);
    tracker.listener(orders, {
      type: 'recordsCheckpointed',
      shardId: SHARD,
      count: 1,
      firstSequenceNumber: '1',
      lastSequenceNumber: '1',
      sequenceNumbers: ['1'],
      arrivalTimestampsMs: [0],
    });

    // When
    tracker.put(STREAM, records('1'));

    // Then
    await expect(tracker.drained(100)).resolves.toHaveLength(1);
  });

  it('waits only for mappings of the stream the records went to, and never for a disabled one', async () => {
    // Given
    const other = mapping({ uuid: 'uuid-other', logicalId: 'Other', streamArn: `${STREAM}-other` });
    const disabled = mapping({ uuid: 'uuid-off', logicalId: 'Off', enabled: false });
    const tracker = new DrainTracker([other, disabled]);

    // When
    tracker.put(STREAM, records('1'));

    // Then
    await expect(tracker.drained(100)).resolves.toHaveLength(1);
  });

  it('fails after the timeout naming the mapping behind, by how many records per shard, and its last problem', async () => {
    // Given
    const orders = mapping();
    const tracker = new DrainTracker([orders]);
    tracker.put(STREAM, [
      ...records('1', '2'),
      { shardId: 'shardId-000000000001', sequenceNumber: '9' },
    ]);
    tracker.listener(orders, {
      type: 'batchResult',
      shardId: SHARD,
      outcome: 'error',
      durationMs: 5,
      records: 2,
      executedVersion: '1',
      functionError: 'Unhandled',
    });

    // When
    const drained = tracker.drained(50);

    // Then
    await expect(drained).rejects.toThrow(DrainTimeoutError);
    await expect(drained).rejects.toThrow(
      /^not drained after \d+ ms:\n {2}mapping OrdersMapping \(orders → orders-fn:live\) is 3 records behind \(shardId-000000000000: 2, shardId-000000000001: 1\); last problem: batch on shardId-000000000000 failed: Unhandled$/,
    );
    await expect(drained).rejects.toMatchObject({
      behind: [{ mapping: 'OrdersMapping', pending: 3 }],
    });
  });

  it('fails if the timeout is not positive', async () => {
    // When / Then
    await expect(new DrainTracker([]).drained(0)).rejects.toThrow(
      'timeoutMs must be more than 0 (given 0)',
    );
  });
});
