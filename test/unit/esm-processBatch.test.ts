import type { EsmEvent } from '../../emulator/esm/EsmEvent';
import { defaultEsmTuning } from '../../emulator/esm/EsmTuning';
import { type StreamRecord, toStreamRecord } from '../../emulator/esm/kinesisEvent';
import { emptyStats, type MappingContext } from '../../emulator/esm/MappingContext';
import type { OnFailureDelivery } from '../../emulator/esm/onFailureDestination';
import { processBatch } from '../../emulator/esm/processBatch';
import type { EventSourceMappingConfig, InvokeResult } from '../../emulator/model';
import { mappingConfig, roleArn } from '../fixtures/esm/mappingConfig';

// The mapping's decisions (retry, bisect, discard, record age, on-failure) driven by a scripted
// function and a fixed clock: no servers, no timers, every step observable.

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/orders';
const SHARD = 'shardId-000000000000';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const BASE = 49590338271490256608559692538361571095921575989136588800n;

const OK: InvokeResult = { payload: null, executedVersion: '$LATEST', durationMs: 1 };
const FAILED: InvokeResult = {
  payload: { errorType: 'Error', errorMessage: 'boom' },
  functionError: 'Unhandled',
  executedVersion: '$LATEST',
  durationMs: 1,
};
const partial = (sequenceNumber: string): InvokeResult => ({
  ...OK,
  payload: { batchItemFailures: [{ itemIdentifier: sequenceNumber }] },
});

/** `count` records on one shard, the n-th `ageMs[n]` old (default: just arrived). */
function records(count: number, ageMs: readonly number[] = []): StreamRecord[] {
  return Array.from({ length: count }, (_, n) =>
    toStreamRecord(
      { invokeIdentityArn: roleArn, awsRegion: 'us-east-1', streamArn: STREAM_ARN },
      SHARD,
      {
        SequenceNumber: String(BASE + BigInt(n)),
        PartitionKey: `k${n}`,
        Data: Buffer.from(JSON.stringify({ n })),
        ApproximateArrivalTimestamp: new Date(NOW - (ageMs[n] ?? 0)),
      },
    ),
  );
}

interface Harness {
  ctx: MappingContext;
  /** The sequence numbers of each invocation, in order. */
  invocations: string[][];
  events: EsmEvent[];
  /** On-failure records handed to the destination (one per delivery attempt). */
  deliveries: { condition: string; approximateInvokeCount: number }[];
}

function harness(
  overrides: Partial<EventSourceMappingConfig>,
  reply: (sequenceNumbers: string[], call: number) => InvokeResult | Error,
  /** `null`: the mapping has no on-failure destination. */
  destination: { failures?: number } | null = {},
): Harness {
  const invocations: string[][] = [];
  const events: EsmEvent[] = [];
  const deliveries: Harness['deliveries'] = [];
  let failuresLeft = destination?.failures ?? 0;
  const delivery = {
    kind: 'sqs' as const,
    async deliver(record: {
      requestContext: { condition: string; approximateInvokeCount: number };
    }) {
      deliveries.push({
        condition: record.requestContext.condition,
        approximateInvokeCount: record.requestContext.approximateInvokeCount,
      });
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('destination unavailable');
      }
    },
  };
  const ctx: MappingContext = {
    config: mappingConfig(STREAM_ARN, overrides),
    kinesis: {} as MappingContext['kinesis'],
    async invoke(_name, _qualifier, event) {
      const sequenceNumbers = (
        event as { Records: { kinesis: { sequenceNumber: string } }[] }
      ).Records.map((r) => r.kinesis.sequenceNumber);
      invocations.push(sequenceNumbers);
      const result = reply(sequenceNumbers, invocations.length);
      if (result instanceof Error) throw result;
      return result;
    },
    tuning: { ...defaultEsmTuning, now: () => NOW },
    source: { invokeIdentityArn: roleArn, awsRegion: 'us-east-1', streamArn: STREAM_ARN },
    streamName: 'orders',
    functionName: 'consumer',
    qualifier: undefined,
    functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:consumer',
    filter: undefined,
    destination: destination === null ? undefined : (delivery as unknown as OnFailureDelivery),
    stats: emptyStats(),
    emit: (event) => events.push(event),
    isStopped: () => false,
    sleep: async () => {},
  };
  return { ctx, invocations, events, deliveries };
}

const seqs = (batch: readonly StreamRecord[]) => batch.map((r) => r.sequenceNumber);

function checkpointed(events: EsmEvent[]): string[][] {
  return events.flatMap((e) => (e.type === 'recordsCheckpointed' ? [e.sequenceNumbers] : []));
}

function discarded(events: EsmEvent[]) {
  return events.flatMap((e) =>
    e.type === 'recordsDiscarded'
      ? [
          {
            condition: e.condition,
            sequenceNumbers: e.sequenceNumbers,
            approximateInvokeCount: e.approximateInvokeCount,
            delivered: e.delivered,
          },
        ]
      : [],
  );
}

