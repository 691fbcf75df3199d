import type { PutRecordsCommandOutput, PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { OutgoingRecord } from './record-source';

/**
 * PutRecords takes up to 500 records and 5 MiB per request, keys included
 * (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html); a request is cut
 * below the byte limit so one large record never overflows it.
 */
const MAX_BATCH_RECORDS = 500;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * How long a paced record may wait for the next ones to share its request: at high rates one
 * request per record would cost more than the records; at low rates a record leaves alone.
 */
const MAX_HOLD_MS = 50;

/** Attempts per record: PutRecords fails records one by one (throughput exceeded) and they are put again. */
const MAX_PUT_ATTEMPTS = 5;

/** Time as the sender sees it: injected so pacing is tested by counting, not by waiting. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** A record Kinesis accepted: where it landed. */
export interface PutRecordResult {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** What {@link sendRecords} did. */
export interface SendReport {
  sent: number;
  /** Records Kinesis still refused after every attempt, by error code. */
  failed: number;
  failures: Map<string, number>;
  requests: number;
}

export interface SendOptions {
  /** Records per second (any positive number, below 1 too); `undefined`: as fast as Kinesis takes them. */
  readonly rate?: number;
  /** One PutRecords call. */
  readonly put: (
    entries: PutRecordsRequestEntry[],
  ) => Promise<Pick<PutRecordsCommandOutput, 'Records'>>;
  readonly clock?: Clock;
  /** Called with each record Kinesis accepted. */
  readonly onPut?: (record: PutRecordResult) => void;
  /** Called after each request, for progress. */
  readonly onProgress?: (report: SendReport) => void;
  /** Stops sending at the next record when it returns true (Ctrl-C). */
  readonly stopped?: () => boolean;
}

/**
 * Puts records in PutRecords requests. With a rate, the `i`-th record (from 0) leaves no earlier
 * than `i / rate` seconds after the first, so by time `t` at most `floor(t × rate) + 1` records
 * have left, at any rate (0.2/s sends one every 5 s); records due within {@link MAX_HOLD_MS} of
 * each other travel together. A
 * record Kinesis refuses (throughput exceeded, internal failure) is put again, with backoff, up
 * to {@link MAX_PUT_ATTEMPTS} times, then counted failed with its error code.
 */
export async function sendRecords(
  records: AsyncIterable<OutgoingRecord>,
  options: SendOptions,
): Promise<SendReport> {
  const clock = options.clock ?? systemClock;
  const report: SendReport = { sent: 0, failed: 0, failures: new Map(), requests: 0 };
  const interval = options.rate === undefined ? 0 : 1000 / options.rate;
  let started: number | undefined;
  let index = 0;
  let batch: OutgoingRecord[] = [];
  let bytes = 0;
  let openedAt = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const taken = batch;
    batch = [];
    bytes = 0;
    await putBatch(taken, options, clock, report);
    options.onProgress?.(report);
  };
  for await (const record of records) {
    if (options.stopped?.()) break;
    started ??= clock.now();
    const due = started + index * interval;
    if (due > clock.now()) {
      if (batch.length > 0 && due - openedAt >= MAX_HOLD_MS) await flush();
      const wait = due - clock.now();
      if (wait > 0) await clock.sleep(wait);
      if (options.stopped?.()) break;
    }
    const size = record.data.length + Buffer.byteLength(record.partitionKey, 'utf8');
    if (batch.length >= MAX_BATCH_RECORDS || bytes + size > MAX_BATCH_BYTES) await flush();
    if (batch.length === 0) openedAt = clock.now();
    batch.push(record);
    bytes += size;
    index += 1;
  }
  await flush();
  return report;
}

async function putBatch(
  records: readonly OutgoingRecord[],
  options: SendOptions,
  clock: Clock,
  report: SendReport,
): Promise<void> {
  let pending = records;
  for (let attempt = 1; pending.length > 0; attempt++) {
    report.requests += 1;
    const response = await options.put(
      pending.map((record) => ({ Data: record.data, PartitionKey: record.partitionKey })),
    );
    const retry: OutgoingRecord[] = [];
    const codes = new Map<OutgoingRecord, string>();
    pending.forEach((record, i) => {
      const result = response.Records?.[i];
      if (result?.SequenceNumber && result.ShardId && !result.ErrorCode) {
        report.sent += 1;
        options.onPut?.({ shardId: result.ShardId, sequenceNumber: result.SequenceNumber });
      } else {
        retry.push(record);
        codes.set(record, result?.ErrorCode ?? 'NoResult');
      }
    });
    if (retry.length === 0) return;
    if (attempt >= MAX_PUT_ATTEMPTS) {
      for (const record of retry) {
        const code = codes.get(record) ?? 'NoResult';
        report.failed += 1;
        report.failures.set(code, (report.failures.get(code) ?? 0) + 1);
      }
      return;
    }
    // Throughput is per shard and per second: back off before trying the refused records again.
    await clock.sleep(100 * 2 ** (attempt - 1));
    pending = retry;
  }
}
