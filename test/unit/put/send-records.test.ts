import type { PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { OutgoingRecord } from '../../../cli/put/record-source';
import { type Clock, sendRecords } from '../../../cli/put/send-records';

/** A clock that moves only when the sender sleeps: pacing is read off it, never waited for. */
function fakeClock(): Clock & { readonly t: () => number } {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    t: () => now,
  };
}

async function* records(count: number): AsyncGenerator<OutgoingRecord> {
  for (let i = 0; i < count; i++)
    yield { data: Buffer.from(`{"n":${i}}`), partitionKey: String(i), where: `record ${i}` };
}

/** A PutRecords that accepts everything and notes when each record left, by the fake clock. */
function acceptingPut(clock: { t: () => number }, sentAt: number[]) {
  let sequence = 0;
  return async (entries: PutRecordsRequestEntry[]) => {
    return {
      Records: entries.map(() => {
        sentAt.push(clock.t());
        sequence += 1;
        return { ShardId: 'shardId-000000000000', SequenceNumber: String(sequence) };
      }),
    };
  };
}

describe('sendRecords', () => {
  it('sends no more than floor(t × rate) + 1 records by time t', async () => {
    // Given
    const clock = fakeClock();
    const sentAt: number[] = [];

    // When
    await sendRecords(records(50), { rate: 20, clock, put: acceptingPut(clock, sentAt) });

    // Then every record left no earlier than its due time i / rate
    const early = sentAt.filter((at, i) => at < (i * 1000) / 20);
    expect({ sent: sentAt.length, early }).toStrictEqual({ sent: 50, early: [] });
  });

  it('paces below one record per second', async () => {
    // Given a rate of one record every 4 s
    const clock = fakeClock();
    const sentAt: number[] = [];

    // When
    await sendRecords(records(3), { rate: 0.25, clock, put: acceptingPut(clock, sentAt) });

    // Then
    expect(sentAt).toStrictEqual([0, 4000, 8000]);
  });

  it('sends everything in requests of at most 500 records without a rate', async () => {
    // Given
    const clock = fakeClock();
    const sizes: number[] = [];
    const put = acceptingPut(clock, []);

    // When
    const report = await sendRecords(records(1200), {
      clock,
      put: (entries) => {
        sizes.push(entries.length);
        return put(entries);
      },
    });

    // Then
    expect({ sizes, sent: report.sent, slept: clock.t() }).toStrictEqual({
      sizes: [500, 500, 200],
      sent: 1200,
      slept: 0,
    });
  });

  it('puts a refused record again, and counts it failed after the last attempt', async () => {
    // Given a stream that always refuses the record keyed "1"
    const clock = fakeClock();

    // When
    const report = await sendRecords(records(3), {
      clock,
      put: async (entries) => ({
        Records: entries.map((entry) =>
          entry.PartitionKey === '1'
            ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' }
            : { ShardId: 'shardId-000000000000', SequenceNumber: entry.PartitionKey },
        ),
      }),
    });

    // Then
    expect({
      sent: report.sent,
      failed: report.failed,
      failures: Object.fromEntries(report.failures),
      requests: report.requests,
    }).toStrictEqual({
      sent: 2,
      failed: 1,
      failures: { ProvisionedThroughputExceededException: 1 },
      requests: 5,
    });
  });
});