describe('processBatch decisions', () => {
  it('checkpoints a successful batch after one invocation', async () => {
    // given
    const batch = records(3);
    const { ctx, invocations, events } = harness({}, () => OK);

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect([invocations, checkpointed(events), discarded(events)]).toStrictEqual([
      [seqs(batch)],
      [seqs(batch)],
      [],
    ]);
  });

  it('retries a failed batch MaximumRetryAttempts times, then discards it to the destination', async () => {
    // given
    const batch = records(2);
    const { ctx, invocations, events, deliveries } = harness(
      { maximumRetryAttempts: 2, bisectBatchOnFunctionError: false },
      () => FAILED,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(invocations).toStrictEqual([seqs(batch), seqs(batch), seqs(batch)]);
    expect(discarded(events)).toStrictEqual([
      {
        condition: 'RetryAttemptsExhausted',
        sequenceNumbers: seqs(batch),
        approximateInvokeCount: 3,
        delivered: true,
      },
    ]);
    expect(deliveries).toStrictEqual([
      { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 },
    ]);
  });

  it('retries forever with MaximumRetryAttempts -1 until the function succeeds', async () => {
    // given
    const batch = records(1);
    const { ctx, invocations, events } = harness({ maximumRetryAttempts: -1 }, (_s, call) =>
      call <= 5 ? FAILED : OK,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect([invocations.length, checkpointed(events), discarded(events)]).toStrictEqual([
      6,
      [seqs(batch)],
      [],
    ]);
  });

  it('bisects a failing batch down to the poison record, discarding only it', async () => {
    // given: record 2 of 4 always fails its batch
    const batch = records(4);
    const [s0, s1, s2, s3] = seqs(batch) as [string, string, string, string];
    const { ctx, invocations, events } = harness(
      { bisectBatchOnFunctionError: true, maximumRetryAttempts: 0 },
      (sequenceNumbers) => (sequenceNumbers.includes(s2) ? FAILED : OK),
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(invocations).toStrictEqual([[s0, s1, s2, s3], [s0, s1], [s2, s3], [s2], [s3]]);
    expect(checkpointed(events)).toStrictEqual([[s0, s1], [s3]]);
    expect(discarded(events)).toStrictEqual([
      {
        condition: 'RetryAttemptsExhausted',
        sequenceNumbers: [s2],
        approximateInvokeCount: 3,
        delivered: true,
      },
    ]);
  });

  it('checkpoints before the reported failure and retries from it', async () => {
    // given
    const batch = records(4);
    const [s0, s1, s2, s3] = seqs(batch) as [string, string, string, string];
    const { ctx, invocations, events } = harness({ reportBatchItemFailures: true }, (_s, call) =>
      call === 1 ? partial(s2) : OK,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect([invocations, checkpointed(events)]).toStrictEqual([
      [
        [s0, s1, s2, s3],
        [s2, s3],
      ],
      [
        [s0, s1],
        [s2, s3],
      ],
    ]);
  });

  it('counts each partial retry against MaximumRetryAttempts and discards the failed tail', async () => {
    // given
    const batch = records(3);
    const [s0, s1, s2] = seqs(batch) as [string, string, string];
    const { ctx, invocations, events } = harness(
      { reportBatchItemFailures: true, maximumRetryAttempts: 1 },
      () => partial(s1),
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(invocations).toStrictEqual([
      [s0, s1, s2],
      [s1, s2],
    ]);
    expect([checkpointed(events), discarded(events)]).toStrictEqual([
      [[s0]],
      [
        {
          condition: 'RetryAttemptsExhausted',
          sequenceNumbers: [s1, s2],
          approximateInvokeCount: 2,
          delivered: true,
        },
      ],
    ]);
  });

  it('discards records older than MaximumRecordAge without invoking them', async () => {
    // given: the first two records are 2 minutes old, the limit is 60 s
    const batch = records(4, [120_000, 120_000]);
    const [s0, s1, s2, s3] = seqs(batch) as [string, string, string, string];
    const { ctx, invocations, events, deliveries } = harness(
      { maximumRecordAgeSeconds: 60 },
      () => OK,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(invocations).toStrictEqual([[s2, s3]]);
    expect(discarded(events)).toStrictEqual([
      {
        condition: 'RecordAgeExceeded',
        sequenceNumbers: [s0, s1],
        approximateInvokeCount: 1,
        delivered: true,
      },
    ]);
    expect(deliveries).toStrictEqual([
      { condition: 'RecordAgeExceeded', approximateInvokeCount: 1 },
    ]);
  });

  it('does not count an invoke that never reached the function as a retry', async () => {
    // given: the host refuses once, then the function succeeds; no retries allowed
    const batch = records(2);
    const { ctx, invocations, events } = harness({ maximumRetryAttempts: 0 }, (_s, call) =>
      call === 1 ? new Error('host unreachable') : OK,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect([invocations.length, checkpointed(events), discarded(events)]).toStrictEqual([
      2,
      [seqs(batch)],
      [],
    ]);
  });

  it('retries a failing destination three times, then reports the records as not delivered', async () => {
    // given
    const batch = records(1);
    const { ctx, events, deliveries } = harness({ maximumRetryAttempts: 0 }, () => FAILED, {
      failures: 3,
    });

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect([deliveries.length, discarded(events).map((d) => d.delivered)]).toStrictEqual([
      3,
      [false],
    ]);
  });

  it('discards without a destination, reporting nothing delivered', async () => {
    // given
    const batch = records(1);
    const { ctx, events } = harness({ maximumRetryAttempts: 0 }, () => FAILED, null);

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(discarded(events)).toStrictEqual([
      {
        condition: 'RetryAttemptsExhausted',
        sequenceNumbers: seqs(batch),
        approximateInvokeCount: 1,
        delivered: false,
      },
    ]);
  });
});
