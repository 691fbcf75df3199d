import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { EsmEvent } from '../../emulator/esm/EsmEvent';
import { startEventSourceMapping } from '../../emulator/esm/startEventSourceMapping';
import { fakeFunction, waitFor } from '../fixtures/esm/fakeInvoke';
import { mappingConfig, roleArn } from '../fixtures/esm/mappingConfig';

// When a tumbling window closes, driven by a scripted Kinesis client and a scripted clock: each
// GetRecords answers the next step of the script, so what was readable when is exact.

const STREAM_ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/orders';
const SHARD = 'shardId-000000000000';
const W = Date.UTC(2026, 0, 1, 12, 0, 0); // start of window W (windows of 60 s)
const W_END = W + 60_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * One GetRecords: the clock when it is sent, the clock when it answers (default: when the next
 * read is sent; the clock then stays there until that read), what it returns.
 */
interface Read {
  sentAt: number;
  answeredAt?: number;
  records?: { sequenceNumber: string; arrivalMs: number }[];
}

/**
 * Runs a windowed mapping over a shard read as `reads` says (then caught up and empty at the
 * last clock) until every read was served plus `settleReads`, and returns its events and the
 * window of each record batch.
 */
async function run(reads: Read[], graceMs = 200) {
  let now = reads[0]?.sentAt ?? W;
  let served = 0;
  const kinesis = {
    async send(command: unknown) {
      if (command instanceof ListShardsCommand) return { Shards: [{ ShardId: SHARD }] };
      if (command instanceof GetShardIteratorCommand) return { ShardIterator: 'it' };
      if (command instanceof GetRecordsCommand) {
        const read = reads[served];
        served += 1;
        if (!read) return { Records: [], NextShardIterator: 'it', MillisBehindLatest: 0 };
        // The mapping reads the clock before sending, so the clock moves when a read answers.
        now = read.answeredAt ?? reads[served]?.sentAt ?? read.sentAt;
        const records: _Record[] = (read.records ?? []).map((r) => ({
          SequenceNumber: r.sequenceNumber,
          PartitionKey: 'k',
          Data: Buffer.from('{}'),
          ApproximateArrivalTimestamp: new Date(r.arrivalMs),
        }));
        return { Records: records, NextShardIterator: 'it', MillisBehindLatest: 0 };
      }
      throw new Error(`unexpected command ${String(command)}`);
    },
  } as unknown as KinesisClient;
  const fn = fakeFunction((event) => ({ payload: { state: event.state } }));
  const events: EsmEvent[] = [];
  const mapping = startEventSourceMapping(
    mappingConfig(STREAM_ARN, { tumblingWindowSeconds: 60 }),
    {
      kinesis,
      invoke: fn.invoke,
      region: 'us-east-1',
      accountId: '000000000000',
      roleArn,
      tuning: {
        idlePollIntervalMs: 2,
        shardDiscoveryIntervalMs: 60_000,
        windowCloseGraceMs: graceMs,
        now: () => now,
      },
      onEvent: (event) => events.push(event),
    },
  );
  try {
    // A few empty reads past the script let the mapping act on the last step.
    await waitFor(() => served >= reads.length + 5, 5_000, 'the scripted reads');
  } finally {
    await mapping.stop();
  }
  const closes = events.flatMap((e) =>
    e.type === 'windowFinalInvoked' && e.ok ? [e.window.start] : [],
  );
  const batches = fn.calls
    .filter((c) => c.event.Records.length > 0)
    .map((c) => ({
      window: c.event.window.start,
      records: c.event.Records.map((r) => r.kinesis.sequenceNumber),
    }));
  return { closes, batches };
}

describe('tumbling window closing', () => {
  it('closes a window once when a record stamped in it is readable only after a caught-up read past its end', async () => {
    // given: record 1 in W, an empty caught-up read just past W's end, then record 2, stamped in
    // W before that read, becomes readable
    const reads: Read[] = [
      { sentAt: W + 10_000, records: [{ sequenceNumber: '1', arrivalMs: W + 5_000 }] },
      { sentAt: W_END + 50 },
      { sentAt: W_END + 100, records: [{ sequenceNumber: '2', arrivalMs: W_END - 10 }] },
      { sentAt: W_END + 1_000 },
    ];

    // when
    const { closes, batches } = await run(reads);

    // then
    expect({ closes, batches }).toStrictEqual({
      closes: [iso(W)],
      batches: [
        { window: iso(W), records: ['1'] },
        { window: iso(W), records: ['2'] },
      ],
    });
  });

  it('counts a caught-up read from when it was sent, not when it answered', async () => {
    // given: an empty read sent inside W's grace that answers long after it
    const reads: Read[] = [
      { sentAt: W + 10_000, records: [{ sequenceNumber: '1', arrivalMs: W + 5_000 }] },
      { sentAt: W_END + 50, answeredAt: W_END + 5_000 },
      { sentAt: W_END + 5_000, records: [{ sequenceNumber: '2', arrivalMs: W_END - 10 }] },
    ];

    // when
    const { closes, batches } = await run(reads);

    // then: the slow read did not close W, so record 2 still joins it
    expect({ closes, batches }).toStrictEqual({
      closes: [iso(W)],
      batches: [
        { window: iso(W), records: ['1'] },
        { window: iso(W), records: ['2'] },
      ],
    });
  });

  it('never reopens a closed window: a record stamped in it joins the next window', async () => {
    // given: W closed by an empty read past its grace, then a record stamped in W is read
    const reads: Read[] = [
      { sentAt: W + 10_000, records: [{ sequenceNumber: '1', arrivalMs: W + 5_000 }] },
      { sentAt: W_END + 500 },
      { sentAt: W_END + 600, records: [{ sequenceNumber: '2', arrivalMs: W_END - 10 }] },
      { sentAt: W_END + 60_000 + 500 },
    ];

    // when
    const { closes, batches } = await run(reads);

    // then
    expect({ closes, batches }).toStrictEqual({
      closes: [iso(W), iso(W_END)],
      batches: [
        { window: iso(W), records: ['1'] },
        { window: iso(W_END), records: ['2'] },
      ],
    });
  });
});
