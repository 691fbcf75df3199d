import type { EsmEvent } from '../../emulator/esm/EsmEvent';
import { defaultEsmTuning } from '../../emulator/esm/EsmTuning';
import { type StreamRecord, toStreamRecord } from '../../emulator/esm/kinesisEvent';
import { emptyStats, type MappingContext } from '../../emulator/esm/MappingContext';
import type { OnFailureDelivery } from '../../emulator/esm/onFailureDestination';
import { processBatch } from '../../emulator/esm/processBatch';
import type { EventSourceMappingConfig, InvokeResult } from '../../emulator/model';
import { type OnFailureRecord, openWindow } from '../../functions/kinesis/index';
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
  /** What each delivery attempt wrote: the on-failure record and the S3 payload event. */
  written: { record: OnFailureRecord; payload: unknown }[];
  /** The events the function was invoked with, in order. */
  sent: unknown[];
  /** Every wait the mapping asked for, in milliseconds. */
  sleeps: number[];
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
  const written: Harness['written'] = [];
  const sent: unknown[] = [];
  const sleeps: number[] = [];
  let failuresLeft = destination?.failures ?? 0;
  const delivery = {
    kind: 'sqs' as const,
    async deliver(record: OnFailureRecord, payload: unknown) {
      written.push({ record, payload });
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
      sent.push(event);
      const result = reply(sequenceNumbers, invocations.length);
      if (result instanceof Error) throw result;
      return result;
    },
    tuning: {
      ...defaultEsmTuning,
      retryBackoff: { initialMs: 100, multiplier: 2, maxMs: 1000 },
      now: () => NOW,
    },
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
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  return { ctx, invocations, events, deliveries, written, sent, sleeps };
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

/** The Records' sequence numbers of an event the mapping built. */
const eventSeqs = (event: unknown) =>
  (event as { Records: { kinesis: { sequenceNumber: string } }[] }).Records.map(
    (r) => r.kinesis.sequenceNumber,
  );

describe('processBatch record age', () => {
  it('discards a batch whose records all expired without invoking the function', async () => {
    // given: both records are 2 minutes old, the limit is 60 s
    const batch = records(2, [120_000, 120_000]);
    const { ctx, invocations, events } = harness({ maximumRecordAgeSeconds: 60 }, () => OK);

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect([invocations, discarded(events).map((d) => d.sequenceNumbers)]).toStrictEqual([
      [],
      [seqs(batch)],
    ]);
  });

  it('invokes a record exactly MaximumRecordAge old: only older records expire', async () => {
    // given
    const batch = records(1, [60_000]);
    const { ctx, invocations, events } = harness({ maximumRecordAgeSeconds: 60 }, () => OK);

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect([invocations, discarded(events)]).toStrictEqual([[seqs(batch)], []]);
  });

  it('writes expired records with the event they would have been sent in and no responseContext', async () => {
    // given
    const batch = records(3, [120_000, 120_000]);
    const { ctx, written } = harness({ maximumRecordAgeSeconds: 60 }, () => OK);

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(
      written.map(({ record, payload }) => [record.responseContext, eventSeqs(payload)]),
    ).toStrictEqual([[undefined, seqs(batch).slice(0, 2)]]);
  });
});

describe('processBatch on-failure records', () => {
  it('writes records that exhausted retries on function errors with the last event and an Unhandled response', async () => {
    // given
    const batch = records(2);
    const { ctx, written } = harness(
      { maximumRetryAttempts: 0, bisectBatchOnFunctionError: false },
      () => FAILED,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(
      written.map(({ record, payload }) => [record.responseContext, eventSeqs(payload)]),
    ).toStrictEqual([
      [{ statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' }, seqs(batch)],
    ]);
  });

  it('writes records that exhausted retries on partial responses with functionError null', async () => {
    // given
    const batch = records(2);
    const [, s1] = seqs(batch) as [string, string];
    const { ctx, written } = harness(
      { reportBatchItemFailures: true, maximumRetryAttempts: 0 },
      () => partial(s1),
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(written.map(({ record }) => record.responseContext)).toStrictEqual([
      { statusCode: 200, executedVersion: '$LATEST', functionError: null },
    ]);
  });

  it('names the destination kind when it discards records', async () => {
    // given
    const batch = records(1);
    const { ctx, events } = harness({ maximumRetryAttempts: 0 }, () => FAILED);

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(
      events.flatMap((e) => (e.type === 'recordsDiscarded' ? [e.destination] : [])),
    ).toStrictEqual(['sqs']);
  });

  it('reports no destination error when the mapping has no destination', async () => {
    // given
    const batch = records(1);
    const { ctx, events } = harness({ maximumRetryAttempts: 0 }, () => FAILED, null);

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(events.filter((e) => e.type === 'error')).toStrictEqual([]);
  });

  it('reports each failed destination write as an error of the destination stage', async () => {
    // given
    const batch = records(1);
    const { ctx, events } = harness({ maximumRetryAttempts: 0 }, () => FAILED, { failures: 1 });

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(events.filter((e) => e.type === 'error')).toStrictEqual([
      {
        type: 'error',
        stage: 'destination',
        shardId: SHARD,
        message: 'Error: destination unavailable',
      },
    ]);
  });
});

describe('processBatch waits', () => {
  it('backs off exponentially between retries of a failed batch', async () => {
    // given: backoff 100 ms doubling (the harness's tuning)
    const batch = records(1);
    const { ctx, sleeps } = harness({ maximumRetryAttempts: 3 }, () => FAILED, null);

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(sleeps).toStrictEqual([100, 200, 400]);
  });

  it('waits between destination attempts, not after the last one', async () => {
    // given
    const batch = records(1);
    const { ctx, sleeps } = harness({ maximumRetryAttempts: 0 }, () => FAILED, { failures: 3 });

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(sleeps).toStrictEqual([100, 200]);
  });
});

describe('processBatch when the mapping stops', () => {
  it('stops retrying a failed batch, settling none of its records', async () => {
    // given: the mapping stops during the first invocation
    const batch = records(2);
    const h = harness({ maximumRetryAttempts: 2, bisectBatchOnFunctionError: false }, () => FAILED);
    const ctx = { ...h.ctx, isStopped: () => h.invocations.length > 0 };

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect([h.invocations.length, checkpointed(h.events), discarded(h.events)]).toStrictEqual([
      1,
      [],
      [],
    ]);
  });
});

describe('processBatch in a tumbling window', () => {
  const windowOf = () => openWindow(NOW, 60_000);
  const withState = (state: Record<string, unknown>, failed?: string): InvokeResult => ({
    ...OK,
    payload: { state, ...(failed && { batchItemFailures: [{ itemIdentifier: failed }] }) },
  });

  it('sends a record batch as neither the final invocation nor terminated early', async () => {
    // given
    const batch = records(1);
    const { ctx, sent } = harness({ tumblingWindowSeconds: 60 }, () => withState({}));

    // when
    await processBatch(ctx, SHARD, batch, windowOf());

    // then
    expect(
      sent.map((e) => {
        const { isFinalInvokeForWindow, isWindowTerminatedEarly } = e as Record<string, unknown>;
        return { isFinalInvokeForWindow, isWindowTerminatedEarly };
      }),
    ).toStrictEqual([{ isFinalInvokeForWindow: false, isWindowTerminatedEarly: false }]);
  });

  it('keeps the state a successful invocation returns', async () => {
    // given
    const window = windowOf();
    const { ctx } = harness({ tumblingWindowSeconds: 60 }, () => withState({ n: 3 }));

    // when
    await processBatch(ctx, SHARD, records(1), window);

    // then
    expect(window.state).toStrictEqual({ n: 3 });
  });

  it('sends the state a partial response returned with the retry of its tail', async () => {
    // given
    const batch = records(2);
    const [, s1] = seqs(batch) as [string, string];
    const { ctx, sent } = harness(
      { tumblingWindowSeconds: 60, reportBatchItemFailures: true },
      (_s, call) => (call === 1 ? withState({ n: 1 }, s1) : withState({ n: 2 })),
    );

    // when
    await processBatch(ctx, SHARD, batch, windowOf());

    // then
    expect(sent.map((e) => (e as { state: unknown }).state)).toStrictEqual([{}, { n: 1 }]);
  });

  it('fails an invocation that returns no state, checkpointing nothing', async () => {
    // given
    const batch = records(1);
    const { ctx, events } = harness(
      { tumblingWindowSeconds: 60, maximumRetryAttempts: 0 },
      () => OK,
    );

    // when
    await processBatch(ctx, SHARD, batch, windowOf());

    // then
    expect([checkpointed(events), discarded(events).map((d) => d.sequenceNumbers)]).toStrictEqual([
      [],
      [seqs(batch)],
    ]);
  });
});

describe('processBatch reports', () => {
  it('reports each invocation outcome with what failed it', async () => {
    // given: a partial response, then a function error, then success
    const batch = records(2);
    const [, s1] = seqs(batch) as [string, string];
    const replies = [partial(s1), FAILED, OK];
    const { ctx, events } = harness(
      { reportBatchItemFailures: true, maximumRetryAttempts: 2 },
      (_s, call) => replies[call - 1] as InvokeResult,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(
      events.flatMap((e) => {
        if (e.type !== 'batchResult') return [];
        const { durationMs: _durationMs, ...rest } = e;
        return [rest];
      }),
    ).toStrictEqual([
      {
        type: 'batchResult',
        shardId: SHARD,
        outcome: 'partial',
        records: 2,
        executedVersion: '$LATEST',
      },
      {
        type: 'batchResult',
        shardId: SHARD,
        outcome: 'error',
        records: 1,
        executedVersion: '$LATEST',
        functionError: 'Unhandled',
        reason: 'function error',
      },
      {
        type: 'batchResult',
        shardId: SHARD,
        outcome: 'ok',
        records: 1,
        executedVersion: '$LATEST',
      },
    ]);
  });

  it('reports each invocation with its invoke count and the iterator age of its last record', async () => {
    // given: the last record arrived 3 s ago; the first invocation fails
    const batch = records(2, [5_000, 3_000]);
    const { ctx, events } = harness({ maximumRetryAttempts: 1 }, (_s, call) =>
      call === 1 ? FAILED : OK,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(
      events.flatMap((e) => (e.type === 'batchInvoked' ? [[e.invokeCount, e.iteratorAgeMs]] : [])),
    ).toStrictEqual([
      [1, 3_000],
      [2, 3_000],
    ]);
  });

  it('reports an invoke that never reached the function as an error of the invoke stage', async () => {
    // given
    const batch = records(1);
    const { ctx, events } = harness({}, (_s, call) =>
      call === 1 ? new Error('host unreachable') : OK,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(events.filter((e) => e.type === 'error')).toStrictEqual([
      { type: 'error', stage: 'invoke', shardId: SHARD, message: 'Error: host unreachable' },
    ]);
  });

  it('checkpoints records with their arrival times', async () => {
    // given
    const batch = records(2, [2_000, 1_000]);
    const { ctx, events } = harness({}, () => OK);

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(
      events.flatMap((e) => (e.type === 'recordsCheckpointed' ? [e.arrivalTimestampsMs] : [])),
    ).toStrictEqual([[NOW - 2_000, NOW - 1_000]]);
  });

  it('counts invoked, failed, checkpointed, discarded and delivered records', async () => {
    // given: a partial response (one record checkpointed), then the tail fails for good
    const batch = records(3);
    const [, s1] = seqs(batch) as [string, string];
    const replies = [partial(s1), FAILED];
    const { ctx } = harness(
      { reportBatchItemFailures: true, maximumRetryAttempts: 1 },
      (_s, call) => replies[call - 1] as InvokeResult,
    );

    // when
    await processBatch(ctx, SHARD, batch);

    // then
    expect(ctx.stats).toStrictEqual({
      ...emptyStats(),
      invocations: 2,
      invokedRecords: 5,
      failedInvokeRecords: 5,
      checkpointedRecords: 1,
      discardedRecords: 2,
      destinationDeliveredRecords: 2,
      peakInFlightInvocations: 1,
    });
  });
});
