import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import {
  type BackfillEvent,
  json,
  memoryCursors,
  memoryDeadLetters,
  microBatch,
} from 'driverless/runtime';
import { lambdaContext } from '../../fixtures/kinesis-events';

type View = { n: number };

/** Archive objects served by a stubbed S3 `send`, by key. */
function serveObjects(objects: Record<string, Buffer>): jest.SpyInstance {
  return jest.spyOn(S3Client.prototype, 'send').mockImplementation(async (command: unknown) => {
    if (!(command instanceof GetObjectCommand)) throw new Error('unexpected S3 call');
    const body = objects[command.input.Key ?? ''];
    if (!body) throw Object.assign(new Error('no such key'), { name: 'NoSuchKey' });
    return { Body: Readable.from([body]), LastModified: new Date('2026-01-15T10:00:00Z') };
  });
}

const ndjson = (from: number, to: number) =>
  Buffer.from(
    Array.from({ length: to - from + 1 }, (_, i) => `${JSON.stringify({ n: from + i })}\n`).join(
      '',
    ),
  );

function archiveEvent(keys: string[], extra: Partial<BackfillEvent> = {}): BackfillEvent {
  return {
    driverless: 'backfill',
    backfillId: 'b1',
    slice: { kind: 'archive', id: 'archive-00001', bucket: 'archive', keys },
    batchSize: 2,
    ...extra,
  };
}

/** A context whose remaining time the test sets. */
function clock(): { context: Context; remainingMs: number } {
  const state = { remainingMs: 60_000, context: lambdaContext() };
  state.context = { ...lambdaContext(), getRemainingTimeInMillis: () => state.remainingMs };
  return state;
}

afterEach(() => jest.restoreAllMocks());

describe('backfill invocation', () => {
  it('runs every line of gzipped and plain archive objects through the jobs, in batches', async () => {
    // given
    serveObjects({ 'a.gz': gzipSync(ndjson(1, 3)), b: ndjson(4, 5) });
    const seen: number[][] = [];
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      jobs: { collect: async ({ records }) => void seen.push(records.map((r) => r.data.n)) },
    });
    // when
    const result = await handler(archiveEvent(['a.gz', 'b']), lambdaContext());
    // then
    expect(seen).toStrictEqual([[1, 2], [3], [4, 5]]);
    expect(result).toStrictEqual({
      driverless: 'backfill',
      sliceId: 'archive-00001',
      done: true,
      continuation: { keyIndex: 1, line: 2 },
      counts: {
        batches: 3,
        invocations: 3,
        records: 5,
        deadLettered: 0,
        failed: 0,
        jobs: {
          collect: {
            batches: 3,
            succeeded: 3,
            partial: 0,
            failed: 0,
            timedOut: 0,
            skipped: 0,
            records: 5,
            failedRecords: 0,
          },
        },
      },
    });
  });

  it('reads raw-format objects (records with no delimiter) and dead-letters a corrupt tail', async () => {
    // given: Firehose's raw format, gzipped, its last record cut off
    const raw = `${[1, 2, 3].map((n) => JSON.stringify({ n, note: '}{"' })).join('')}{"n":4,"no`;
    serveObjects({ 'raw.gz': gzipSync(Buffer.from(raw)) });
    const seen: number[][] = [];
    const deadLetters = memoryDeadLetters();
    const handler = microBatch({
      decode: json<View>(),
      deadLetters,
      jobs: { collect: async ({ records }) => void seen.push(records.map((r) => r.data.n)) },
    });
    // when
    const result = await handler(archiveEvent(['raw.gz']), lambdaContext());
    // then
    expect(seen).toStrictEqual([[1, 2], [3]]);
    expect(
      deadLetters.letters.map((letter) => [
        letter.sequenceNumber,
        Buffer.from(letter.data, 'base64').toString(),
      ]),
    ).toStrictEqual([['4', '{"n":4,"no']]);
    expect(result.continuation).toStrictEqual({ keyIndex: 0, line: 4 });
  });

  it('stops before its deadline and hands back where to go on', async () => {
    // given: time runs out once the first batch is done
    serveObjects({ a: ndjson(1, 6) });
    const time = clock();
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      jobs: {
        collect: async () => {
          time.remainingMs = 1500;
        },
      },
    });
    // when
    const result = await handler(archiveEvent(['a']), time.context);
    // then
    expect({
      done: result.done,
      continuation: result.continuation,
      records: result.counts.records,
    }).toStrictEqual({
      done: false,
      continuation: { keyIndex: 0, line: 2 },
      records: 2,
    });
  });

  it('continues after the continuation it is given', async () => {
    // given
    serveObjects({ a: ndjson(1, 6) });
    const seen: number[] = [];
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      jobs: { collect: async ({ records }) => void seen.push(...records.map((r) => r.data.n)) },
    });
    // when
    await handler(archiveEvent(['a'], { continuation: { keyIndex: 0, line: 4 } }), lambdaContext());
    // then
    expect(seen).toStrictEqual([5, 6]);
  });

  it('never hands a job a batch it committed, when a slice is invoked again from an older continuation', async () => {
    // given: a first invocation committed lines 1-4, then its continuation was lost (the
    // orchestrator crashed), so the slice is invoked again from its start
    serveObjects({ a: ndjson(1, 6) });
    const time = clock();
    const seen: number[] = [];
    let calls = 0;
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      cursors: memoryCursors(),
      jobs: {
        collect: async ({ records }) => {
          seen.push(...records.map((r) => r.data.n));
          calls += 1;
          if (calls === 2) time.remainingMs = 1500;
        },
      },
    });
    const first = await handler(archiveEvent(['a']), time.context);
    time.remainingMs = 60_000;
    // when
    const again = await handler(archiveEvent(['a']), time.context);
    // then: every line reached the job exactly once
    expect(first.done).toBe(false);
    expect(seen).toStrictEqual([1, 2, 3, 4, 5, 6]);
    expect(again.counts.jobs.collect?.skipped).toBe(2);
  });

  it('hands a job every batch again when the slice ignores cursors, even batches it committed', async () => {
    // given: a function with cursors, and a slice run twice, both times ignoring them
    serveObjects({ a: ndjson(1, 4) });
    const seen: number[] = [];
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      cursors: memoryCursors(),
      jobs: { collect: async ({ records }) => void seen.push(...records.map((r) => r.data.n)) },
    });
    await handler(archiveEvent(['a'], { ignoreCursors: true }), lambdaContext());
    // when
    const again = await handler(archiveEvent(['a'], { ignoreCursors: true }), lambdaContext());
    // then
    expect(seen).toStrictEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(again.counts.jobs.collect?.skipped ?? 0).toBe(0);
  });

  it('retries a batch from the record its jobs failed, then counts what still fails', async () => {
    // given: a job that always fails record 2
    serveObjects({ a: ndjson(1, 3) });
    const attempts: number[][] = [];
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      jobs: {
        picky: async ({ records }) => {
          attempts.push(records.map((r) => r.data.n));
          return { failed: records.filter((r) => r.data.n === 2) };
        },
      },
    });
    // when
    const result = await handler(archiveEvent(['a'], { batchSize: 3 }), lambdaContext());
    // then
    expect({ failed: result.counts.failed, invocations: result.counts.invocations }).toStrictEqual({
      failed: 2,
      invocations: 3,
    });
  });

  it('fails if the backfill event is malformed, naming what is wrong', async () => {
    // given
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      jobs: { none: async () => {} },
    });
    // when
    const call = handler(archiveEvent(['a'], { batchSize: 0 }), lambdaContext());
    // then
    await expect(call).rejects.toThrow(
      'not a backfill event: batchSize must be an integer between 1 and 10000 (given 0)',
    );
  });

  it('reads a shard from its AT_TIMESTAMP start and ends at the first record at or after its end', async () => {
    // given: two pages; the second holds a record past the slice's end
    const at = (iso: string) => new Date(iso);
    const record = (n: number, iso: string) => ({
      SequenceNumber: String(49_000 + n),
      PartitionKey: `k${n}`,
      Data: Buffer.from(JSON.stringify({ n })),
      ApproximateArrivalTimestamp: at(iso),
    });
    const calls: unknown[] = [];
    jest.spyOn(KinesisClient.prototype, 'send').mockImplementation(async (command: unknown) => {
      if (command instanceof GetShardIteratorCommand) {
        calls.push(command.input);
        return { ShardIterator: 'it-1' };
      }
      if (command instanceof GetRecordsCommand && command.input.ShardIterator === 'it-1') {
        return {
          Records: [record(1, '2026-01-15T10:00:00Z'), record(2, '2026-01-15T10:30:00Z')],
          NextShardIterator: 'it-2',
          MillisBehindLatest: 1000,
        };
      }
      return {
        Records: [record(3, '2026-01-15T10:59:59.999Z'), record(4, '2026-01-15T11:00:00Z')],
        NextShardIterator: 'it-3',
        MillisBehindLatest: 0,
      };
    });
    const seen: { n: number; shardId: string }[] = [];
    const handler = microBatch({
      decode: json<View>(),
      deadLetters: memoryDeadLetters(),
      jobs: {
        collect: async ({ records }, { shardId }) =>
          void seen.push(...records.map((r) => ({ n: r.data.n, shardId }))),
      },
    });
    const fromMs = Date.parse('2026-01-15T10:00:00Z');
    // when
    const result = await handler(
      {
        driverless: 'backfill',
        backfillId: 'b1',
        slice: {
          kind: 'shard',
          id: 'shardId-000000000001#1of2',
          streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/views',
          shardId: 'shardId-000000000001',
          fromMs,
          toMs: Date.parse('2026-01-15T11:00:00Z'),
        },
      },
      lambdaContext(),
    );
    // then
    expect(calls).toStrictEqual([
      {
        StreamName: 'views',
        ShardId: 'shardId-000000000001',
        ShardIteratorType: 'AT_TIMESTAMP',
        Timestamp: new Date(fromMs),
      },
    ]);
    expect(seen.map((s) => s.n)).toStrictEqual([1, 2, 3]);
    expect(seen[0]?.shardId).toBe('shardId-000000000001#1of2');
    expect({ done: result.done, continuation: result.continuation }).toStrictEqual({
      done: true,
      continuation: { afterSequenceNumber: '49003' },
    });
  });
});
